"""Statistics (SPEC B6): scoped numbers, each a link to the mine list that shows exactly that
many mines; the same numbers as JSON; constant SQL whatever the number of mines; Chart.js from
the app's own static files."""
from __future__ import annotations

import re
from contextlib import contextmanager
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import event

RECORD_COUNT = re.compile(r"记录数目:</strong>\s*(\d+)")


# ---------------------------------------------------------------------------
# Reading the pages
# ---------------------------------------------------------------------------
class _Numbers(HTMLParser):
    """Every statistics number of a page: (table id, row key, count, href or None)."""

    def __init__(self):
        super().__init__()
        self.table = None
        self.row = None
        self.open = None
        self.numbers: list[tuple[str | None, str | None, int, str | None]] = []
        self.links: list[tuple[str | None, str | None, str, str]] = []
        self._anchor = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.table = attrs.get("id")
        elif tag == "tr":
            self.row = attrs.get("data-key")
        elif "gm-stat-count" in (attrs.get("class") or ""):
            self.open = {"href": attrs.get("href"), "text": ""}
        elif tag == "a":
            self._anchor = {"href": attrs.get("href"), "text": ""}

    def handle_endtag(self, tag):
        if self.open is not None and tag in ("a", "span"):
            self.numbers.append((self.table, self.row, int(self.open["text"].strip()), self.open["href"]))
            self.open = None
        elif tag == "a" and self._anchor is not None:
            self.links.append((self.table, self.row, self._anchor["text"].strip(), self._anchor["href"]))
            self._anchor = None
        elif tag == "table":
            self.table = None
        elif tag == "tr":
            self.row = None

    def handle_data(self, data):
        if self.open is not None:
            self.open["text"] += data
        elif self._anchor is not None:
            self._anchor["text"] += data


def numbers_of(page: str) -> _Numbers:
    parser = _Numbers()
    parser.feed(page)
    return parser


def number(page: str, table: str | None, key: str | None) -> tuple[int, str | None]:
    found = [(n, href) for t, k, n, href in numbers_of(page).numbers if t == table and k == key]
    assert len(found) == 1, (table, key, numbers_of(page).numbers)
    return found[0]


def drill_link(page: str, table: str, key: str) -> str:
    """The statistics link on a row's name (one level deeper)."""
    found = [href for t, k, _text, href in numbers_of(page).links
             if t == table and k == key and href.startswith("/statistics/")]
    assert found, (table, key)
    return found[0]


def list_count(client, href: str) -> int:
    """Open a number's link and read the mine list's record count."""
    assert href.startswith("/mineview/list/?") or href == "/mineview/list/", href
    response = client.get(href)
    assert response.status_code == 200, href
    match = RECORD_COUNT.search(response.get_data(as_text=True))
    assert match, href
    return int(match.group(1))


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def args_of(href: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(href).query))


# ---------------------------------------------------------------------------
# Data: eight mines in three counties of 山西省 and one in 北京市
# ---------------------------------------------------------------------------
@pytest.fixture
def mines(make_mine):
    from app.extensions import db

    made = [
        # 小店区 (太原市)
        make_mine("140105", mineral_name="铁", size="large", workers_per_shift=40, max_depth_m=900),
        make_mine("140105", mineral_name="铁", size="medium", workers_per_shift=10, max_depth_m=500),
        make_mine("140105", mineral_name="煤", size="small", workers_per_shift=31),
        # 清徐县 (太原市)
        make_mine("140121", mineral_name="金", size="large", max_depth_m=850),
        make_mine("140121", mineral_name="石灰岩", size=None, workers_per_shift=30, max_depth_m=800),
        # 平城区 (大同市)
        make_mine("140213", mineral_name="煤", size="large", workers_per_shift=50, max_depth_m=801),
        make_mine("140213", mineral_name="铜", size="medium"),
        # 东城区 (北京市)
        make_mine("110101", mineral_name="煤", size="small", workers_per_shift=100),
    ]
    # One mine whose mineral is not recorded.
    made[6].mineral = None
    db.session.commit()
    return made


@pytest.fixture
def users(make_user):
    return {
        "national": make_user("national"),
        "province": make_user("province", "140000"),
        "city": make_user("city", "140100"),
        "county": make_user("county", "140105"),
    }


