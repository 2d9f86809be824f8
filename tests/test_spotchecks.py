"""Spot checks (SPEC H2-H5, seed 001 §二, seed 004): the campaign and its level rules, the
reproducible draw of mines (priority first) and of inspectors (teams of 3-5 with a qualified
leader, nobody in his own county), the verification record confirmed by each member from his own
account, the results (retain, rectify with a deadline then re-check, remove from the directory
with the campaign as the reason), and the scope of every route, HTML and REST."""
from __future__ import annotations

import datetime
import hashlib
import io
import math

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app import clock
from app.extensions import db
from app.models import DirectoryEntry, Notification, TransitionLog
from app.models.spotcheck import (
    Inspector,
    SpotCheck,
    SpotCheckCampaign,
    SpotCheckConfirmation,
    SpotCheckTeam,
)
from app.services import agencies, draws, scoping, spotchecks, uploads, workflow
from app.services.exceptions import AccessDenied, TransitionRefused, ValidationFailed
from tests.conftest import sample_jpeg

TODAY = clock.today()
# 太原市 (140100): its counties; 大同市 (140200); 河北省石家庄市 (130100).
XIAODIAN, YINGZE, XINGHUALING, JIANCAOPING, WANBAILIN, QINGXU = (
    "140105", "140106", "140107", "140108", "140109", "140121")
PINGCHENG = "140213"
CHANGAN = "130102"


# ---------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------
@pytest.fixture
def people(make_user, make_enterprise):
    enterprise = make_enterprise(XIAODIAN)
    return {
        "province": make_user("province", "140000"),
        "city": make_user("city", "140100"),
        "other_city": make_user("city", "140200"),
        "county": make_user("county", XIAODIAN),
        "national": make_user("national"),
        "hebei": make_user("province", "130000"),
        "enterprise_of": enterprise,
        "enterprise": make_user("enterprise", enterprise=enterprise),
    }


def listed(mine, level="province", year=2024):
    entry = DirectoryEntry(mine_id=mine.id, enterprise_id=mine.enterprise_id, region_code=mine.region_code,
                           level=level, year=year, mine_name=mine.name, enterprise_name=mine.enterprise.name,
                           mineral_name="煤", listed_on=TODAY, entry_reason="测试入库")
    db.session.add(entry)
    db.session.commit()
    return entry


@pytest.fixture
def make_inspector(make_user):
    def factory(pool, home=QINGXU, lead=False, name=None, rank="none"):
        user = make_user("inspector")
        inspector = Inspector(user_id=user.id, pool_region_code=pool, home_region_code=home,
                              name=name or f"核查员{user.id}", title_grade="senior" if lead else "intermediate",
                              admin_rank=rank, unit="测试单位")
        db.session.add(inspector)
        db.session.commit()
        return inspector

    return factory


@pytest.fixture
def seeded(monkeypatch):
    """seeded(seed): the next draws use this seed."""
    def use(seed: str):
        monkeypatch.setattr(draws, "new_seed", lambda: seed)

    return use


def plan(user, **fields):
    """A planned campaign of ``user``'s level and region; a further one of the same organiser and
    year is declared a supplementary round (that rule: tests/test_spotcheck_rules.py)."""
    campaign = SpotCheckCampaign(title=fields.pop("title", "2026年度绿色矿山实地抽查核查"), **fields)
    if "is_supplementary" not in fields:
        level, region_code = spotchecks.organiser_of(user)
        campaign.level, campaign.region_code, campaign.year = level, region_code, campaign.year or TODAY.year
        if db.session.scalars(spotchecks.same_year_campaigns(campaign)).first() is not None:
            campaign.is_supplementary, campaign.supplementary_reason = True, "测试：同年度再次抽查"
    spotchecks.campaign_rule(campaign, user, scoping.EDIT)
    db.session.add(campaign)
    db.session.commit()
    return campaign


def draw(campaign, user):
    workflow.transition(campaign, "draw", user)
    db.session.expire_all()
    return db.session.get(SpotCheckCampaign, campaign.id)


def pool_of(make_inspector, region, size, leaders, home=QINGXU):
    return [make_inspector(region, home=home, lead=n < leaders) for n in range(size)]


def independent_rank(seed, ids, salt):
    """The published formula, written out again."""
    return sorted(ids, key=lambda i: hashlib.sha256(f"{seed}:{salt}:{i}".encode("utf-8")).hexdigest())


def fill(check, conforms=True):
    check.checked_on = TODAY
    check.conforms = conforms
    check.area_environment = "排土场局部未复绿"
    check.opinions = "加快生态修复"
    db.session.commit()


def submit(check, conforms=True):
    fill(check, conforms)
    workflow.transition(check, "submit_record", check.team.leader.user)


def confirm_all(check):
    for member in check.team.members:
        spotchecks.confirm(check, member.inspector.user)


def recorded_and_confirmed(check, conforms=True):
    submit(check, conforms)
    confirm_all(check)
    return check


def rectifying(check, organiser, days=30):
    """Recorded (not conforming), confirmed, and rectification ordered by ``organiser``."""
    recorded_and_confirmed(check, conforms=False)
    spotchecks.decide(check, "order_rectification", organiser, "限期整改：完成边坡治理",
                      rectify_deadline=(TODAY + datetime.timedelta(days=days)).isoformat())
    assert check.status == "rectifying"
    return check


def fill_recheck(check, conforms=True, findings="边坡已完成治理，排土场已复绿"):
    check.recheck_on = TODAY
    check.recheck_findings = findings
    check.recheck_conforms = conforms
    db.session.commit()


def submit_recheck(check, conforms=True):
    fill_recheck(check, conforms)
    workflow.transition(check, "submit_recheck", check.team.leader.user)
    assert check.status == "rechecked"


def confirm_recheck(check, members=None):
    for member in members if members is not None else check.team.members:
        confirmation = spotchecks.confirm(check, member.inspector.user)
        assert confirmation.stage == "recheck"


@pytest.fixture
def small_campaign(people, make_mine, make_inspector, seeded):
    """A drawn province campaign of one provincial mine, one team of three."""
    mine = make_mine(XIAODIAN, enterprise=people["enterprise_of"])
    entry = listed(mine, "province")
    pool_of(make_inspector, "140000", 3, 1)
    seeded("0" * 32)
    campaign = draw(plan(people["province"], ratio=1.0), people["province"])
    check = campaign.checks[0]
    return {"campaign": campaign, "check": check, "entry": entry, "mine": mine}


# ---------------------------------------------------------------------------
# The draw formula
# ---------------------------------------------------------------------------
def test_rank_is_the_published_formula_and_ignores_the_input_order():
    ids = [3, 17, 42, 5, 99, 1000]
    seed = "5f" * 16
    assert draws.rank(seed, ids, "mines") == independent_rank(seed, ids, "mines")
    assert draws.rank(seed, list(reversed(ids)), "mines") == draws.rank(seed, ids, "mines")
    # The salt ranks mines and inspectors independently; another seed, another order.
    assert draws.rank(seed, ids, "inspectors") == independent_rank(seed, ids, "inspectors")
    assert draws.rank(seed, ids, "inspectors") != draws.rank(seed, ids, "mines")
    assert draws.rank("6e" * 16, ids, "mines") != draws.rank(seed, ids, "mines")
    # The agencies' pick lives there too, unchanged.
    assert agencies.pick is draws.pick
    assert draws.pick("abc", [3, 7]) == [3, 7][int(hashlib.sha256(b"abc:3,7").hexdigest(), 16) % 2]


def test_sample_size_is_the_ceiling_of_the_ratio():
    assert spotchecks.sample_size_for(0.2, 10) == 2
    assert spotchecks.sample_size_for(0.2, 11) == 3
    assert spotchecks.sample_size_for(0.1, 30) == 3  # not 4 (0.1 × 30 in floating point is 3.0000000000000004)
    assert spotchecks.sample_size_for(1.0, 7) == 7
    assert spotchecks.sample_size_for(0.2, 0) == 0


# ---------------------------------------------------------------------------
# Level rules and candidates
# ---------------------------------------------------------------------------
def test_a_province_campaign_covers_national_and_provincial_mines_of_its_province(people, make_mine):
    both = make_mine(XIAODIAN)
    national_entry, provincial_of_both = listed(both, "national"), listed(both, "province")
    provincial = listed(make_mine(PINGCHENG), "province")
    city_level = listed(make_mine(YINGZE), "city")
    county_level = listed(make_mine(YINGZE), "county")
    elsewhere = listed(make_mine(CHANGAN), "province")
    removed = listed(make_mine(XIAODIAN), "province")
    directory_remove(removed, people["province"])
    campaign = plan(people["province"])
    assert (campaign.level, campaign.region_code) == ("province", "140000")
    ids, _priority = spotchecks.candidates(campaign)
    # One candidate per mine, its highest covered entry; nothing of other levels, provinces, or removed.
    assert ids == sorted([national_entry.id, provincial.id])
    assert provincial_of_both.id not in ids
    assert not {city_level.id, county_level.id, elsewhere.id, removed.id} & set(ids)


