"""Findings of falsified materials (弄虚作假认定, seed 001 三(三): 取消绿色矿山遴选资格): the mine's open
applications end through the transition table, its directory entries leave (certificates
revoked), the mine may not apply again for FRAUD_BAR_YEARS years; the province's scope; bad input
refused in Chinese with nothing stored; the REST twin does the same."""
from __future__ import annotations

import datetime
import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app import clock
from app.extensions import db
from app.models import (Application, Attachment, Certificate, DirectoryEntry, FraudFinding, Notification,
                        TransitionLog)
from app.services import applications, certificates, directory, fraud, predeclarations, workflow
from app.services.exceptions import AccessDenied, DomainError, TransitionRefused, ValidationFailed
from tests.test_applications import (_photo_checklist_not_in_the_way, draft, passed_predeclaration,  # noqa: F401
                                     people, status_of, submitted)

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
DECISION = "晋自然资函〔2026〕15号"


def _listed(mine, level="province", year=2025):
    entry = directory._new_entry(mine, level, year, "遴选入库", None)
    db.session.commit()
    return entry


def _count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def _today() -> datetime.date:
    return clock.today()


def test_a_finding_ends_the_open_application_through_the_engine(people, api):
    application = submitted(people)
    # The step cannot be taken without a finding (the engine, the REST transition route).
    with pytest.raises(TransitionRefused):
        workflow.transition(application, "disqualify", people["province"], "弄虚作假")
    response = api(people["province"]).post(f"/api/v1/application/{application.id}/transition",
                                            json={"action": "disqualify", "comment": "弄虚作假"})
    assert response.status_code in (403, 409, 422)
    assert status_of(application.id) == "submitted"
    finding = fraud.record(people["province"], application_id=application.id, reason="伪造环境监测报告",
                           decision_no=DECISION, decided_on=_today().isoformat())
    assert status_of(application.id) == "disqualified"
    log = db.session.scalars(select(TransitionLog).where(TransitionLog.record_type == "Application",
                                                         TransitionLog.record_id == application.id)
                             .order_by(TransitionLog.id.desc())).first()
    assert (log.action, log.from_state, log.to_state, log.role) == ("disqualify", "submitted", "disqualified",
                                                                   "province")
    assert DECISION in log.comment and "伪造环境监测报告" in log.comment
    assert finding.application_id == application.id and finding.mine_id == application.mine_id
    assert finding.barred_until == fraud.add_years(_today(), 3)
    # The enterprise is told (the step's message and the finding's own, naming the bar's end).
    bodies = [n.body for n in db.session.scalars(select(Notification).where(
        Notification.user_id == people["enterprise"].id))]
    assert any(finding.barred_until.isoformat() in body and DECISION in body for body in bodies)


def applications_year() -> int:
    from tests.test_applications import YEAR

    return YEAR


def test_a_listed_mine_leaves_the_directory_and_its_certificate_is_revoked(people):
    mine = people["mine"]
    entry = _listed(mine)
    certificate = db.session.scalars(select(Certificate).where(Certificate.entry_id == entry.id)).one()
    assert certificates.status_of(certificate) == "valid"
    finding = fraud.record(people["province"], licence_no=mine.licence_no, reason="虚报资源综合利用率",
                           decision_no=DECISION, decided_on=(_today() - datetime.timedelta(days=3)).isoformat())
    db.session.expire_all()
    entry = db.session.get(DirectoryEntry, entry.id)
    assert (entry.status, entry.exit_decision) == ("removed", DECISION)
    assert "虚报资源综合利用率" in entry.exit_reason
    assert certificates.status_of(db.session.get(Certificate, certificate.id)) == "revoked"
    assert finding.application_id is None and "证书" in finding.effects


def test_a_national_entry_is_referred_to_the_national_level(people, make_user):
    national_user = make_user("national")
    entry = _listed(people["mine"], level="national")
    fraud.record(people["province"], licence_no=people["mine"].licence_no, reason="弄虚作假",
                 decision_no=DECISION, decided_on=_today().isoformat())
    db.session.expire_all()
    assert db.session.get(DirectoryEntry, entry.id).status == "listed"  # kept by the national level
    assert db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == national_user.id, Notification.record_type == "DirectoryEntry")) == 1


