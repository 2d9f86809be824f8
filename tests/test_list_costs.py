"""Every list, HTML and REST, runs as many SQL statements for a page of 100 rows as for a page
of two rows (no query per row: relations are loaded per page, region names are stored), and
counts without loading rows (issue 7; the timings are in bench/README.md, not here)."""
from flask_appbuilder import ModelRestApi, ModelView
from sqlalchemy import event, text

from app.extensions import db
from app.services import demo
from app.web.datamodel import EstimatedCount, ListInterface
from tests.conftest import is_postgres

# Lists the demo data leaves with no more rows than the small page: the comparison proves
# nothing there, so the test counts them instead of passing them silently.
SMALL_PAGE = 2
MUST_COVER = {f"{kind} {name}" for kind, names in (
    ("html", ("MineView", "EnterpriseView", "PreDeclarationView", "ApplicationView", "TransitionLogView",
              "AuditLogView", "RegionView", "CertificationApplicationView")),
    ("rest", ("MineApi", "EnterpriseApi", "PreDeclarationApi", "ApplicationApi", "RegionApi",
              "CertificationApplicationApi")),
) for name in names}


class StatementCounter:
    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, _conn, _cursor, statement, *_args):
        self.statements.append(statement)

    def __enter__(self):
        self.statements.clear()
        event.listen(db.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self)


def _list_views(app):
    for view in app.appbuilder.baseviews:
        if isinstance(view, ModelView) and isinstance(view.datamodel, ListInterface):
            yield "html", view
        elif isinstance(view, ModelRestApi) and isinstance(view.datamodel, ListInterface):
            yield "rest", view


def _html_cost(client, view, size):
    url = f"/{view.route_base.strip('/')}/list/?psize_{view.__class__.__name__}={size}"
    with StatementCounter() as counter:
        response = client.get(url)
    # one <tr> per row, plus the header's
    rows = response.get_data(as_text=True).count("<tr>") - 1 if response.status_code == 200 else 0
    return response.status_code, len(counter.statements), rows


def _rest_cost(client, view, size):
    with StatementCounter() as counter:
        response = client.get(f"/api/v1/{view.resource_name}/?q=(page_size:{size})")
    rows = len(response.get_json()["result"]) if response.status_code == 200 else 0
    return response.status_code, len(counter.statements), rows


def test_every_list_costs_the_same_statements_for_2_and_100_rows(app, make_user, browser, api):
    demo.seed_demo()
    db.session.commit()
    national, admin = make_user("national"), make_user("admin")
    clients = {"html": [browser(national), browser(admin)], "rest": [api(national), api(admin)]}
    measure = {"html": _html_cost, "rest": _rest_cost}
    growing, uncovered, covered, checked = [], [], [], 0
    for kind, view in _list_views(app):
        for client in clients[kind]:
            measure[kind](client, view, SMALL_PAGE)  # warm-up: a client's first request loads more
            status, small, _rows = measure[kind](client, view, SMALL_PAGE)
            if status in (401, 403) or status == 302:
                continue  # not this role's list; the other client tries
            assert status == 200, (view, status)
            status, hundred, rows = measure[kind](client, view, 100)
            assert status == 200, (view, status)
            if rows <= SMALL_PAGE:
                uncovered.append(f"{kind} {view.__class__.__name__}")
            else:
                covered.append(f"{kind} {view.__class__.__name__}")
                if small != hundred:
                    growing.append(f"{kind} {view.__class__.__name__}: {small} statements for {SMALL_PAGE} rows, "
                                   f"{hundred} for {rows}")
            checked += 1
            break
    assert growing == []
    assert checked >= 40, checked
    # The lists that grow with the country must be among those the demo data covers; the
    # small ones it leaves nearly empty (windows, catalogue versions, agencies, meetings …)
    # load their relations the same way (ListLoading) and have their own tests.
    assert MUST_COVER <= set(covered), (MUST_COVER - set(covered), uncovered)


def test_the_count_reads_keys_only(app, make_user, make_mine, browser):
    for county in ("140105", "140106", "140107"):
        make_mine(county)
    with StatementCounter() as counter:
        assert browser(make_user("national")).get("/mineview/list/").status_code == 200
    counts = [s for s in counter.statements if "count(" in s.lower() and "FROM mine" in s]
    assert len(counts) == 1
    # count(*) over the primary keys, not over every column of the model
    assert "mine.name" not in counts[0] and "mine.id" in counts[0]


def test_a_large_list_shows_the_planner_estimate(app, make_user, make_mine, browser, api):
    if not is_postgres(app):
        # SQLite has no planner estimate: its lists always count.
        for county in ("140105", "140106", "140107"):
            make_mine(county)
        page = browser(make_user("national")).get("/mineview/list/").get_data(as_text=True)
        assert "约" not in page
        return
    for n in range(12):
        make_mine(("140105", "140106", "140107")[n % 3])
    db.session.execute(text("ANALYZE mine"))
    db.session.commit()
    app.config["LIST_EXACT_COUNT_LIMIT"] = 5
    try:
        user = make_user("national")
        page = browser(user).get("/mineview/list/").get_data(as_text=True)
        assert "约 " in page
        body = api(user).get("/api/v1/mine/").get_json()
        assert body["count"] >= 5 and body["count_is_estimate"] is True
        # A county's list is below the limit: counted exactly.
        county_body = api(make_user("county", "140105")).get("/api/v1/mine/").get_json()
        assert county_body["count"] == 4 and county_body["count_is_estimate"] is False
    finally:
        app.config["LIST_EXACT_COUNT_LIMIT"] = 20000
    assert isinstance(EstimatedCount(3), int)


def test_rison_arguments_are_still_validated(app, make_user, api):
    """FAB's @rison schema check runs through a cached validator (app.web.base): same answers."""
    client = api(make_user("national"))
    response = client.get("/api/v1/mine/?q=(page_size:'x')")
    assert response.status_code == 400 and response.get_json()["message"] == "查询参数 q 中的“page_size”不符合要求。"
    response = client.get("/api/v1/mine/?q=(page:'one')")
    assert response.status_code == 400
    assert client.get("/api/v1/mine/?q=(page:0,page_size:5)").status_code == 200