def test_a_city_campaign_covers_city_and_county_mines_of_its_city(people, make_mine):
    city_level = listed(make_mine(YINGZE), "city")
    county_level = listed(make_mine(XIAODIAN), "county")
    listed(make_mine(XIAODIAN), "province")
    listed(make_mine(XIAODIAN), "national")
    listed(make_mine(PINGCHENG), "city")  # 大同, another city
    campaign = plan(people["city"])
    assert (campaign.level, campaign.region_code) == ("city", "140100")
    assert spotchecks.candidates(campaign)[0] == sorted([city_level.id, county_level.id])


def test_a_national_campaign_covers_the_national_level_anywhere(people, make_mine):
    shanxi, hebei = listed(make_mine(XIAODIAN), "national"), listed(make_mine(CHANGAN), "national")
    listed(make_mine(XIAODIAN), "province")
    campaign = plan(people["national"])
    assert (campaign.level, campaign.region_code) == ("national", None)
    assert spotchecks.candidates(campaign)[0] == sorted([shanxi.id, hebei.id])


def directory_remove(entry, user):
    from app.services import directory

    directory.remove(entry, user, "测试移出")


# ---------------------------------------------------------------------------
# The draw: sample, priority, replay
# ---------------------------------------------------------------------------
def test_priority_mines_come_first_and_the_sample_is_a_ratio_of_the_listed_mines(
        people, make_mine, make_inspector, seeded):
    from app.models import ProblemLead

    plain = [listed(make_mine(XIAODIAN), "province") for _ in range(8)]
    open_pit = listed(make_mine(YINGZE, mining_method="open_pit"), "province")
    lead_mine = make_mine(XINGHUALING)
    with_lead = listed(lead_mine, "province")
    db.session.add(ProblemLead(mine_id=lead_mine.id, enterprise_id=lead_mine.enterprise_id,
                               region_code=lead_mine.region_code, received_on=TODAY, content="群众举报：废石乱堆"))
    # A closed lead does not count.
    closed_mine = make_mine(XINGHUALING)
    closed = listed(closed_mine, "province")
    db.session.add(ProblemLead(mine_id=closed_mine.id, enterprise_id=closed_mine.enterprise_id,
                               region_code=closed_mine.region_code, received_on=TODAY, content="已核实"))
    db.session.commit()
    workflow.transition(db.session.scalars(select(ProblemLead).where(ProblemLead.mine_id == closed_mine.id)).one(),
                        "close", people["province"], "查无实据")
    # Under rectification from an earlier (city) campaign of its city-level entry.
    rectifying_mine = make_mine(JIANCAOPING)
    listed(rectifying_mine, "city")
    under_rectification = listed(rectifying_mine, "province")
    pool_of(make_inspector, "140100", 3, 1)
    seeded("1" * 32)
    earlier = draw(plan(people["city"], ratio=1.0), people["city"])
    earlier_check = earlier.checks[0]
    recorded_and_confirmed(earlier_check, conforms=False)
    spotchecks.decide(earlier_check, "order_rectification", people["city"], "限期整改",
                      rectify_deadline=(TODAY + datetime.timedelta(days=30)).isoformat())
    assert earlier_check.status == "rectifying"

    pool_of(make_inspector, "140000", 3, 1)
    campaign = plan(people["province"], ratio=0.2)
    ids, priority = spotchecks.candidates(campaign)
    everything = plain + [open_pit, with_lead, closed, under_rectification]
    assert ids == sorted(e.id for e in everything)
    assert priority == {str(open_pit.id): ["open_pit"], str(with_lead.id): ["problem_lead"],
                        str(under_rectification.id): ["rectification"]}
    seeded("2" * 32)
    campaign = draw(campaign, people["province"])
    assert campaign.sample_size == math.ceil(0.2 * 12) == 3
    sample = [check.entry_id for check in campaign.checks]
    # The three priority mines fill the sample of three, in their drawn order.
    assert sample == independent_rank("2" * 32, [open_pit.id, with_lead.id, under_rectification.id], "mines")
    assert campaign.candidate_entry_ids == ids and campaign.priority == priority
    reasons = {check.entry_id: check.priority_reasons for check in campaign.checks}
    assert reasons[open_pit.id] == ["open_pit"] and reasons[under_rectification.id] == ["rectification"]


def test_the_draw_is_recorded_and_replays(people, make_mine, make_inspector, seeded):
    entries = [listed(make_mine(XIAODIAN if n % 2 else YINGZE, mining_method="open_pit" if n < 2 else "underground"),
                      "province") for n in range(12)]
    pool = pool_of(make_inspector, "140000", 8, 3, home=PINGCHENG)
    seed = "3a" * 16
    seeded(seed)
    campaign = draw(plan(people["province"], ratio=0.5, team_size=3, team_count=2), people["province"])
    assert campaign.status == "drawn" and campaign.algorithm == "sha256-rank-v1" and campaign.seed == seed
    assert campaign.candidate_entry_ids == sorted(e.id for e in entries)
    assert campaign.inspector_candidate_ids == sorted(i.id for i in pool)
    assert campaign.drawn_by_id == people["province"].id and campaign.drawn_at is not None
    # The sample, written out again from the published rule: priority first, then the others.
    priority = [e.id for e in entries[:2]]
    others = [e.id for e in entries[2:]]
    expected = (independent_rank(seed, priority, "mines") + independent_rank(seed, others, "mines"))[:6]
    assert [check.entry_id for check in campaign.checks] == expected
    assert [check.position for check in campaign.checks] == [1, 2, 3, 4, 5, 6]
    # Teams from the published rule: the first two ranked who may lead, the others dealt in turn.
    ranked = independent_rank(seed, [i.id for i in pool], "inspectors")
    leaders = [i for i in ranked if i in {p.id for p in pool[:3]}][:2]
    rest = [i for i in ranked if i not in leaders]
    assert [[m.inspector_id for m in team.members] for team in campaign.teams] == [
        [leaders[0], rest[0], rest[2]], [leaders[1], rest[1], rest[3]]]
    # Nobody lives in the mines' counties: each mine goes to its starting team.
    assert [check.team.number for check in campaign.checks] == [1, 2, 1, 2, 1, 2]
    assert spotchecks.replay(campaign) == spotchecks.recorded(campaign)
    assert spotchecks.verify(campaign)
    # A demotion or a move after the draw does not change the replay (as it was at the draw) ...
    demoted = db.session.get(Inspector, leaders[0])
    demoted.title_grade, demoted.home_region_code = "none", XIAODIAN
    db.session.commit()
    db.session.expire_all()
    campaign = db.session.get(SpotCheckCampaign, campaign.id)
    assert spotchecks.verify(campaign)
    # ... though today's facts would give other teams.
    now = spotchecks.inspector_facts(campaign.inspector_candidate_ids)
    assert not now[leaders[0]].may_lead
    assert spotchecks.form_teams(seed, campaign.inspector_candidate_ids, now, 2, 3) != spotchecks.recorded(
        campaign).teams
    # A tampered record does not verify.
    campaign.seed = "3b" * 16
    assert not spotchecks.verify(campaign)
    db.session.rollback()
    # The draw is a step of the log.
    assert [step.action for step in workflow.history(campaign)] == ["draw"]


def test_another_seed_gives_another_draw_that_replays_too(people, make_mine, make_inspector, seeded):
    [listed(make_mine(XIAODIAN), "province") for _ in range(10)]
    pool_of(make_inspector, "140000", 6, 2, home=PINGCHENG)
    seeded("a" * 32)
    first = draw(plan(people["province"], ratio=0.3), people["province"])
    seeded("b" * 32)
    second = draw(plan(people["province"], ratio=0.3), people["province"])
    assert first.candidate_entry_ids == second.candidate_entry_ids
    assert [c.entry_id for c in first.checks] != [c.entry_id for c in second.checks]
    assert spotchecks.verify(first) and spotchecks.verify(second)
    # The other seed, put in the first record, gives the second draw's sample.
    first.seed = "b" * 32
    assert spotchecks.replay(first).sample == [c.entry_id for c in second.checks]
    db.session.rollback()


def test_the_draw_record_is_published_as_json(people, make_mine, make_inspector, seeded, api):
    entries = [listed(make_mine(XIAODIAN), "province") for _ in range(4)]
    pool_of(make_inspector, "140000", 3, 1, home=PINGCHENG)
    seeded("c" * 32)
    campaign = draw(plan(people["province"], ratio=0.5), people["province"])
    body = api(people["province"]).get(f"/api/v1/spotcheckcampaign/{campaign.id}/draw").get_json()
    assert body["algorithm"] == "sha256-rank-v1" and body["seed"] == "c" * 32 and body["verified"] is True
    assert body["candidate_entry_ids"] == sorted(e.id for e in entries) and body["sample_size"] == 2
    assert [row["entry_id"] for row in body["sample"]] == [c.entry_id for c in campaign.checks]
    assert body["teams"][0]["members"][0]["may_lead"] is True and len(body["teams"][0]["members"]) == 3
    assert body["candidates"][0]["rank_key"] == hashlib.sha256(
        f"{'c' * 32}:mines:{body['candidates'][0]['entry_id']}".encode()).hexdigest()
    # Another province: not found.
    assert api(people["hebei"]).get(f"/api/v1/spotcheckcampaign/{campaign.id}/draw").status_code == 404