def test_the_bar_refuses_new_applications_and_ends_after_the_years(people, app):
    mine = people["mine"]
    decided = _today() - datetime.timedelta(days=10)
    finding = fraud.record(people["province"], licence_no=mine.licence_no, reason="伪造材料",
                           decision_no=DECISION, decided_on=decided.isoformat())
    assert finding.barred_until == fraud.add_years(decided, app.config["FRAUD_BAR_YEARS"])
    with pytest.raises(ValidationFailed) as refusal:
        predeclarations.create(people["enterprise"], mine, applications_year())
    message = str(refusal.value)
    assert "弄虚作假" in message and DECISION in message and finding.barred_until.isoformat() in message
    # After the bar: the mine applies again.
    assert fraud.active_bar(mine.id, finding.barred_until) is None
    assert fraud.active_bar(mine.id, finding.barred_until - datetime.timedelta(days=1)) is not None
    db.session.execute(FraudFinding.__table__.update().where(FraudFinding.id == finding.id)
                       .values(barred_until=_today()))
    db.session.commit()
    assert predeclarations.create(people["enterprise"], mine, applications_year()).id


def test_the_bar_refuses_an_application_from_an_earlier_predeclaration(people, monkeypatch):
    predeclaration = passed_predeclaration(people)
    fraud.record(people["province"], licence_no=people["mine"].licence_no, reason="伪造材料",
                 decision_no=DECISION, decided_on=_today().isoformat())
    with pytest.raises(ValidationFailed) as refusal:
        applications.create_from_predeclaration(people["enterprise"], predeclaration)
    assert DECISION in str(refusal.value)
    assert _count(Application) == 0


def test_the_bar_years_are_configurable(people, app, monkeypatch):
    monkeypatch.setitem(app.config, "FRAUD_BAR_YEARS", 5)
    finding = fraud.record(people["province"], licence_no=people["mine"].licence_no, reason="伪造材料",
                           decision_no=DECISION, decided_on="2024-02-29")
    assert finding.barred_until == datetime.date(2029, 2, 28)


def test_scope_another_province_can_neither_record_nor_see(people, make_user, make_mine, api, browser):
    other = make_user("province", "610000")
    with pytest.raises(ValidationFailed):
        fraud.record(other, licence_no=people["mine"].licence_no, reason="伪造", decision_no=DECISION,
                     decided_on=_today().isoformat())
    for user in (people["city"], people["county"], people["enterprise"]):
        with pytest.raises(AccessDenied):
            fraud.record(user, licence_no=people["mine"].licence_no, reason="伪造", decision_no=DECISION,
                         decided_on=_today().isoformat())
    assert _count(FraudFinding) == 0
    finding = fraud.record(people["province"], licence_no=people["mine"].licence_no, reason="伪造",
                           decision_no=DECISION, decided_on=_today().isoformat())
    assert api(other).get(f"/api/v1/fraud_finding/{finding.id}").status_code == 404
    assert api(other).get("/api/v1/fraud_finding/").get_json()["count"] == 0
    assert browser(other).get(f"/fraudfindingview/show/{finding.id}").status_code in (302, 404)
    assert api(people["province"]).get("/api/v1/fraud_finding/").get_json()["count"] == 1
    # Not the enterprise's nor the county's screen.
    for user in (people["enterprise"], people["county"]):
        assert api(user).get(f"/api/v1/fraud_finding/{finding.id}").status_code in (401, 403, 404)
    # The national level sees and records anywhere.
    national = make_user("national")
    assert api(national).get(f"/api/v1/fraud_finding/{finding.id}").status_code == 200
    far = make_mine("610102")
    assert fraud.record(national, licence_no=far.licence_no, reason="伪造", decision_no=DECISION,
                        decided_on=_today().isoformat()).region_code == "610102"


