"""Self-checks of listed mines (SPEC H1), problem leads, and the home page's spot-check items.

The enterprise files one self-check per listed mine and year, answers the six areas of seed
004 附件1, uploads evidence and submits, late after the deadline; the authorities of the mine's
region read it and may return it, and see which listed mines have not filed; problem leads are
recorded and closed by the authorities; the home page shows the due self-checks, the count of
mines that have not filed after the deadline, and the overdue rectifications.
"""
from __future__ import annotations

import datetime
import io
import re

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import event, select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import Attachment, DirectoryEntry
from app.models.spotcheck import AREA_COLUMNS, ProblemLead, SelfCheck, SpotCheck, SpotCheckCampaign
from app.services import selfchecks, uploads, workflow
from app.services.exceptions import AccessDenied, DomainError, TransitionRefused, ValidationFailed
from tests.conftest import sample_jpeg

YEAR = 2026
DEADLINE = datetime.date(YEAR, 9, 30)
ANSWERS = dict({column: "无" for column in AREA_COLUMNS}, achievements="完成矿区绿化 2.3 公顷", problems="排土场局部未复绿")


# ---------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------
def zh(msgid: str, **values) -> str:
    """The message as a zh user reads it (the new strings read in Chinese once the catalogue has
    them; until then gettext returns the English msgid)."""
    with force_locale("zh"):
        return gettext(msgid, **values)


@pytest.fixture
def clock(monkeypatch):
    """clock(day, hour=12): pin "today" of the service and the transition engine's time (the
    submission stamp) to ``day`` at ``hour`` o'clock Beijing time."""

    def set_clock(day: datetime.date, hour: int = 12, minute: int = 0):
        utc = datetime.datetime(day.year, day.month, day.day, hour, minute) - datetime.timedelta(hours=8)
        monkeypatch.setattr(selfchecks, "_today", lambda: day)
        monkeypatch.setattr(workflow, "_now", lambda: utc)

    set_clock(datetime.date(YEAR, 6, 1))
    return set_clock


def listed(mine, level="province", year=YEAR - 1, listed_on=None, status="listed"):
    entry = DirectoryEntry(mine_id=mine.id, enterprise_id=mine.enterprise_id, region_code=mine.region_code,
                           level=level, year=year, mine_name=mine.name, enterprise_name=mine.enterprise.name,
                           listed_on=listed_on or datetime.date(year, 12, 1), entry_reason="遴选入库")
    db.session.add(entry)
    db.session.commit()
    if status == "removed":
        with workflow._status_writes_allowed(db.session):
            entry.status = "removed"
            db.session.commit()
    return entry


@pytest.fixture
def world(make_mine, make_user, clock):
    mine = make_mine("140105", name="小店示范煤矿")
    entry = listed(mine)
    return {
        "mine": mine, "entry": entry,
        "enterprise": make_user("enterprise", enterprise=mine.enterprise),
        "county": make_user("county", "140105"), "city": make_user("city", "140100"),
        "province": make_user("province", "140000"), "national": make_user("national"),
        "other_county": make_user("county", "140121"), "other_province": make_user("province", "610000"),
    }


def new_self_check(user, mine, **values) -> SelfCheck:
    record = SelfCheck(mine_id=mine.id, **values)
    selfchecks.self_check_rule(record, user, "edit")
    db.session.add(record)
    db.session.commit()
    return record


def filed(user, mine, **values) -> SelfCheck:
    record = new_self_check(user, mine, **dict(ANSWERS, **values))
    workflow.transition(record, "submit", user)
    return record


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


class Statements:
    def __init__(self):
        self.count = 0

    def __call__(self, *args):
        self.count += 1

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self)