# What each user's scope holds (counted by hand from the fixture above).
EXPECTED = {
    "national": {"total": 8, "large": 3, "medium": 2, "small": 2, "unsized": 1, "workers": 4, "depth": 3,
                 "能源": 3, "金属": 3, "非金属": 1, "水气": 0, "unmineraled": 1},
    "province": {"total": 7, "large": 3, "medium": 2, "small": 1, "unsized": 1, "workers": 3, "depth": 3,
                 "能源": 2, "金属": 3, "非金属": 1, "水气": 0, "unmineraled": 1},
    "city": {"total": 5, "large": 2, "medium": 1, "small": 1, "unsized": 1, "workers": 2, "depth": 2,
             "能源": 1, "金属": 3, "非金属": 1, "水气": 0, "unmineraled": 0},
    "county": {"total": 3, "large": 1, "medium": 1, "small": 1, "unsized": 0, "workers": 2, "depth": 1,
               "能源": 1, "金属": 2, "非金属": 0, "水气": 0, "unmineraled": 0},
}


def _summary_numbers(text: str) -> dict[str, int]:
    found = {
        "total": number(text, "stat-size", "total")[0],
        "workers": number(text, "stat-attention", "workers_over")[0],
        "depth": number(text, "stat-attention", "depth_over")[0],
    }
    for size in ("large", "medium", "small"):
        found[size] = number(text, "stat-size", size)[0]
    for name in ("能源", "金属", "非金属", "水气"):
        found[name] = number(text, "stat-mineral-class", name)[0]
    return found


# ---------------------------------------------------------------------------
# (1) Every number is a link to a list of exactly that many mines
# ---------------------------------------------------------------------------
def test_every_number_of_the_summary_links_to_a_list_of_that_many_mines(mines, users, browser):
    client = browser(users["national"])
    text = page(client, "/statistics/")
    found = numbers_of(text).numbers
    linked = [(n, href) for _t, _k, n, href in found if href]
    # header total + table total + 3 sizes + >30 + >800 + 4 classes + the two "not recorded"
    # cells (size=none, mineral=none)
    assert len(linked) == 13
    for count, href in linked:
        assert list_count(client, href) == count, href
    # The numbers are the fixture's, not zeros that agree trivially.
    assert {k: v for k, v in _summary_numbers(text).items()} == {
        k: v for k, v in EXPECTED["national"].items() if k not in ("unsized", "unmineraled")}
    # The specific links carry the documented mine_search arguments.
    assert args_of(number(text, "stat-size", "large")[1]) == {"size": "large"}
    assert args_of(number(text, "stat-attention", "workers_over")[1]) == {"workers_over": "30"}
    assert args_of(number(text, "stat-attention", "depth_over")[1]) == {"depth_over": "800"}
    assert args_of(number(text, "stat-mineral-class", "金属")[1]) == {"mineral_class": "金属"}


def test_not_recorded_sizes_and_minerals_link_to_their_mines(mines, users, browser):
    client = browser(users["national"])
    text = page(client, "/statistics/")
    assert [(t, n) for t, _k, n, href in numbers_of(text).numbers if href is None] == []
    for kind, args in (("stat-size", {"size": "none"}), ("stat-mineral-class", {"mineral": "none"})):
        cells = [(n, href) for t, _k, n, href in numbers_of(text).numbers if t == kind and args_of(href) == args]
        assert len(cells) == 1 and cells[0][0] == 1
        assert list_count(client, cells[0][1]) == 1
    # The sizes (with the unrecorded one) add up to the total.
    sizes = [n for t, k, n, _h in numbers_of(text).numbers if t == "stat-size" and k != "total"]
    assert sum(sizes) == EXPECTED["national"]["total"]


def test_region_drill_down_province_city_county_each_number_is_its_list(mines, users, browser):
    client = browser(users["national"])
    # Provinces
    text = page(client, "/statistics/region/")
    assert number(text, "stat-region", "14")[0] == 7
    assert number(text, "stat-region", "11")[0] == 1
    for _t, _k, count, href in numbers_of(text).numbers:
        assert list_count(client, href) == count
    # 山西省 -> its cities
    text = page(client, drill_link(text, "stat-region", "14"))
    assert "山西省" in text
    count, href = number(text, "stat-region", "1401")
    assert count == 5 and args_of(href) == {"region": "1401"}
    assert number(text, "stat-region", "1402")[0] == 2
    for _t, _k, count, href in numbers_of(text).numbers:
        assert list_count(client, href) == count
    # 太原市 -> its counties; a county's number is that county's mine list
    text = page(client, drill_link(text, "stat-region", "1401"))
    assert "太原市" in text and "小店区" in text and "清徐县" in text
    count, href = number(text, "stat-region", "140105")
    assert count == 3 and args_of(href) == {"region": "140105"}
    assert list_count(client, href) == 3
    assert number(text, "stat-region", "140121")[0] == 2
    for _t, _k, count, href in numbers_of(text).numbers:
        assert list_count(client, href) == count