@pytest.mark.parametrize("fields, field, words", [
    (dict(reason="  "), "reason", "事实"),
    (dict(decision_no=""), "decision_no", "文件"),
    (dict(decided_on="tomorrow"), "decided_on", "日期"),
    (dict(decided_on=""), "decided_on", "日期"),
])
def test_bad_input_is_refused_in_chinese_and_nothing_is_stored(people, fields, field, words):
    application = submitted(people)
    entry = _listed(people["mine"])
    values = {**dict(reason="伪造材料", decision_no=DECISION, decided_on=_today().isoformat()), **fields}
    if values["decided_on"] == "tomorrow":
        values["decided_on"] = (_today() + datetime.timedelta(days=1)).isoformat()
    before = (_count(FraudFinding), _count(TransitionLog), _count(Attachment))
    with pytest.raises(ValidationFailed) as refusal:
        fraud.record(people["province"], application_id=application.id, **values)
    errors = getattr(refusal.value, "errors", None) or [refusal.value]
    assert [e.field for e in errors] == [field]
    assert words in str(errors[0])
    assert (_count(FraudFinding), _count(TransitionLog), _count(Attachment)) == before
    assert status_of(application.id) == "submitted"
    db.session.expire_all()
    assert db.session.get(DirectoryEntry, entry.id).status == "listed"


def test_a_future_decision_date_is_refused(people):
    with pytest.raises(ValidationFailed) as refusal:
        fraud.record(people["province"], licence_no=people["mine"].licence_no, reason="伪造", decision_no=DECISION,
                     decided_on=(_today() + datetime.timedelta(days=1)).isoformat())
    assert "将来" in str(refusal.value) or "未来" in str(refusal.value)
    assert _count(FraudFinding) == 0


def test_a_wrong_file_type_stores_nothing(people):
    application = submitted(people)
    entry = _listed(people["mine"])
    document = FileStorage(stream=io.BytesIO(b"MZ\x90\x00 not a pdf at all"), filename="决定书.pdf")
    files = _count(Attachment)
    with pytest.raises(ValidationFailed) as refusal:
        fraud.record(people["province"], application_id=application.id, reason="伪造", decision_no=DECISION,
                     decided_on=_today().isoformat(), document=document)
    assert refusal.value.field == "document" and "PDF" in str(refusal.value)
    assert (_count(FraudFinding), _count(Attachment)) == (0, files)
    assert status_of(application.id) == "submitted"
    db.session.expire_all()
    assert db.session.get(DirectoryEntry, entry.id).status == "listed"


def test_the_document_is_kept_with_the_finding_and_cannot_be_changed(people, browser):
    from app.services import uploads

    document = FileStorage(stream=io.BytesIO(PDF), filename="决定书.pdf")
    finding = fraud.record(people["province"], licence_no=people["mine"].licence_no, reason="伪造",
                           decision_no=DECISION, decided_on=_today().isoformat(), document=document)
    files = fraud.documents_of(finding)
    assert [f.original_name for f in files] == ["决定书.pdf"]
    # Kept as recorded: no file added or removed afterwards.
    with pytest.raises(DomainError):
        uploads.attach("FraudFinding", finding.id, "document", FileStorage(stream=io.BytesIO(PDF), filename="b.pdf"),
                       people["province"])
    with pytest.raises(DomainError):
        uploads.remove(files[0].id, people["province"])
    # The province downloads it; the enterprise and the county do not.
    assert browser(people["province"]).get(f"/attachments/{files[0].id}").status_code == 200
    for user in (people["enterprise"], people["county"]):
        assert browser(user).get(f"/attachments/{files[0].id}").status_code == 404