# ---------------------------------------------------------------------------
# Filing
# ---------------------------------------------------------------------------
def test_only_a_listed_mines_enterprise_files_once_a_year(world, make_mine, make_user, api):
    mine, enterprise = world["mine"], world["enterprise"]
    # Listed nationally too: the record cites the highest-level entry.
    national = listed(mine, level="national", year=YEAR)
    client = api(enterprise)
    response = client.post("/api/v1/selfcheck/", json={"mine_id": mine.id, "area_environment": "  无 "})
    assert response.status_code == 201, response.get_json()
    record = db.session.get(SelfCheck, response.get_json()["id"])
    assert (record.year, record.entry_id, record.enterprise_id, record.region_code, record.status) == (
        YEAR, national.id, mine.enterprise_id, "140105", "draft")
    assert record.area_environment == "无"

    # One per mine and year: a translated refusal, not an IntegrityError.
    again = client.post("/api/v1/selfcheck/", json={"mine_id": mine.id, "year": YEAR})
    assert again.status_code == 422
    assert again.get_json() == {"message": zh("The self-check of %(year)s for this mine already exists.", year=YEAR),
                                "field": "year"}
    # Another year is another record; not a year in the future, nor before the mine was listed.
    assert client.post("/api/v1/selfcheck/", json={"mine_id": mine.id, "year": YEAR - 1}).status_code == 201
    for year in (YEAR + 1, YEAR - 2, 99999999999):
        assert client.post("/api/v1/selfcheck/", json={"mine_id": mine.id, "year": year}).status_code == 422

    # A mine of the enterprise that is not listed (or no longer is), another enterprise's mine.
    unlisted = make_mine("140105", enterprise=mine.enterprise)
    removed = make_mine("140105", enterprise=mine.enterprise)
    listed(removed, status="removed")
    foreign = make_mine("140105")
    listed(foreign)
    for other in (unlisted, removed, foreign):
        response = client.post("/api/v1/selfcheck/", json={"mine_id": other.id})
        assert response.status_code == 422 and response.get_json()["field"] == "mine", other
    # The enterprise, region and entry come from the mine, never from the body.
    assert client.post("/api/v1/selfcheck/", json={"mine_id": foreign.id, "enterprise_id": mine.enterprise_id,
                                                   "region_code": "140105"}).status_code in (400, 422)
    # Only the enterprise files: the county may not, neither through the API nor the rule.
    assert api(world["county"]).post("/api/v1/selfcheck/", json={"mine_id": mine.id}).status_code == 403
    with pytest.raises(AccessDenied):
        selfchecks.self_check_rule(SelfCheck(mine_id=unlisted.id), world["county"], "edit")
    assert db.session.scalar(select(db.func.count(SelfCheck.id))) == 2


def test_the_add_form_offers_only_listed_mines(world, make_mine, browser):
    mine, enterprise = world["mine"], world["enterprise"]
    unlisted = make_mine("140105", enterprise=mine.enterprise, name="未入库矿")
    client = browser(enterprise)
    form = page(client, f"/selfcheckview/add?mine={mine.id}")
    assert "小店示范煤矿" in form and "未入库矿" not in form
    assert re.search(r'<option selected value="%d">|<option value="%d" selected' % (mine.id, mine.id), form)
    assert zh("Mining area environment") in form and zh("Technological innovation and digital mining") in form

    response = client.post("/selfcheckview/add", data=dict(ANSWERS, mine=str(unlisted.id), year=str(YEAR)))
    assert db.session.scalar(select(db.func.count(SelfCheck.id))) == 0
    response = client.post("/selfcheckview/add", data=dict(ANSWERS, mine=str(mine.id), year=""),
                           follow_redirects=True)
    assert response.status_code == 200
    record = db.session.scalars(select(SelfCheck)).one()
    assert (record.year, record.mine_id, record.area_management) == (YEAR, mine.id, "无")
    listing = page(client, "/selfcheckview/list/")
    assert "小店示范煤矿" in listing and "未提交" in listing


# ---------------------------------------------------------------------------
# Submitting: completeness, listing, deadline
# ---------------------------------------------------------------------------
def test_submit_needs_every_area_the_achievements_and_the_problems(world):
    enterprise, mine = world["enterprise"], world["mine"]
    record = new_self_check(enterprise, mine, **dict(ANSWERS, area_energy="   ", problems=None))
    with pytest.raises(TransitionRefused) as refused:
        workflow.transition(record, "submit", enterprise)
    message = str(refused.value)
    assert zh("Energy saving and emission reduction") in message and zh("Problems") in message
    assert zh("Mining area environment") not in message
    assert record.status == "draft"

    record.area_energy, record.problems = "余热未回收利用", "见各项"
    db.session.commit()
    workflow.transition(record, "submit", enterprise)
    assert record.status == "submitted" and record.submitted_at is not None


def test_a_mine_that_left_the_directory_cannot_submit(world):
    enterprise, mine = world["enterprise"], world["mine"]
    record = new_self_check(enterprise, mine, **ANSWERS)
    with workflow._status_writes_allowed(db.session):
        world["entry"].status = "removed"
        db.session.commit()
    with pytest.raises(TransitionRefused) as refused:
        workflow.transition(record, "submit", enterprise)
    assert str(refused.value) == zh("The mine is no longer listed in the green-mine directory.")