# ---------------------------------------------------------------------------
# Teams
# ---------------------------------------------------------------------------
def test_teams_have_a_qualified_leader_and_nobody_checks_his_own_county(people, make_mine, make_inspector,
                                                                        seeded):
    counties = [XIAODIAN, YINGZE, XINGHUALING]
    for n in range(9):
        listed(make_mine(counties[n % 3]), "province")
    # Leaders by title or by rank; one inspector from each of the mines' counties (so that one
    # of the two teams is always free of each county), the others from elsewhere.
    make_inspector("140000", home=XIAODIAN, lead=True)
    make_inspector("140000", home=PINGCHENG, rank="division")
    make_inspector("140000", home=PINGCHENG, rank="bureau")
    for county in (YINGZE, XINGHUALING, PINGCHENG, PINGCHENG, PINGCHENG, PINGCHENG, PINGCHENG):
        make_inspector("140000", home=county)
    make_inspector("140000", home=PINGCHENG, lead=True).active = False  # inactive: never drawn
    db.session.commit()
    moved = 0
    for seed in ("d" * 32, "e" * 32, "f" * 32, "1f" * 16, "2e" * 16):
        seeded(seed)
        campaign = draw(plan(people["province"], ratio=1.0, team_size=4, team_count=2), people["province"])
        assert len(campaign.teams) == 2
        drawn = [m.inspector_id for team in campaign.teams for m in team.members]
        assert len(drawn) == len(set(drawn)) == 8
        for team in campaign.teams:
            assert len(team.members) == 4 and team.members[0].position == 0
            assert team.leader_id == team.members[0].inspector_id
            assert spotchecks.may_lead(team.leader.title_grade, team.leader.admin_rank)
            assert all(m.inspector.active for m in team.members)
        for check in campaign.checks:
            homes = {m.inspector.home_region_code for m in check.team.members}
            assert check.region_code not in homes
            start = (check.position - 1) % 2 + 1
            starting_team = next(team for team in campaign.teams if team.number == start)
            if check.region_code not in {m.inspector.home_region_code for m in starting_team.members}:
                assert check.team.number == start
            else:
                moved += 1
        assert spotchecks.verify(campaign)
    # The county rule did move some mines to the other team.
    assert moved > 0


def test_the_draw_is_refused_when_the_pool_is_short(people, make_mine, make_inspector, seeded):
    mine = make_mine(XIAODIAN)
    listed(mine, "province")
    seeded("9" * 32)
    campaign = plan(people["province"], ratio=1.0, team_size=3, team_count=2)
    pool_of(make_inspector, "140000", 4, 1, home=PINGCHENG)
    make_inspector("140000", home=PINGCHENG, lead=True).active = False
    db.session.commit()
    # One active inspector may lead; two teams need two leaders.
    with pytest.raises(TransitionRefused) as refused:
        workflow.transition(campaign, "draw", people["province"])
    assert "1" in str(refused.value) and "2" in str(refused.value)
    make_inspector("140000", home=PINGCHENG, rank="division")
    # Two leaders now, but five people for two teams of three; a city's pool is not the province's.
    make_inspector("140100", home=PINGCHENG)
    with pytest.raises(TransitionRefused) as refused:
        workflow.transition(campaign, "draw", people["province"])
    assert "5" in str(refused.value) and "6" in str(refused.value)
    db.session.expire_all()
    campaign = db.session.get(SpotCheckCampaign, campaign.id)
    assert campaign.status == "planned" and campaign.seed is None
    assert db.session.scalar(select(func.count()).select_from(SpotCheckTeam)) == 0


def test_the_draw_is_refused_when_no_team_may_check_a_mine(people, make_mine, make_inspector, seeded):
    listed(make_mine(XIAODIAN), "province")
    make_inspector("140000", home=XIAODIAN, lead=True)
    make_inspector("140000", home=YINGZE)
    make_inspector("140000", home=YINGZE)
    seeded("8" * 32)
    campaign = plan(people["province"], ratio=1.0)
    with pytest.raises(TransitionRefused) as refused:
        workflow.transition(campaign, "draw", people["province"])
    assert "测试矿" in str(refused.value)
    db.session.expire_all()
    assert db.session.get(SpotCheckCampaign, campaign.id).status == "planned"
    assert db.session.scalar(select(func.count()).select_from(SpotCheck)) == 0
    assert db.session.scalar(select(func.count()).select_from(SpotCheckTeam)) == 0


def test_nothing_to_draw_is_refused(people, make_inspector):
    pool_of(make_inspector, "140000", 3, 1)
    campaign = plan(people["province"])
    with pytest.raises(TransitionRefused):
        workflow.transition(campaign, "draw", people["province"])


# ---------------------------------------------------------------------------
# Campaigns: the rule, HTML and REST
# ---------------------------------------------------------------------------
def test_the_campaign_takes_its_level_and_region_from_the_organiser(people, api, app):
    client = api(people["province"])
    response = client.post("/api/v1/spotcheckcampaign/", json={"title": "2026年省级抽查"})
    assert response.status_code == 201, response.get_json()
    campaign = db.session.get(SpotCheckCampaign, response.get_json()["id"])
    assert (campaign.level, campaign.region_code, campaign.ratio) == ("province", "140000", 0.2)
    assert campaign.year == TODAY.year and campaign.team_size == 3 and campaign.team_count == 1
    assert campaign.report_deadline == datetime.date(TODAY.year, 11, 30)
    for bad in ({"ratio": 0}, {"ratio": 1.5}, {"team_size": 2}, {"team_size": 6}, {"team_count": 0},
                {"year": 1999}, {"title": "  "}):
        response = client.post("/api/v1/spotcheckcampaign/", json={"title": "x", **bad})
        assert response.status_code == 422, (bad, response.get_json())
        assert response.get_json()["message"]
    # The body cannot choose the organiser nor write a draw.
    response = client.post("/api/v1/spotcheckcampaign/", json={"title": "x", "level": "national"})
    assert response.status_code in (400, 422)
    response = client.post("/api/v1/spotcheckcampaign/", json={"title": "x", "seed": "0" * 32})
    assert response.status_code in (400, 422)
    # A county may not organise one.
    assert api(people["county"]).post("/api/v1/spotcheckcampaign/", json={"title": "x"}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(SpotCheckCampaign)) == 1


def test_a_drawn_campaign_is_neither_edited_nor_deleted(small_campaign, people, api, browser):
    campaign = small_campaign["campaign"]
    client = api(people["province"])
    response = client.put(f"/api/v1/spotcheckcampaign/{campaign.id}", json={"title": "改名"})
    assert response.status_code == 422
    assert client.delete(f"/api/v1/spotcheckcampaign/{campaign.id}").status_code == 422
    planned = plan(people["province"])
    assert client.put(f"/api/v1/spotcheckcampaign/{planned.id}", json={"ratio": 0.3}).status_code == 200
    # The city of the province's region is not its organiser.
    city_campaign = plan(people["city"])
    assert client.put(f"/api/v1/spotcheckcampaign/{city_campaign.id}", json={"ratio": 0.3}).status_code == 403
    assert client.delete(f"/api/v1/spotcheckcampaign/{planned.id}").status_code == 200


def test_only_the_organiser_draws_and_closes(people, make_mine, make_inspector, api):
    listed(make_mine(XIAODIAN), "city")
    pool_of(make_inspector, "140100", 3, 1, home=PINGCHENG)
    campaign = plan(people["city"], ratio=1.0)
    # The province reaches the city's campaign but does not organise it; another city does not reach it.
    response = api(people["province"]).post(f"/api/v1/spotcheckcampaign/{campaign.id}/transition",
                                            json={"action": "draw"})
    assert response.status_code == 403
    assert api(people["other_city"]).post(f"/api/v1/spotcheckcampaign/{campaign.id}/transition",
                                          json={"action": "draw"}).status_code == 404
    response = api(people["city"]).post(f"/api/v1/spotcheckcampaign/{campaign.id}/transition",
                                        json={"action": "draw"})
    assert response.status_code == 200 and response.get_json()["status"] == "drawn"
    # Not closed while a check has no result.
    response = api(people["city"]).post(f"/api/v1/spotcheckcampaign/{campaign.id}/transition",
                                        json={"action": "close"})
    assert response.status_code == 409


