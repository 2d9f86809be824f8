"""Green-mine applications (SPEC D1-D10): creation from a passed pre-declaration, the forms'
rules, the review chain on screens and API, scope, windows, process monitoring, evidence."""
from __future__ import annotations

import datetime
import threading

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import (Application, ApplicationWindow, GreenMineUser, IndicatorEvidence, IndicatorItem,
                        IndicatorVersion, TransitionLog)
from app.services import applications, predeclarations, workflow
from app.services.exceptions import AccessDenied, DomainError, TransitionRefused, ValidationFailed
from tests.conftest import is_postgres, upload_required_materials

YEAR = clock.today().year + 1  # the default deadline (10-15) is ahead


@pytest.fixture(autouse=True)
def _photo_checklist_not_in_the_way(without_photo_checklist):
    """Pre-declarations are only a way in here: their photo checklist is tested elsewhere."""


@pytest.fixture
def people(make_mine, make_user):
    mine = make_mine("140105", address="小店区测试路1号")
    enterprise = mine.enterprise
    enterprise.legal_representative, enterprise.mobile, enterprise.postcode = "张三", "13800138000", "030000"
    db.session.commit()
    return {
        "mine": mine,
        "enterprise": make_user("enterprise", enterprise=enterprise),
        "county": make_user("county", "140105"),
        "city": make_user("city", "140100"),
        "province": make_user("province", "140000"),
        "other_county": make_user("county", "140121"),
        "other_city": make_user("city", "140200"),
    }


def passed_predeclaration(people, mine=None, user=None, year=YEAR):
    user = user or people["enterprise"]
    record = predeclarations.create(user, mine or people["mine"], year)
    workflow.transition(record, "submit", user)
    workflow.transition(record, "approve", people["province"], "同意")
    return record


def complete(application, materials: bool = True):
    """The form filled in and (``materials``) the required materials uploaded by the applicant."""
    application.contact_person = "李四"
    application.self_evaluation_unit = "某某评估公司"
    application.situation_environment = "矿区绿化良好。"
    for name in applications.ELIGIBILITY_CONDITIONS:
        setattr(application, name, True)
    db.session.commit()
    if materials:
        applicant = db.session.scalars(select(GreenMineUser).where(
            GreenMineUser.enterprise_id == application.enterprise_id).order_by(GreenMineUser.id)).first()
        upload_required_materials("Application", application, applicant)
    return application


def draft(people, **kwargs):
    return complete(applications.create_from_predeclaration(people["enterprise"], passed_predeclaration(people, **kwargs)))


def submitted(people):
    application = draft(people)
    workflow.transition(application, "submit", people["enterprise"])
    return application


def status_of(application_id):
    db.session.expire_all()
    return db.session.get(Application, application_id).status


# ---------------------------------------------------------------------------
# D1 creation
# ---------------------------------------------------------------------------
def test_created_from_the_passed_predeclaration_with_registry_values(people):
    pre = passed_predeclaration(people)
    application = applications.create_from_predeclaration(people["enterprise"], pre)
    mine = people["mine"]
    assert application.status == "draft" and application.predeclaration_id == pre.id
    assert (application.region_code, application.year) == (pre.region_code, pre.year)
    assert application.enterprise_name == mine.enterprise.name and application.uscc == mine.enterprise.uscc
    assert application.licence_no == mine.licence_no and application.mine_address == "小店区测试路1号"
    assert application.mineral_name == "煤" and application.legal_representative == "张三"
    assert application.postcode == "030000"
    with pytest.raises(ValidationFailed) as twice:
        applications.create_from_predeclaration(people["enterprise"], pre)
    assert twice.value.field == "predeclaration_id"


def test_only_own_passed_predeclaration(people, make_mine, make_user):
    not_passed = predeclarations.create(people["enterprise"], people["mine"], YEAR + 1)
    with pytest.raises(ValidationFailed):
        applications.create_from_predeclaration(people["enterprise"], not_passed)
    other_mine = make_mine("140105")
    other_user = make_user("enterprise", enterprise=other_mine.enterprise)
    others = passed_predeclaration(people, mine=other_mine, user=other_user)
    with pytest.raises(ValidationFailed):
        applications.create_from_predeclaration(people["enterprise"], others)
    with pytest.raises(AccessDenied):
        applications.create_from_predeclaration(people["county"], others)
    assert db.session.scalar(select(db.func.count()).select_from(Application)) == 0


