"""The scope rule, through every route: HTML list, show, edit, delete, actions, download,
transition, and the REST API; IDs in bodies; edits that would move a record out of scope."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Mine, PreDeclaration
from app.services import predeclarations, scoping
from app.services.exceptions import AccessDenied

XIAODIAN, QINGXU, TAIYUAN, PINGCHENG = "140105", "140121", "140100", "140213"


@pytest.fixture
def two_counties(make_mine, make_user):
    """A mine in 小店区 and one in its neighbour 清徐县 (both under 太原市)."""
    own = make_mine(XIAODIAN, name="小店测试矿")
    neighbour = make_mine(QINGXU, name="清徐测试矿")
    return {
        "own": own,
        "neighbour": neighbour,
        "county": make_user("county", XIAODIAN),
        "city": make_user("city", TAIYUAN),
        "other_city": make_user("city", "140200"),
        "province": make_user("province", "140000"),
        "national": make_user("national"),
    }


def _mine_count(user) -> int:
    return len(db.session.scalars(select(Mine).where(scoping.scope_filter(Mine, user))).all())


def test_user_scope_per_role(make_user, make_enterprise, make_agency):
    enterprise = make_enterprise(XIAODIAN)
    agency = make_agency()
    assert scoping.user_scope(make_user("province", "140000")).region_prefixes == ("14",)
    assert scoping.user_scope(make_user("city", TAIYUAN)).region_prefixes == ("1401",)
    assert scoping.user_scope(make_user("county", XIAODIAN)).region_prefixes == (XIAODIAN,)
    assert scoping.user_scope(make_user("national")).everything
    assert scoping.user_scope(make_user("admin")).everything
    assert scoping.user_scope(make_user("enterprise", enterprise=enterprise)).enterprise_ids == (enterprise.id,)
    assert scoping.user_scope(make_user("agency", agency=agency)).agency_ids == (agency.id,)
    assert scoping.user_scope(make_user("certifier")).is_empty
    # Deny by default: a staff account without a region, or with a region of the wrong level.
    assert scoping.user_scope(make_user("county")).is_empty
    assert scoping.user_scope(make_user("county", TAIYUAN)).is_empty
    assert scoping.user_scope(make_user("province", XIAODIAN)).is_empty
    assert scoping.user_scope(None).is_empty


def test_query_filter_and_record_check_agree(two_counties, make_user):
    users = [two_counties[k] for k in ("county", "city", "other_city", "province", "national")]
    users.append(make_user("certifier"))
    for user in users:
        visible = set(db.session.scalars(select(Mine.id).where(scoping.scope_filter(Mine, user))))
        for mine in (two_counties["own"], two_counties["neighbour"]):
            assert (mine.id in visible) == scoping.can_access(user, mine), (user.username, mine.name)
    assert _mine_count(two_counties["county"]) == 1
    assert _mine_count(two_counties["city"]) == 2
    assert _mine_count(two_counties["other_city"]) == 0
    assert _mine_count(two_counties["province"]) == 2


def test_enterprise_sees_only_its_own_records(make_mine, make_enterprise, make_user):
    mine_enterprise = make_enterprise(XIAODIAN)
    own = make_mine(XIAODIAN, enterprise=mine_enterprise)
    other = make_mine(XIAODIAN)
    user = make_user("enterprise", enterprise=mine_enterprise)
    assert scoping.can_access(user, own) and not scoping.can_access(user, other)
    assert _mine_count(user) == 1


def test_county_html_list_and_search_show_only_its_county(two_counties, browser):
    page = browser(two_counties["county"]).get("/mineview/list/").get_data(as_text=True)
    assert "小店测试矿" in page and "清徐测试矿" not in page
    page = browser(two_counties["county"]).get("/mineview/list/?_flt_0_name=清徐").get_data(as_text=True)
    assert "清徐测试矿" not in page
    page = browser(two_counties["city"]).get("/mineview/list/").get_data(as_text=True)
    assert "小店测试矿" in page and "清徐测试矿" in page


def test_county_cannot_reach_neighbour_by_any_html_route(two_counties, browser):
    client = browser(two_counties["county"])
    neighbour = two_counties["neighbour"]
    pk = neighbour.id
    assert client.get(f"/mineview/show/{pk}").status_code == 404
    assert client.get(f"/mineview/edit/{pk}").status_code == 404
    assert client.post(f"/mineview/edit/{pk}", data={"name": "改名"}).status_code == 404
    assert client.post(f"/mineview/delete/{pk}").status_code == 404
    assert client.get(f"/mineview/delete/{pk}").status_code in (302, 404)
    assert client.post(f"/mineview/action/anything/{pk}").status_code in (403, 404)
    assert client.post("/mineview/action_post", data={"action": "anything", "rowid": [pk]}).status_code in (403, 404)
    assert client.get("/mineview/download/anything.pdf").status_code in (403, 404)
    db.session.expire_all()
    still = db.session.get(Mine, pk)
    assert still is not None and still.name == "清徐测试矿"


def test_city_above_reaches_both(two_counties, browser):
    client = browser(two_counties["city"])
    for key in ("own", "neighbour"):
        assert client.get(f"/mineview/show/{two_counties[key].id}").status_code == 200
    assert browser(two_counties["other_city"]).get(f"/mineview/show/{two_counties['own'].id}").status_code == 404


def test_edit_cannot_move_a_record_out_of_scope(two_counties, browser):
    mine = two_counties["own"]
    client = browser(two_counties["county"])
    form = {
        "name": mine.name,
        "licence_no": mine.licence_no,
        "enterprise": str(mine.enterprise_id),
        "mineral": str(mine.mineral_id),
        "mining_method": "underground",
        "production_scale": "60",
        "region_code": QINGXU,
    }
    response = client.post(f"/mineview/edit/{mine.id}", data=form, follow_redirects=True)
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Mine, mine.id).region_code == XIAODIAN
    # Within scope the same edit works.
    form["region_code"] = XIAODIAN
    form["name"] = "小店测试矿（改）"
    client.post(f"/mineview/edit/{mine.id}", data=form)
    db.session.expire_all()
    assert db.session.get(Mine, mine.id).name == "小店测试矿（改）"


def test_html_add_refuses_an_enterprise_out_of_scope(two_counties, browser):
    client = browser(two_counties["county"])
    before = db.session.scalar(select(db.func.count()).select_from(Mine))
    client.post(
        "/mineview/add",
        data={
            "name": "越界矿",
            "licence_no": "C1400002021061000000999",
            "enterprise": str(two_counties["neighbour"].enterprise_id),
            "mineral": str(two_counties["own"].mineral_id),
            "region_code": XIAODIAN,
        },
    )
    assert db.session.scalar(select(db.func.count()).select_from(Mine)) == before


def test_rest_api_applies_the_same_scope(two_counties, api):
    client = api(two_counties["county"])
    own, neighbour = two_counties["own"], two_counties["neighbour"]
    listing = client.get("/api/v1/mine/").get_json()
    assert [row["id"] for row in listing["result"]] == [own.id]
    assert listing["count"] == 1
    assert client.get(f"/api/v1/mine/{own.id}").status_code == 200
    assert client.get(f"/api/v1/mine/{neighbour.id}").status_code == 404
    assert client.put(f"/api/v1/mine/{neighbour.id}", json={"name": "改名"}).status_code == 404
    assert client.delete(f"/api/v1/mine/{neighbour.id}").status_code == 404
    db.session.expire_all()
    assert db.session.get(Mine, neighbour.id).name == "清徐测试矿"
    city = api(two_counties["city"]).get("/api/v1/mine/").get_json()
    assert {row["id"] for row in city["result"]} == {own.id, neighbour.id}


def test_rest_ids_in_the_body_are_checked_like_ids_in_the_path(two_counties, api):
    client = api(two_counties["county"])
    own, neighbour = two_counties["own"], two_counties["neighbour"]
    body = {"name": "越界矿", "licence_no": "C1400002021061000000998", "enterprise_id": neighbour.enterprise_id,
            "mineral_id": own.mineral_id, "region_code": XIAODIAN}
    response = client.post("/api/v1/mine/", json=body)
    assert response.status_code == 403, response.get_json()
    body.update(enterprise_id=own.enterprise_id, region_code=QINGXU)
    assert client.post("/api/v1/mine/", json=body).status_code == 403
    # Moving an own record out of scope, or onto another enterprise, is refused too.
    assert client.put(f"/api/v1/mine/{own.id}", json={"region_code": QINGXU}).status_code == 403
    assert client.put(f"/api/v1/mine/{own.id}", json={"enterprise_id": neighbour.enterprise_id}).status_code == 403
    db.session.expire_all()
    mine = db.session.get(Mine, own.id)
    assert (mine.region_code, mine.enterprise_id) == (XIAODIAN, own.enterprise_id)
    # In scope it works.
    body.update(region_code=XIAODIAN)
    assert client.post("/api/v1/mine/", json=body).status_code == 201


def test_transition_route_is_scoped(two_counties, make_user, browser, api):
    enterprise_user = make_user("enterprise", enterprise=two_counties["neighbour"].enterprise)
    record = predeclarations.create(enterprise_user, two_counties["neighbour"], 2026)
    # A province user of another province, and the county next door, cannot act on it.
    outsider = make_user("province", "610000")
    for user in (outsider, two_counties["county"]):
        assert browser(user).post(f"/predeclarationview/transition/{record.id}", data={"action": "submit"}).status_code == 404
        assert api(user).post(f"/api/v1/predeclaration/{record.id}/transition", json={"action": "submit"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(PreDeclaration, record.id).status == "draft"


def test_check_related_access_refuses_foreign_enterprise(two_counties):
    mine = Mine(name="x", licence_no="C1400002021061000000997", enterprise_id=two_counties["neighbour"].enterprise_id,
                region_code=XIAODIAN)
    with pytest.raises(AccessDenied):
        scoping.check_related_access(two_counties["county"], mine)


def test_fab_action_routes_are_scoped(two_counties, browser, probe_action):
    own, neighbour = two_counties["own"], two_counties["neighbour"]
    county = browser(two_counties["county"])
    # The single-record action route, on the neighbour's record: 404, the action never runs.
    assert county.post(f"/mineprobe/action/touch/{neighbour.id}").status_code == 404
    # GET is refused outright (it would be a CSRF-able mutation).
    assert county.get(f"/mineprobe/action/touch/{own.id}").status_code == 405
    # The list action with a row out of scope among the selected: nothing is done at all.
    response = county.post("/mineprobe/action_post", data={"action": "touch", "rowid": [own.id, neighbour.id]})
    assert response.status_code == 404
    assert probe_action == []
    # In scope it runs, for the county on its own record and for the city on both.
    assert county.post(f"/mineprobe/action/touch/{own.id}").status_code == 302
    city = browser(two_counties["city"])
    assert city.post("/mineprobe/action_post", data={"action": "touch", "rowid": [own.id, neighbour.id]}).status_code == 302
    assert probe_action == [own.id, own.id, neighbour.id]
    # A role without the action's permission is refused before any record is loaded.
    assert browser(two_counties["province"]).post(f"/mineprobe/action/touch/{own.id}").status_code == 403
