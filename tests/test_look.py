"""What a Chinese operator tripped over on the demo (issue 18, a look at every role's pages in a
browser): each test holds one of the defects found then, on the page where it was seen."""
from __future__ import annotations

import io
import re

from flask import g
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Attachment, AuditEntry
from app.services import predeclarations, workflow
from app.views.spotchecks import SpotCheckView
from tests.test_applications import YEAR, _photo_checklist_not_in_the_way, draft, people  # noqa: F401
from tests.test_screen_audit import rule_one_label_one_field, visible, Page, Walk

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _fields_under_one_label(html: str) -> list[str]:
    page = Page("admin", "admin", "/", "show", 200, html, visible(html))
    return list(rule_one_label_one_field(page, Walk([], {}, set(), set())))


# ---------------------------------------------------------------------------------------------
# Home page and navigation bar: the person, as Chinese writes a name
# ---------------------------------------------------------------------------------------------
def test_the_bar_and_the_home_page_name_the_person_family_name_first(make_user, browser):
    user = make_user("county", "140105", last_name="王", first_name="小明")
    page = browser(user).get("/").get_data(as_text=True)
    # FAB's "first last" read "小明 王"; the home page named the login only, after an ASCII colon.
    assert '<span class="gm-user-name">王小明</span>' in page
    account = page.partition('id="gm-account-user">')[2].partition("</p>")[0]
    assert account == f"用户：王小明（{user.username}）"
    assert page.partition('id="gm-account-role">')[2].partition("</p>")[0] == "角色：县级自然资源主管部门"


def test_the_demo_accounts_are_called_by_chinese_names():
    """The demo's accounts showed as 演示xiaodian（xiaodian） in every log and message."""
    from app.services import demo

    for account in demo.DEMO_USERS:
        assert account.name and not re.search(r"[A-Za-z]", account.name), account


def test_the_home_page_names_the_certifiers_body(make_user, make_certification_body, browser):
    body = make_certification_body("示范认证中心")
    user = make_user("certifier", certification_body_id=body.id)
    page = browser(user).get("/").get_data(as_text=True)
    assert "认证机构：示范认证中心" in page


def test_what_waits_for_the_reviewer_is_not_the_enterprises_pending_work(make_mine, make_user, browser,
                                                                        without_photo_checklist):
    mine = make_mine("140105")
    enterprise = make_user("enterprise", enterprise=mine.enterprise)
    record = predeclarations.create(enterprise, mine, YEAR)
    workflow.transition(record, "submit", enterprise)
    pending = browser(enterprise).get("/").get_data(as_text=True).partition('id="pending-work"')[2]
    pending = pending.partition("</div>")[0]
    # It may still be withdrawn (the button is on the record), but nobody expects that of it.
    assert "预申报·已提交" not in pending and "没有待办" in pending
    assert "withdraw" in {step.action for step in workflow.available_actions(record, enterprise)}


# ---------------------------------------------------------------------------------------------
# The admin's account screens: 姓 before 名
# ---------------------------------------------------------------------------------------------
def test_the_account_screens_ask_the_family_name_first(make_user, browser):
    admin = browser(make_user("admin"))
    listed = visible(admin.get("/users/list/").get_data(as_text=True))
    header = next(table.header for table in listed.tables if "用户名" in table.header)
    assert header.index("姓") < header.index("名")
    form = admin.get("/users/add").get_data(as_text=True)
    assert form.index('id="last_name"') < form.index('id="first_name"')


# ---------------------------------------------------------------------------------------------
# The audit trail of an uploaded file: its record by name, its size with a unit, one label a field
# ---------------------------------------------------------------------------------------------
def test_a_files_entry_names_the_record_it_belongs_to_and_its_size(people, browser, make_user):
    application = draft(people)
    browser(people["enterprise"]).post(f"/attachments/Application/{application.id}/document",
                                       data={"file": (io.BytesIO(PDF), "自评材料.pdf")},
                                       content_type="multipart/form-data")
    attachment = db.session.scalar(select(Attachment).where(Attachment.owner_id == application.id))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.record_type == "Attachment",
                                                       AuditEntry.record_id == str(attachment.id)))
    page = browser(make_user("admin")).get(f"/auditlogview/show/{entry.id}").get_data(as_text=True)
    changes = page.partition("gm-changes")[2].partition("</table>")[0]
    # Was: 所属记录 | 绿色矿山申请, then 所属记录 | 7 (the ID), and 大小 | 49.
    assert "<td>所属记录类型</td><td></td><td>绿色矿山申请</td>" in changes
    assert f"<td>所属记录</td><td></td><td>{application}</td>" in changes
    assert f"<td>大小</td><td></td><td>{attachment.size_bytes} B</td>" in changes
    assert _fields_under_one_label(page) == []