def test_the_new_page_lists_passed_predeclarations_and_creates_the_draft(people, browser):
    pre = passed_predeclaration(people)
    client = browser(people["enterprise"])
    assert client.get("/applicationview/add").headers["Location"].endswith("/applicationview/new")
    page = client.get("/applicationview/new").get_data(as_text=True)
    assert people["mine"].licence_no in page and f'value="{pre.id}"' in page
    response = client.post("/applicationview/new", data={"predeclaration_id": pre.id})
    application = db.session.scalars(select(Application)).one()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/applicationview/edit/{application.id}")
    assert people["mine"].licence_no not in client.get("/applicationview/new").get_data(as_text=True)


def test_api_creates_only_through_the_service(people, api, make_mine, make_user):
    pre = passed_predeclaration(people)
    client = api(people["enterprise"])
    refused = client.post("/api/v1/application/", json={"predeclaration_id": pre.id, "status": "accepted"})
    assert refused.status_code in (400, 422) and db.session.scalar(select(db.func.count()).select_from(Application)) == 0
    created = client.post("/api/v1/application/", json={"predeclaration_id": pre.id})
    assert created.status_code == 201, created.get_json()
    row = db.session.get(Application, created.get_json()["id"])
    assert row.status == "draft" and row.licence_no == people["mine"].licence_no
    other_mine = make_mine("140105")
    others = passed_predeclaration(people, mine=other_mine, user=make_user("enterprise", enterprise=other_mine.enterprise))
    body = client.post("/api/v1/application/", json={"predeclaration_id": others.id})
    assert body.status_code == 422 and body.get_json()["field"] == "predeclaration_id"


# ---------------------------------------------------------------------------
# D2 field rules, D4 modify and delete
# ---------------------------------------------------------------------------
def _form(application, **changes):
    data = {name: getattr(application, name) for name in (
        "enterprise_name", "mine_name", "licence_no", "uscc", "legal_representative", "contact_person",
        "mobile", "self_evaluation_unit", "situation_environment")}
    data.update({name: "1" for name in applications.ELIGIBILITY_CONDITIONS})
    data.update(changes)
    return {k: ("" if v is None else v) for k, v in data.items()}


def test_field_ranges_are_refused_on_the_field(people, browser, api):
    application = draft(people)
    client = browser(people["enterprise"])
    page = client.post(f"/applicationview/edit/{application.id}", data=_form(application, greening_coverage_pct="150"))
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "100" in text and 'id="greening_coverage_pct"' in text
    assert db.session.get(Application, application.id).greening_coverage_pct is None
    ok = client.post(f"/applicationview/edit/{application.id}",
                     data=_form(application, greening_coverage_pct="45.5", tailings_produced="12"))
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(Application, application.id).greening_coverage_pct == 45.5
    client = api(people["enterprise"])
    for field, value in (("tailings_used", -1), ("rnd_share_pct", 101), ("postcode", "12345"),
                         ("email", "not-an-address"), ("mobile", "abc")):
        response = client.put(f"/api/v1/application/{application.id}", json={field: value})
        assert response.status_code == 422 and response.get_json()["field"] == field, (field, response.get_json())
    assert client.put(f"/api/v1/application/{application.id}", json={"region_code": "140121"}).status_code in (400, 422)
    assert db.session.get(Application, application.id).region_code == "140105"


def test_modify_and_delete_only_as_draft(people, browser, api):
    application = submitted(people)
    client = browser(people["enterprise"])
    assert client.get(f"/applicationview/edit/{application.id}").status_code == 302
    assert api(people["enterprise"]).put(f"/api/v1/application/{application.id}",
                                         json={"contact_person": "王五"}).status_code == 422
    assert api(people["enterprise"]).delete(f"/api/v1/application/{application.id}").status_code == 422
    workflow.transition(application, "return", people["county"], "请补充材料")
    # Returned: changed again, but never deleted (it has reviewers' opinions).
    assert api(people["enterprise"]).put(f"/api/v1/application/{application.id}",
                                         json={"contact_person": "王五"}).status_code == 200
    assert api(people["enterprise"]).delete(f"/api/v1/application/{application.id}").status_code == 422
    assert db.session.get(Application, application.id) is not None
    fresh = draft(people, year=YEAR + 1)
    assert api(people["enterprise"]).delete(f"/api/v1/application/{fresh.id}").status_code == 200
    db.session.expire_all()
    assert db.session.get(Application, fresh.id) is None