def test_the_campaign_page_shows_the_draw_and_its_checks(small_campaign, people, browser, app):
    campaign = small_campaign["campaign"]
    page = browser(people["province"]).get(f"/spotcheckcampaignview/show/{campaign.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert campaign.seed in html and "sha256-rank-v1" in html and 'id="draw-verified"' in html
    assert small_campaign["check"].mine_name in html and "label-success" in html
    if "SpotCheckReportView.summary" in app.view_functions:
        from flask import url_for

        with app.test_request_context():
            assert url_for("SpotCheckReportView.summary", pk=campaign.id) in html
    assert browser(people["province"]).get("/spotcheckcampaignview/list/").status_code == 200
    # Planned: the organiser sees what a draw would take now.
    planned = plan(people["province"])
    html = browser(people["province"]).get(f"/spotcheckcampaignview/show/{planned.id}").get_data(as_text=True)
    assert 'id="draw-preview"' in html
    form = browser(people["province"]).get("/spotcheckcampaignview/add")
    assert form.status_code == 200


def test_the_html_form_plans_a_campaign(people, browser):
    client = browser(people["city"])
    response = client.post("/spotcheckcampaignview/add", data={
        "title": "太原市2026年抽查", "year": str(TODAY.year), "ratio": "0.25", "team_size": "4", "team_count": "2"})
    assert response.status_code == 302
    campaign = db.session.scalars(select(SpotCheckCampaign)).one()
    assert (campaign.level, campaign.region_code, campaign.ratio, campaign.team_size) == ("city", "140100", 0.25, 4)
    response = client.post("/spotcheckcampaignview/add", data={"title": "x", "ratio": "2", "team_size": "3",
                                                               "team_count": "1"})
    assert response.status_code == 200  # the form again, with the message
    assert db.session.scalar(select(func.count()).select_from(SpotCheckCampaign)) == 1


# ---------------------------------------------------------------------------
# The verification record and the confirmations
# ---------------------------------------------------------------------------
def test_team_members_fill_in_the_record_and_the_leader_submits_it(small_campaign, people, api, make_inspector):
    check = small_campaign["check"]
    leader, member = check.team.members[0].inspector, check.team.members[1].inspector
    body = {"checked_on": TODAY.isoformat(), "area_environment": "矿区道路扬尘", "area_energy": "",
            "opinions": "完善洒水降尘", "conforms": True}
    response = api(member.user).put(f"/api/v1/spotcheck/{check.id}", json=body)
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    check = db.session.get(SpotCheck, check.id)
    assert check.area_environment == "矿区道路扬尘" and check.area_energy is None and check.conforms is True
    # Not in the future; the organiser's fields are not the team's; nobody else writes it.
    future = (TODAY + datetime.timedelta(days=1)).isoformat()
    assert api(member.user).put(f"/api/v1/spotcheck/{check.id}", json={"checked_on": future}).status_code == 422
    assert api(member.user).put(f"/api/v1/spotcheck/{check.id}", json={"note": "x"}).status_code == 403
    outsider = make_inspector("140000", home=PINGCHENG)
    assert api(outsider.user).put(f"/api/v1/spotcheck/{check.id}", json={"opinions": "x"}).status_code == 404
    assert api(people["province"]).put(f"/api/v1/spotcheck/{check.id}", json={"opinions": "x"}).status_code == 403
    # Only the leader submits.
    response = api(member.user).post(f"/api/v1/spotcheck/{check.id}/transition", json={"action": "submit_record"})
    assert response.status_code == 403
    response = api(leader.user).post(f"/api/v1/spotcheck/{check.id}/transition", json={"action": "submit_record"})
    assert response.status_code == 200 and response.get_json()["status"] == "recorded"
    db.session.expire_all()
    check = db.session.get(SpotCheck, check.id)
    assert check.recorded_at is not None
    # Submitted: no more changes, no more files.
    assert api(member.user).put(f"/api/v1/spotcheck/{check.id}", json={"opinions": "改"}).status_code == 422
    with pytest.raises(ValidationFailed):
        uploads.attach("SpotCheck", check.id, "document",
                       FileStorage(stream=io.BytesIO(sample_jpeg()), filename="现场.jpg"), member.user)


def test_an_incomplete_record_is_not_submitted(small_campaign):
    check = small_campaign["check"]
    with pytest.raises(TransitionRefused):
        workflow.transition(check, "submit_record", check.team.leader.user)
    check.checked_on = TODAY
    db.session.commit()
    with pytest.raises(TransitionRefused):
        workflow.transition(check, "submit_record", check.team.leader.user)
    db.session.expire_all()
    assert db.session.get(SpotCheck, check.id).status == "assigned"


def test_photos_and_videos_are_the_team_members(small_campaign, people):
    check = small_campaign["check"]
    member = check.team.members[2].inspector
    attachment = uploads.attach("SpotCheck", check.id, "document",
                                FileStorage(stream=io.BytesIO(sample_jpeg()), filename="排土场.jpg"), member.user)
    assert attachment.owner_id == check.id
    with pytest.raises((AccessDenied, ValidationFailed)):
        uploads.attach("SpotCheck", check.id, "document",
                       FileStorage(stream=io.BytesIO(sample_jpeg()), filename="x.jpg"), people["province"])


def test_each_member_confirms_from_his_own_account(small_campaign, people, api, make_inspector):
    check = small_campaign["check"]
    members = [m.inspector for m in check.team.members]
    # Not before the leader has submitted.
    assert api(members[1].user).post(f"/api/v1/spotcheck/{check.id}/confirm").status_code == 409
    submit(check)
    # Not before every member has confirmed: the organiser waits.
    response = api(people["province"]).post(f"/api/v1/spotcheck/{check.id}/transition", json={"action": "retain"})
    assert response.status_code == 409 and members[0].name in response.get_json()["message"]
    for n, inspector in enumerate(members):
        response = api(inspector.user).post(f"/api/v1/spotcheck/{check.id}/confirm")
        assert response.status_code == 200, response.get_json()
        assert len(response.get_json()["confirmations"]) == n + 1
    # Again: nothing new.
    assert api(members[0].user).post(f"/api/v1/spotcheck/{check.id}/confirm").status_code == 200
    rows = db.session.scalars(select(SpotCheckConfirmation).where(SpotCheckConfirmation.check_id == check.id)).all()
    assert sorted((r.inspector_id, r.user_id) for r in rows) == sorted((i.id, i.user_id) for i in members)
    # Anyone else: refused (another inspector does not even reach it; the organiser has no such right).
    outsider = make_inspector("140000", home=PINGCHENG)
    assert api(outsider.user).post(f"/api/v1/spotcheck/{check.id}/confirm").status_code == 404
    assert api(people["province"]).post(f"/api/v1/spotcheck/{check.id}/confirm").status_code == 403
    with pytest.raises(AccessDenied):
        spotchecks.confirm(check, people["province"])
    response = api(people["province"]).post(f"/api/v1/spotcheck/{check.id}/transition", json={"action": "retain"})
    assert response.status_code == 200 and response.get_json()["status"] == "retained"


def test_the_record_page_is_laid_out_like_the_form(small_campaign, people, browser):
    check = small_campaign["check"]
    leader, member = check.team.members[0].inspector, check.team.members[1].inspector
    client = browser(member.user)
    html = client.get(f"/spotcheckview/show/{check.id}").get_data(as_text=True)
    assert 'id="verification-record"' in html and check.mine_name in html and leader.name in html
    assert f"/spotcheckview/edit/{check.id}" in html  # a member fills it in
    response = client.post(f"/spotcheckview/edit/{check.id}", data={
        "checked_on": TODAY.isoformat(), "area_environment": "边坡未治理", "area_development": "",
        "area_utilization": "", "area_energy": "", "area_innovation": "", "area_management": "",
        "opinions": "尽快治理", "conforms": "no"})
    assert response.status_code == 302
    db.session.expire_all()
    check = db.session.get(SpotCheck, check.id)
    assert check.conforms is False and check.area_environment == "边坡未治理"
    workflow.transition(check, "submit_record", leader.user)
    html = client.get(f"/spotcheckview/show/{check.id}").get_data(as_text=True)
    assert 'id="confirm-record"' in html and "边坡未治理" in html and 'data-conforms="no"' in html
    assert client.post(f"/spotcheckview/confirm/{check.id}").status_code == 302
    assert spotchecks.confirmation_of(check, member.id) is not None
    # The organiser's page: no confirm button, the directory entries.
    html = browser(people["province"]).get(f"/spotcheckview/show/{check.id}").get_data(as_text=True)
    assert 'id="confirm-record"' not in html and 'id="directory-entries"' in html


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------
def test_retain(small_campaign, people):
    check = recorded_and_confirmed(small_campaign["check"])
    # A province user is the organiser; the city in the province is not.
    with pytest.raises(AccessDenied):
        workflow.transition(check, "retain", people["city"])
    workflow.transition(check, "retain", people["province"])
    assert check.status == "retained" and check.decided_at is not None
    assert small_campaign["entry"].status == "listed"
    workflow.transition(small_campaign["campaign"], "close", people["province"])
    assert small_campaign["campaign"].status == "closed"


def test_rectification_with_a_deadline_then_the_recheck(small_campaign, people, browser, monkeypatch):
    check = recorded_and_confirmed(small_campaign["check"], conforms=False)
    client = browser(people["province"])
    html = client.get(f"/spotcheckview/show/{check.id}").get_data(as_text=True)
    assert 'id="order-rectification"' in html
    # No deadline, or one in the past: refused.
    for deadline in ("", (TODAY - datetime.timedelta(days=1)).isoformat(), TODAY.isoformat(), "not-a-date"):
        client.post(f"/spotcheckview/transition/{check.id}", data={
            "action": "order_rectification", "comment": "限期整改", "rectify_deadline": deadline})
        db.session.expire_all()
        assert db.session.get(SpotCheck, check.id).status == "recorded", deadline
        assert db.session.get(SpotCheck, check.id).rectify_deadline is None
    deadline = TODAY + datetime.timedelta(days=60)
    client.post(f"/spotcheckview/transition/{check.id}", data={
        "action": "order_rectification", "comment": "完成边坡治理", "rectify_deadline": deadline.isoformat(),
        "note": "采矿权人已变更"})
    db.session.expire_all()
    check = db.session.get(SpotCheck, check.id)
    assert (check.status, check.rectify_deadline, check.note) == ("rectifying", deadline, "采矿权人已变更")
    # Overdue once the deadline has passed, for the organiser's scope only.
    assert db.session.scalars(spotchecks.overdue_rectifications(people["province"])).all() == []
    monkeypatch.setattr(spotchecks, "_today", lambda: deadline + datetime.timedelta(days=1))
    assert [c.id for c in db.session.scalars(spotchecks.overdue_rectifications(people["province"]))] == [check.id]
    assert [c.id for c in db.session.scalars(spotchecks.overdue_rectifications(people["county"]))] == [check.id]
    assert db.session.scalars(spotchecks.overdue_rectifications(people["hebei"])).all() == []
    monkeypatch.undo()
    # The campaign closes with rectifications under way; the re-check comes later, by the team.
    workflow.transition(small_campaign["campaign"], "close", people["province"])
    with pytest.raises(TransitionRefused):  # not before the team's re-check
        workflow.transition(check, "pass_recheck", people["province"], "复查合格")
    submit_recheck(check)
    # Re-checked: awaiting the result, no longer overdue.
    monkeypatch.setattr(spotchecks, "_today", lambda: deadline + datetime.timedelta(days=1))
    assert db.session.scalars(spotchecks.overdue_rectifications(people["province"])).all() == []
    monkeypatch.undo()
    confirm_recheck(check)
    with pytest.raises(TransitionRefused):
        workflow.transition(check, "pass_recheck", people["province"])  # a comment is required
    workflow.transition(check, "pass_recheck", people["province"], "复查合格")
    assert check.status == "retained"
    assert small_campaign["entry"].status == "listed"
    assert [step.action for step in workflow.history(check)] == [
        "submit_record", "order_rectification", "submit_recheck", "pass_recheck"]


def test_a_failed_recheck_removes_the_mine_with_the_campaign_as_reason(small_campaign, people):
    check = recorded_and_confirmed(small_campaign["check"], conforms=False)
    spotchecks.decide(check, "order_rectification", people["province"], "限期整改",
                      rectify_deadline=TODAY + datetime.timedelta(days=10))
    submit_recheck(check, conforms=False)
    confirm_recheck(check)
    workflow.transition(check, "fail_recheck", people["province"], "复查仍不合格")
    db.session.expire_all()
    check = db.session.get(SpotCheck, check.id)
    entry = db.session.get(DirectoryEntry, small_campaign["entry"].id)
    assert check.status == "removed" and entry.status == "removed"
    assert small_campaign["campaign"].title in entry.exit_reason and entry.removed_on == TODAY


def test_removal_takes_the_mine_off_the_directory_in_the_same_step(small_campaign, people, api):
    check = recorded_and_confirmed(small_campaign["check"], conforms=False)
    response = api(people["province"]).post(f"/api/v1/spotcheck/{check.id}/transition",
                                            json={"action": "remove", "comment": "核查不合格", "note": "建议移出"})
    assert response.status_code == 200 and response.get_json()["status"] == "removed"
    db.session.expire_all()
    entry = db.session.get(DirectoryEntry, small_campaign["entry"].id)
    assert entry.status == "removed"
    assert small_campaign["campaign"].title in entry.exit_reason and "核查不合格" in entry.exit_reason
    logs = db.session.scalars(select(TransitionLog).where(TransitionLog.record_type == "DirectoryEntry",
                                                          TransitionLog.record_id == entry.id)).all()
    assert [(log.action, log.user_id) for log in logs] == [("remove", people["province"].id)]
    assert db.session.get(SpotCheck, check.id).note == "建议移出"


def test_a_province_check_of_a_national_mine_refers_the_national_entry_to_its_keeper(
        people, make_mine, make_inspector, seeded):
    mine = make_mine(XIAODIAN)
    national, provincial = listed(mine, "national"), listed(mine, "province")
    pool_of(make_inspector, "140000", 3, 1, home=PINGCHENG)
    seeded("7" * 32)
    campaign = draw(plan(people["province"], ratio=1.0), people["province"])
    check = campaign.checks[0]
    assert check.entry_id == national.id and check.entry_level == "national"
    recorded_and_confirmed(check, conforms=False)
    workflow.transition(check, "remove", people["province"], "不符合标准")
    db.session.expire_all()
    # The province keeps the provincial list: removed now; the national list is the ministry's:
    # still listed, and the national users are told.
    assert db.session.get(DirectoryEntry, provincial.id).status == "removed"
    assert db.session.get(DirectoryEntry, national.id).status == "listed"
    told = db.session.scalars(select(Notification).where(Notification.record_type == "DirectoryEntry",
                                                         Notification.record_id == national.id)).all()
    assert [n.user_id for n in told] == [people["national"].id]
    assert campaign.title in told[0].body
    # The national user removes it from the directory's page.
    directory_remove(db.session.get(DirectoryEntry, national.id), people["national"])
    assert db.session.get(DirectoryEntry, national.id).status == "removed"


def test_a_refused_removal_leaves_everything_as_it_was(small_campaign, people, monkeypatch):
    check = recorded_and_confirmed(small_campaign["check"], conforms=False)

    def fail(*args, **kwargs):
        raise TransitionRefused("测试：通知失败")

    monkeypatch.setattr(spotchecks, "_refer_to_keepers", fail)
    # The organiser keeps the entry: removal succeeds only if all of it does; force a refusal
    # after the entry's step by referring a second (national) entry.
    listed(small_campaign["mine"], "national")
    with pytest.raises(TransitionRefused):
        workflow.transition(check, "remove", people["province"], "不符合标准")
    db.session.expire_all()
    assert db.session.get(SpotCheck, check.id).status == "recorded"
    assert db.session.get(DirectoryEntry, small_campaign["entry"].id).status == "listed"
    assert db.session.scalar(select(func.count()).select_from(TransitionLog).where(
        TransitionLog.record_type == "DirectoryEntry")) == 0


# ---------------------------------------------------------------------------
# The re-check of a rectification (H5: rectify opens a follow-up that is re-checked)
# ---------------------------------------------------------------------------
def _told(user) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.record_type == "SpotCheck"))