def test_the_screen_records_and_shows_the_finding_on_the_mine_and_application_pages(people, browser):
    application = submitted(people)
    client = browser(people["province"])
    # The application's page links the step to the findings' form, for this application.
    link = f"/fraudfindingview/add?application_id={application.id}"
    assert link in client.get(f"/applicationview/show/{application.id}").get_data(as_text=True)
    page = client.get(link)
    assert page.status_code == 200 and str(application) in page.get_data(as_text=True)
    refused = client.post("/fraudfindingview/add", data={"application_id": application.id, "reason": "",
                                                          "decision_no": DECISION,
                                                          "decided_on": _today().isoformat()})
    assert refused.status_code == 200 and "事实" in refused.get_data(as_text=True)
    assert _count(FraudFinding) == 0
    done = client.post("/fraudfindingview/add", data={
        "application_id": application.id, "reason": "伪造监测报告", "decision_no": DECISION,
        "decided_on": _today().isoformat(),
        "document": (io.BytesIO(PDF), "决定书.pdf")}, content_type="multipart/form-data")
    assert done.status_code == 302
    finding = db.session.scalars(select(FraudFinding)).one()
    assert status_of(application.id) == "disqualified"
    shown = client.get(f"/fraudfindingview/show/{finding.id}").get_data(as_text=True)
    assert DECISION in shown and "决定书.pdf" in shown
    for url in (f"/mineview/show/{application.mine_id}", f"/applicationview/show/{application.id}"):
        text = client.get(url).get_data(as_text=True)
        assert 'id="fraud-findings"' in text and DECISION in text
    # Not on the enterprise's own pages; no edit or delete routes.
    text = browser(people["enterprise"]).get(f"/applicationview/show/{application.id}").get_data(as_text=True)
    assert 'id="fraud-findings"' not in text
    assert client.get(f"/fraudfindingview/edit/{finding.id}").status_code in (302, 403, 404, 405)
    assert client.post(f"/fraudfindingview/delete/{finding.id}").status_code in (302, 403, 404, 405)
    assert _count(FraudFinding) == 1


def test_rest_parity(people, api):
    application = submitted(people)
    files = _count(Attachment)
    client = api(people["province"])
    refused = client.post("/api/v1/fraud_finding/", json={"application_id": application.id, "reason": "",
                                                          "decision_no": "", "decided_on": "2999-01-01"})
    assert refused.status_code == 422
    fields = {e["field"] for e in refused.get_json()["errors"]}
    assert fields == {"reason", "decision_no", "decided_on"}
    assert _count(FraudFinding) == 0
    wrong = client.post("/api/v1/fraud_finding/", data={
        "application_id": str(application.id), "reason": "伪造", "decision_no": DECISION,
        "decided_on": _today().isoformat(), "document": (io.BytesIO(b"GIF89a not a pdf"), "x.pdf")},
        content_type="multipart/form-data")
    assert wrong.status_code == 422 and wrong.get_json()["field"] == "document"
    assert (_count(FraudFinding), _count(Attachment)) == (0, files)
    done = client.post("/api/v1/fraud_finding/", data={
        "application_id": str(application.id), "reason": "伪造", "decision_no": DECISION,
        "decided_on": _today().isoformat(), "document": (io.BytesIO(PDF), "决定书.pdf")},
        content_type="multipart/form-data")
    assert done.status_code == 201, done.get_json()
    body = done.get_json()
    assert body["barred_until"] == fraud.add_years(_today(), 3).isoformat()
    assert status_of(application.id) == "disqualified"
    shown = client.get(f"/api/v1/fraud_finding/{body['id']}").get_json()["result"]
    assert shown["decision_no"] == DECISION
    # No PUT, no DELETE: kept as recorded.
    assert client.put(f"/api/v1/fraud_finding/{body['id']}", json={"reason": "x"}).status_code in (404, 405)
    assert client.delete(f"/api/v1/fraud_finding/{body['id']}").status_code in (404, 405)
    # The enterprise's later pre-declaration through REST is refused, naming the finding.
    refused = api(people["enterprise"]).post("/api/v1/predeclaration/", json={
        "mine_id": people["mine"].id, "year": applications_year() + 1, "region_code": people["mine"].region_code})
    assert refused.status_code == 422 and DECISION in refused.get_json()["message"]


def test_agency_disqualification_is_unchanged():
    steps = [t for t in workflow.TRANSITIONS if t.workflow == "agency"]
    assert [(t.source, t.action, t.target) for t in steps] == [("active", "disqualify", "disqualified")]
