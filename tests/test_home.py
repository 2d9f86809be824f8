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
    assert _count_of(page, "predeclaration:submitted")[0] == 1    # may withdraw
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
