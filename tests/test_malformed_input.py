"""Malformed input is the client's error, never a 500 (issue 16, point 4): unknown action names on
FAB's action routes of every view (FAB's own screens included), malformed or deeply nested rison
in ``q``, and LIKE wildcards in the text filters of the HTML lists, the REST API and our own
searches."""
from __future__ import annotations

import urllib.parse

import pytest

from app.web.base import RISON_MAX_DEPTH

ZH_Q = "查询参数 q"


# ---------------------------------------------------------------------------
# FAB's action routes
# ---------------------------------------------------------------------------
def _action_endpoints(app) -> list[tuple[str, str]]:
    """(endpoint, rule) of every registered ``action`` and ``action_post`` route."""
    return sorted((rule.endpoint, rule.rule) for rule in app.url_map.iter_rules()
                  if rule.endpoint.endswith((".action", ".action_post")))


def test_the_action_routes_of_fab_own_views_are_among_those_walked(app):
    endpoints = {endpoint for endpoint, _rule in _action_endpoints(app)}
    # FAB's security screens (not derived from our ScopedModelView) and ours.
    for endpoint in ("GreenMineUserView.action_post", "GreenMineUserView.action", "MineView.action",
                     "RegionView.action_post"):
        assert endpoint in endpoints


@pytest.mark.parametrize("role", [None, "admin", "county"])
def test_an_unknown_action_name_is_a_404_on_every_view(app, make_user, browser, role):
    client = browser(make_user(role, "140105" if role == "county" else None) if role else None)
    checked = 0
    for endpoint, rule in _action_endpoints(app):
        if endpoint.endswith(".action"):
            url = rule.replace("<string:name>", "no_such_action").replace("<pk>", "1")
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                assert response.status_code == 404, (role, method, url, response.status_code)
            # A name that only looks like a method of the view is no action either.
            assert client.post(rule.replace("<string:name>", "__init__").replace("<pk>", "1")).status_code == 404
        else:
            for data in ({"action": "no_such_action", "rowid": ["1"]}, {"rowid": ["1"]}, {"action": ""}):
                response = client.post(rule, data=data)
                assert response.status_code == 404, (role, rule, data, response.status_code)
        checked += 1
    assert checked >= 20


def test_an_unknown_action_is_refused_before_the_csrf_check(app, browser):
    """Nothing else runs for an unknown name: not even the form check (no token here)."""
    response = browser(None).post("/users/action_post", data={"action": "nope"}, csrf=False)
    assert response.status_code == 404
    assert browser(None).post("/users/action/nope/1", csrf=False).status_code == 404


def test_known_action_names_keep_their_behaviour(app, make_user, browser, make_mine, probe_action):
    own = make_mine("140105")
    county = browser(make_user("county", "140105"))
    assert county.post(f"/mineprobe/action/touch/{own.id}").status_code == 302
    assert county.post("/mineprobe/action_post", data={"action": "touch", "rowid": [own.id]}).status_code == 302
    assert probe_action == [own.id, own.id]
    # FAB's own action on FAB's own screen, by a user without its permission: FAB's refusal
    # (a redirect with a message), not the 404 of an unknown name.
    response = county.post("/users/action_post", data={"action": "resetpasswords", "rowid": ["1"]})
    assert response.status_code == 302


# ---------------------------------------------------------------------------
# Rison in q
# ---------------------------------------------------------------------------
MALFORMED_Q = [
    "((((", "((", "(", ")", "!", "!(", "1-", "--", "(.:", "(a:", "(a:1", "'unclosed", "(a:1))", "!(1,2",
    "%", "{", "[1,", '{"a":',
]
DEEP_Q = [
    "(" * 5000,
    "(a:" * 3000 + "1" + ")" * 3000,
    "!(" * 3000 + ")" * 3000,
    "[" * 5000 + "]" * 5000,
    "(" * (RISON_MAX_DEPTH + 1) + ")" * (RISON_MAX_DEPTH + 1),
    urllib.parse.quote("[" * 2000 + "]" * 2000),
]


def _q(value: str) -> str:
    return "q=" + urllib.parse.quote(value, safe="")


def _rison_urls(app, mine_id: int) -> list[str]:
    """The list, item and _info routes of every REST resource (FAB's @rison routes)."""
    from flask_appbuilder.api import ModelRestApi

    urls = []
    for view in app.appbuilder.baseviews:
        if isinstance(view, ModelRestApi):
            base = f"/api/{view.version}/{view.resource_name}"
            urls += [f"{base}/", f"{base}/_info", f"{base}/{mine_id if view.resource_name == 'mine' else 1}"]
    return urls