def test_only_the_leader_submits_the_recheck(small_campaign, people, api):
    check = small_campaign["check"]
    leader, member = check.team.members[0].inspector, check.team.members[1].inspector
    recorded_and_confirmed(check, conforms=False)
    before = {inspector.id: _told(inspector.user) for inspector in (leader, member)}
    spotchecks.decide(check, "order_rectification", people["province"], "限期整改",
                      rectify_deadline=(TODAY + datetime.timedelta(days=30)).isoformat())
    # Ordering rectification tells the whole team to re-check the mine.
    for inspector in (leader, member):
        assert _told(inspector.user) == before[inspector.id] + 1
    body = {"recheck_on": TODAY.isoformat(), "recheck_findings": "边坡已治理", "recheck_conforms": True}
    response = api(member.user).put(f"/api/v1/spotcheck/{check.id}", json=body)
    assert response.status_code == 200, response.get_json()
    url = f"/api/v1/spotcheck/{check.id}/transition"
    # A member fills it in but does not submit it; nor does the organiser.
    response = api(member.user).post(url, json={"action": "submit_recheck"})
    assert response.status_code == 403 and response.get_json()["message"]
    assert api(people["province"]).post(url, json={"action": "submit_recheck"}).status_code == 403
    with pytest.raises(AccessDenied):
        workflow.transition(check, "submit_recheck", member.user)
    db.session.expire_all()
    assert db.session.get(SpotCheck, check.id).status == "rectifying"
    before = {inspector.id: _told(inspector.user) for inspector in (leader, member)}
    response = api(leader.user).post(url, json={"action": "submit_recheck"})
    assert response.status_code == 200 and response.get_json()["status"] == "rechecked"
    db.session.expire_all()
    check = db.session.get(SpotCheck, check.id)
    assert check.rechecked_at is not None
    # The other members are asked to confirm it; the leader submitted it himself.
    assert _told(member.user) == before[member.id] + 1 and _told(leader.user) == before[leader.id]
    shown = api(people["province"]).get(f"/api/v1/spotcheck/{check.id}").get_json()["result"]
    assert (shown["recheck_on"], shown["recheck_findings"], shown["recheck_conforms"]) == (
        TODAY.isoformat(), "边坡已治理", True)
    assert shown["rechecked_at"] and shown["status"] == "rechecked"
    listed_row = api(people["province"]).get("/api/v1/spotcheck/").get_json()["result"][0]
    assert listed_row["recheck_conforms"] is True and listed_row["recheck_on"] == TODAY.isoformat()
    # Submitted: the re-check no longer changes.
    assert api(member.user).put(f"/api/v1/spotcheck/{check.id}", json={"recheck_findings": "改"}).status_code == 422