def test_a_filing_after_the_deadline_is_accepted_and_marked_late(world, make_mine, clock, api, browser):
    enterprise, mine = world["enterprise"], world["mine"]
    second = make_mine("140105", enterprise=mine.enterprise)
    listed(second)
    third = make_mine("140105", enterprise=mine.enterprise)
    listed(third)
    assert selfchecks.deadline(YEAR) == DEADLINE

    clock(DEADLINE, hour=23, minute=30)  # 15:30 UTC: still the deadline's day in Beijing
    on_time = filed(enterprise, mine)
    clock(DEADLINE + datetime.timedelta(days=1), hour=0, minute=10)  # 16:10 UTC the day before
    late = filed(enterprise, second)
    assert (on_time.is_late, late.is_late) == (False, True)
    assert late.status == "submitted"
    draft = new_self_check(enterprise, third, **ANSWERS)
    assert draft.is_late is False  # nothing filed yet

    rows = {row["id"]: row["is_late"] for row in api(world["county"]).get("/api/v1/selfcheck/").get_json()["result"]}
    assert rows == {on_time.id: False, late.id: True, draft.id: False}
    listing = page(browser(world["county"]), "/selfcheckview/list/")
    assert listing.count(f"<td>{zh('Late')}</td>") == 1
    assert zh("It was filed late.") in page(browser(world["county"]), f"/selfcheckview/show/{late.id}")