def test_malformed_or_deeply_nested_q_is_a_400_in_chinese_on_every_rest_route(app, make_user, make_mine, api):
    mine = make_mine("140105")
    client = api(make_user("national"))
    # FAB's security API is the admin's only.
    admin = api(make_user("admin"))
    urls = _rison_urls(app, mine.id)
    assert len(urls) > 60
    for url in urls:
        for value in ("((((", "(" * 5000, "!("):
            response = client.get(f"{url}?{_q(value)}")
            if response.status_code == 403:
                response = admin.get(f"{url}?{_q(value)}")
            assert response.status_code == 400, (url, value[:10], response.status_code)
            assert ZH_Q in response.get_json()["message"], (url, response.get_json())
    mine_list = "/api/v1/mine/"
    for value in MALFORMED_Q + DEEP_Q:
        response = client.get(f"{mine_list}?{_q(value)}")
        assert response.status_code == 400, (value[:20], response.status_code)
        assert ZH_Q in response.get_json()["message"]
    deep = client.get(f"{mine_list}?{_q('(' * 5000)}").get_json()["message"]
    assert str(RISON_MAX_DEPTH) in deep


def test_anonymous_callers_are_refused_before_q_is_read(app, api):
    # Without a token FAB refuses first (401): the argument is never parsed.
    assert api(None).get(f"/api/v1/mine/?{_q('((((')}").status_code == 401


def test_well_formed_q_still_works(app, make_user, make_mine, api):
    mine = make_mine("140105", name="可查询的矿")
    client = api(make_user("national"))
    nested = "(filters:!((col:name,opr:eq,value:'可查询的矿')),page:0,page_size:5)"
    body = client.get(f"/api/v1/mine/?{_q(nested)}").get_json()
    assert body["ids"] == [mine.id]
    # The JSON form FAB also accepts, and brackets inside a quoted value.
    as_json = '{"filters":[{"col":"name","opr":"eq","value":"(((("}],"page":0,"page_size":5}'
    response = client.get(f"/api/v1/mine/?{_q(as_json)}")
    assert response.status_code == 200 and response.get_json()["count"] == 0
    bracket_value = "(filters:!((col:name,opr:ct,value:'((((((')))"
    assert client.get(f"/api/v1/mine/?{_q(bracket_value)}").status_code == 200
    assert client.get(f"/api/v1/mine/{mine.id}?{_q('(columns:!(name))')}").status_code == 200
    # The statistics API reads q as plain text (the mine name), not as rison.
    assert client.get(f"/api/v1/statistics/?{_q('((((')}").status_code == 200


def test_a_q_that_fails_the_schema_is_a_400_in_chinese(app, make_user, api):
    client = api(make_user("national"))
    response = client.get("/api/v1/mine/?q=(page_size:'x')")
    assert response.status_code == 400
    assert response.get_json()["message"] == "查询参数 q 中的“page_size”不符合要求。"
    response = client.get(f"/api/v1/mine/?{_q('!(1,2)')}")
    assert response.status_code == 400 and response.get_json()["message"] == "查询参数 q 的格式不符合要求。"


# ---------------------------------------------------------------------------
# LIKE wildcards
# ---------------------------------------------------------------------------
@pytest.fixture
def wildcard_mines(make_mine, make_enterprise):
    enterprise = make_enterprise("140105", name="百分百%矿业有限公司")
    return {
        "percent": make_mine("140105", enterprise=enterprise, name="百分之百%矿"),
        "underscore": make_mine("140105", name="甲_乙矿"),
        "backslash": make_mine("140105", name="反斜杠\\矿"),
        "plain": make_mine("140105", name="甲丙乙矿"),
    }


def _rest_names(client, opr: str, value: str) -> set[str]:
    q = f"(filters:!((col:name,opr:{opr},value:'{value}')),page_size:100)"
    response = client.get(f"/api/v1/mine/?{_q(q)}")
    assert response.status_code == 200, response.get_json()
    return {row["name"] for row in response.get_json()["result"]}


def test_rest_text_filters_match_wildcards_literally(make_user, api, wildcard_mines):
    client = api(make_user("county", "140105"))
    names = {key: mine.name for key, mine in wildcard_mines.items()}
    assert _rest_names(client, "ct", "%") == {names["percent"]}
    assert _rest_names(client, "ct", "_") == {names["underscore"]}
    assert _rest_names(client, "ct", "甲_乙") == {names["underscore"]}
    assert _rest_names(client, "ct", "\\") == {names["backslash"]}
    assert _rest_names(client, "sw", "%") == set()
    assert _rest_names(client, "sw", "百分之百%") == {names["percent"]}
    assert _rest_names(client, "ew", "%矿") == {names["percent"]}
    assert _rest_names(client, "nct", "%") == {names["underscore"], names["backslash"], names["plain"]}
    assert _rest_names(client, "nsw", "甲_") == {names["percent"], names["backslash"], names["plain"]}
    assert _rest_names(client, "new", "_乙矿") == {names["percent"], names["backslash"], names["plain"]}


