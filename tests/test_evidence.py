"""Indicator evidence during the assessment (issue 19.1, seed 000 §3.3: the indicator materials are
"作为第三方评估过程中的佐证材料"): the enterprise adds and replaces it from submission until the drawn
agency submits its assessment, the agency sees each item's evidence beside the item it scores, and
afterwards the evidence is kept, readable, and no longer changes."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import Attachment, IndicatorEvidence, IndicatorItem
from app.services import applications, uploads, workflow
from app.services.exceptions import ValidationFailed
from tests.conftest import sample_jpeg
from tests.test_applications import _photo_checklist_not_in_the_way, people, submitted  # noqa: F401
from tests.test_evaluation import PDF, leaves
from tests.test_selection import scoring_done, world  # noqa: F401


def _item() -> IndicatorItem:
    """An item the agency scores (a leaf of the 2020 national catalogue)."""
    return leaves("national-2020")[0]


def _to_assessment(world):
    application = submitted(world)
    for step, role in (("county_pass", "county"), ("city_recommend", "city"), ("province_accept", "province")):
        workflow.transition(application, step, world[role], "同意")
    workflow.transition(application, "submit_self_evaluation", world["enterprise"])
    workflow.transition(application, "assign_agency", world["province"], "随机抽取")
    assert application.status == "under_assessment"
    return application


def _files() -> int:
    return db.session.scalar(select(func.count()).select_from(Attachment)
                             .where(Attachment.owner_type == "IndicatorEvidence", Attachment.removed_at.is_(None)))


def test_the_evidence_stays_open_until_the_agency_submits_then_is_kept(world, browser, api):
    application = _to_assessment(world)
    item = _item()
    client = browser(world["enterprise"])
    # During the assessment: a note and a file, then the note replaced.
    client.post(f"/applicationview/evidence/{application.id}", data={"item_id": item.id, "note": "见绿化台账"})
    evidence = db.session.scalars(select(IndicatorEvidence)).one()
    uploaded = api(world["enterprise"]).post(
        f"/api/v1/attachment/IndicatorEvidence/{evidence.id}/evidence",
        data={"file": (io.BytesIO(sample_jpeg()), "绿化现场.jpg")}, content_type="multipart/form-data")
    assert uploaded.status_code == 201
    client.post(f"/applicationview/evidence/{application.id}", data={"item_id": item.id, "note": "见绿化台账（更新）"})
    db.session.expire_all()
    assert db.session.scalars(select(IndicatorEvidence)).one().note == "见绿化台账（更新）"

    # The agency sees the evidence beside the item on its scoring sheet, and may open the file.
    agency = world["agency"]
    sheet = browser(agency).get(f"/evaluation/{application.id}/agency").get_data(as_text=True)
    row = sheet[sheet.index(f'name="score_{item.id}"') - 3000: sheet.index(f'name="score_{item.id}"')]
    assert "见绿化台账（更新）" in row and "绿化现场.jpg" in row
    file_id = db.session.scalars(select(Attachment.id).where(Attachment.owner_type == "IndicatorEvidence")).one()
    assert browser(agency).get(f"/attachments/{file_id}").status_code == 200

    # The agency submits: the evidence is frozen, kept and readable.
    workflow.transition(application, "submit_assessment", agency)
    assert application.status == "assessed"
    assert not applications.evidence_open(application) and applications.evidence_frozen(application)
    client.post(f"/applicationview/evidence/{application.id}", data={"item_id": item.id, "note": "事后修改"})
    late = api(world["enterprise"]).post(
        f"/api/v1/attachment/IndicatorEvidence/{evidence.id}/evidence",
        data={"file": (io.BytesIO(sample_jpeg()), "迟到.jpg")}, content_type="multipart/form-data")
    assert late.status_code in (409, 422)
    assert "评估" in late.get_json()["message"]
    db.session.expire_all()
    assert db.session.scalars(select(IndicatorEvidence)).one().note == "见绿化台账（更新）"
    assert _files() == 1
    removed = api(world["enterprise"]).delete(f"/api/v1/attachment/{file_id}")
    assert removed.status_code in (403, 404, 409, 422) and _files() == 1
    page = client.get(f"/applicationview/evidence/{application.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="evidence-frozen"' in text and "见绿化台账（更新）" in text and "绿化现场.jpg" in text
    assert 'name="note"' not in text


def test_the_service_refuses_a_late_note_with_the_rule_in_words(world):
    application = _to_assessment(world)
    workflow.transition(application, "submit_assessment", world["agency"])
    with pytest.raises(ValidationFailed) as refused:
        applications.save_evidence(application, world["enterprise"], _item().id, "迟到")
    assert str(refused.value) == applications.evidence_closed_message()
    assert db.session.scalar(select(func.count()).select_from(IndicatorEvidence)) == 0


def test_evidence_can_be_added_again_while_the_mine_rectifies_for_a_second_assessment(world):
    """A new or expanded mine that fails the collective review rectifies and is assessed again."""
    from app.services import selection
    from tests.test_selection import meeting

    application = _to_assessment(world)
    workflow.transition(application, "submit_assessment", world["agency"])
    application.mine.is_new_or_expanded = True
    db.session.commit()
    selection.decide(meeting(world), application, selection.FAIL, "边坡治理未完成", world["province"])
    assert application.status == "rectifying"
    evidence = applications.save_evidence(application, world["enterprise"], _item().id, "整改后的绿化照片")
    uploads.attach("IndicatorEvidence", evidence.id, "evidence",
                   FileStorage(stream=io.BytesIO(PDF), filename="整改报告.pdf"), world["enterprise"])
    assert _files() == 1


def test_before_submission_there_is_no_evidence_page_for_the_enterprise(world, browser):
    application = submitted(world)
    workflow.transition(application, "withdraw", world["enterprise"])
    assert application.status == "draft"
    assert not applications.evidence_frozen(application)
    assert browser(world["enterprise"]).get(f"/applicationview/evidence/{application.id}").status_code == 302


def test_the_score_sheet_marks_inferred_items_for_the_agency_not_for_the_enterprise(world, browser):
    """Issue 19.7: every screen that scores against an inferred item says so to staff and agencies."""
    application = _to_assessment(world)
    inferred = next(item for item in leaves("national-2020") if item.inferred)
    confirmed = [item for item in leaves("national-2020") if not item.inferred]

    def marked(page: str, item) -> bool:
        cell = page[page.index(f'name="score_{item.id}"') - 1500: page.index(f'name="score_{item.id}"')]
        return "gm-inferred" in cell[cell.rindex("<tr"):]

    agency_sheet = browser(world["agency"]).get(f"/evaluation/{application.id}/agency").get_data(as_text=True)
    assert marked(agency_sheet, inferred)
    assert all(not marked(agency_sheet, item) for item in confirmed)
    province_sheet = browser(world["province"]).get(f"/evaluation/{application.id}/self").get_data(as_text=True)
    assert "gm-inferred" in province_sheet
    own_sheet = browser(world["enterprise"]).get(f"/evaluation/{application.id}/self").get_data(as_text=True)
    assert "gm-inferred" not in own_sheet and "推定值" not in own_sheet