def test_workers_and_depth_drill_down_by_region_keeps_the_condition(mines, users, browser):
    client = browser(users["national"])
    summary = page(client, "/statistics/")
    region_links = [href for t, k, _text, href in numbers_of(summary).links
                    if t == "stat-attention" and href.startswith("/statistics/region/")]
    assert len(region_links) == 2
    for link in region_links:
        text = page(client, link)
        for _t, _k, count, href in numbers_of(text).numbers:
            assert list_count(client, href) == count
    # >30 workers in 太原市's counties: 小店区 has 2 (40, 31), 清徐县 none (exactly 30 is not more than 30)
    text = page(client, "/statistics/region/?workers_over=30&region=1401")
    count, href = number(text, "stat-region", "140105")
    assert count == 2 and args_of(href) == {"workers_over": "30", "region": "140105"}
    assert list_count(client, href) == 2
    assert [k for t, k, _n, _h in numbers_of(text).numbers if t == "stat-region"] == ["140105"]
    # >800 m: 900 (小店区) and 850 (清徐县); 800 exactly is not deeper than 800
    text = page(client, "/statistics/region/?depth_over=800&region=1401")
    assert number(text, "stat-region", "140121")[0] == 1
    assert list_count(client, number(text, "stat-region", "140121")[1]) == 1


def test_mineral_drill_down_class_subclass_mineral(mines, users, browser):
    client = browser(users["national"])
    summary = page(client, "/statistics/")
    # 金属 -> sub-classes
    text = page(client, drill_link(summary, "stat-mineral-class", "金属"))
    assert number(text, "stat-mineral", "黑色金属")[0] == 2
    assert number(text, "stat-mineral", "贵金属")[0] == 1
    for _t, _k, count, href in numbers_of(text).numbers:
        assert list_count(client, href) == count
    # 黑色金属 -> minerals
    text = page(client, drill_link(text, "stat-mineral", "黑色金属"))
    from app.extensions import db
    from app.models import Mineral

    iron = db.session.query(Mineral).filter_by(name="铁").one()
    count, href = number(text, "stat-mineral", str(iron.id))
    assert count == 2
    assert args_of(href) == {"mineral_class": "金属", "subclass": "黑色金属", "mineral": str(iron.id)}
    assert list_count(client, href) == 2
    # The regional distribution below follows the same criteria.
    count, href = number(text, "stat-mineral-region", "14")
    assert count == 2 and list_count(client, href) == 2
    # Other classes go straight to their minerals.
    text = page(client, drill_link(summary, "stat-mineral-class", "非金属"))
    limestone = db.session.query(Mineral).filter_by(name="石灰岩").one()
    count, href = number(text, "stat-mineral", str(limestone.id))
    assert count == 1 and list_count(client, href) == 1


def test_criteria_in_the_url_apply_to_every_number_and_link(mines, users, browser):
    client = browser(users["national"])
    text = page(client, "/statistics/?size=large")
    assert number(text, "stat-size", "total")[0] == 3
    assert number(text, "stat-attention", "workers_over")[0] == 2  # 40 and 50
    href = number(text, "stat-attention", "depth_over")[1]
    assert args_of(href) == {"size": "large", "depth_over": "800"}
    for _t, _k, count, href in numbers_of(text).numbers:
        if href:
            assert list_count(client, href) == count
    assert "大型" in text  # the condition is shown in words


def test_an_invalid_criterion_is_ignored_and_reported(mines, users, browser):
    text = page(browser(users["national"]), "/statistics/?size=huge&region=1")
    assert number(text, "stat-size", "total")[0] == 8
    assert "size=huge" in text and "region=1" in text


