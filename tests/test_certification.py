"""Green-mine certification applications (SPEC G1, G2; seed 002): creation from the registry, the
form's rules, the submit guard (conditions, anomaly list, materials, self-scoring sheet), the
acceptance and the 20-working-day clock with a rectification pause across 国庆 2026, the overdue
flag, the project team, the scope on screens and REST, and the re-evaluation."""
from __future__ import annotations

import datetime
import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import (AnomalyEntry, CertificationApplication, CertificationCertificate, CertificationPause,
                        CertificationTeamMember)
from app.models.application import SITUATION_AREAS
from app.models.certification import CERTIFICATION_CONDITIONS
from app.services import certification, evaluation, uploads, workflow
from app.services.exceptions import AccessDenied, NotFound, TransitionRefused, ValidationFailed

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
VIEW = "/certificationapplicationview"
API = "/api/v1/certificationapplication"


@pytest.fixture
def sheet_ok(monkeypatch):
    """The self-scoring sheet is not the point of the test (the catalogue is scoring's)."""
    monkeypatch.setattr(evaluation, "check_sheet_complete", lambda record, source: None)


@pytest.fixture
def people(make_mine, make_user, make_certification_body):
    body = make_certification_body()
    other_body = make_certification_body()
    mine = make_mine("140105", address="小店区认证路1号")
    enterprise = mine.enterprise
    enterprise.legal_representative, enterprise.mobile, enterprise.postcode = "张法人", "13800138000", "030000"
    db.session.commit()
    other_mine = make_mine("140105")
    return {
        "body": body,
        "other_body": other_body,
        "mine": mine,
        "other_mine": other_mine,
        "enterprise": make_user("enterprise", enterprise=enterprise),
        "other_enterprise": make_user("enterprise", enterprise=other_mine.enterprise),
        "certifier": make_user("certifier", certification_body_id=body.id),
        "other_certifier": make_user("certifier", certification_body_id=other_body.id),
        "county": make_user("county", "140105"),
        "other_county": make_user("county", "140121"),
    }


def upload(record_id, slot, user, owner_type="CertificationApplication"):
    return uploads.attach(owner_type, record_id, slot, FileStorage(stream=io.BytesIO(PDF), filename=f"{slot}.pdf"),
                          user)


def complete(record, user, materials=certification.MATERIAL_SLOTS):
    record.contact_person = "李联系"
    for name in CERTIFICATION_CONDITIONS:
        setattr(record, name, True)
    for name in SITUATION_AREAS:
        setattr(record, name, "简要介绍本方面的成效与亮点。")
    db.session.commit()
    for slot in materials:
        upload(record.id, slot, user)
    return record


def draft(people):
    return complete(certification.create(people["enterprise"], people["mine"].id, people["body"].id),
                    people["enterprise"])


def submitted(people):
    record = draft(people)
    workflow.transition(record, "submit", people["enterprise"])
    return record


def at(monkeypatch, day: str):
    monkeypatch.setattr(certification, "_today", lambda: datetime.date.fromisoformat(day))


def status_of(record_id):
    db.session.expire_all()
    return db.session.get(CertificationApplication, record_id).status


def test_a_second_rectification_needs_evidence_of_its_own(people, sheet_ok, monkeypatch):
    record = submitted(people)
    certifier, user = people["certifier"], people["enterprise"]
    workflow.transition(record, "accept", certifier, "受理")
    workflow.transition(record, "request_rectification", certifier, "补充复绿证明")
    upload(record.id, "rectification", user)
    workflow.transition(record, "submit_rectification", user)
    workflow.transition(record, "request_rectification", certifier, "补充排水检测报告")
    with pytest.raises(TransitionRefused):
        workflow.transition(record, "submit_rectification", user)  # the first rectification's file
    upload(record.id, "rectification", user)
    workflow.transition(record, "submit_rectification", user)
    assert status_of(record.id) == "under_evaluation"
    assert len(db.session.scalars(select(CertificationPause)).all()) == 2


