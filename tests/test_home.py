"""The home page (SPEC A1): pending work counted from the transition table, linked to the list
that shows exactly those records; the business summary in scope."""
import re

from app.services import applications, predeclarations, workflow
from tests.conftest import fill_checklist
from tests.test_applications import YEAR, complete  # noqa: F401


def _count_of(page: str, key: str) -> tuple[int, str]:
    match = re.search(r'<a class="btn btn-warning" href="([^"]+)" data-state="%s">[^<]*<span class="badge">(\d+)'
                      % re.escape(key), page)
    return (int(match.group(2)), match.group(1).replace("&amp;", "&")) if match else (0, "")


def _listed(client, url: str) -> int:
    found = re.search(r"记录数目:</strong>\s*(\d+)", client.get(url).get_data(as_text=True))
    return int(found.group(1)) if found else 0


def test_pending_work_per_role_links_to_exactly_those_records(make_mine, make_user, browser):
    mine = make_mine("140105")
    other = make_mine("140105", enterprise=mine.enterprise)
    enterprise = make_user("enterprise", enterprise=mine.enterprise)
    province, county = make_user("province", "140000"), make_user("county", "140105")
    first = predeclarations.create(enterprise, mine, YEAR)
    fill_checklist(first, enterprise)
    workflow.transition(first, "submit", enterprise)
    predeclarations.create(enterprise, other, YEAR)  # still a draft

    page = browser(province).get("/").get_data(as_text=True)
    count, url = _count_of(page, "predeclaration:submitted")
    assert count == 1 and _listed(browser(province), url) == 1
    page = browser(enterprise).get("/").get_data(as_text=True)
    assert _count_of(page, "predeclaration:draft")[0] == 1        # to submit
    # Submitted: it waits for the province. The enterprise may still withdraw it, but that is
    # nobody's pending work (issue 18: the to-do list named records waiting for others).
    assert _count_of(page, "predeclaration:submitted")[0] == 0
    # The county has nothing to do on pre-declarations (the province reviews them).
    assert _count_of(browser(county).get("/").get_data(as_text=True), "predeclaration:submitted")[0] == 0

    workflow.transition(first, "approve", province, "同意")
    application = applications.create_from_predeclaration(enterprise, first)
    application.legal_representative, application.mobile = "张三", "13800138000"
    complete(application)
    workflow.transition(application, "submit", enterprise)
    page = browser(county).get("/").get_data(as_text=True)
    count, url = _count_of(page, "application:submitted")
    assert count == 1 and _listed(browser(county), url) == 1
    neighbour = browser(make_user("county", "140121")).get("/").get_data(as_text=True)
    assert _count_of(neighbour, "application:submitted")[0] == 0
    assert "没有待办" in neighbour


def test_business_summary_and_downloads(make_mine, make_user, browser):
    mine = make_mine("140105")
    enterprise = make_user("enterprise", enterprise=mine.enterprise)
    predeclarations.create(enterprise, mine, YEAR)
    page = browser(enterprise).get("/").get_data(as_text=True)
    assert "业务办理情况" in page and "预申报" in page
    assert re.search(r'data-state="predeclaration:draft">1<', page)
    province_page = browser(make_user("province", "140000")).get("/").get_data(as_text=True)
    assert "/mineexcel/template" in province_page and "技术支持" in province_page


# ---------------------------------------------------------------------------
# Issue 18, point 6: the pending work names its kind of record; empty summaries wait behind one
# link; the support contact is the deployment's
# ---------------------------------------------------------------------------
def test_pending_work_names_the_kind_of_record(make_mine, make_user, browser, without_photo_checklist):
    mine = make_mine("140105")
    enterprise = make_user("enterprise", enterprise=mine.enterprise)
    record = predeclarations.create(enterprise, mine, YEAR)
    page = browser(enterprise).get("/").get_data(as_text=True)
    assert re.search(r'data-state="predeclaration:draft">预申报·未提交 <span class="badge">1</span>', page)
    workflow.transition(record, "submit", enterprise)
    page = browser(make_user("province", "140000")).get("/").get_data(as_text=True)
    assert re.search(r'data-state="predeclaration:submitted">预申报·已提交 <span class="badge">1</span>', page)


def test_summary_blocks_that_are_all_zero_wait_behind_one_link(make_mine, make_user, browser):
    mine = make_mine("140105")
    enterprise = make_user("enterprise", enterprise=mine.enterprise)
    predeclarations.create(enterprise, mine, YEAR)
    page = browser(enterprise).get("/").get_data(as_text=True)
    shown, _, hidden = page.partition('<div class="collapse" id="gm-empty-summary">')
    # The pre-declarations have a record: shown; the applications have none: behind the link.
    assert 'data-state="predeclaration:draft">1<' in shown
    assert 'data-state="application:draft">0<' in hidden and 'data-state="application:draft"' not in shown
    assert shown.count('href="#gm-empty-summary"') == 1 and ">展开</a>" in shown
    kinds = hidden.count("业务办理情况")
    assert kinds >= 1 and f"另有 {kinds} 类业务暂无记录。" in shown


def test_the_support_contact_comes_from_the_configuration(app, make_user, browser):
    user = make_user("county", "140105")
    support = browser(user).get("/").get_data(as_text=True).partition('id="gm-support"')[2].partition("</div>")[0]
    # The default names a unit and a number, not a request to configure one.
    assert "信息中心运维组" in support and "0351-0000000" in support and "配置" not in support
    saved = {key: app.config[key] for key in ("SUPPORT_CONTACT", "SUPPORT_PHONE", "SUPPORT_EMAIL", "SUPPORT_HOURS")}
    app.config.update(SUPPORT_CONTACT="省厅信息中心", SUPPORT_PHONE="0351-1234567", SUPPORT_EMAIL="",
                      SUPPORT_HOURS="")
    try:
        support = browser(user).get("/").get_data(as_text=True).partition('id="gm-support"')[2].partition("</div>")[0]
    finally:
        app.config.update(saved)
    assert "省厅信息中心" in support and "0351-1234567" in support
    assert "电子邮箱" not in support and "服务时间" not in support  # what is not configured is left out


def test_the_link_to_the_empty_summaries_says_what_it_will_do(make_mine, make_user, browser):
    """展开 while the all-zero blocks are hidden, 收起 while they are shown: the link's words are
    swapped on Bootstrap's collapse events of the blocks it opens."""
    mine = make_mine("140105")
    page = browser(make_user("enterprise", enterprise=mine.enterprise)).get("/").get_data(as_text=True)
    link = re.search(r'<a [^>]*href="#gm-empty-summary"[^>]*>([^<]*)</a>', page)
    assert link is not None and link.group(1) == "展开"
    attributes = link.group(0)
    assert 'id="gm-empty-summary-link"' in attributes
    assert 'data-text-open="收起"' in attributes and 'data-text-closed="展开"' in attributes
    script = re.search(r'<script nonce="[^"]*">(.*?gm-empty-summary-link.*?)</script>', page, re.S)
    assert script is not None
    body = script.group(1)
    assert '$("#gm-empty-summary")' in body
    assert re.search(r'"show\.bs\.collapse", function \(\) \{ link\.text\(link\.attr\("data-text-open"\)\)', body)
    assert re.search(r'"hide\.bs\.collapse", function \(\) \{ link\.text\(link\.attr\("data-text-closed"\)\)', body)