# ---------------------------------------------------------------------------
# (2) Scope
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["national", "province", "city", "county"])
def test_numbers_are_those_of_the_users_scope(mines, users, browser, role):
    client = browser(users[role])
    text = page(client, "/statistics/")
    expected = {k: v for k, v in EXPECTED[role].items() if k not in ("unsized", "unmineraled")}
    assert _summary_numbers(text) == expected
    # ... and each link, followed by the same user, lists exactly that many.
    for _t, _k, count, href in numbers_of(text).numbers:
        if href:
            assert list_count(client, href) == count


def test_a_county_user_sees_only_his_county_a_city_user_only_his_counties(mines, users, browser):
    county = page(browser(users["county"]), "/statistics/region/?region=1401")
    assert [k for t, k, _n, _h in numbers_of(county).numbers if t == "stat-region"] == ["140105"]
    assert page(browser(users["county"]), "/statistics/region/").count('data-key="11"') == 0
    city = page(browser(users["city"]), "/statistics/region/?region=14")
    assert [k for t, k, _n, _h in numbers_of(city).numbers if t == "stat-region"] == ["1401"]
    city = page(browser(users["city"]), "/statistics/region/?region=1401")
    assert [k for t, k, _n, _h in numbers_of(city).numbers if t == "stat-region"] == ["140105", "140121"]
    # Asking for another region gives nothing, not the other region's numbers.
    other = page(browser(users["county"]), "/statistics/?region=1402")
    assert number(other, "stat-size", "total")[0] == 0


def test_users_without_the_permission_are_refused(mines, users, browser, make_user, make_enterprise):
    enterprise_user = make_user("enterprise", enterprise=mines[0].enterprise)
    for url in ("/statistics/", "/statistics/region/", "/statistics/mineral/"):
        assert browser(None).get(url).status_code in (302, 401)
        assert browser(enterprise_user).get(url).status_code != 200


def test_the_one_query_function_applies_scope_and_criteria(mines, users, make_user, make_agency):
    from app.services.statistics import By, count_mines

    assert count_mines(users["national"], {}).cells[0].count == 8
    assert count_mines(users["county"], {}).cells[0].count == 3
    assert count_mines(users["national"], {"region": "14", "size": "large"}).cells[0].count == 3
    assert count_mines(users["city"], {"workers_over": "30"}).cells[0].count == 2
    # A user without a region scope counts nothing (deny by default).
    assert count_mines(make_user("agency", agency=make_agency()), {}).cells[0].count == 0
    assert count_mines(None, {}).cells[0].count == 0
    cities = count_mines(users["province"], {"region": "14"}, By.CITY)
    assert [(c.key, c.count, c.args) for c in cities.cells] == [
        ("1401", 5, {"region": "1401"}), ("1402", 2, {"region": "1402"})]
    # Grouped more coarsely than the region argument: the list keeps the narrower region.
    provinces = count_mines(users["national"], {"region": "1401"}, By.PROVINCE)
    assert [(c.key, c.count, c.args) for c in provinces.cells] == [("14", 5, {"region": "1401"})]


# ---------------------------------------------------------------------------
# (3) The JSON API
# ---------------------------------------------------------------------------
def test_the_api_gives_the_same_numbers_with_their_list_arguments(mines, users, api, browser):
    for role in ("national", "city", "county"):
        body = api(users[role]).get("/api/v1/statistics/").get_json()
        text = page(browser(users[role]), "/statistics/")
        assert _summary_numbers(text) == {
            "total": body["total"]["count"],
            "workers": body["workers_over"]["count"],
            "depth": body["depth_over"]["count"],
            **{cell["key"]: cell["count"] for cell in body["by_size"] if cell["key"]},
            **{cell["key"]: cell["count"] for cell in body["by_mineral_class"] if cell["key"]},
        }
        assert body["workers_over"]["args"] == {"workers_over": "30"}
        assert body["workers_over"]["list_url"] == "/mineview/list/?workers_over=30"
    client = browser(users["national"])
    body = api(users["national"]).get("/api/v1/statistics/region?region=14").get_json()
    assert body["level"] == "city"
    assert {row["key"]: row["count"] for row in body["rows"]} == {"1401": 5, "1402": 2}
    for row in body["rows"]:
        assert list_count(client, row["list_url"]) == row["count"]
    body = api(users["national"]).get("/api/v1/statistics/mineral?mineral_class=金属").get_json()
    assert body["level"] == "subclass" and body["total"]["count"] == 3
    assert {row["key"]: row["count"] for row in body["rows"]} == {"黑色金属": 2, "贵金属": 1}
    for row in body["rows"]:
        assert list_count(client, row["list_url"]) == row["count"]
    # The scope applies to the API as to the page.
    body = api(users["county"]).get("/api/v1/statistics/region?region=1401").get_json()
    assert [row["key"] for row in body["rows"]] == ["140105"]


