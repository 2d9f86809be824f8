"""The directory (SPEC F1, E6, F4) and demonstration zones (E8): entries leave with reason and
decision by the authority of their level; recommendations to the national list within the quota;
the anomaly list with entry and release, which stops applications; zones through county or
enterprise, city and province."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import AnomalyEntry, DemoZoneApplication, DirectoryEntry, NationalRecommendation
from app.services import directory, workflow
from app.services.exceptions import DomainError, TransitionRefused, ValidationFailed
from tests.test_applications import _photo_checklist_not_in_the_way, draft, people  # noqa: F401


def listed(mine, level="province", year=2025):
    entry = DirectoryEntry(mine_id=mine.id, enterprise_id=mine.enterprise_id, region_code=mine.region_code,
                           level=level, year=year, mine_name=mine.name, enterprise_name=mine.enterprise.name,
                           listed_on=datetime.date(year, 12, 1), entry_reason="遴选入库")
    db.session.add(entry)
    db.session.commit()
    return entry


@pytest.fixture
def staff(make_user):
    return {"province": make_user("province", "140000"), "other_province": make_user("province", "610000"),
            "city": make_user("city", "140100"), "county": make_user("county", "140105"),
            "national": make_user("national")}


def test_removal_records_reason_decision_and_date(staff, make_mine, api):
    entry = listed(make_mine("140105"))
    with pytest.raises(TransitionRefused):
        directory.remove(entry, staff["province"], "")  # a reason is required
    for user in (staff["other_province"], staff["city"], staff["county"]):
        with pytest.raises(DomainError):
            directory.remove(entry, user, "抽查不合格")
    directory.remove(entry, staff["province"], "实地核查不达标，退出名录", "晋自然资函〔2026〕12号")
    db.session.expire_all()
    entry = db.session.get(DirectoryEntry, entry.id)
    assert (entry.status, entry.removed_on, entry.exit_reason, entry.exit_decision) == (
        "removed", clock.today(), "实地核查不达标，退出名录", "晋自然资函〔2026〕12号")
    assert entry.listed_on == datetime.date(2025, 12, 1)  # the entry stays on record (有进有出)


def test_national_entries_leave_by_the_national_level(staff, make_mine, api):
    entry = listed(make_mine("140105"), level="national")
    with pytest.raises(DomainError):
        directory.remove(entry, staff["province"], "不达标")
    response = api(staff["national"]).post(f"/api/v1/directory/{entry.id}/remove",
                                           json={"reason": "不达标", "decision": "自然资办函〔2026〕1号"})
    assert response.status_code == 200 and response.get_json()["status"] == "removed"


def test_recommendations_stay_within_the_quota(staff, make_mine, api):
    entries = [listed(make_mine("140105")) for _ in range(3)]
    listed(make_mine("610102"))  # another province's list does not count
    assert directory.recommendation_quota("140000") == (1, 0)
    first = directory.recommend(entries[0], staff["province"], "综合评分第一")
    with pytest.raises(ValidationFailed) as refusal:
        directory.recommend(entries[1], staff["province"])
    assert "1" in str(refusal.value)
    with pytest.raises(ValidationFailed):
        directory.recommend(entries[0], staff["province"])  # not twice
    with pytest.raises(DomainError):
        directory.recommend(entries[1], staff["city"])
    # The national user declines: the quota is free again; accepts: a national entry appears.
    workflow.transition(first, "decline", staff["national"], "名额已满")
    second = directory.recommend(entries[1], staff["province"])
    response = api(staff["province"]).post(f"/api/v1/national_recommendation/{second.id}/transition",
                                           json={"action": "accept"})
    assert response.status_code in (403, 404)  # the province does not list nationally
    workflow.transition(second, "accept", staff["national"], "同意纳入全国名录")
    db.session.expire_all()
    second = db.session.get(NationalRecommendation, second.id)
    national = db.session.get(DirectoryEntry, second.national_entry_id)
    assert (national.level, national.mine_id, national.status) == ("national", entries[1].mine_id, "listed")
    assert directory.recommendation_quota("140000") == (1, 1)


def test_the_anomaly_list_stops_applications_until_released(people, make_user, browser):
    province = people["province"]
    client = browser(province)
    response = client.post("/anomalyentryview/add", data={"mine": people["mine"].id, "reason": "未按期整改",
                                                           "decision": "晋自然资发〔2026〕3号"})
    assert response.status_code == 302
    anomaly = db.session.scalars(select(AnomalyEntry)).one()
    assert (anomaly.mine_id, anomaly.region_code, anomaly.status) == (people["mine"].id, "140105", "listed")
    application = draft(people)
    with pytest.raises(TransitionRefused) as refusal:
        workflow.transition(application, "submit", people["enterprise"])
    assert "异常名录" in str(refusal.value)
    with pytest.raises(TransitionRefused):
        workflow.transition(anomaly, "release", province)  # needs the reason
    workflow.transition(anomaly, "release", province, "整改到位，移出异常名录")
    workflow.transition(application, "submit", people["enterprise"])
    assert application.status == "submitted"
    # Out of scope: another province cannot list a mine it does not reach.
    other = browser(make_user("province", "610000"))
    other.post("/anomalyentryview/add", data={"mine": people["mine"].id, "reason": "x"})
    assert db.session.query(AnomalyEntry).count() == 1


def test_the_directory_in_scope_on_screens_and_api(staff, make_mine, make_user, browser, api):
    xiaodian = listed(make_mine("140105"))
    qingxu = listed(make_mine("140121"))
    enterprise_user = make_user("enterprise", enterprise=xiaodian.mine.enterprise)
    ids = {row["id"] for row in api(staff["county"]).get("/api/v1/directory/").get_json()["result"]}
    assert ids == {xiaodian.id}
    ids = {row["id"] for row in api(enterprise_user).get("/api/v1/directory/").get_json()["result"]}
    assert ids == {xiaodian.id}
    assert api(enterprise_user).post(f"/api/v1/directory/{xiaodian.id}/remove", json={"reason": "x"}).status_code \
        in (401, 403)
    page = browser(staff["province"]).get(f"/directoryentryview/show/{qingxu.id}").get_data(as_text=True)
    assert "remove-entry" in page and "recommend-entry" in page
    assert browser(staff["county"]).get(f"/directoryentryview/show/{qingxu.id}").status_code == 404


# ---------------------------------------------------------------------------
# E8 demonstration zones
# ---------------------------------------------------------------------------
def test_a_demonstration_zone_goes_from_county_to_city_to_province(staff, make_user, browser, api):
    county = staff["county"]
    response = api(county).post("/api/v1/demo_zone/", json={"name": "小店区绿色矿业发展示范区",
                                                             "plan_summary": "三年建设方案", "year": 2026})
    assert response.status_code == 201, response.get_json()
    zone = db.session.get(DemoZoneApplication, response.get_json()["id"])
    assert (zone.applicant_kind, zone.region_code, zone.status) == ("county_government", "140105", "draft")
    workflow.transition(zone, "submit", county)
    with pytest.raises(DomainError):
        workflow.transition(zone, "city_pass", make_user("city", "140200"))  # another city
    workflow.transition(zone, "return", staff["city"], "方案需细化")
    workflow.transition(zone, "submit", county)
    workflow.transition(zone, "city_pass", staff["city"])
    workflow.transition(zone, "confirm", staff["province"], "列入省级示范区创建名单")
    assert zone.status == "confirmed"
    assert api(staff["city"]).post("/api/v1/demo_zone/", json={"name": "x", "plan_summary": "y"}).status_code \
        in (403, 422)


def test_a_state_enterprise_applies_for_its_zone(make_enterprise, make_user, api):
    enterprise = make_enterprise("140121")
    user = make_user("enterprise", enterprise=enterprise)
    response = api(user).post("/api/v1/demo_zone/", json={"name": "集团连片示范区", "plan_summary": "方案"})
    assert response.status_code == 201
    zone = db.session.get(DemoZoneApplication, response.get_json()["id"])
    assert (zone.applicant_kind, zone.enterprise_id, zone.region_code) == ("state_enterprise", enterprise.id, "140121")
    response = api(user).post("/api/v1/demo_zone/", json={"name": " ", "plan_summary": "方案"})
    assert response.status_code == 422 and response.get_json()["field"] == "name"


def test_each_level_keeps_its_own_directory(staff, make_mine, make_user, browser, api):
    """A city lists on the city-level directory and removes from it; a county cannot remove a
    city-level entry; the province removes below it; a mine of another region is not found."""
    mine = make_mine("140105")
    city = api(staff["city"])
    response = city.post("/api/v1/directory/", json={"licence_no": mine.licence_no.lower(), "year": 2026,
                                                     "reason": "市级绿色矿山遴选", "decision": "并自然资发〔2026〕8号"})
    assert response.status_code == 201 and response.get_json()["level"] == "city"
    entry = db.session.get(DirectoryEntry, response.get_json()["id"])
    assert entry.entry_decision == "并自然资发〔2026〕8号" and entry.mine_name == mine.name
    from app.models import Certificate

    assert db.session.scalars(select(Certificate).where(Certificate.entry_id == entry.id)).one().number.startswith(
        "GM-C-14-2026-")
    again = city.post("/api/v1/directory/", json={"licence_no": mine.licence_no, "reason": "重复"})
    assert again.status_code == 422 and again.get_json()["field"] == "licence_no"
    far = make_mine("610102")
    refused = city.post("/api/v1/directory/", json={"licence_no": far.licence_no, "reason": "越权"})
    assert refused.status_code == 422 and refused.get_json()["field"] == "licence_no"
    with pytest.raises(DomainError):
        directory.remove(entry, staff["county"], "县级不能移出市级名录")
    # The county keeps its own list: the screen form.
    page = browser(staff["county"]).post("/directoryentryview/add", data={
        "licence_no": mine.licence_no, "year": "2026", "reason": "县级名录"})
    assert page.status_code == 302
    county_entry = db.session.scalars(select(DirectoryEntry).where(DirectoryEntry.level == "county")).one()
    directory.remove(county_entry, staff["city"], "市级核查不达标")
    directory.remove(entry, staff["city"], "市级复核不达标", "并自然资发〔2026〕9号")
    assert {e.status for e in db.session.scalars(select(DirectoryEntry))} == {"removed"}
    # An enterprise keeps no directory.
    owner = make_user("enterprise", enterprise=mine.enterprise)
    assert api(owner).post("/api/v1/directory/", json={"licence_no": mine.licence_no, "reason": "x"}).status_code \
        in (401, 403)
