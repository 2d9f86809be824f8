"""The attachment REST API: the same service, scope and rules as the screens (SPEC D3, D10, I2)."""
import io

import pytest

from app.extensions import db
from app.models import Attachment, IndicatorEvidence, IndicatorItem
from app.services import predeclarations, workflow
from tests.conftest import fill_checklist, sample_jpeg
from tests.test_applications import people, submitted  # noqa: F401  (fixtures and helpers)


def _file(data: bytes, name: str):
    return {"file": (io.BytesIO(data), name)}


@pytest.fixture
def draft_predeclaration(make_mine, make_user):
    mine = make_mine("140105", mining_method="underground")
    user = make_user("enterprise", enterprise=mine.enterprise)
    return predeclarations.create(user, mine, 2026), user


def test_enterprise_uploads_lists_downloads_and_removes_through_the_api(draft_predeclaration, api):
    record, user = draft_predeclaration
    client = api(user)
    response = client.post(f"/api/v1/attachment/PreDeclaration/{record.id}/2", data=_file(sample_jpeg(), "全景图.jpg"),
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["original_name"] == "全景图.jpg" and created["content_type"] == "image/jpeg"
    listed = client.get(f"/api/v1/attachment/PreDeclaration/{record.id}").get_json()["result"]
    assert [row["id"] for row in listed] == [created["id"]]
    download = client.get(f"/api/v1/attachment/{created['id']}/file")
    assert download.status_code == 200 and download.data == sample_jpeg()
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in download.headers["Content-Disposition"]
    assert client.delete(f"/api/v1/attachment/{created['id']}").status_code == 200
    assert db.session.query(Attachment).count() == 0


def test_bad_files_and_states_are_refused_with_a_message(draft_predeclaration, api):
    record, user = draft_predeclaration
    client = api(user)
    refused = client.post(f"/api/v1/attachment/PreDeclaration/{record.id}/2", data=_file(b"<html>hi</html>", "x.jpg"),
                          content_type="multipart/form-data")
    assert refused.status_code == 422 and refused.get_json()["message"]
    fill_checklist(record, user)
    workflow.transition(record, "submit", user)
    late = client.post(f"/api/v1/attachment/PreDeclaration/{record.id}/2", data=_file(sample_jpeg(), "late.jpg"),
                       content_type="multipart/form-data")
    assert late.status_code in (409, 422) and late.get_json()["message"]
    one = db.session.query(Attachment).first()
    assert client.delete(f"/api/v1/attachment/{one.id}").status_code in (409, 422)
    assert db.session.get(Attachment, one.id) is not None


def test_scope_of_the_owner_applies(draft_predeclaration, make_user, api):
    record, user = draft_predeclaration
    stored = api(user).post(f"/api/v1/attachment/PreDeclaration/{record.id}/2", data=_file(sample_jpeg(), "a.jpg"),
                            content_type="multipart/form-data").get_json()
    county = api(make_user("county", "140105"))
    assert county.get(f"/api/v1/attachment/PreDeclaration/{record.id}").status_code == 200
    assert county.get(f"/api/v1/attachment/{stored['id']}/file").status_code == 200
    # Reviewers read but do not upload.
    assert county.post(f"/api/v1/attachment/PreDeclaration/{record.id}/2", data=_file(sample_jpeg(), "b.jpg"),
                       content_type="multipart/form-data").status_code == 403
    neighbour = api(make_user("county", "140121"))
    assert neighbour.get(f"/api/v1/attachment/PreDeclaration/{record.id}").status_code == 404
    assert neighbour.get(f"/api/v1/attachment/{stored['id']}/file").status_code == 404
    assert api().get(f"/api/v1/attachment/PreDeclaration/{record.id}").status_code == 401


def test_indicator_evidence_after_submission_and_after_acceptance(people, api, without_photo_checklist):  # noqa: F811
    """The evidence stays open through the reviews and the acceptance, until the agency submits its
    assessment (tests/test_evidence.py follows it to the freeze)."""
    application = submitted(people)
    item = db.session.query(IndicatorItem).filter(IndicatorItem.level > 1).first()
    evidence = IndicatorEvidence(application_id=application.id, item_id=item.id, note="见附件")
    db.session.add(evidence)
    db.session.commit()
    client = api(people["enterprise"])
    url = f"/api/v1/attachment/IndicatorEvidence/{evidence.id}/evidence"
    assert client.post(url, data=_file(sample_jpeg(), "证明.jpg"), content_type="multipart/form-data").status_code == 201
    for step, role in (("county_pass", "county"), ("city_recommend", "city"), ("province_accept", "province")):
        workflow.transition(application, step, people[role], "同意")
    later = client.post(url, data=_file(sample_jpeg(), "补充.jpg"), content_type="multipart/form-data")
    assert later.status_code == 201
    assert db.session.query(Attachment).filter_by(owner_type="IndicatorEvidence").count() == 2