def test_the_api_refuses_anonymous_callers_and_users_without_the_permission(mines, api, make_user):
    enterprise_user = make_user("enterprise", enterprise=mines[0].enterprise)
    for url in ("/api/v1/statistics/", "/api/v1/statistics/region", "/api/v1/statistics/mineral"):
        assert api(None).get(url).status_code == 401
        assert api(enterprise_user).get(url).status_code == 403


# ---------------------------------------------------------------------------
# (4) The SQL does not grow with the number of mines
# ---------------------------------------------------------------------------
@contextmanager
def counting_statements():
    from app.extensions import db

    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


def _measure(users, browser) -> dict[str, int]:
    from app.services import statistics

    user = users["national"]
    counts = {}
    for name, call in (
        ("summary", lambda: statistics.summary(user, {})),
        ("provinces", lambda: statistics.region_breakdown(user, {})),
        ("counties", lambda: statistics.region_breakdown(user, {"region": "1401"})),
        ("classes", lambda: statistics.mineral_breakdown(user, {})),
        ("minerals", lambda: statistics.mineral_breakdown(user, {"mineral_class": "非金属"})),
    ):
        call()  # warm up: the user's roles, the identity map
        with counting_statements() as statements:
            call()
        counts[name] = len(statements)
    client = browser(user)
    for url in ("/statistics/", "/statistics/region/?region=14", "/statistics/mineral/?mineral_class=金属"):
        page(client, url)  # warm up what FAB caches per session
        with counting_statements() as statements:
            page(client, url)
        counts[url] = len(statements)
    return counts


def test_statistics_queries_do_not_grow_with_the_number_of_mines(users, browser, make_mine):
    counties = ["140105", "140121", "140213", "140226", "110101"]
    minerals = ["煤", "铁", "铜", "金", "石灰岩", "矿泉水"]
    for i in range(3):
        make_mine(counties[i], mineral_name=minerals[i], size="large", workers_per_shift=40)
    few = _measure(users, browser)
    for i in range(3, 30):
        make_mine(counties[i % len(counties)], mineral_name=minerals[i % len(minerals)],
                  size=("large", "medium", "small")[i % 3], workers_per_shift=i * 3, max_depth_m=i * 40)
    many = _measure(users, browser)
    assert few == many
    # One GROUP BY statement per grouping: 4 for the summary, 1 per drill-down level
    # (+1 to name the region the drill-down starts from).
    assert many["summary"] == 4
    assert many["provinces"] == 1 and many["counties"] <= 2
    assert many["classes"] == 1 and many["minerals"] == 1


# ---------------------------------------------------------------------------
# (5) Chart.js from the app's own static files
# ---------------------------------------------------------------------------
def test_pages_load_chart_js_from_the_apps_static_files_and_nothing_from_outside(mines, users, browser):
    client = browser(users["national"])
    for url in ("/statistics/", "/statistics/region/", "/statistics/mineral/"):
        text = page(client, url)
        sources = re.findall(r"<script[^>]*\bsrc=[\"']([^\"']+)", text)
        assert "/static/vendor/chart.js/chart.umd.min.js" in sources, sources
        assert not [s for s in sources if re.match(r"(https?:)?//", s)], sources
        assert not re.search(r"<(script|link)[^>]+(src|href)=[\"'](https?:)?//", text)
        assert "data-chart=" in text
    response = client.get("/static/vendor/chart.js/chart.umd.min.js")
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("/*!\n * Chart.js v4")
    response.close()


def test_chart_data_match_the_table(mines, users, browser):
    import html
    import json

    text = page(browser(users["national"]), "/statistics/region/?region=14")
    spec = json.loads(html.unescape(re.search(r"data-chart='([^']*)'", text).group(1)))
    assert spec["labels"] == ["太原市", "大同市"] and spec["counts"] == [5, 2]
    assert [args_of(link) for link in spec["links"]] == [{"region": "1401"}, {"region": "1402"}]


def test_municipal_district_rows_are_named_with_their_municipality(make_mine, users, browser):
    make_mine("110101", mineral_name="煤", size="small")
    text = page(browser(users["national"]), "/statistics/region/?region=11")
    assert "北京市市辖区" in text