def test_an_incomplete_or_misdated_recheck_is_refused(small_campaign, people, api):
    check = rectifying(small_campaign["check"], people["province"])
    leader, member = check.team.leader, check.team.members[1].inspector

    def refused(**fields):
        for key, value in fields.items():
            setattr(check, key, value)
        db.session.commit()
        with pytest.raises(TransitionRefused) as refusal:
            workflow.transition(check, "submit_recheck", leader.user)
        assert str(refusal.value)
        db.session.expire_all()
        assert db.session.get(SpotCheck, check.id).status == "rectifying"

    refused()  # nothing filled in
    refused(recheck_on=TODAY, recheck_conforms=True)  # no findings
    refused(recheck_findings="   ")  # blank findings
    refused(recheck_findings="边坡已治理", recheck_conforms=None)  # no conclusion
    refused(recheck_conforms=False, recheck_on=TODAY + datetime.timedelta(days=1))  # in the future
    # Before the rectification was ordered (today; two days back whatever the time zone).
    refused(recheck_on=TODAY - datetime.timedelta(days=2))
    # A member writing them gets the same answers, on the field.
    refused(recheck_on=None)
    client = api(member.user)
    for bad in ({"recheck_on": (TODAY + datetime.timedelta(days=1)).isoformat()},
                {"recheck_on": (TODAY - datetime.timedelta(days=2)).isoformat()},
                {"recheck_on": "not-a-date"},
                {"recheck_findings": "x" * (spotchecks.TEXT_MAX + 1)},
                {"recheck_conforms": "perhaps"}):
        response = client.put(f"/api/v1/spotcheck/{check.id}", json=bad)
        assert response.status_code in (400, 422), (bad, response.status_code)
        assert response.get_json()["message"], bad
    db.session.expire_all()
    check = db.session.get(SpotCheck, check.id)
    assert check.recheck_findings == "边坡已治理" and check.recheck_conforms is False
    check.recheck_on = TODAY
    db.session.commit()
    workflow.transition(check, "submit_recheck", leader.user)
    assert check.status == "rechecked"


def test_the_organiser_decides_once_every_member_confirmed_the_recheck(small_campaign, people, api):
    check = rectifying(small_campaign["check"], people["province"])
    members = [m.inspector for m in check.team.members]
    organiser = api(people["province"])
    url = f"/api/v1/spotcheck/{check.id}/transition"
    # No result while the mine rectifies: the team re-checks first.
    for action in ("pass_recheck", "fail_recheck"):
        response = organiser.post(url, json={"action": action, "comment": "复查"})
        assert response.status_code == 409, action
    # Nothing to confirm before the leader submits the re-check.
    assert api(members[1].user).post(f"/api/v1/spotcheck/{check.id}/confirm").status_code == 409
    with pytest.raises(TransitionRefused):
        spotchecks.confirm(check, members[1].user)
    submit_recheck(check)
    # The confirmations of the record do not count for the re-check.
    response = organiser.post(url, json={"action": "pass_recheck", "comment": "复查合格"})
    assert response.status_code == 409 and members[0].name in response.get_json()["message"]
    for n, inspector in enumerate(members[:-1]):
        response = api(inspector.user).post(f"/api/v1/spotcheck/{check.id}/confirm")
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["stage"] == "recheck" and len(body["confirmations"]) == n + 1
        assert len(body["waiting_for"]) == len(members) - n - 1
    for action in ("pass_recheck", "fail_recheck"):
        response = organiser.post(url, json={"action": action, "comment": "复查"})
        assert response.status_code == 409 and members[-1].name in response.get_json()["message"], action
    assert api(members[-1].user).post(f"/api/v1/spotcheck/{check.id}/confirm").status_code == 200
    # Again: nothing new; one confirmation per member and stage.
    assert api(members[0].user).post(f"/api/v1/spotcheck/{check.id}/confirm").get_json()["stage"] == "recheck"
    rows = db.session.scalars(select(SpotCheckConfirmation).where(SpotCheckConfirmation.check_id == check.id)).all()
    assert sorted((row.stage, row.inspector_id) for row in rows) == sorted(
        [("record", i.id) for i in members] + [("recheck", i.id) for i in members])
    # The organiser decides; a city of the province reaches the check but does not organise it.
    assert api(people["city"]).post(url, json={"action": "pass_recheck", "comment": "复查合格"}).status_code == 403
    response = organiser.post(url, json={"action": "pass_recheck", "comment": "复查合格", "note": "已完成整改"})
    assert response.status_code == 200 and response.get_json()["status"] == "retained"
    db.session.expire_all()
    check = db.session.get(SpotCheck, check.id)
    assert check.note == "已完成整改" and check.decision_comment == "复查合格"
    assert db.session.get(DirectoryEntry, small_campaign["entry"].id).status == "listed"
    # Decided: no more confirmations of anything.
    assert not spotchecks.may_confirm(check, members[0].user)


def test_a_failed_recheck_through_the_api_takes_the_mine_off_the_directory(small_campaign, people, api):
    check = rectifying(small_campaign["check"], people["province"])
    submit_recheck(check, conforms=False)
    confirm_recheck(check)
    response = api(people["province"]).post(f"/api/v1/spotcheck/{check.id}/transition",
                                            json={"action": "fail_recheck", "comment": "复查仍不合格"})
    assert response.status_code == 200 and response.get_json()["status"] == "removed"
    db.session.expire_all()
    entry = db.session.get(DirectoryEntry, small_campaign["entry"].id)
    assert entry.status == "removed" and entry.removed_on == TODAY
    assert small_campaign["campaign"].title in entry.exit_reason and "复查仍不合格" in entry.exit_reason
    logs = db.session.scalars(select(TransitionLog).where(TransitionLog.record_type == "DirectoryEntry",
                                                          TransitionLog.record_id == entry.id)).all()
    assert [(log.action, log.user_id) for log in logs] == [("remove", people["province"].id)]


def test_the_recheck_is_the_teams_to_fill_in_while_the_mine_rectifies(small_campaign, people, api, make_inspector):
    check = small_campaign["check"]
    member = check.team.members[1].inspector
    client = api(member.user)
    # Before rectification was ordered there is no re-check to fill in.
    assert client.put(f"/api/v1/spotcheck/{check.id}", json={"recheck_findings": "x"}).status_code == 422
    rectifying(check, people["province"])
    # The record stays as it was submitted; the re-check is the team's, and only its.
    assert client.put(f"/api/v1/spotcheck/{check.id}", json={"opinions": "改"}).status_code == 422
    assert client.put(f"/api/v1/spotcheck/{check.id}", json={"recheck_findings": "x",
                                                             "conforms": True}).status_code == 422
    assert api(people["province"]).put(f"/api/v1/spotcheck/{check.id}",
                                       json={"recheck_findings": "x"}).status_code == 403
    outsider = make_inspector("140000", home=PINGCHENG)
    assert api(outsider.user).put(f"/api/v1/spotcheck/{check.id}", json={"recheck_findings": "x"}).status_code == 404
    assert client.put(f"/api/v1/spotcheck/{check.id}",
                      json={"rechecked_at": "2026-01-01T00:00:00"}).status_code in (400, 422)
    response = client.put(f"/api/v1/spotcheck/{check.id}", json={
        "recheck_on": TODAY.isoformat(), "recheck_findings": "  排土场已复绿  ", "recheck_conforms": False})
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    check = db.session.get(SpotCheck, check.id)
    assert (check.recheck_on, check.recheck_findings, check.recheck_conforms) == (TODAY, "排土场已复绿", False)
    assert check.rechecked_at is None and check.opinions == "加快生态修复"


def test_the_recheck_has_its_own_photos_while_the_mine_rectifies(small_campaign, people):
    check = small_campaign["check"]
    member = check.team.members[1].inspector

    def photo(name):
        return FileStorage(stream=io.BytesIO(sample_jpeg()), filename=name)

    on_site = uploads.attach("SpotCheck", check.id, "document", photo("现场.jpg"), member.user)
    with pytest.raises(ValidationFailed):  # no re-check yet
        uploads.attach("SpotCheck", check.id, "recheck_document", photo("复查.jpg"), member.user)
    rectifying(check, people["province"])
    first = uploads.attach("SpotCheck", check.id, "recheck_document", photo("复查.jpg"), member.user)
    assert first.slot == "recheck_document"
    # The record's files stay as they were submitted.
    with pytest.raises(ValidationFailed):
        uploads.attach("SpotCheck", check.id, "document", photo("补拍.jpg"), member.user)
    with pytest.raises(ValidationFailed):
        uploads.remove(on_site.id, member.user)
    # The organiser does not upload the team's evidence.
    with pytest.raises((AccessDenied, ValidationFailed)):
        uploads.attach("SpotCheck", check.id, "recheck_document", photo("x.jpg"), people["province"])
    # A member replaces a photo of the re-check until it is submitted ...
    uploads.remove(first.id, member.user)
    second = uploads.attach("SpotCheck", check.id, "recheck_document", photo("复查2.jpg"), member.user)
    assert uploads.may_upload("SpotCheck", check, member.user, "recheck_document")
    assert not uploads.may_upload("SpotCheck", check, member.user, "document")
    submit_recheck(check)
    # ... then they are kept as they are.
    with pytest.raises(ValidationFailed):
        uploads.attach("SpotCheck", check.id, "recheck_document", photo("复查3.jpg"), member.user)
    with pytest.raises(ValidationFailed):
        uploads.remove(second.id, member.user)
    assert not uploads.may_upload("SpotCheck", check, member.user, "recheck_document")
    assert [a.id for a in uploads.attachments_of("SpotCheck", check.id, "recheck_document")] == [second.id]
    assert [a.id for a in uploads.attachments_of("SpotCheck", check.id, "document")] == [on_site.id]