# ---------------------------------------------------------------------------
# Creation
# ---------------------------------------------------------------------------
def test_creation_copies_the_registry(people):
    record = certification.create(people["enterprise"], people["mine"].id, people["body"].id)
    mine = people["mine"]
    assert (record.status, record.kind, record.body_id) == ("draft", "initial", people["body"].id)
    assert (record.mine_id, record.enterprise_id, record.region_code) == (mine.id, mine.enterprise_id, "140105")
    assert record.applicant_name == mine.enterprise.name == record.enterprise_name
    assert record.uscc == mine.enterprise.uscc and record.licence_no == mine.licence_no
    assert record.mine_name == mine.name and record.mine_address == "小店区认证路1号"
    assert record.mineral_name == "煤" and record.mining_method == "underground"
    assert (record.legal_representative, record.mobile, record.postcode) == ("张法人", "13800138000", "030000")
    assert record.accepted_on is None and certification.clock(record) is None


def test_creation_refuses_another_enterprises_mine_an_inactive_body_and_a_second_open_one(people,
                                                                                      make_certification_body):
    with pytest.raises(ValidationFailed) as other:
        certification.create(people["enterprise"], people["other_mine"].id, people["body"].id)
    assert other.value.field == "mine_id"
    with pytest.raises(ValidationFailed) as bogus:
        certification.create(people["enterprise"], "x", people["body"].id)
    assert bogus.value.field == "mine_id"
    closed = make_certification_body(active=False)
    with pytest.raises(ValidationFailed) as inactive:
        certification.create(people["enterprise"], people["mine"].id, closed.id)
    assert inactive.value.field == "body_id"
    with pytest.raises(AccessDenied):
        certification.create(people["county"], people["mine"].id, people["body"].id)
    certification.create(people["enterprise"], people["mine"].id, people["body"].id)
    with pytest.raises(ValidationFailed):
        certification.create(people["enterprise"], people["mine"].id, people["other_body"].id)
    assert db.session.scalar(select(db.func.count()).select_from(CertificationApplication)) == 1


def test_the_add_page_creates_and_redirects_to_the_form(people, browser):
    client = browser(people["enterprise"])
    page = client.get(f"{VIEW}/add").get_data(as_text=True)
    assert people["body"].name in page and "choices/mine" in page
    found = client.get(f"{VIEW}/choices/mine?q=").get_json()["results"]
    assert [row["id"] for row in found] == [people["mine"].id]  # only its own mines
    response = client.post(f"{VIEW}/add", data={"mine_id": people["mine"].id, "body_id": people["body"].id})
    record = db.session.scalars(select(CertificationApplication)).one()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{VIEW}/edit/{record.id}")
    refused = client.post(f"{VIEW}/add", data={"mine_id": people["other_mine"].id, "body_id": people["body"].id})
    assert refused.status_code == 200
    assert db.session.scalar(select(db.func.count()).select_from(CertificationApplication)) == 1


# ---------------------------------------------------------------------------
# The form
# ---------------------------------------------------------------------------
def _form_data(record, **changes):
    data = {}
    for name in ("applicant_name", "licence_no", "enterprise_name", "uscc", "mine_address", "economic_type",
                 "employees", "mineral_name", "mining_method", "production_scale", "area_km2",
                 "legal_representative", "contact_person", "contact_address", "email", "phone", "fax", "mobile",
                 "postcode", *SITUATION_AREAS, "conditions_note"):
        value = getattr(record, name)
        data[name] = "" if value is None else str(value)
    for name in CERTIFICATION_CONDITIONS:
        value = getattr(record, name)
        data[name] = "" if value is None else ("1" if value else "0")
    data.update(changes)
    return data


