"""Translations by meaning, not by English word (issue 18, point 2): where one English message
has two meanings in Chinese, each place names its meaning with a message context. These tests
render the pages in zh and pin the meaning each place must show."""
from __future__ import annotations

import datetime

from app.extensions import db
from app.models import PublicNotice
from app.models.choices import PRODUCTION_STATUSES, label
from app.models.spotcheck import ProblemLead
from app.models.states import action_label, state_label
from app.services import workflow
from tests.test_applications import people, submitted  # noqa: F401  (fixture and helper)
from tests.test_evaluation import accepted


def test_a_closed_mine_is_bikeng_but_a_closed_problem_lead_is_finished(app, make_mine, make_user, browser):
    mine = make_mine("140105", production_status="closed")
    county = make_user("county", "140105")
    client = browser(county)
    assert "闭坑" in client.get(f"/mineview/show/{mine.id}").get_data(as_text=True)

    lead = ProblemLead(mine_id=mine.id, enterprise_id=mine.enterprise_id, region_code="140105",
                       received_on=datetime.date(2026, 5, 20), source="群众举报", content="夜间超范围堆放废石")
    db.session.add(lead)
    db.session.commit()
    page = client.get(f"/problemleadview/show/{lead.id}").get_data(as_text=True)
    # The step that closes a lead is 办结 (not 关闭, a dialog's close button).
    assert "办结" in page and "关闭" not in page
    workflow.transition(lead, "close", county, "经核实已整改")
    page = client.get(f"/problemleadview/show/{lead.id}").get_data(as_text=True)
    assert "已办结" in page and "闭坑" not in page
    listing = client.get("/problemleadview/list/").get_data(as_text=True)
    assert "已办结" in listing and "闭坑" not in listing


def test_each_closed_state_has_its_own_word(app):
    with app.test_request_context():
        assert label(PRODUCTION_STATUSES, "closed") == "闭坑"
        assert state_label("problem_lead", "closed") == "已办结"
        assert state_label("spot_check_campaign", "closed") == "已结束"
        assert action_label("problem_lead", "close") == "办结"
        # The province confirms a demonstration zone (确认), not a dialog's OK button (确定).
        assert action_label("demozone", "confirm") == "确认"


def test_the_score_tables_pass_line_is_hegexian_not_bitian(people, browser, without_photo_checklist):  # noqa: F811
    application = accepted(people)
    page = browser(people["enterprise"]).get(f"/evaluation/{application.id}/self").get_data(as_text=True)
    header = page[page.index('id="evaluation-summary-'):]
    header = header[:header.index("</thead>")]
    assert "<th>合格线</th>" in header and "必填" not in header


def test_the_public_notice_period_reads_as_dates_not_as_states(app, make_user, browser):
    notice = PublicNotice(province_code="140000", title="2026年度绿色矿山遴选结果公示",
                          starts_on=datetime.date(2026, 6, 1), ends_on=datetime.date(2026, 6, 7))
    db.session.add(notice)
    db.session.commit()
    client = browser(make_user("province", "140000"))
    for url in ("/publicnoticeview/list/", f"/publicnoticeview/show/{notice.id}", "/publicnoticeview/publish"):
        page = client.get(url).get_data(as_text=True)
        assert "公示开始日期" in page and "公示截止日期" in page, url
        assert "原状态" not in page, url


def test_the_process_history_keeps_from_and_to_as_states(people, browser, without_photo_checklist):  # noqa: F811
    application = submitted(people)
    page = browser(people["county"]).get(f"/applicationview/show/{application.id}").get_data(as_text=True)
    assert "<th>原状态</th>" in page and "<th>新状态</th>" in page


def test_a_persons_name_is_xingming(app, make_mine, make_user, browser):
    mine = make_mine("140105")
    page = browser(make_user("county", "140105")).get(f"/mineview/show/{mine.id}").get_data(as_text=True)
    # The responsible persons' table names people (姓名), a mine or a body has a 名称.
    assert "<th>姓名</th>" in page