def test_the_record_page_shows_the_recheck_once_rectification_was_ordered(small_campaign, people, browser):
    check = small_campaign["check"]
    leader, member = check.team.members[0].inspector, check.team.members[1].inspector
    client = browser(member.user)
    show, edit = f"/spotcheckview/show/{check.id}", f"/spotcheckview/edit/{check.id}"
    assert 'id="recheck"' not in client.get(show).get_data(as_text=True)
    rectifying(check, people["province"])
    html = client.get(show).get_data(as_text=True)
    assert 'id="recheck"' in html and 'id="fill-in-recheck"' in html and 'id="confirm-recheck"' not in html
    assert f'id="attachments-SpotCheck-{check.id}-recheck_document"' in html
    assert f'action="/attachments/SpotCheck/{check.id}/recheck_document"' in html  # its upload form
    assert f'action="/attachments/SpotCheck/{check.id}/document"' not in html  # the record's is closed
    # The edit page is the re-check's form now.
    page = client.get(edit).get_data(as_text=True)
    assert 'name="recheck_findings"' in page and 'name="recheck_on"' in page and 'name="opinions"' not in page
    # Refused input comes back in the form, with the message; nothing is saved.
    future = (TODAY + datetime.timedelta(days=1)).isoformat()
    response = client.post(edit, data={"recheck_on": future, "recheck_findings": "边坡已治理",
                                        "recheck_conforms": "yes"})
    assert response.status_code == 200 and 'name="recheck_findings"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SpotCheck, check.id).recheck_on is None
    response = client.post(edit, data={"recheck_on": TODAY.isoformat(), "recheck_findings": "边坡已治理",
                                       "recheck_conforms": "yes"})
    assert response.status_code == 302
    db.session.expire_all()
    check = db.session.get(SpotCheck, check.id)
    assert (check.recheck_on, check.recheck_findings, check.recheck_conforms) == (TODAY, "边坡已治理", True)
    workflow.transition(check, "submit_recheck", leader.user)
    html = client.get(show).get_data(as_text=True)
    assert 'id="confirm-recheck"' in html and 'id="confirm-record"' not in html and 'id="fill-in-recheck"' not in html
    assert 'id="recheck-conclusion" data-conforms="yes"' in html and 'data-conforms="no"' in html
    assert "边坡已治理" in html
    assert client.post(f"/spotcheckview/confirm/{check.id}").status_code == 302
    assert spotchecks.confirmation_of(check, member.id, "recheck") is not None
    # The result buttons are the organiser's.
    organiser = browser(people["province"]).get(show).get_data(as_text=True)
    assert 'value="pass_recheck"' in organiser and 'value="fail_recheck"' in organiser
    city = browser(people["city"]).get(show).get_data(as_text=True)
    assert 'id="recheck"' in city and 'value="pass_recheck"' not in city
    # Every role that reaches the check reads the page.
    for user in (people["county"], people["enterprise"], people["national"], leader.user):
        assert browser(user).get(show).status_code == 200


def test_overdue_is_one_query_and_a_rechecked_mine_is_not_overdue(small_campaign, people, monkeypatch):
    from app.services import home, selfchecks

    check = rectifying(small_campaign["check"], people["province"], days=5)
    later = TODAY + datetime.timedelta(days=6)
    assert selfchecks.overdue_rectification_count(people["province"]) == 0
    monkeypatch.setattr(selfchecks, "_today", lambda: later)
    overdue = db.session.scalars(spotchecks.overdue_rectifications(people["province"], today=later)).all()
    assert [c.id for c in overdue] == [check.id]
    assert selfchecks.overdue_rectification_count(people["province"]) == 1
    assert selfchecks.overdue_rectification_count(people["county"]) == 1
    assert selfchecks.overdue_rectification_count(people["hebei"]) == 0
    assert home.spot_check_flags(people["province"], True).overdue_rectifications == 1
    submit_recheck(check)
    assert selfchecks.overdue_rectification_count(people["province"]) == 0
    assert not home.spot_check_flags(people["province"], True).overdue_rectifications


def test_a_rechecked_mine_is_still_under_rectification_until_decided(small_campaign, people):
    from app.services import spotcheck_reports

    campaign = small_campaign["campaign"]
    check = rectifying(small_campaign["check"], people["province"])
    submit_recheck(check)
    # The summary table (seed 004 附表, 处理结论) and the report.
    assert spotcheck_reports.conclusion_text(check) == "整改"
    assert f"整改期限：{check.rectify_deadline.isoformat()}" in spotcheck_reports.note_text(check)
    report = spotcheck_reports.report_context(campaign)
    assert report["conclusions"]["rectifying"] == 1 and report["conclusions"]["pending"] == 0
    # The public page.
    row = spotcheck_reports.public_campaign(campaign.id)["sample"][0]
    assert row["result"] == "rectifying" and row["rectify_deadline"] == check.rectify_deadline.isoformat()
    assert row["result_label"] == workflow.workflow_state_label("spot_check", "rectifying")
    # The next draw still puts the mine first.
    later = plan(people["province"])
    assert spotchecks.candidates(later)[1] == {str(small_campaign["entry"].id): ["rectification"]}
    # The campaign closes with the re-check awaiting its result.
    workflow.transition(campaign, "close", people["province"])
    assert campaign.status == "closed"


# ---------------------------------------------------------------------------
# Scope
# ---------------------------------------------------------------------------
def test_another_province_gets_404_everywhere(small_campaign, people, browser, api):
    campaign, check = small_campaign["campaign"], small_campaign["check"]
    client, rest = browser(people["hebei"]), api(people["hebei"])
    assert client.get(f"/spotcheckcampaignview/show/{campaign.id}").status_code == 404
    assert client.get(f"/spotcheckview/show/{check.id}").status_code == 404
    assert client.post(f"/spotcheckview/transition/{check.id}", data={"action": "retain"}).status_code == 404
    assert client.post(f"/spotcheckcampaignview/transition/{campaign.id}", data={"action": "close"}).status_code == 404
    assert rest.get(f"/api/v1/spotcheckcampaign/{campaign.id}").status_code == 404
    assert rest.get(f"/api/v1/spotcheck/{check.id}").status_code == 404
    assert rest.post(f"/api/v1/spotcheck/{check.id}/transition", json={"action": "retain"}).status_code == 404
    assert rest.get("/api/v1/spotcheck/").get_json()["count"] == 0
    assert rest.get("/api/v1/spotcheckcampaign/").get_json()["count"] == 0
    assert rest.get("/api/v1/inspector/").get_json()["count"] == 0
    # The mine's own county and enterprise follow its checks; the province's staff see the pool.
    assert api(people["county"]).get(f"/api/v1/spotcheck/{check.id}").status_code == 200
    assert api(people["enterprise"]).get(f"/api/v1/spotcheck/{check.id}").status_code == 200
    assert api(people["province"]).get("/api/v1/inspector/").get_json()["count"] == 3


def test_an_inspector_sees_only_his_teams_campaigns_and_records(people, make_mine, make_inspector, seeded,
                                                                browser, api):
    for county in (XIAODIAN, YINGZE, XINGHUALING, JIANCAOPING):
        listed(make_mine(county), "province")
    pool_of(make_inspector, "140000", 6, 2, home=PINGCHENG)
    seeded("4" * 32)
    campaign = draw(plan(people["province"], ratio=1.0, team_count=2), people["province"])
    team1, team2 = campaign.teams
    inspector = team1.members[1].inspector
    mine_checks = sorted(c.id for c in campaign.checks if c.team_id == team1.id)
    others = [c.id for c in campaign.checks if c.team_id == team2.id]
    rest = api(inspector.user)
    listed_ids = sorted(row["id"] for row in rest.get("/api/v1/spotcheck/").get_json()["result"])
    assert listed_ids == mine_checks
    assert rest.get(f"/api/v1/spotcheck/{others[0]}").status_code == 404
    assert [row["id"] for row in rest.get("/api/v1/spotcheckcampaign/").get_json()["result"]] == [campaign.id]
    assert [row["id"] for row in rest.get("/api/v1/inspector/").get_json()["result"]] == [inspector.id]
    client = browser(inspector.user)
    assert client.get(f"/spotcheckview/show/{mine_checks[0]}").status_code == 200
    assert client.get(f"/spotcheckview/show/{others[0]}").status_code == 404
    assert client.get(f"/spotcheckcampaignview/show/{campaign.id}").status_code == 200
    # A planned campaign of his pool that drew nobody yet: not his.
    planned = plan(people["province"])
    assert rest.get(f"/api/v1/spotcheckcampaign/{planned.id}").status_code == 404
    # He cannot plan, draw or decide.
    assert rest.post("/api/v1/spotcheckcampaign/", json={"title": "x"}).status_code == 403
    assert rest.post(f"/api/v1/spotcheck/{mine_checks[0]}/transition", json={"action": "retain"}).status_code in (
        403, 409)