def test_submission_needs_the_conditions_and_a_situation(people):
    application = applications.create_from_predeclaration(people["enterprise"], passed_predeclaration(people))
    with pytest.raises(TransitionRefused) as refused:
        workflow.transition(application, "submit", people["enterprise"])
    assert "自评报告编写单位" in str(refused.value) or "Self-evaluation" in str(refused.value)
    complete(application)
    application.cond_no_penalty = False
    db.session.commit()
    with pytest.raises(TransitionRefused):
        workflow.transition(application, "submit", people["enterprise"])
    application.conditions_note = "2024年处罚已整改到位。"
    db.session.commit()
    workflow.transition(application, "submit", people["enterprise"])
    assert application.status == "submitted"


# ---------------------------------------------------------------------------
# D5-D7 the chain
# ---------------------------------------------------------------------------
def test_the_whole_journey_on_the_screens(people, browser):
    application = draft(people)
    steps = [("enterprise", "submit", "submitted", ""), ("county", "county_pass", "county_passed", "初审通过"),
             ("city", "city_recommend", "city_recommended", "推荐"), ("province", "province_accept", "accepted", "受理")]
    for role, action, state, comment in steps:
        show = browser(people[role]).get(f"/applicationview/show/{application.id}").get_data(as_text=True)
        assert f'value="{action}"' in show
        response = browser(people[role]).post(f"/applicationview/transition/{application.id}",
                                              data={"action": action, "comment": comment})
        assert response.status_code == 302
        assert status_of(application.id) == state
    page = browser(people["enterprise"]).get(f"/applicationview/process/{application.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    for role, _action, _state, comment in steps:
        assert people[role].username in text and comment in text
    assert text.count("<tr><td>") == 4
    log = workflow.history(application)
    from app.views.formatting import local_datetime
    assert local_datetime(log[0].created_at) in text
    assert browser(people["county"]).get(f"/applicationview/process/{application.id}").status_code == 200


def test_the_whole_journey_on_the_api(people, api):
    application = draft(people)
    for role, action, state in (("enterprise", "submit", "submitted"), ("county", "county_pass", "county_passed"),
                                ("city", "city_recommend", "city_recommended"),
                                ("province", "province_accept", "accepted")):
        response = api(people[role]).post(f"/api/v1/application/{application.id}/transition",
                                          json={"action": action, "comment": "好"})
        assert response.status_code == 200 and response.get_json()["status"] == state
    assert api(people["enterprise"]).get(f"/api/v1/application/{application.id}").get_json()["result"]["status"] == "accepted"


def test_withdraw_only_while_submitted(people, api):
    application = submitted(people)
    client = api(people["enterprise"])
    assert client.post(f"/api/v1/application/{application.id}/transition", json={"action": "withdraw"}).status_code == 200
    assert status_of(application.id) == "draft"
    workflow.transition(application, "submit", people["enterprise"])
    workflow.transition(application, "county_pass", people["county"], "初审通过")
    refused = client.post(f"/api/v1/application/{application.id}/transition", json={"action": "withdraw"})
    assert refused.status_code == 409 and refused.get_json()["message"]


@pytest.mark.parametrize("level", ["county", "city", "province"])
def test_each_reviewer_returns_with_a_comment_and_the_enterprise_resubmits(people, level):
    application = submitted(people)
    if level in ("city", "province"):
        workflow.transition(application, "county_pass", people["county"], "初审通过")
    if level == "province":
        workflow.transition(application, "city_recommend", people["city"], "同意推荐")
    with pytest.raises(TransitionRefused):
        workflow.transition(application, "return", people[level])
    workflow.transition(application, "return", people[level], "请补充矿区绿化材料")
    assert application.status == "returned"
    assert workflow.history(application)[-1].comment == "请补充矿区绿化材料"
    workflow.transition(application, "submit", people["enterprise"])
    assert application.status == "submitted"


def test_the_province_cannot_act_before_the_county_and_the_city(people, api):
    application = submitted(people)
    for action in ("province_accept", "return"):
        response = api(people["province"]).post(f"/api/v1/application/{application.id}/transition",
                                                json={"action": action, "comment": "x"})
        assert response.status_code in (403, 409) and response.get_json()["message"]
    workflow.transition(application, "county_pass", people["county"], "初审通过")
    response = api(people["province"]).post(f"/api/v1/application/{application.id}/transition",
                                            json={"action": "province_accept"})
    assert response.status_code == 409 and response.get_json()["message"]
    assert status_of(application.id) == "county_passed"


# ---------------------------------------------------------------------------
# Issue 19 point 2: an opinion at every review step (seed 001 二(二))
# ---------------------------------------------------------------------------
REVIEW_CHAIN = (("county", "county_pass", "初审通过", "县级初审意见：材料齐全，同意上报"),
                ("city", "city_recommend", "推荐至省级", "市级复核意见：经复核，同意推荐"),
                ("province", "province_accept", "受理", "省级受理意见：材料齐全，予以受理"))


def _opinion_refusal(action: str) -> str:
    with force_locale("zh"):
        return gettext("“%(action)s” needs your review opinion: write it in the opinion box.",
                       action=workflow.action_label("application", action))


def test_every_review_step_is_an_opinion_step_in_the_table():
    """The rule lives in the transition table: every decision of the county, the city and the
    province on an application needs the reviewer's opinion."""
    steps = [t for t in workflow.TRANSITIONS if t.workflow == "application"
             and t.source in ("submitted", "county_passed", "city_recommended")
             and t.action not in ("withdraw", "disqualify")]  # (disqualify: a fraud finding's step)
    assert {t.action for t in steps} == {"county_pass", "city_recommend", "province_accept", "return"}
    assert len(steps) == 6
    assert all(t.comment_required and t.opinion for t in steps)


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_passing_without_an_opinion_is_refused_at_each_level(people, blank):
    application = submitted(people)
    for role, action, _label, opinion in REVIEW_CHAIN:
        before = len(workflow.history(application))
        with force_locale("zh"), pytest.raises(TransitionRefused) as refused:
            workflow.transition(application, action, people[role], blank)
        assert refused.value.status_code == 422 and refused.value.field == "comment"
        assert str(refused.value) == _opinion_refusal(action)
        assert len(workflow.history(application)) == before  # nothing written
        workflow.transition(application, action, people[role], opinion)
    assert status_of(application.id) == "accepted"


def test_the_refusal_names_the_missing_opinion_in_chinese(people, api, browser):
    application = submitted(people)
    expected = _opinion_refusal("county_pass")
    assert expected == "“初审通过”需要填写审查意见：请在意见栏中填写。"
    response = api(people["county"]).post(f"/api/v1/application/{application.id}/transition",
                                          json={"action": "county_pass"})
    assert response.status_code == 422
    assert response.get_json()["message"] == expected and response.get_json()["field"] == "comment"
    response = api(people["county"]).post(f"/api/v1/application/{application.id}/transition",
                                          json={"action": "county_pass", "comment": " "})
    assert response.status_code == 422
    # Returning without an opinion: the same refusal, named for that step.
    response = api(people["county"]).post(f"/api/v1/application/{application.id}/transition",
                                          json={"action": "return"})
    assert response.status_code == 422 and response.get_json()["message"] == _opinion_refusal("return")
    page = browser(people["county"]).post(f"/applicationview/transition/{application.id}",
                                          data={"action": "county_pass", "comment": ""}, follow_redirects=True)
    assert expected in page.get_data(as_text=True)
    assert status_of(application.id) == "submitted" and [s.action for s in workflow.history(application)] == ["submit"]


def test_the_pass_buttons_ask_for_the_opinion(people, browser):
    """The pass and return buttons of each level have the required opinion box (the mechanism the
    return step used for its comment)."""
    import re

    application = submitted(people)
    for role, action, _label, opinion in REVIEW_CHAIN:
        page = browser(people[role]).get(f"/applicationview/show/{application.id}").get_data(as_text=True)
        for step in (action, "return"):
            form = re.search(r'<form[^>]*gm-step[^>]*>(?:(?!</form>).)*value="%s"(?:(?!</form>).)*</form>' % step,
                             page, re.S)
            assert form is not None, (role, step)
            assert "审查意见（必填）" in form.group(0) and re.search(r"\srequired\s*>", form.group(0)), (role, step)
        workflow.transition(application, action, people[role], opinion)


def test_the_opinions_show_on_the_record_and_in_the_process_log(people, browser, api):
    application = submitted(people)
    # A first round: the county returns, the enterprise resubmits.
    workflow.transition(application, "return", people["county"], "请补充矿区复绿现场照片")
    workflow.transition(application, "submit", people["enterprise"])
    page = browser(people["enterprise"]).get(f"/applicationview/show/{application.id}").get_data(as_text=True)
    assert "审查意见" in page
    for role, action, _label, opinion in REVIEW_CHAIN:
        response = api(people[role]).post(f"/api/v1/application/{application.id}/transition",
                                          json={"action": action, "comment": opinion})
        assert response.status_code == 200, response.get_json()
    opinions = workflow.opinions(application)
    assert [(step.action, step.comment) for step in opinions] == (
        [("return", "请补充矿区复绿现场照片")] + [(action, opinion) for _r, action, _l, opinion in REVIEW_CHAIN])
    assert [step.username for step in opinions] == [people[r].username for r in ("county", "county", "city", "province")]
    # The record's page: the section with each level's opinion, who and when.
    page = browser(people["enterprise"]).get(f"/applicationview/show/{application.id}").get_data(as_text=True)
    section = page[page.index('id="review-opinions"'):]
    section = section[:section.index("</table>")]
    from app.views.formatting import local_datetime
    for step in opinions:
        assert step.comment in section and step.operator_name in section
        assert local_datetime(step.created_at) in section
    for label in ("初审通过", "推荐至省级", "受理", "退回修改"):
        assert label in section
    # The process log carries them as the steps' comments.
    log = browser(people["city"]).get(f"/applicationview/process/{application.id}").get_data(as_text=True)
    for _role, _action, _label, opinion in REVIEW_CHAIN:
        assert opinion in log


def test_a_record_without_opinions_says_so(people, browser):
    application = submitted(people)
    page = browser(people["county"]).get(f"/applicationview/show/{application.id}").get_data(as_text=True)
    section = page[page.index('id="review-opinions"'):]
    assert "尚无审查意见" in section[:section.index("</table>")]


def test_each_reviewer_sees_only_its_scope(people, browser, api):
    application = submitted(people)
    assert browser(people["other_county"]).get(f"/applicationview/show/{application.id}").status_code == 404
    assert browser(people["other_county"]).get(f"/applicationview/process/{application.id}").status_code == 404
    assert api(people["other_county"]).get(f"/api/v1/application/{application.id}").status_code == 404
    assert api(people["other_city"]).post(f"/api/v1/application/{application.id}/transition",
                                          json={"action": "county_pass"}).status_code == 404
    assert api(people["other_city"]).get("/api/v1/application/").get_json()["count"] == 0
    assert api(people["city"]).get("/api/v1/application/").get_json()["count"] == 1
    assert browser(people["city"]).get(f"/applicationview/show/{application.id}").status_code == 200
    assert application.licence_no in browser(people["county"]).get("/applicationview/list/").get_data(as_text=True)
    assert application.licence_no not in browser(people["other_county"]).get("/applicationview/list/").get_data(as_text=True)


# ---------------------------------------------------------------------------
# D9 the window
# ---------------------------------------------------------------------------
def test_late_submission_is_refused_with_the_deadline(people, api):
    application = draft(people)
    yesterday = clock.today() - datetime.timedelta(days=1)
    db.session.add(ApplicationWindow(province_code="140000", year=YEAR, deadline=yesterday))
    db.session.commit()
    response = api(people["enterprise"]).post(f"/api/v1/application/{application.id}/transition",
                                              json={"action": "submit"})
    assert response.status_code == 409 and yesterday.isoformat() in response.get_json()["message"]
    assert status_of(application.id) == "draft"


def test_default_deadline_is_configurable(app, people):
    application = draft(people)
    opens, deadline = applications.deadline_for("140000", YEAR)
    assert (opens, deadline) == (None, datetime.date(YEAR, 10, 15))
    app.config["APPLICATION_DEADLINE"] = (1, 1)
    try:
        with pytest.raises(TransitionRefused) as refused:
            applications.check_window(application, today=datetime.date(YEAR, 1, 2))
        assert f"{YEAR}-01-01" in str(refused.value)
    finally:
        app.config.pop("APPLICATION_DEADLINE")


def test_windows_are_kept_by_their_province(people, browser, make_user):
    client = browser(people["province"])
    ok = client.post("/applicationwindowview/add", data={"province_code": "140000", "year": YEAR,
                                                         "opens_on": f"{YEAR}-03-01", "deadline": f"{YEAR}-10-15"})
    assert ok.status_code == 302
    assert db.session.scalars(select(ApplicationWindow)).one().deadline == datetime.date(YEAR, 10, 15)
    for data in ({"province_code": "130000", "year": YEAR + 1, "deadline": f"{YEAR + 1}-10-15"},
                 {"province_code": "140000", "year": YEAR + 1, "opens_on": f"{YEAR + 1}-10-01",
                  "deadline": f"{YEAR + 1}-09-15"},
                 {"province_code": "140100", "year": YEAR + 1, "deadline": f"{YEAR + 1}-10-15"}):
        assert client.post("/applicationwindowview/add", data=data).status_code == 200
    assert db.session.scalar(select(db.func.count()).select_from(ApplicationWindow)) == 1
    other = make_user("province", "130000")
    assert "山西省" not in browser(other).get("/applicationwindowview/list/").get_data(as_text=True)


# ---------------------------------------------------------------------------
# D10 evidence
# ---------------------------------------------------------------------------
def test_evidence_only_after_submission_by_the_applicant(people, browser):
    item = db.session.scalars(select(IndicatorItem).join(IndicatorItem.version)
                              .where(IndicatorItem.code == "1.2", IndicatorVersion.code == "national-2020")).one()
    application = draft(people)
    client = browser(people["enterprise"])
    assert client.get(f"/applicationview/evidence/{application.id}").status_code == 302
    client.post(f"/applicationview/evidence/{application.id}", data={"item_id": item.id, "note": "见附件"})
    assert db.session.scalar(select(db.func.count()).select_from(IndicatorEvidence)) == 0
    workflow.transition(application, "submit", people["enterprise"])
    page = client.get(f"/applicationview/evidence/{application.id}").get_data(as_text=True)
    assert "矿区绿化" in page and "企业管理与企业形象" in page
    client.post(f"/applicationview/evidence/{application.id}", data={"item_id": item.id, "note": "见附件"})
    assert db.session.scalars(select(IndicatorEvidence)).one().note == "见附件"
    assert browser(people["county"]).get(f"/applicationview/evidence/{application.id}").status_code == 200
    browser(people["county"]).post(f"/applicationview/evidence/{application.id}", data={"item_id": item.id, "note": "改"})
    db.session.expire_all()
    assert db.session.scalars(select(IndicatorEvidence)).one().note == "见附件"


def test_the_catalogue_has_the_six_areas():
    names = [i.name for i in db.session.scalars(select(IndicatorItem).join(IndicatorItem.version)
                                                .where(IndicatorItem.level == 1, IndicatorVersion.code == "national-2020")
                                                .order_by(IndicatorItem.sort_order))]
    assert names == ["矿区环境", "资源开发方式", "资源综合利用", "节能减排", "科技创新与数字化矿山", "企业管理与企业形象"]


# ---------------------------------------------------------------------------
# The race between a withdraw and a county review
# ---------------------------------------------------------------------------
def test_withdraw_and_county_review_race_has_one_winner(app, people):
    if not is_postgres(app):
        pytest.skip("row locking is tested on PostgreSQL (TEST_DATABASE_URL)")
    application = submitted(people)
    record_id = application.id
    ids = {"withdraw": people["enterprise"].id, "county_pass": people["county"].id}
    barrier = threading.Barrier(2)
    outcomes = {}

    def attempt(action):
        with app.app_context():
            user = app.appbuilder.sm.get_user_by_id(ids[action])
            row = db.session.get(Application, record_id)
            barrier.wait()
            try:
                workflow.transition(row, action, user, "并发")
                outcomes[action] = "ok"
            except DomainError:
                outcomes[action] = "refused"
            except Exception as exc:  # pragma: no cover - would be a 500
                outcomes[action] = f"error: {exc!r}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(action,)) for action in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["ok", "refused"]
    winner = next(action for action, outcome in outcomes.items() if outcome == "ok")
    assert status_of(record_id) == {"withdraw": "draft", "county_pass": "county_passed"}[winner]
    log = db.session.scalars(select(TransitionLog).where(TransitionLog.record_type == "Application",
                                                         TransitionLog.record_id == record_id)
                             .order_by(TransitionLog.id)).all()
    assert [step.action for step in log] == ["submit", winner]
    assert log[-1].from_state == "submitted"


def test_show_page_names_closed_list_values(people, browser):
    application = draft(people)
    application.mining_method, application.mine_size, application.economic_type = "underground", "medium", "private"
    db.session.commit()
    page = browser(people["enterprise"]).get(f"/applicationview/show/{application.id}").get_data(as_text=True)
    assert "地下" in page and "中型" in page and "私营" in page
    assert ">underground<" not in page and ">medium<" not in page