def test_a_text_filter_with_a_value_that_is_not_text_is_a_400(make_user, api, wildcard_mines):
    client = api(make_user("county", "140105"))
    for value in ("(a:b)", "!t", "!(a,!t)"):
        q = f"(filters:!((col:name,opr:ct,value:{value})))"
        response = client.get(f"/api/v1/mine/?{_q(q)}")
        assert response.status_code == 400, (value, response.get_json())
        assert "筛选" in response.get_json()["message"] or ZH_Q in response.get_json()["message"]
    # A number is the text of the number; a list applies each of its values (FAB's rule).
    assert client.get(f"/api/v1/mine/?{_q('(filters:!((col:name,opr:ct,value:1)))')}").status_code == 200
    q = "(filters:!((col:name,opr:ct,value:!('%',矿))))"
    response = client.get(f"/api/v1/mine/?{_q(q)}")
    assert response.status_code == 200 and response.get_json()["count"] == 1


def test_in_filters_take_a_single_value_as_a_list_of_one(make_user, api, wildcard_mines):
    client = api(make_user("county", "140105"))
    mine = wildcard_mines["plain"]  # the only mine of its enterprise

    def names(q: str) -> set[str]:
        response = client.get(f"/api/v1/mine/?{_q(q)}")
        assert response.status_code == 200, (q, response.get_json())
        return {row["name"] for row in response.get_json()["result"]}

    for value in (str(mine.enterprise_id), f"!({mine.enterprise_id})"):
        assert names(f"(filters:!((col:enterprise_id,opr:in,value:{value})))") == {mine.name}
    assert mine.name not in names(f"(filters:!((col:enterprise_id,opr:not_in,value:{mine.enterprise_id})))")
    # A single string is one value, not its letters.
    assert names(f"(filters:!((col:name,opr:in,value:'{mine.name}')))") == {mine.name}


def _contains_position(app, view_name: str, column: str) -> int:
    """The HTML search names a filter by its position among the column's filters."""
    from app.web.datamodel import FilterContains

    view = next(view for view in app.appbuilder.baseviews if type(view).__name__ == view_name)
    filters = view.datamodel.filter_converter_class(view.datamodel).convert(column)
    return next(i for i, flt in enumerate(filters) if isinstance(flt, FilterContains))


def _listed(client, url: str, names) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return {name for name in names if name.replace("\\", "&#92;") in page or name in page}


def test_html_search_matches_wildcards_literally(app, make_user, browser, wildcard_mines):
    client = browser(make_user("county", "140105"))
    names = [mine.name for mine in wildcard_mines.values()]
    position = _contains_position(app, "MineView", "name")
    found = _listed(client, f"/mineview/list/?_flt_{position}_name={urllib.parse.quote('%')}", names)
    assert found == {wildcard_mines["percent"].name}
    found = _listed(client, f"/mineview/list/?_flt_{position}_name=_", names)
    assert found == {wildcard_mines["underscore"].name}
    # Without the escaping both would list every mine: the search itself works.
    found = _listed(client, f"/mineview/list/?_flt_{position}_name={urllib.parse.quote('乙矿')}", names)
    assert found == {wildcard_mines["underscore"].name, wildcard_mines["plain"].name}


def test_fab_own_screens_match_wildcards_literally(app, make_user, browser):
    admin = make_user("admin", username="admin_percent%")
    make_user("national", username="national_plain")
    position = _contains_position(app, "GreenMineUserView", "username")
    page = browser(admin).get(f"/users/list/?_flt_{position}_username={urllib.parse.quote('%')}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "admin_percent%" in text and "national_plain" not in text


def test_our_searches_match_wildcards_literally(app, make_user, wildcard_mines):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Mine
    from app.services import choices, mine_search

    county = make_user("county", "140105")

    def chosen(rows):
        return [row["text"].split("（")[0] for row in rows]

    assert chosen(choices.search_mines(county, "%")) == [wildcard_mines["percent"].name]
    assert chosen(choices.search_mines(county, "_")) == [wildcard_mines["underscore"].name]
    assert chosen(choices.search_enterprises(county, "%")) == ["百分百%矿业有限公司"]
    criteria = mine_search.parse({"q": "_"})
    assert db.session.scalars(select(Mine.name).where(*criteria.conditions)).all() == [wildcard_mines["underscore"].name]


def test_the_escaping_helper():
    from app.services.search_text import escape_like

    assert escape_like("50%_a\\b") == "50\\%\\_a\\\\b"


def test_a_record_with_a_text_key_is_found_by_the_rest_item_route(make_user, api):
    """A region's key is its code (text); FAB's item route reads it as a number, which PostgreSQL
    would not compare with text (a 500 there, found by the route guard)."""
    client = api(make_user("national"))
    response = client.get("/api/v1/region/140105")
    assert response.status_code == 200 and response.get_json()["result"]["code"] == "140105"
    assert client.get("/api/v1/region/2000000000").status_code == 404