# ---------------------------------------------------------------------------
# Inspector pools
# ---------------------------------------------------------------------------
def test_the_pool_is_the_organisers_and_holds_inspector_accounts(people, make_user, api, browser):
    account = make_user("inspector", first_name="伟", last_name="王")
    client = api(people["province"])
    response = client.post("/api/v1/inspector/", json={"user_id": account.id, "name": "王伟", "home_region_code": QINGXU,
                                                       "title_grade": "senior", "unit": "省地调院"})
    assert response.status_code == 201, response.get_json()
    inspector = db.session.get(Inspector, response.get_json()["id"])
    assert inspector.pool_region_code == "140000" and inspector.active is True
    # Once only; an account without the inspector role; a county that does not exist; bad grade.
    assert client.post("/api/v1/inspector/", json={"user_id": account.id, "name": "王伟",
                                                   "home_region_code": QINGXU}).status_code == 422
    staff = make_user("county", XIAODIAN)
    assert client.post("/api/v1/inspector/", json={"user_id": staff.id, "name": "李四",
                                                   "home_region_code": QINGXU}).status_code == 422
    # An inspector account bound to another province is not the province's to take.
    hebei_account = make_user("inspector", region="130000")
    assert client.post("/api/v1/inspector/", json={"user_id": hebei_account.id, "name": "孙七",
                                                   "home_region_code": QINGXU}).status_code == 403
    second = make_user("inspector")
    for bad in ({"home_region_code": "140100"}, {"title_grade": "professor"}, {"name": " "}):
        body = {"user_id": second.id, "name": "赵六", "home_region_code": QINGXU, **bad}
        assert client.post("/api/v1/inspector/", json=body).status_code == 422, bad
    # The national pool; the city of another city does not see the province's pool.
    response = api(people["national"]).post("/api/v1/inspector/", json={"user_id": second.id, "name": "赵六",
                                                                         "home_region_code": CHANGAN})
    assert response.status_code == 201 and db.session.get(Inspector, response.get_json()["id"]).pool_region_code is None
    assert api(people["other_city"]).get(f"/api/v1/inspector/{inspector.id}").status_code == 404
    # The province's city reads the province's pool through its scope? No: the pool is the
    # province's region, outside the city's.
    assert api(people["city"]).get(f"/api/v1/inspector/{inspector.id}").status_code == 404
    # The HTML form and its account search.
    third = make_user("inspector", first_name="芳", last_name="张")
    page = browser(people["province"])
    assert page.get("/inspectorview/add").status_code == 200
    found = page.get("/inspectorview/choices/user?q=" + third.username).get_json()["results"]
    assert [row["id"] for row in found] == [third.id]
    assert page.get("/inspectorview/choices/user?q=" + account.username).get_json()["results"] == []
    response = page.post("/inspectorview/add", data={"user": str(third.id), "name": "张芳",
                                                     "home_region_code": YINGZE, "title_grade": "none",
                                                     "admin_rank": "division", "active": "y"})
    assert response.status_code == 302
    added = db.session.scalars(select(Inspector).where(Inspector.user_id == third.id)).one()
    assert added.pool_region_code == "140000" and spotchecks.may_lead(added.title_grade, added.admin_rank)


def test_an_inspector_who_took_part_in_a_draw_is_kept(small_campaign, people, api):
    inspector = small_campaign["check"].team.members[1].inspector
    assert api(people["province"]).delete(f"/api/v1/inspector/{inspector.id}").status_code == 422
    response = api(people["province"]).put(f"/api/v1/inspector/{inspector.id}", json={"active": False})
    assert response.status_code == 200
    assert api(people["city"]).put(f"/api/v1/inspector/{inspector.id}", json={"active": True}).status_code == 404


# ---------------------------------------------------------------------------
# Pages for every role, notifications
# ---------------------------------------------------------------------------
def test_every_list_and_page_opens_for_the_roles_that_reach_it(small_campaign, people, browser, api):
    campaign, check = small_campaign["campaign"], small_campaign["check"]
    inspector = check.team.members[1].inspector
    pages = {
        "province": ["/spotcheckcampaignview/list/", "/spotcheckview/list/", "/inspectorview/list/",
                     f"/spotcheckcampaignview/show/{campaign.id}", f"/spotcheckview/show/{check.id}",
                     f"/inspectorview/show/{inspector.id}", f"/inspectorview/edit/{inspector.id}"],
        "national": ["/spotcheckcampaignview/list/", "/spotcheckview/list/", "/inspectorview/list/",
                     f"/spotcheckcampaignview/show/{campaign.id}", f"/spotcheckview/show/{check.id}"],
        "county": ["/spotcheckview/list/", f"/spotcheckview/show/{check.id}"],
        "enterprise": ["/spotcheckview/list/", f"/spotcheckview/show/{check.id}"],
    }
    for role, urls in pages.items():
        client = browser(people[role])
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (role, url, response.status_code)
    client = browser(inspector.user)
    for url in ("/spotcheckcampaignview/list/", "/spotcheckview/list/", "/inspectorview/list/",
                f"/spotcheckcampaignview/show/{campaign.id}", f"/spotcheckview/show/{check.id}",
                f"/spotcheckview/edit/{check.id}"):
        assert client.get(url).status_code == 200, url
    for role in ("province", "national", "county", "enterprise"):
        rows = api(people[role]).get("/api/v1/spotcheck/").get_json()["result"]
        assert [row["id"] for row in rows] == [check.id], role
    # The enterprise and the county read the result; they do not plan, fill in or decide.
    assert api(people["enterprise"]).put(f"/api/v1/spotcheck/{check.id}", json={"opinions": "x"}).status_code == 403
    assert api(people["county"]).post("/api/v1/spotcheckcampaign/", json={"title": "x"}).status_code == 403


def test_the_result_buttons_are_the_organisers(small_campaign, people, browser):
    check = recorded_and_confirmed(small_campaign["check"])
    organiser = browser(people["province"]).get(f"/spotcheckview/show/{check.id}").get_data(as_text=True)
    assert 'value="retain"' in organiser and 'value="remove"' in organiser and 'id="order-rectification"' in organiser
    city_campaign_check = browser(people["city"]).get(f"/spotcheckview/show/{check.id}")
    assert city_campaign_check.status_code == 200
    html = city_campaign_check.get_data(as_text=True)
    assert 'value="retain"' not in html and 'id="order-rectification"' not in html


def test_the_drawn_inspectors_and_the_members_are_told(small_campaign):
    check = small_campaign["check"]
    members = [m.inspector for m in check.team.members]
    for inspector in members:
        told = db.session.scalars(select(Notification).where(Notification.user_id == inspector.user_id)).all()
        assert [(n.record_type, n.record_id) for n in told] == [("SpotCheckCampaign", small_campaign["campaign"].id)]
    submit(check)
    for inspector in members[1:]:
        told = db.session.scalars(select(Notification).where(Notification.user_id == inspector.user_id,
                                                             Notification.record_type == "SpotCheck")).all()
        assert len(told) == 1 and check.mine_name in told[0].title
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == members[0].user_id, Notification.record_type == "SpotCheck")) == 0


def test_the_lists_cost_the_same_statements_for_2_and_100_rows(people, make_mine, make_inspector, seeded,
                                                               browser, api):
    from tests.test_list_costs import StatementCounter

    for n in range(6):
        listed(make_mine((XIAODIAN, YINGZE, XINGHUALING)[n % 3]), "province")
    pool_of(make_inspector, "140000", 9, 3, home=PINGCHENG)
    for seed in ("5" * 32, "6" * 32):
        seeded(seed)
        draw(plan(people["province"], ratio=1.0, team_count=3), people["province"])
    plan(people["province"])
    client, rest = browser(people["province"]), api(people["province"])
    for view in ("SpotCheckView", "SpotCheckCampaignView", "InspectorView"):
        url = f"/{view.lower()}/list/?psize_{view}="
        client.get(url + "2")
        costs = []
        for size in (2, 100):
            with StatementCounter() as counter:
                response = client.get(url + str(size))
            assert response.status_code == 200
            costs.append(len(counter.statements))
        assert costs[0] == costs[1], (view, costs)
    for resource in ("spotcheck", "spotcheckcampaign", "inspector"):
        costs = []
        for size in (2, 100):
            with StatementCounter() as counter:
                response = rest.get(f"/api/v1/{resource}/?q=(page_size:{size})")
            assert response.status_code == 200 and len(response.get_json()["result"]) == (
                size if size == 2 else response.get_json()["count"])
            costs.append(len(counter.statements))
        assert costs[0] == costs[1], (resource, costs)