# ---------------------------------------------------------------------------------------------
# Reference tables: no storage keys on screen, shares as percentages
# ---------------------------------------------------------------------------------------------
def test_the_size_table_names_a_class_catch_all_in_words(make_user, browser):
    client = browser(make_user("county", "140105"))
    text = " ".join(visible(client.get("/minesizethresholdview/list/?psize_MineSizeThresholdView=100")
                            .get_data(as_text=True)).strings)
    assert "类:" not in text and "贵金属类（其他矿种）" in text


def test_an_indicator_catalogue_is_known_by_its_name_and_its_share_in_percent(make_user, browser):
    client = browser(make_user("county", "140105"))
    listed = client.get("/indicatorversionview/list/").get_data(as_text=True)
    text = " ".join(visible(listed).strings)
    assert "national-2020" not in text and "绿色矿山评价指标（自然资源部 2020）" in text
    assert "75%" in text and "0.75" not in text


# ---------------------------------------------------------------------------------------------
# Spot checks: a mine drawn at random says so
# ---------------------------------------------------------------------------------------------
def test_a_mine_drawn_at_random_says_so_rather_than_leaving_priority_blank(app, make_user):
    shown = SpotCheckView.formatters_columns["priority_reasons"]
    with app.test_request_context("/", headers={"Accept-Language": "zh"}):
        g.user = make_user("province", "140000")
        assert str(shown([])) == "否（随机抽取）" and str(shown(None)) == "否（随机抽取）"


# ---------------------------------------------------------------------------------------------
# An empty list says what it would hold (the county's notice list was empty under a home page
# showing three notices, without a word why)
# ---------------------------------------------------------------------------------------------
def test_an_empty_list_says_what_it_would_hold_and_where_the_rest_is(make_user, browser):
    client = browser(make_user("county", "140105"))
    notices = client.get("/noticeview/list/").get_data(as_text=True)
    assert "没有找到记录" in notices and "上级机关发布的通知公告显示在首页" in notices
    windows = client.get("/applicationwindowview/list/").get_data(as_text=True)
    assert "申报时间窗口由省级自然资源主管部门设置" in windows
    # Any other scoped list: the general sentence.
    conflicts = client.get("/agencyconflictview/list/").get_data(as_text=True)
    assert "此处只列出您权限范围内的记录" in conflicts


def test_the_audit_entry_calls_the_requests_address_a_network_address(make_user, make_mine, browser):
    make_mine("140105")
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    fields = visible(browser(make_user("admin")).get(f"/auditlogview/show/{entry.id}").get_data(as_text=True))
    labels = [row[0] for table in fields.tables for row in [table.header, *table.rows] if len(row) == 2]
    # 地址 alone reads as a postal address (the mine's, the enterprise's).
    assert "网络地址" in labels and "地址" not in labels


def test_the_admins_menu_of_accounts_and_roles_is_called_system_administration(make_user, browser):
    """FAB's "Security" menu read 安全 (safety): the info-centre admin looks for 系统管理."""
    page = browser(make_user("admin")).get("/").get_data(as_text=True)
    navbar = page.partition('class="navbar-collapse collapse"')[2].partition("</header>")[0]
    assert "系统管理" in navbar and ">安全<" not in navbar.replace(" ", "").replace("\n", "")


def test_a_notice_to_the_whole_country_says_so_on_the_home_page(make_user, browser):
    """A provincial notice read 2026-11-08 · 山西省, a national one only 2026-10-29."""
    browser(make_user("national")).post("/noticeview/add", data={
        "title": "全国通知", "body": "正文", "publish_date": clock.today().isoformat()})
    page = browser(make_user("county", "140105")).get("/").get_data(as_text=True)
    notice = page.partition("<strong>全国通知</strong>")[2].partition("</span>")[0]
    assert notice.split() == ['<span', 'class="text-muted">' + clock.today().isoformat(), "·", "全国"]


def test_a_message_names_the_person_who_acted(make_mine, make_user, without_photo_checklist):
    """The messages said "renzheng：正式受理。", the logs 认证中心审核员（renzheng）."""
    from app.services import notifications

    mine = make_mine("140105")
    enterprise = make_user("enterprise", enterprise=mine.enterprise, last_name="李", first_name="填报员")
    province = make_user("province", "140000", last_name="王", first_name="审核")
    record = predeclarations.create(enterprise, mine, YEAR)
    workflow.transition(record, "submit", enterprise)
    workflow.transition(record, "approve", province, "同意")
    told = notifications.inbox(enterprise)[0][0]
    assert told.body.startswith(f"王审核（{province.username}）：")