# ---------------------------------------------------------------------------
# Evidence
# ---------------------------------------------------------------------------
def test_evidence_is_uploaded_while_draft_and_refused_after_submit(world, browser):
    enterprise, mine = world["enterprise"], world["mine"]
    record = new_self_check(enterprise, mine, **ANSWERS)
    client = browser(enterprise)
    assert 'action="/attachments/SelfCheck/%d/evidence"' % record.id in page(client, f"/selfcheckview/show/{record.id}")
    response = client.post(f"/attachments/SelfCheck/{record.id}/evidence",
                           data={"file": (io.BytesIO(sample_jpeg()), "排土场复绿.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    files = db.session.scalars(select(Attachment).where(Attachment.owner_type == "SelfCheck")).all()
    assert [f.original_name for f in files] == ["排土场复绿.jpg"]
    # The county reads the record but adds no file to it.
    assert browser(world["county"]).post(f"/attachments/SelfCheck/{record.id}/evidence",
                                         data={"file": (io.BytesIO(sample_jpeg()), "x.jpg")},
                                         content_type="multipart/form-data").status_code == 403

    workflow.transition(record, "submit", enterprise)
    with pytest.raises(ValidationFailed):
        uploads.attach("SelfCheck", record.id, "evidence", FileStorage(io.BytesIO(sample_jpeg()), "晚到.jpg"),
                       enterprise)
    client.post(f"/attachments/SelfCheck/{record.id}/evidence",
                data={"file": (io.BytesIO(sample_jpeg()), "晚到.jpg")}, content_type="multipart/form-data")
    assert db.session.scalar(select(db.func.count(Attachment.id)).where(Attachment.owner_type == "SelfCheck")) == 1
    show = page(client, f"/selfcheckview/show/{record.id}")
    assert "排土场复绿.jpg" in show and 'action="/attachments/SelfCheck/' not in show


# ---------------------------------------------------------------------------
# The authorities
# ---------------------------------------------------------------------------
def test_staff_of_the_region_see_and_return_it_other_regions_get_404(world, browser, api):
    enterprise, mine = world["enterprise"], world["mine"]
    record = filed(enterprise, mine)
    for name in ("county", "city", "province", "national"):
        assert "小店示范煤矿" in page(browser(world[name]), f"/selfcheckview/show/{record.id}"), name
        assert api(world[name]).get(f"/api/v1/selfcheck/{record.id}").status_code == 200, name
    for name in ("other_county", "other_province"):
        assert browser(world[name]).get(f"/selfcheckview/show/{record.id}").status_code == 404, name
        assert api(world[name]).get(f"/api/v1/selfcheck/{record.id}").status_code == 404, name
        assert api(world[name]).post(f"/api/v1/selfcheck/{record.id}/transition",
                                     json={"action": "return", "comment": "补充"}).status_code == 404, name
        assert api(world[name]).get("/api/v1/selfcheck/").get_json()["count"] == 0, name
    # The enterprise cannot change what it submitted.
    response = api(enterprise).put(f"/api/v1/selfcheck/{record.id}", json={"measures": "改"})
    assert response.status_code == 422
    response = browser(enterprise).post(f"/selfcheckview/edit/{record.id}", data=dict(ANSWERS, measures="改"))
    assert zh("Only a self-check that is not submitted or was returned for revision can be changed.") in \
        response.get_data(as_text=True)
    db.session.refresh(record)
    assert record.measures is None
    # The national level reads, the county returns it: with a comment only.
    assert "退回修改" not in page(browser(world["national"]), f"/selfcheckview/show/{record.id}")
    county = browser(world["county"])
    assert "退回修改" in page(county, f"/selfcheckview/show/{record.id}")
    county.post(f"/selfcheckview/transition/{record.id}", data={"action": "return", "comment": ""})
    db.session.refresh(record)
    assert record.status == "submitted"
    county.post(f"/selfcheckview/transition/{record.id}", data={"action": "return", "comment": "请补充节能减排情况"})
    db.session.refresh(record)
    assert (record.status, record.decision_comment) == ("returned", "请补充节能减排情况")

    # Returned: the enterprise edits (form or API) and submits again.
    form = dict(ANSWERS, measures="年底前完成排土场复绿")
    browser(enterprise).post(f"/selfcheckview/edit/{record.id}", data=form)
    db.session.refresh(record)
    assert record.measures == "年底前完成排土场复绿"
    response = api(enterprise).put(f"/api/v1/selfcheck/{record.id}", json={"area_energy": "余热回收已改造"})
    assert response.status_code == 200, response.get_json()
    response = api(enterprise).post(f"/api/v1/selfcheck/{record.id}/transition", json={"action": "submit"})
    assert response.status_code == 200 and response.get_json()["status"] == "submitted"


# ---------------------------------------------------------------------------
# Who has not filed
# ---------------------------------------------------------------------------
def test_the_missing_list_per_scope_and_year(world, make_mine, make_user, clock, browser, api):
    enterprise, mine = world["enterprise"], world["mine"]
    listed(mine, level="national", year=YEAR - 1)  # two entries: still one row, the national one
    draft_mine = make_mine("140105", enterprise=mine.enterprise, name="草稿矿")
    listed(draft_mine, level="city")
    silent = make_mine("140121", name="清徐未报矿")
    listed(silent)
    shaanxi = make_mine("610102", name="陕西未报矿")
    listed(shaanxi)
    latecomer = make_mine("140105", name="十月入库矿")
    listed(latecomer, year=YEAR, listed_on=DEADLINE + datetime.timedelta(days=15))
    make_mine("140105", name="未入库矿")
    new_self_check(enterprise, draft_mine, **ANSWERS)

    def names(user, year=YEAR):
        return sorted(row.mine_name for row in selfchecks.missing_self_checks(user, year))

    assert names(world["county"]) == ["小店示范煤矿", "草稿矿"]
    assert names(world["city"]) == ["小店示范煤矿", "清徐未报矿", "草稿矿"]
    assert names(world["national"]) == ["小店示范煤矿", "清徐未报矿", "草稿矿", "陕西未报矿"]
    assert names(world["other_county"]) == ["清徐未报矿"]
    assert names(enterprise) == ["小店示范煤矿", "草稿矿"]
    # The record of a mine listed after the deadline is due from the next year.
    assert "十月入库矿" in names(world["county"], YEAR + 1)
    rows = {row.mine_name: row for row in selfchecks.missing_self_checks(world["county"], YEAR)}
    assert (rows["小店示范煤矿"].level, rows["草稿矿"].self_check_status) == ("national", "draft")

    # Filing takes the mine off the list (a draft or a returned record does not).
    filed(enterprise, mine)
    assert names(world["county"]) == ["草稿矿"]
    assert selfchecks.count_missing(world["city"], YEAR) == 2

    # One statement, whatever the number of rows (once the user's roles and region are loaded).
    selfchecks.missing_self_checks(world["national"], YEAR)
    with Statements() as statements:
        selfchecks.missing_self_checks(world["national"], YEAR)
    assert statements.count == 1

    clock(DEADLINE + datetime.timedelta(days=1))
    html = page(browser(world["city"]), f"/selfcheckview/missing?year={YEAR}")
    assert "清徐未报矿" in html and "草稿矿" in html and "小店示范煤矿" not in html and "陕西未报矿" not in html
    assert f"{YEAR}-09-30" in html and zh("The deadline has passed.") in html
    bad = browser(world["city"]).get("/selfcheckview/missing?year=20x6")
    assert bad.status_code == 400
    assert zh("The year must be a number from %(first)s to %(last)s.", first=2000, last=YEAR) in bad.get_data(
        as_text=True)

    response = api(world["city"]).get(f"/api/v1/selfcheck/missing?year={YEAR}")
    body = response.get_json()
    assert response.status_code == 200
    assert (body["count"], body["deadline"], body["deadline_passed"]) == (2, f"{YEAR}-09-30", True)
    assert sorted(row["mine_name"] for row in body["result"]) == ["清徐未报矿", "草稿矿"]
    shaanxi_rows = api(world["other_province"]).get(f"/api/v1/selfcheck/missing?year={YEAR}").get_json()["result"]
    assert [row["mine_name"] for row in shaanxi_rows] == ["陕西未报矿"]
    for query in ("year=abc", "year=3000", "year=1999", f"year={YEAR}&page=0", f"year={YEAR}&page_size=100000"):
        response = api(world["city"]).get(f"/api/v1/selfcheck/missing?{query}")
        assert response.status_code == 400 and response.get_json()["message"], query
    paged = api(world["city"]).get(f"/api/v1/selfcheck/missing?year={YEAR}&page=2&page_size=1").get_json()
    assert (paged["count"], len(paged["result"])) == (2, 1)


# ---------------------------------------------------------------------------
# Problem leads
# ---------------------------------------------------------------------------
def test_problem_leads_are_recorded_in_scope_and_closed_with_a_comment(world, make_mine, api, browser):
    mine, county = world["mine"], world["county"]
    client = api(county)
    response = client.post("/api/v1/problemlead/", json={"mine_id": mine.id, "source": "群众举报",
                                                          "content": "  夜间超范围堆放废石  "})
    assert response.status_code == 201, response.get_json()
    lead = db.session.get(ProblemLead, response.get_json()["id"])
    assert (lead.enterprise_id, lead.region_code, lead.received_on, lead.content, lead.status) == (
        mine.enterprise_id, "140105", selfchecks._today(), "夜间超范围堆放废石", "open")

    tomorrow = (selfchecks._today() + datetime.timedelta(days=1)).isoformat()
    refusals = [
        ({"mine_id": mine.id, "content": "x", "received_on": tomorrow}, 422, "received_on"),
        ({"mine_id": mine.id, "content": "   "}, 422, "content"),
        ({"mine_id": mine.id, "content": "a\x00b"}, 422, "content"),
    ]
    for body, status, field in refusals:
        response = client.post("/api/v1/problemlead/", json=body)
        assert (response.status_code, response.get_json().get("field")) == (status, field), body
    elsewhere = make_mine("140121")
    assert client.post("/api/v1/problemlead/", json={"mine_id": elsewhere.id, "content": "x"}).status_code == 403
    # The enterprise does not record leads.
    assert api(world["enterprise"]).post("/api/v1/problemlead/",
                                         json={"mine_id": mine.id, "content": "x"}).status_code == 403
    assert api(world["other_county"]).get(f"/api/v1/problemlead/{lead.id}").status_code == 404

    # The HTML form: the mine from the search field, scoped.
    html = browser(world["city"])
    choices = html.get("/problemleadview/choices/mine?q=小店").get_json()["results"]
    assert [c["id"] for c in choices] == [mine.id]
    assert browser(world["other_province"]).get("/problemleadview/choices/mine?q=小店").get_json()["results"] == []
    html.post("/problemleadview/add", data={"mine": str(mine.id), "received_on": "2026-05-20",
                                            "source": "日常巡查", "content": "边坡未按设计削坡"})
    assert db.session.scalar(select(db.func.count(ProblemLead.id))) == 2

    # Closing needs the comment; a closed lead is no longer changed.
    # A missing comment is missing input (422, on the comment field), for every step that needs one.
    response = client.post(f"/api/v1/problemlead/{lead.id}/transition", json={"action": "close"})
    assert response.status_code == 422 and response.get_json()["field"] == "comment"
    response = client.post(f"/api/v1/problemlead/{lead.id}/transition",
                           json={"action": "close", "comment": "经核实已整改"})
    assert response.status_code == 200 and response.get_json()["status"] == "closed"
    db.session.refresh(lead)
    assert (lead.decision_comment, lead.decided_at is not None) == ("经核实已整改", True)
    response = client.put(f"/api/v1/problemlead/{lead.id}", json={"content": "改"})
    assert response.status_code == 422
    with pytest.raises(DomainError):
        selfchecks.problem_lead_rule(lead, county, "edit")


# ---------------------------------------------------------------------------
# The home page
# ---------------------------------------------------------------------------
def _flag(html: str, key: str):
    """(style, link or None, count or None) of a spot-check item of the home page."""
    match = re.search(r'<(a|span) class="btn btn-(\w+) gm-spot-check(?: disabled)?"(?: href="([^"]*)")? '
                      r'data-flag="%s">(.*?)(?:data-flag=|</div>)' % re.escape(key), html, re.S)
    if match is None:
        return None
    badge = re.search(r'<span class="badge">(\d+)</span>', match.group(4))
    link = match.group(3).replace("&amp;", "&") if match.group(3) else None
    return match.group(2), link, int(badge.group(1)) if badge else None


def test_the_home_page_shows_due_self_checks_and_missing_filings(world, make_mine, clock, browser):
    enterprise, mine = world["enterprise"], world["mine"]
    other = make_mine("140105", enterprise=mine.enterprise, name="第二矿")
    listed(other)
    new_self_check(enterprise, other, **ANSWERS)
    home = page(browser(enterprise), "/")
    style, url, _count = _flag(home, f"self_check_due:{mine.id}")
    assert (style, url) == ("warning", f"/selfcheckview/add?mine={mine.id}")
    assert zh("Self-check of “%(mine)s” due by %(date)s", mine="小店示范煤矿", date=f"{YEAR}-09-30") in home
    assert _flag(home, f"self_check_due:{other.id}")[1].startswith("/selfcheckview/show/")
    # Before the deadline the authorities have nothing to chase.
    assert _flag(page(browser(world["county"]), "/"), "self_checks_missing") is None

    filed(enterprise, mine)
    assert _flag(page(browser(enterprise), "/"), f"self_check_due:{mine.id}") is None

    clock(DEADLINE + datetime.timedelta(days=3))
    assert _flag(page(browser(enterprise), "/"), f"self_check_due:{other.id}")[0] == "danger"
    style, url, count = _flag(page(browser(world["county"]), "/"), "self_checks_missing")
    assert (count, url) == (1, f"/selfcheckview/missing?year={YEAR}")
    assert _flag(page(browser(world["other_county"]), "/"), "self_checks_missing") is None


def test_the_home_page_counts_overdue_rectifications_in_scope(app, world, clock, browser):
    mine, entry = world["mine"], world["entry"]
    campaign = SpotCheckCampaign(year=YEAR, level="province", region_code="140000", title="2026年度山西省绿色矿山抽查",
                                 ratio=0.2)
    db.session.add(campaign)
    db.session.flush()
    with workflow._status_writes_allowed(db.session):
        for position, deadline in enumerate((datetime.date(YEAR, 5, 31), datetime.date(YEAR, 6, 30)), start=1):
            db.session.add(SpotCheck(campaign_id=campaign.id, entry_id=entry.id, position=position,
                                     entry_level="province", mine_name=mine.name, licence_no=mine.licence_no,
                                     mine_id=mine.id, enterprise_id=mine.enterprise_id, region_code=mine.region_code,
                                     status="rectifying", rectify_deadline=deadline))
            # (the same entry twice would break the campaign's unique draw: a second campaign)
            campaign = SpotCheckCampaign(year=YEAR, level="city", region_code="140100", title="太原市抽查", ratio=0.2)
            db.session.add(campaign)
            db.session.flush()
        db.session.commit()

    for name in ("province", "county", "enterprise"):
        flag = _flag(page(browser(world[name]), "/"), "overdue_rectifications")
        assert flag is not None and flag[0] == "danger" and flag[2] == 1, name
    assert _flag(page(browser(world["other_province"]), "/"), "overdue_rectifications") is None
    link = _flag(page(browser(world["province"]), "/"), "overdue_rectifications")[1]
    if "SpotCheckView.list" in app.view_functions:  # the records' list (helper A's view)
        assert link == "/spotcheckview/list/?_flt_0_status=rectifying"
        found = re.search(r"记录数目:</strong>\s*(\d+)", page(browser(world["province"]), link))
        assert found is not None and int(found.group(1)) == 2
    else:
        assert link is None
    clock(datetime.date(YEAR, 7, 1))
    assert _flag(page(browser(world["province"]), "/"), "overdue_rectifications")[2] == 2
    assert selfchecks.overdue_rectification_count(world["other_county"]) == 0
