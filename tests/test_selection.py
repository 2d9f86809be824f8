"""Selection after the assessment (SPEC E4, E5, E7): the collective review meeting and its
decisions, the public notice and its objections, listing only after a notice without an open or
upheld objection, rectification and the anomaly list for new mines."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import AgencyAssignment, AnomalyEntry, Application, DirectoryEntry, Objection, ReviewDecision
from app.models import ReviewMeeting
from app.services import agencies, evaluation, selection, workflow
from app.services.exceptions import DomainError, TransitionRefused, ValidationFailed
from tests.test_applications import _photo_checklist_not_in_the_way, people, submitted  # noqa: F401

TODAY = clock.today()
CONTACT = {"contact_name": "山西省自然资源厅矿产资源保护监督处", "contact_phone": "0351-1234567"}


@pytest.fixture
def scoring_done(monkeypatch):
    """The scores and the draw are tested in test_evaluation/test_agencies: here they are given."""
    monkeypatch.setattr(evaluation, "check_self_evaluation_complete", lambda *args: None)
    monkeypatch.setattr(evaluation, "check_assessment_complete", lambda *args: None)
    monkeypatch.setattr(agencies, "check_drawable", lambda *args: None)

    def draw(application, user, comment):
        agency_id = monkeypatch._gm_agency.id
        db.session.add(AgencyAssignment(application_id=application.id, agency_id=agency_id, algorithm="test",
                                        seed="0", candidate_ids=[agency_id]))
        return {}

    monkeypatch.setattr(agencies, "draw_for", draw)
    return monkeypatch


@pytest.fixture
def world(people, scoring_done, make_agency, make_user):
    agency = make_agency()
    scoring_done._gm_agency = agency
    people["agency"] = make_user("agency", agency=agency)
    people["other_province"] = make_user("province", "610000")
    people["national"] = make_user("national")
    return people


def accepted(people):
    application = submitted(people)
    workflow.transition(application, "county_pass", people["county"], "初审通过")
    workflow.transition(application, "city_recommend", people["city"], "同意推荐")
    workflow.transition(application, "province_accept", people["province"], "予以受理")
    return application


def assessed(people):
    application = accepted(people)
    workflow.transition(application, "submit_self_evaluation", people["enterprise"])
    workflow.transition(application, "assign_agency", people["province"])
    workflow.transition(application, "submit_assessment", people["agency"])
    assert application.status == "assessed"
    return application


def meeting(people, held_on=TODAY):
    record = ReviewMeeting(province_code="140000", held_on=held_on, members="张委员（组长）\n李委员")
    db.session.add(record)
    db.session.commit()
    return record


def status_of(application):
    db.session.expire_all()
    return db.session.get(Application, application.id).status


# ---------------------------------------------------------------------------
# E4 collective review
# ---------------------------------------------------------------------------
def test_decisions_take_the_matching_step(world, make_mine):
    application = assessed(world)
    review = meeting(world)
    with pytest.raises(ValidationFailed):
        selection.decide(review, application, "pass", "  ", world["province"])
    selection.decide(review, application, "defer", "材料待补充", world["province"])
    assert status_of(application) == "assessed"
    with pytest.raises(ValidationFailed):
        selection.decide(review, application, "pass", "同一次会议不再重复决定", world["province"])
    selection.decide(meeting(world), application, "pass", "评分达标，会审通过", world["province"])
    assert status_of(application) == "review_passed"
    decisions = db.session.scalars(select(ReviewDecision).where(ReviewDecision.application_id == application.id)
                                   .order_by(ReviewDecision.id)).all()
    assert [d.decision for d in decisions] == ["defer", "pass"] and decisions[1].reasons == "评分达标，会审通过"


def test_a_failed_application_is_not_selected(world):
    application = assessed(world)
    selection.decide(meeting(world), application, "fail", "第三方评估未达标", world["province"])
    assert status_of(application) == "not_selected"
    assert db.session.query(AnomalyEntry).count() == 0  # an existing mine does not go on the anomaly list


def test_who_may_decide(world):
    application = assessed(world)
    review = meeting(world)
    for user in (world["county"], world["city"], world["other_province"]):
        with pytest.raises(DomainError):
            selection.decide(review, application, "pass", "通过", user)
    with pytest.raises(ValidationFailed):
        selection.decide(meeting(world, TODAY + datetime.timedelta(days=3)), application, "pass", "通过",
                         world["province"])
    assert status_of(application) == "assessed"
    # The steps cannot be taken around the meeting.
    with pytest.raises(TransitionRefused):
        workflow.transition(application, "review_pass", world["province"])


def test_the_meeting_screen_and_api(world, browser, api):
    application = assessed(world)
    client = browser(world["province"])
    response = client.post("/reviewmeetingview/add", data={"held_on": TODAY.isoformat(), "members": "王委员\n赵委员"})
    assert response.status_code == 302
    record = db.session.scalars(select(ReviewMeeting)).one()
    assert record.province_code == "140000"
    page = client.get(f"/reviewmeetingview/show/{record.id}").get_data(as_text=True)
    assert application.mine_name in page and 'name="decision"' in page
    response = api(world["province"]).post(f"/api/v1/review_meeting/{record.id}/decide",
                                           json={"application_id": application.id, "decision": "pass",
                                                 "reasons": "通过"})
    assert response.status_code == 200 and response.get_json()["status"] == "review_passed"
    # Another province neither sees the meeting nor decides through it.
    other = api(world["other_province"])
    assert other.get(f"/api/v1/review_meeting/{record.id}").status_code == 404
    assert other.post(f"/api/v1/review_meeting/{record.id}/decide",
                      json={"application_id": application.id, "decision": "fail", "reasons": "x"}).status_code == 404
    # The application's page links to the meeting instead of offering the step as a button.
    page = browser(world["province"]).get(f"/applicationview/show/{application.id}").get_data(as_text=True)
    assert "gm-step-elsewhere" in page


# ---------------------------------------------------------------------------
# E7 new or expanded mines
# ---------------------------------------------------------------------------
def test_a_new_mine_applies_a_year_after_production_started(world):
    mine = world["mine"]
    mine.is_new_or_expanded = True
    mine.production_started_on = TODAY - datetime.timedelta(days=200)
    db.session.commit()
    with pytest.raises(TransitionRefused) as refusal:
        submitted(world)
    assert str(selection.one_year_after(mine.production_started_on)) in str(refusal.value)
    selection.check_new_mine_ready(mine, today=selection.one_year_after(mine.production_started_on))
    mine.production_started_on = None
    db.session.commit()
    with pytest.raises(TransitionRefused):
        selection.check_new_mine_ready(mine)
    assert selection.one_year_after(datetime.date(2024, 2, 29)) == datetime.date(2025, 2, 28)


def test_a_new_mine_gets_one_rectification_then_the_anomaly_list(world):
    application = assessed(world)
    mine = world["mine"]
    mine.is_new_or_expanded = True
    mine.production_started_on = TODAY - datetime.timedelta(days=800)
    db.session.commit()
    selection.decide(meeting(world), application, "fail", "废石堆场未治理", world["province"])
    assert status_of(application) == "rectifying"
    workflow.transition(application, "submit_rectification", world["enterprise"], "已完成整改")
    workflow.transition(application, "submit_assessment", world["agency"])
    selection.decide(meeting(world), application, "fail", "整改后仍不达标", world["province"])
    assert status_of(application) == "not_selected"
    anomaly = db.session.scalars(select(AnomalyEntry)).one()
    assert anomaly.mine_id == mine.id and "整改后仍不达标" in anomaly.reason and anomaly.status == "listed"


# ---------------------------------------------------------------------------
# E5 public notice and objections
# ---------------------------------------------------------------------------
def passed(people):
    application = assessed(people)
    selection.decide(meeting(people), application, "pass", "通过", people["province"])
    return application


def test_the_notice_period_and_who_publishes(world):
    application = passed(world)
    with pytest.raises(ValidationFailed) as refusal:
        selection.publish_notice(world["province"], "公示", TODAY, TODAY + datetime.timedelta(days=2),
                                 [application.id], contact=CONTACT)
    assert refusal.value.field == "ends_on"
    with pytest.raises(DomainError):
        selection.publish_notice(world["other_province"], "公示", TODAY, TODAY + datetime.timedelta(days=6),
                                 [application.id], contact=CONTACT)
    with pytest.raises(DomainError):
        selection.publish_notice(world["city"], "公示", TODAY, TODAY + datetime.timedelta(days=6), [application.id],
                                 contact=CONTACT)
    assert status_of(application) == "review_passed"
    notice, refusals = selection.publish_notice(world["province"], "2026年度省级绿色矿山遴选结果公示", TODAY,
                                                TODAY + datetime.timedelta(days=6), [application.id],
                                                contact=CONTACT)
    assert refusals == [] and status_of(application) == "in_notice"


def _in_notice(world, days=6):
    application = passed(world)
    notice, _refusals = selection.publish_notice(world["province"], "遴选结果公示", TODAY,
                                                 TODAY + datetime.timedelta(days=days), [application.id],
                                                 contact=CONTACT)
    return application, notice


def test_listing_waits_for_the_end_of_the_period_and_the_objections(world, monkeypatch):
    application, notice = _in_notice(world)
    with pytest.raises(TransitionRefused) as refusal:
        workflow.transition(application, "list", world["province"])
    assert notice.ends_on.isoformat() in str(refusal.value)
    objection = Objection(application_id=application.id, content="矿区扬尘污染严重", received_on=TODAY)
    selection.objection_rule(objection, world["province"], "edit")
    db.session.add(objection)
    db.session.commit()
    after = notice.ends_on + datetime.timedelta(days=1)
    monkeypatch.setattr(selection, "_today", lambda: after)
    with pytest.raises(TransitionRefused) as refusal:
        workflow.transition(application, "list", world["province"])
    assert "1" in str(refusal.value)
    workflow.transition(objection, "dismiss", world["province"], "经核实已整改")
    workflow.transition(application, "list", world["province"])
    assert status_of(application) == "listed"
    entry = db.session.scalars(select(DirectoryEntry)).one()
    assert (entry.level, entry.status, entry.mine_id, entry.application_id) == (
        "province", "listed", application.mine_id, application.id)
    assert entry.entry_decision == notice.title and entry.listed_on == clock.today()


def test_an_upheld_objection_stops_the_listing(world, monkeypatch):
    application, notice = _in_notice(world)
    with pytest.raises(TransitionRefused):
        workflow.transition(application, "reject_after_notice", world["province"], "异议成立")
    objection = Objection(application_id=application.id, content="存在未整改的行政处罚", received_on=TODAY)
    selection.objection_rule(objection, world["province"], "edit")
    db.session.add(objection)
    db.session.commit()
    workflow.transition(objection, "uphold", world["province"], "异议属实")
    monkeypatch.setattr(selection, "_today", lambda: notice.ends_on + datetime.timedelta(days=1))
    with pytest.raises(TransitionRefused):
        workflow.transition(application, "list", world["province"])
    workflow.transition(application, "reject_after_notice", world["province"], "异议成立，不予入选")
    assert status_of(application) == "not_selected"
    assert db.session.query(DirectoryEntry).count() == 0


def test_objections_only_within_the_period_and_in_scope(world, browser):
    application, notice = _in_notice(world)
    late = Objection(application_id=application.id, content="逾期异议", received_on=notice.ends_on
                     + datetime.timedelta(days=1))
    with pytest.raises(ValidationFailed) as refusal:
        selection.objection_rule(late, world["province"], "edit")
    assert refusal.value.field == "received_on"
    with pytest.raises(DomainError):
        selection.objection_rule(Objection(application_id=application.id, content="x", received_on=TODAY),
                                 world["other_province"], "edit")
    client = browser(world["province"])
    response = client.post("/objectionview/add", data={"application": application.id,
                                                       "received_on": TODAY.isoformat(), "content": "噪声扰民"})
    assert response.status_code == 302
    assert db.session.scalars(select(Objection)).one().region_code == application.region_code
    # The form offers only the applications in public notice that the user reaches.
    form = browser(world["other_province"]).get("/objectionview/add").get_data(as_text=True)
    assert application.mine_name not in form


def test_publish_and_list_on_the_screens(world, browser, monkeypatch):
    application = passed(world)
    client = browser(world["province"])
    form = client.get("/publicnoticeview/publish").get_data(as_text=True)
    assert application.mine_name in form
    response = client.post("/publicnoticeview/publish", data={
        "title": "遴选结果公示", "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + datetime.timedelta(days=1)).isoformat(), "application_ids": [str(application.id)],
        **CONTACT})
    assert response.status_code == 200 and "至少" in response.get_data(as_text=True)  # refused, input kept
    response = client.post("/publicnoticeview/publish", data={
        "title": "遴选结果公示", "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + datetime.timedelta(days=7)).isoformat(), "application_ids": [str(application.id)],
        **CONTACT})
    assert response.status_code == 302 and status_of(application) == "in_notice"
    notice_id = db.session.get(Application, application.id).public_notice_id
    monkeypatch.setattr(selection, "_today", lambda: TODAY + datetime.timedelta(days=8))
    client.post(f"/publicnoticeview/list-eligible/{notice_id}")
    assert status_of(application) == "listed"


def test_the_registry_records_new_mines(make_user, make_mine, api, browser):
    county = make_user("county", "140105")
    mine = make_mine("140105")
    client = api(county)
    future = (TODAY + datetime.timedelta(days=3)).isoformat()
    response = client.put(f"/api/v1/mine/{mine.id}", json={"is_new_or_expanded": True, "production_started_on": future})
    assert response.status_code == 422 and response.get_json()["field"] == "production_started_on"
    response = client.put(f"/api/v1/mine/{mine.id}", json={"is_new_or_expanded": True,
                                                           "production_started_on": "2025-03-01"})
    assert response.status_code == 200
    db.session.expire_all()
    assert mine.is_new_or_expanded and mine.production_started_on == datetime.date(2025, 3, 1)
    assert "production_started_on" in browser(county).get(f"/mineview/edit/{mine.id}").get_data(as_text=True)


def test_the_drawn_agency_and_the_province_are_told(world):
    from app.models import Notification

    application = accepted(world)
    workflow.transition(application, "submit_self_evaluation", world["enterprise"])
    assert db.session.query(Notification).filter_by(user_id=world["province"].id, record_id=application.id,
                                                     kind="status").count() >= 1
    before = db.session.query(Notification).filter_by(user_id=world["agency"].id).count()
    workflow.transition(application, "assign_agency", world["province"])
    assert db.session.query(Notification).filter_by(user_id=world["agency"].id).count() == before + 1