def test_form_refusals_keep_the_input_and_name_the_field(people, browser):
    record = certification.create(people["enterprise"], people["mine"].id, people["body"].id)
    client = browser(people["enterprise"])
    page = client.get(f"{VIEW}/edit/{record.id}").get_data(as_text=True)
    assert 'name="situation_innovation"' in page and 'name="cond_no_protected_area"' in page
    response = client.post(f"{VIEW}/edit/{record.id}", data=_form_data(
        record, email="not-an-address", contact_person="王联系", situation_energy="节能成效"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "not-an-address" in page and "王联系" in page and "节能成效" in page
    assert status_of(record.id) == "draft" and db.session.get(CertificationApplication, record.id).contact_person is None
    response = client.post(f"{VIEW}/edit/{record.id}", data=_form_data(record, employees="-3"))
    assert response.status_code == 200
    response = client.post(f"{VIEW}/edit/{record.id}", data=_form_data(
        record, applicant_name="", contact_person="王联系"))
    assert response.status_code == 200 and "王联系" in response.get_data(as_text=True)
    response = client.post(f"{VIEW}/edit/{record.id}", data=_form_data(
        record, contact_person="王联系", email="a@b.cn", cond_valid_licence="1", cond_no_penalty="0"))
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(CertificationApplication, record.id)
    assert (saved.contact_person, saved.email, saved.cond_valid_licence, saved.cond_no_penalty) == (
        "王联系", "a@b.cn", True, False)


def test_record_rule_protects_the_services_columns_and_the_state(people, sheet_ok):
    record = draft(people)
    record.body_id = people["other_body"].id
    with pytest.raises(ValidationFailed) as protected:
        certification.record_rule(record, people["enterprise"], "edit")
    assert protected.value.field == "body_id"
    db.session.rollback()
    record = db.session.get(CertificationApplication, record.id)
    record.applicant_name = "  "
    with pytest.raises(ValidationFailed) as required:
        certification.record_rule(record, people["enterprise"], "edit")
    assert required.value.field == "applicant_name"
    db.session.rollback()
    record = db.session.get(CertificationApplication, record.id)
    with pytest.raises(AccessDenied):
        certification.record_rule(record, people["certifier"], "edit")
    workflow.transition(record, "submit", people["enterprise"])
    with pytest.raises(ValidationFailed):
        certification.record_rule(record, people["enterprise"], "edit")
    with pytest.raises(ValidationFailed):
        certification.record_rule(record, people["enterprise"], "delete")


# ---------------------------------------------------------------------------
# Submission
# ---------------------------------------------------------------------------
def test_submit_refused_for_each_missing_piece(people, sheet_ok, monkeypatch):
    user = people["enterprise"]
    record = certification.create(user, people["mine"].id, people["body"].id)
    with pytest.raises(TransitionRefused) as incomplete:
        workflow.transition(record, "submit", user)
    message = str(incomplete.value)
    assert "Contact person" in message or "联系人" in message
    assert "Innovation and smart mine" in message or "科技创新与智能矿山" in message
    complete(record, user, materials=())
    # A condition answered "no" is named; so is one left unanswered.
    record.cond_no_protected_area = False
    db.session.commit()
    with pytest.raises(TransitionRefused) as unmet:
        workflow.transition(record, "submit", user)
    assert str(certification.CONDITION_LABELS["cond_no_protected_area"]) in str(unmet.value)
    assert str(certification.CONDITION_LABELS["cond_valid_licence"]) not in str(unmet.value)
    record.cond_no_protected_area = None
    db.session.commit()
    with pytest.raises(TransitionRefused) as unanswered:
        workflow.transition(record, "submit", user)
    assert str(certification.CONDITION_LABELS["cond_no_protected_area"]) in str(unanswered.value)
    record.cond_no_protected_area = True
    db.session.commit()
    # Materials: each slot without a file is named.
    upload(record.id, "self_evaluation_report", user)
    with pytest.raises(TransitionRefused) as materials:
        workflow.transition(record, "submit", user)
    slots = uploads.slots_of("CertificationApplication", record)
    assert slots["atlas"].label in str(materials.value) and slots["supporting"].label in str(materials.value)
    assert slots["self_evaluation_report"].label not in str(materials.value)
    upload(record.id, "atlas", user)
    upload(record.id, "supporting", user)
    # The anomaly list refuses whatever the form says.
    mine = people["mine"]
    db.session.add(AnomalyEntry(mine_id=mine.id, enterprise_id=mine.enterprise_id, region_code=mine.region_code,
                                year=2026, listed_on=datetime.date(2026, 1, 5), reason="测试"))
    db.session.commit()
    with pytest.raises(TransitionRefused) as anomalous:
        workflow.transition(record, "submit", user)
    assert "anomaly" in str(anomalous.value) or "异常" in str(anomalous.value)
    db.session.execute(AnomalyEntry.__table__.delete())
    db.session.commit()
    # The self-scoring sheet (its completeness is scoring's rule).
    def incomplete_sheet(record, source):
        assert source == "self"
        raise TransitionRefused("self-scoring sheet incomplete")

    monkeypatch.setattr(evaluation, "check_sheet_complete", incomplete_sheet)
    with pytest.raises(TransitionRefused, match="self-scoring sheet incomplete"):
        workflow.transition(record, "submit", user)
    monkeypatch.setattr(evaluation, "check_sheet_complete", lambda record, source: None)
    workflow.transition(record, "submit", user)
    assert status_of(record.id) == "submitted" and record.submitted_at is not None


def test_submit_with_the_real_self_scoring_sheet(people):
    user = people["enterprise"]
    record = draft(people)
    with pytest.raises(TransitionRefused):
        workflow.transition(record, "submit", user)
    assert status_of(record.id) == "draft"
    from app.models import IndicatorItem

    version = evaluation.version_for(record)
    if version is None:
        pytest.skip("no indicator catalogue loaded")
    items = db.session.scalars(select(IndicatorItem).where(IndicatorItem.version_id == version.id,
                                                           IndicatorItem.level == 3)).all()
    evaluation.save_scores(record, user, "self", {item.id: item.points or 0 for item in items})
    workflow.transition(record, "submit", user)
    assert status_of(record.id) == "submitted"


def test_withdraw_and_return(people, sheet_ok):
    record = submitted(people)
    workflow.transition(record, "withdraw", people["enterprise"])
    assert status_of(record.id) == "draft" and record.submitted_at is None
    workflow.transition(record, "submit", people["enterprise"])
    with pytest.raises(TransitionRefused):
        workflow.transition(record, "return", people["certifier"])  # needs a comment
    workflow.transition(record, "return", people["certifier"], "请补充支撑材料")
    assert status_of(record.id) == "returned"
    certification.record_rule(record, people["enterprise"], "edit")  # editable again
    with pytest.raises(ValidationFailed):
        certification.record_rule(record, people["enterprise"], "delete")


# ---------------------------------------------------------------------------
# Acceptance, rectification and the clock (国庆 2026)
# ---------------------------------------------------------------------------
def test_clock_across_national_day_2026_with_a_rectification_pause(people, sheet_ok, monkeypatch):
    record = submitted(people)
    certifier, user = people["certifier"], people["enterprise"]
    with pytest.raises(AccessDenied):
        workflow.transition(record, "accept", people["county"])
    at(monkeypatch, "2026-09-24")  # Thursday; 中秋 25-27 September
    workflow.transition(record, "accept", certifier, "材料齐全，正式受理")
    assert status_of(record.id) == "under_evaluation" and record.accepted_on == datetime.date(2026, 9, 24)
    # No rectification yet: 28, 29, 30 Sep; 8, 9, 10 (Saturday worked), 12 ... 29 Oct is the 20th.
    assert certification.clock(record, datetime.date(2026, 9, 24)).deadline == datetime.date(2026, 10, 29)
    at(monkeypatch, "2026-09-29")
    with pytest.raises(TransitionRefused):
        workflow.transition(record, "request_rectification", certifier)  # the reason is required
    workflow.transition(record, "request_rectification", certifier, "补充矿区复绿证明")
    assert status_of(record.id) == "rectifying"
    pause = db.session.scalars(select(CertificationPause)).one()
    assert (pause.started_on, pause.ended_on, pause.reason) == (datetime.date(2026, 9, 29), None, "补充矿区复绿证明")
    during = certification.clock(record, datetime.date(2026, 10, 8))
    assert (during.used, during.remaining, during.paused, during.deadline) == (2, 18, True, None)
    at(monkeypatch, "2026-10-12")
    with pytest.raises(TransitionRefused):
        workflow.transition(record, "submit_rectification", user)  # no evidence yet
    upload(record.id, "rectification", user)
    workflow.transition(record, "submit_rectification", user)
    assert status_of(record.id) == "under_evaluation"
    db.session.refresh(pause)
    assert pause.ended_on == datetime.date(2026, 10, 12)
    # 30 Sep and 8, 9, 10, 12 Oct are not counted: 5 working days later than without the pause.
    after = certification.clock(record, datetime.date(2026, 10, 16))
    assert (after.used, after.remaining, after.paused, after.overdue) == (6, 14, False, False)
    assert after.deadline == datetime.date(2026, 11, 5) and after.calendar_complete
    last = certification.clock(record, datetime.date(2026, 11, 5))
    assert (last.used, last.remaining, last.overdue) == (20, 0, False)
    late = certification.clock(record, datetime.date(2026, 11, 6))
    assert (late.used, late.remaining, late.overdue) == (21, -1, True)
    # Overdue, in the scope of the body's certifiers and the county; nobody else's.
    at(monkeypatch, "2026-11-06")
    assert certification.overdue_count(certifier) == 1 and certification.overdue_count(people["county"]) == 1
    assert certification.overdue_count(people["other_certifier"]) == 0
    assert certification.overdue_count(people["other_county"]) == 0
    # The refusal stops the clock (needs the evaluation report).
    with pytest.raises(TransitionRefused):
        workflow.transition(record, "refuse", certifier, "未达到等级要求")
    upload(record.id, "evaluation_report", certifier, owner_type="CertificationEvaluation")
    at(monkeypatch, "2026-11-09")
    workflow.transition(record, "refuse", certifier, "未达到等级要求")
    assert status_of(record.id) == "not_certified"
    db.session.refresh(record)
    assert record.finished_on == datetime.date(2026, 11, 9) and record.decision_comment == "未达到等级要求"
    finished = certification.clock(record, datetime.date(2026, 12, 31))
    assert finished.finished_on == datetime.date(2026, 11, 9) and finished.overdue and finished.used == 22
    assert certification.overdue_count(certifier) == 0


def test_the_show_page_shows_clock_materials_and_team(people, sheet_ok, browser, monkeypatch):
    record = submitted(people)
    at(monkeypatch, "2026-09-24")
    workflow.transition(record, "accept", people["certifier"])
    at(monkeypatch, "2026-11-06")
    page = browser(people["certifier"]).get(f"{VIEW}/show/{record.id}").get_data(as_text=True)
    assert 'id="clock-deadline">2026-10-29' in page and 'class="text-danger"' in page
    assert 'id="team-add"' in page and "evaluation_report" in page
    owner = browser(people["enterprise"]).get(f"{VIEW}/show/{record.id}").get_data(as_text=True)
    assert 'id="team-add"' not in owner and 'id="clock-used">26 / 20' in owner


# ---------------------------------------------------------------------------
# The project team
# ---------------------------------------------------------------------------
def test_team_rules(people, sheet_ok):
    record = draft(people)
    certifier = people["certifier"]
    with pytest.raises(ValidationFailed):  # not while a draft
        certification.add_member(record, certifier, "甲", "leader", "2026-N1GM-0001")
    workflow.transition(record, "submit", people["enterprise"])
    for user in (people["enterprise"], people["county"]):
        with pytest.raises(AccessDenied):
            certification.add_member(record, user, "甲", "expert")
    with pytest.raises(AccessDenied):
        certification.add_member(record, people["other_certifier"], "甲", "expert")
    with pytest.raises(ValidationFailed) as no_number:
        certification.add_member(record, certifier, "甲", "leader")
    assert no_number.value.field == "registration_no"
    with pytest.raises(ValidationFailed) as auditor:
        certification.add_member(record, certifier, "乙", "auditor", "  ")
    assert auditor.value.field == "registration_no"
    with pytest.raises(ValidationFailed) as bad_number:
        certification.add_member(record, certifier, "乙", "auditor", "N1/0001")
    assert bad_number.value.field == "registration_no"
    with pytest.raises(ValidationFailed) as bad_role:
        certification.add_member(record, certifier, "乙", "boss", "2026-N1GM-0002")
    assert bad_role.value.field == "team_role"
    with pytest.raises(ValidationFailed) as long_name:
        certification.add_member(record, certifier, "名" * 65, "expert")
    assert long_name.value.field == "name"
    with pytest.raises(ValidationFailed):
        certification.add_member(record, certifier, " ", "expert")
    with pytest.raises(TransitionRefused):
        certification.check_team_complete(record)
    leader = certification.add_member(record, certifier, "甲", "leader", "2026-N1GM-0001", "认证中心", "采矿")
    with pytest.raises(ValidationFailed) as second:
        certification.add_member(record, certifier, "丙", "leader", "2026-N1GM-0003")
    assert second.value.field == "team_role"
    with pytest.raises(TransitionRefused):
        certification.check_team_complete(record)  # no expert yet
    expert = certification.add_member(record, certifier, "丁", "expert", None, "矿业大学", "生态修复")
    certification.add_member(record, certifier, "乙", "auditor", "2026-N1GM-0002")
    certification.check_team_complete(record)
    assert [m.team_role for m in certification.team_of(record)] == ["leader", "auditor", "expert"]
    with pytest.raises(NotFound):
        certification.remove_member(record, certifier, 999999)
    # Taken off the team, kept in the table (the record was submitted).
    certification.remove_member(record, certifier, expert.id)
    assert db.session.get(CertificationTeamMember, expert.id).removed_at is not None
    with pytest.raises(TransitionRefused):
        certification.check_team_complete(record)
    with pytest.raises(AccessDenied):
        certification.remove_member(record, people["other_certifier"], leader.id)
    workflow.transition(record, "reject", certifier, "不受理")
    with pytest.raises(ValidationFailed):
        certification.remove_member(record, certifier, leader.id)


def test_team_routes_on_screen_and_rest(people, sheet_ok, browser, api):
    record = submitted(people)
    client = browser(people["certifier"])
    response = client.post(f"{VIEW}/team/{record.id}", data={"name": "甲", "team_role": "leader",
                                                              "registration_no": "2026-N1GM-0001"})
    assert response.status_code == 302
    member = certification.team_of(record)[0]
    assert client.post(f"{VIEW}/team/{record.id}/remove/{member.id}").status_code == 302
    assert certification.team_of(record) == []
    team_before = certification.team_of(record)
    # The enterprise has no can_team: refused before the rule.
    denied = browser(people["enterprise"]).post(f"{VIEW}/team/{record.id}", data={"name": "x", "team_role": "expert"})
    assert denied.status_code in (302, 403) and certification.team_of(record) == team_before
    rest = api(people["certifier"])
    added = rest.post(f"{API}/{record.id}/team", json={"name": "乙", "team_role": "expert"})
    assert added.status_code == 201 and added.get_json()["team_role"] == "expert"
    refused = rest.post(f"{API}/{record.id}/team", json={"name": "丙", "team_role": "auditor"})
    assert refused.status_code == 422 and refused.get_json()["field"] == "registration_no"
    assert rest.post(f"{API}/{record.id}/team", json=[1]).status_code == 422
    assert api(people["other_certifier"]).post(f"{API}/{record.id}/team",
                                               json={"name": "丙", "team_role": "expert"}).status_code == 404
    assert rest.delete(f"{API}/{record.id}/team/{added.get_json()['id']}").status_code == 200
    assert rest.delete(f"{API}/{record.id}/team/{added.get_json()['id']}").status_code == 404
    assert rest.delete(f"{API}/{record.id}/team/999999").status_code == 404
    assert api(people["other_certifier"]).delete(f"{API}/{record.id}/team/{added.get_json()['id']}").status_code == 404


# ---------------------------------------------------------------------------
# Scope
# ---------------------------------------------------------------------------
def test_scope_on_screens_and_rest(people, sheet_ok, browser, api):
    record = submitted(people)
    for user in (people["other_certifier"], people["other_enterprise"], people["other_county"]):
        client = browser(user)
        assert client.get(f"{VIEW}/show/{record.id}").status_code == 404
        assert client.post(f"{VIEW}/transition/{record.id}", data={"action": "accept"}).status_code in (403, 404)
        assert api(user).get(f"{API}/{record.id}").status_code == 404
        assert api(user).post(f"{API}/{record.id}/transition", json={"action": "accept"}).status_code in (403, 404)
        assert api(user).get(f"{API}/{record.id}/clock").status_code == 404
        listed = api(user).get(f"{API}/").get_json()
        assert listed is None or listed.get("count", 0) == 0
    other = browser(people["other_certifier"])
    assert other.get(f"{VIEW}/edit/{record.id}").status_code in (403, 404)
    assert other.post(f"{VIEW}/transition/{record.id}", data={"action": "accept"}).status_code == 404
    assert status_of(record.id) == "submitted"
    # The county of the mine reads, but cannot act.
    county = browser(people["county"])
    assert county.get(f"{VIEW}/show/{record.id}").status_code == 200
    county.post(f"{VIEW}/transition/{record.id}", data={"action": "accept"})
    assert api(people["county"]).get(f"{API}/{record.id}").status_code == 200
    assert api(people["county"]).post(f"{API}/{record.id}/transition", json={"action": "accept"}).status_code == 403
    assert api(people["county"]).put(f"{API}/{record.id}", json={"applicant_name": "x"}).status_code in (401, 403)
    assert status_of(record.id) == "submitted"
    # The body's certifier lists and accepts it.
    certifier = api(people["certifier"])
    assert certifier.get(f"{API}/").get_json()["count"] == 1
    assert browser(people["certifier"]).get(f"{VIEW}/list/").status_code == 200
    assert certifier.post(f"{API}/{record.id}/transition", json={"action": "accept"}).status_code == 200
    assert status_of(record.id) == "under_evaluation"
    assert certifier.put(f"{API}/{record.id}", json={"applicant_name": "x"}).status_code in (403, 422)


def test_rest_parity(people, api, monkeypatch):
    monkeypatch.setattr(evaluation, "check_sheet_complete", lambda record, source: None)
    owner = api(people["enterprise"])
    refused = owner.post(f"{API}/", json={"mine_id": people["other_mine"].id, "body_id": people["body"].id})
    assert refused.status_code == 422 and refused.get_json()["field"] == "mine_id"
    assert owner.post(f"{API}/", json={"mine_id": people["mine"].id, "body_id": people["body"].id,
                                       "kind": "renewal"}).status_code == 422
    created = owner.post(f"{API}/", json={"mine_id": people["mine"].id, "body_id": people["body"].id})
    assert created.status_code == 201
    pk = created.get_json()["id"]
    record = db.session.get(CertificationApplication, pk)
    assert record.applicant_name == people["mine"].enterprise.name and record.kind == "initial"
    bad = owner.put(f"{API}/{pk}", json={"email": "nope"})
    assert bad.status_code == 422 and bad.get_json()["field"] == "email"
    body = {"contact_person": "李联系", **{name: True for name in CERTIFICATION_CONDITIONS},
            **{name: "简介" for name in SITUATION_AREAS}}
    assert owner.put(f"{API}/{pk}", json=body).status_code == 200
    early = owner.post(f"{API}/{pk}/transition", json={"action": "submit"})
    assert early.status_code == 409  # the materials are missing
    for slot in certification.MATERIAL_SLOTS:
        upload(pk, slot, people["enterprise"])
    assert owner.post(f"{API}/{pk}/transition", json={"action": "submit"}).get_json()["status"] == "submitted"
    assert owner.put(f"{API}/{pk}", json={"contact_person": "改"}).status_code == 422
    assert owner.delete(f"{API}/{pk}").status_code == 422
    assert owner.get(f"{API}/{pk}/clock").get_json() == {"clock": None}
    certifier = api(people["certifier"])
    at(monkeypatch, "2026-09-24")
    assert certifier.post(f"{API}/{pk}/transition", json={"action": "accept"}).status_code == 200
    at(monkeypatch, "2026-10-16")
    clock = owner.get(f"{API}/{pk}/clock").get_json()["clock"]
    assert (clock["used"], clock["remaining"], clock["deadline"], clock["overdue"]) == (11, 9, "2026-10-29", False)
    shown = owner.get(f"{API}/{pk}").get_json()["result"]
    assert shown["accepted_on"] == "2026-09-24" and shown["status"] == "under_evaluation"


def test_delete_only_a_draft_of_ones_own(people, api, sheet_ok):
    record = certification.create(people["enterprise"], people["mine"].id, people["body"].id)
    assert api(people["other_enterprise"]).delete(f"{API}/{record.id}").status_code == 404
    assert api(people["enterprise"]).delete(f"{API}/{record.id}").status_code == 200
    assert db.session.scalar(select(db.func.count()).select_from(CertificationApplication)) == 0


# ---------------------------------------------------------------------------
# Re-evaluation
# ---------------------------------------------------------------------------
def _certificate(people, record, number="GMC-TEST-0001"):
    mine = people["mine"]
    certificate = CertificationCertificate(
        number=number, certification_id=record.id, mine_id=mine.id, enterprise_id=mine.enterprise_id,
        region_code=mine.region_code, body_id=record.body_id, grade="AAAA", mine_name=mine.name,
        enterprise_name=mine.enterprise.name, issued_on=datetime.date(2024, 1, 10),
        valid_from=datetime.date(2024, 1, 10), valid_until=datetime.date(2027, 1, 9))
    db.session.add(certificate)
    db.session.commit()
    return certificate


def _finished(people, monkeypatch):
    """An evaluation that ended (refused), to hang a certificate on in these tests."""
    record = submitted(people)
    workflow.transition(record, "accept", people["certifier"])
    upload(record.id, "evaluation_report", people["certifier"], owner_type="CertificationEvaluation")
    workflow.transition(record, "refuse", people["certifier"], "测试")
    return record


def test_renewal_rules(people, sheet_ok, monkeypatch):
    certificate = _certificate(people, _finished(people, monkeypatch))
    with pytest.raises(AccessDenied):
        certification.create_renewal(people["other_enterprise"], certificate)
    with pytest.raises(AccessDenied):
        certification.create_renewal(people["certifier"], certificate)
    revoked = CertificationCertificate(status="revoked", enterprise_id=certificate.enterprise_id)
    with pytest.raises(ValidationFailed):
        certification.check_renewable(people["enterprise"], revoked)
    renewal = certification.create_renewal(people["enterprise"], certificate)
    assert (renewal.kind, renewal.previous_certificate_id, renewal.mine_id, renewal.body_id, renewal.status) == (
        "renewal", certificate.id, certificate.mine_id, certificate.body_id, "draft")
    assert renewal.applicant_name == people["mine"].enterprise.name
    with pytest.raises(ValidationFailed):
        certification.create_renewal(people["enterprise"], certificate)
    # A finished (refused) re-evaluation does not block a new one.
    complete(renewal, people["enterprise"])
    workflow.transition(renewal, "submit", people["enterprise"])
    workflow.transition(renewal, "reject", people["certifier"], "不受理")
    assert certification.create_renewal(people["enterprise"], certificate).kind == "renewal"


def test_renewal_routes(people, sheet_ok, monkeypatch, browser, api):
    certificate = _certificate(people, _finished(people, monkeypatch))
    client = browser(people["enterprise"])
    page = client.get(f"{VIEW}/renew/{certificate.id}").get_data(as_text=True)
    assert certificate.number in page and 'id="certification-renew-form"' in page
    response = client.post(f"{VIEW}/renew/{certificate.id}")
    renewal = db.session.scalars(select(CertificationApplication).where(
        CertificationApplication.kind == "renewal")).one()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{VIEW}/edit/{renewal.id}")
    assert 'id="renew-refusal"' in client.get(f"{VIEW}/renew/{certificate.id}").get_data(as_text=True)
    assert browser(people["other_enterprise"]).get(f"{VIEW}/renew/{certificate.id}").status_code == 404
    assert api(people["other_enterprise"]).post(f"{API}/renew/{certificate.id}").status_code == 404
    assert api(people["enterprise"]).post(f"{API}/renew/{certificate.id}").status_code == 422
    assert api(people["enterprise"]).post(f"{API}/renew/999999").status_code == 404


# ---------------------------------------------------------------------------
# The bodies' registry
# ---------------------------------------------------------------------------
def test_body_registry(people, api, make_user):
    from app.services.demo import demo_uscc
    import random

    admin = api(make_user("admin"))
    bad = admin.post("/api/v1/certificationbody/", json={"name": "新认证机构", "uscc": "91110000ABC"})
    assert bad.status_code == 422 and bad.get_json()["field"] == "uscc"
    good = admin.post("/api/v1/certificationbody/", json={"name": "新认证机构", "uscc": demo_uscc(random.Random(5), "110105"),
                                                          "approval_no": "CNCA-R-2099-001", "active": True})
    assert good.status_code == 201
    assert admin.post("/api/v1/certificationbody/", json={"name": "新认证机构"}).get_json()["field"] == "name"
    assert api(people["county"]).get("/api/v1/certificationbody/").get_json()["count"] == 3
    assert api(people["enterprise"]).post("/api/v1/certificationbody/", json={"name": "x"}).status_code in (401, 403)
    certification.create(people["enterprise"], people["mine"].id, people["body"].id)
    assert admin.delete(f"/api/v1/certificationbody/{people['body'].id}").status_code == 422
    assert admin.delete(f"/api/v1/certificationbody/{good.get_json()['id']}").status_code == 200
