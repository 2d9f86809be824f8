"""The spot-check rules of seed 004 (SPEC H2; issue 19 point 5): the sampling ratio is at least
20 % (a province may go higher); one campaign per organiser and year unless a declared
supplementary round (补充抽查) with its reason; a warning when the report deadline had already
passed when the campaign was created; the draw says how many drawn mines were priority mines
(and why) and how many were drawn at random. On the rule, the screen and REST, with zh messages
and nothing stored on a refusal."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.spotcheck import SpotCheckCampaign
from app.services import scoping, spotchecks
from app.services.exceptions import ValidationFailed
from tests.test_spotchecks import (  # noqa: F401 (fixtures)
    PINGCHENG,
    TODAY,
    XIAODIAN,
    YINGZE,
    draw,
    listed,
    make_inspector,
    people,
    pool_of,
    seeded,
)

TITLE = "2026年度山西省绿色矿山实地抽查核查"


def campaigns() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(SpotCheckCampaign))


def new(user, **fields) -> SpotCheckCampaign:
    """A campaign through the rule (nothing stored when it refuses)."""
    campaign = SpotCheckCampaign(title=fields.pop("title", TITLE), **fields)
    try:
        spotchecks.campaign_rule(campaign, user, scoping.EDIT)
    except Exception:
        db.session.rollback()
        raise
    db.session.add(campaign)
    db.session.commit()
    return campaign


def future_deadline() -> datetime.date:
    return TODAY + datetime.timedelta(days=60)


# ---------------------------------------------------------------------------
# The sampling ratio: at least 20 %
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("ratio, kind", [(0.1, "low"), (0.19, "low"), (0.0, "low"), (-0.5, "low"), (10, "high"),
                                         (1.5, "high"), ("abc", "number"), (float("nan"), "number"),
                                         (True, "number")])
def test_the_rule_refuses_a_ratio_below_20_percent_or_not_a_share(people, ratio, kind):
    with pytest.raises(ValidationFailed) as refused:
        new(people["province"], ratio=ratio)
    assert refused.value.field == "ratio"
    assert str(refused.value) == str(spotchecks.ratio_refusal(kind))
    assert campaigns() == 0


def test_the_rule_takes_20_percent_and_more_and_a_percentage(people):
    assert new(people["province"], ratio=0.2).ratio == 0.2
    assert new(people["city"], ratio=1).ratio == 1.0
    assert new(people["national"], ratio="35%").ratio == 0.35
    # Unset: the configured default, itself at least the minimum.
    assert new(people["hebei"]).ratio == 0.2


def test_rest_refuses_a_low_or_wrong_ratio_in_chinese_and_stores_nothing(people, api):
    client = api(people["province"])
    for ratio, words in ((0.1, "抽查比例不得低于20%"), (0.15, "抽查比例不得低于20%"),
                         (10, "抽查比例以0.2至1之间的小数填写"), ("abc", "抽查比例须为数字")):
        response = client.post("/api/v1/spotcheckcampaign/", json={"title": TITLE, "ratio": ratio})
        assert response.status_code == 422, (ratio, response.get_json())
        body = response.get_json()
        message = body["message"]["ratio"][0] if isinstance(body["message"], dict) else body["message"]
        assert words in message, (ratio, body)
        if not isinstance(body["message"], dict):
            assert body["field"] == "ratio"
    assert campaigns() == 0
    # A province may go higher; a change below the minimum is refused and changes nothing.
    response = client.post("/api/v1/spotcheckcampaign/", json={"title": TITLE, "ratio": 0.3})
    assert response.status_code == 201, response.get_json()
    pk = response.get_json()["id"]
    response = client.put(f"/api/v1/spotcheckcampaign/{pk}", json={"ratio": 0.1})
    assert response.status_code == 422 and "不得低于20%" in response.get_json()["message"]
    assert db.session.get(SpotCheckCampaign, pk).ratio == 0.3


def test_the_form_refuses_a_low_or_wrong_ratio_on_the_field_and_stores_nothing(people, browser):
    client = browser(people["province"])
    for ratio, words in (("0.1", "抽查比例不得低于20%"), ("10%", "抽查比例不得低于20%"),
                         ("10", "抽查比例以0.2至1之间的小数填写"), ("abc", "抽查比例须为数字")):
        response = client.post("/spotcheckcampaignview/add", data={
            "title": TITLE, "year": str(TODAY.year), "ratio": ratio, "team_size": "3", "team_count": "1"})
        assert response.status_code == 200, ratio  # the form again, the message on the field
        html = response.get_data(as_text=True)
        assert words in html, ratio
        assert 'name="ratio"' in html
    assert campaigns() == 0
    response = client.post("/spotcheckcampaignview/add", data={
        "title": TITLE, "year": str(TODAY.year), "ratio": "25%", "team_size": "3", "team_count": "1"})
    assert response.status_code == 302
    assert db.session.scalars(select(SpotCheckCampaign)).one().ratio == 0.25


# ---------------------------------------------------------------------------
# One campaign per organiser and year, unless a supplementary round with its reason
# ---------------------------------------------------------------------------
def test_a_second_campaign_of_the_year_is_a_supplementary_round_with_a_reason(people):
    province = people["province"]
    first = new(province)
    with pytest.raises(ValidationFailed) as refused:
        new(province, title="再次抽查")
    assert refused.value.field == "is_supplementary" and TITLE in str(refused.value)
    with pytest.raises(ValidationFailed) as refused:
        new(province, title="再次抽查", is_supplementary=True)
    assert refused.value.field == "supplementary_reason"
    with pytest.raises(ValidationFailed) as refused:
        new(province, title="再次抽查", is_supplementary=True, supplementary_reason="   ")
    assert refused.value.field == "supplementary_reason"
    with pytest.raises(ValidationFailed) as refused:  # a reason without the declaration
        new(province, title="再次抽查", supplementary_reason="群众举报较多")
    assert refused.value.field == "supplementary_reason"
    assert campaigns() == 1
    second = new(province, title="补充抽查", is_supplementary=True, supplementary_reason="  群众举报较多，补充抽查  ")
    assert second.is_supplementary and second.supplementary_reason == "群众举报较多，补充抽查"
    # A third one is a supplementary round too; the first stays the year's campaign and may be changed.
    with pytest.raises(ValidationFailed):
        new(province, title="第三次")
    first.title = "2026年度抽查（修改）"
    spotchecks.campaign_rule(first, province, scoping.EDIT)
    db.session.commit()
    assert not first.is_supplementary
    # Another organiser, or another year, starts its own year.
    assert not new(people["city"]).is_supplementary
    assert not new(people["hebei"]).is_supplementary
    assert not new(province, year=TODAY.year - 1).is_supplementary
    # A supplementary round follows the year's campaign: none without one.
    with pytest.raises(ValidationFailed) as refused:
        new(people["national"], is_supplementary=True, supplementary_reason="无")
    assert refused.value.field == "is_supplementary"
    assert campaigns() == 5


def test_rest_refuses_a_second_campaign_unless_declared_with_a_reason(people, api):
    client = api(people["province"])
    assert client.post("/api/v1/spotcheckcampaign/", json={"title": TITLE}).status_code == 201
    response = client.post("/api/v1/spotcheckcampaign/", json={"title": "再次抽查"})
    assert response.status_code == 422
    body = response.get_json()
    assert body["field"] == "is_supplementary" and "已有" in body["message"] and "补充抽查" in body["message"]
    response = client.post("/api/v1/spotcheckcampaign/", json={"title": "再次抽查", "is_supplementary": True})
    assert response.status_code == 422
    assert response.get_json()["field"] == "supplementary_reason"
    assert "请说明补充抽查的理由" in response.get_json()["message"]
    response = client.post("/api/v1/spotcheckcampaign/", json={"title": "再次抽查", "is_supplementary": "abc"})
    assert response.status_code == 422
    assert campaigns() == 1
    response = client.post("/api/v1/spotcheckcampaign/", json={
        "title": "补充抽查", "is_supplementary": True, "supplementary_reason": "问题线索集中"})
    assert response.status_code == 201, response.get_json()
    shown = client.get(f"/api/v1/spotcheckcampaign/{response.get_json()['id']}").get_json()["result"]
    assert shown["is_supplementary"] is True and shown["supplementary_reason"] == "问题线索集中"
    assert campaigns() == 2


def test_the_form_refuses_a_second_campaign_and_the_page_shows_the_supplementary_round(people, browser):
    client = browser(people["province"])
    form = {"title": TITLE, "year": str(TODAY.year), "ratio": "0.2", "team_size": "3", "team_count": "1"}
    assert client.post("/spotcheckcampaignview/add", data=form).status_code == 302
    response = client.post("/spotcheckcampaignview/add", data=dict(form, title="再次抽查"))
    assert response.status_code == 200
    assert "同一年度再次抽查须声明为补充抽查" in response.get_data(as_text=True)
    response = client.post("/spotcheckcampaignview/add", data=dict(form, title="再次抽查", is_supplementary="y"))
    assert response.status_code == 200 and "请说明补充抽查的理由" in response.get_data(as_text=True)
    assert campaigns() == 1
    response = client.post("/spotcheckcampaignview/add", data=dict(
        form, title="补充抽查", is_supplementary="y", supplementary_reason="群众举报集中，补充抽查"))
    assert response.status_code == 302
    second = db.session.scalars(select(SpotCheckCampaign).where(SpotCheckCampaign.title == "补充抽查")).one()
    html = client.get(f"/spotcheckcampaignview/show/{second.id}").get_data(as_text=True)
    assert 'id="supplementary-round"' in html and "群众举报集中，补充抽查" in html and "补充抽查" in html
    first = db.session.scalars(select(SpotCheckCampaign).where(SpotCheckCampaign.title == TITLE)).one()
    assert 'id="supplementary-round"' not in client.get(f"/spotcheckcampaignview/show/{first.id}").get_data(
        as_text=True)


# ---------------------------------------------------------------------------
# The report deadline had passed when the campaign was created: a warning
# ---------------------------------------------------------------------------
def test_the_page_warns_when_the_report_deadline_had_passed_at_creation(people, browser, api):
    province = people["province"]
    late = new(province, year=TODAY.year - 1)  # its deadline: 11-30 of last year
    assert late.deadline_passed_at_creation
    in_time = new(province, report_deadline=future_deadline())
    assert not in_time.deadline_passed_at_creation
    # What counts is the day it was created: a deadline passing later is no warning.
    earlier = new(people["city"], report_deadline=TODAY)
    earlier.created_at = datetime.datetime.combine(TODAY - datetime.timedelta(days=30), datetime.time(4))
    db.session.commit()
    assert not earlier.deadline_passed_at_creation
    client = browser(province)
    html = client.get(f"/spotcheckcampaignview/show/{late.id}").get_data(as_text=True)
    assert 'id="deadline-warning"' in html and "创建时已过报送期限" in html
    assert f"{TODAY.year - 1}-11-30" in html
    html = client.get(f"/spotcheckcampaignview/show/{in_time.id}").get_data(as_text=True)
    assert 'id="deadline-warning"' not in html
    # A warning, not a refusal; REST says so too.
    assert api(province).get(f"/api/v1/spotcheckcampaign/{late.id}").get_json()["result"][
        "deadline_passed_at_creation"] is True
    assert api(province).get(f"/api/v1/spotcheckcampaign/{in_time.id}").get_json()["result"][
        "deadline_passed_at_creation"] is False


# ---------------------------------------------------------------------------
# Priority and random: how many, and why
# ---------------------------------------------------------------------------
def test_the_draw_says_how_many_were_priority_and_random_and_why(people, make_mine, make_inspector, seeded,
                                                                  browser, api):
    from app.models import ProblemLead

    open_pit = listed(make_mine(XIAODIAN, mining_method="open_pit"), "province")
    lead_mine = make_mine(YINGZE, mining_method="open_pit")
    both = listed(lead_mine, "province")
    db.session.add(ProblemLead(mine_id=lead_mine.id, enterprise_id=lead_mine.enterprise_id,
                               region_code=lead_mine.region_code, received_on=TODAY, content="群众举报：扬尘"))
    db.session.commit()
    plain = [listed(make_mine(XIAODIAN), "province") for _ in range(6)]
    pool_of(make_inspector, "140000", 3, 1, home=PINGCHENG)
    seeded("7" * 32)
    campaign = draw(new(people["province"], ratio=0.5, report_deadline=future_deadline()), people["province"])
    assert campaign.sample_size == 4
    # Priority mines rank first, as before.
    assert {c.entry_id for c in campaign.checks if c.position <= 2} == {open_pit.id, both.id}
    summary = spotchecks.sample_summary(campaign)
    assert (summary["drawn"], summary["priority"], summary["random"]) == (4, 2, 2)
    assert summary["by_reason"] == {"open_pit": 2, "problem_lead": 1, "rectification": 0}
    record = api(people["province"]).get(f"/api/v1/spotcheckcampaign/{campaign.id}/draw").get_json()
    assert record["sample_summary"]["priority"] == 2 and record["sample_summary"]["random"] == 2
    drawn_as = {row["entry_id"]: row["drawn_as"] for row in record["sample"]}
    assert drawn_as[open_pit.id] == drawn_as[both.id] == "priority"
    assert sorted(v for k, v in drawn_as.items() if k in {e.id for e in plain}) == ["random", "random"]
    html = browser(people["province"]).get(f"/spotcheckcampaignview/show/{campaign.id}").get_data(as_text=True)
    assert 'id="sample-summary"' in html
    assert "抽中4座矿山：重点核查2座，随机抽取2座" in html
    assert "露天开采2座" in html and "有问题线索反映1座" in html
    assert "重点核查：露天开采、有问题线索反映" in html and html.count("随机抽取</td>") == 2
