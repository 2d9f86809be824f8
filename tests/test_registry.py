"""Bad registry input is refused with a clear zh message and nothing is saved (HTML and REST)."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Enterprise, Mine


@pytest.fixture
def county_api(make_user, api):
    return api(make_user("county", "140105"))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"licence_no": "not-a-licence"}, "许可证号格式不正确"),
        ({"licence_no": ""}, "许可证号"),
        ({"mining_method": "digging"}, "不是允许的取值"),
        ({"region_code": "140100"}, "请选择到县级行政区"),
        ({"region_code": "14010"}, "六位数字"),
        ({"production_scale": -1}, "不能为负数"),
        ({"name": "  "}, "矿山名称必填"),
    ],
)
def test_bad_mine_input_is_refused_and_nothing_saved(county_api, make_mine, change, fragment):
    existing = make_mine("140105")
    before = _count(Mine)
    body = {"name": "新矿", "licence_no": "C1400002021061000000777", "enterprise_id": existing.enterprise_id,
            "mineral_id": existing.mineral_id, "region_code": "140105", "mining_method": "underground"}
    body.update(change)
    response = county_api.post("/api/v1/mine/", json=body)
    assert response.status_code == 422, response.get_json()
    assert fragment in response.get_json()["message"]
    assert response.get_json()["field"] in change  # the key at fault is named
    assert _count(Mine) == before


def test_duplicate_licence_number_is_refused(county_api, make_mine):
    existing = make_mine("140105")
    body = {"name": "重复矿", "licence_no": existing.licence_no.lower(), "enterprise_id": existing.enterprise_id,
            "region_code": "140105"}
    response = county_api.post("/api/v1/mine/", json=body)
    # The county may see the mine that holds the number: the refusal names it.
    assert response.status_code == 422
    assert response.get_json()["message"] == f"采矿许可证号 {existing.licence_no} 已由矿山“{existing.name}”登记。"


def test_mine_size_is_derived_from_the_thresholds(county_api, make_mine):
    existing = make_mine("140105")
    body = {"name": "大矿", "licence_no": "C1400002021061000000778", "enterprise_id": existing.enterprise_id,
            "mineral_id": existing.mineral_id, "region_code": "140105", "mining_method": "underground",
            "production_scale": 150}
    response = county_api.post("/api/v1/mine/", json=body)
    assert response.status_code == 201
    assert db.session.get(Mine, response.get_json()["id"]).size == "large"


@pytest.mark.parametrize(
    "uscc, fragment",
    [("91350100M000100Y44", "校验码错误"), ("91350100M000100Y4", "18位"), ("91350100M000100YO3", "不允许的字符")],
)
def test_bad_credit_code_is_refused(county_api, uscc, fragment):
    before = _count(Enterprise)
    response = county_api.post("/api/v1/enterprise/", json={"name": "某矿业", "uscc": uscc, "region_code": "140105"})
    assert response.status_code == 422 and fragment in response.get_json()["message"]
    assert _count(Enterprise) == before


def test_html_form_shows_the_refusal_on_the_field_and_keeps_the_input(make_user, browser):
    client = browser(make_user("county", "140105"))
    response = client.post("/enterpriseview/add", data={"name": "某矿业测试名", "uscc": "91350100M000100Y44",
                                                        "region_code": "140105", "contact_person": "张某"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200  # the form again, not a redirect
    assert "校验码错误" in page
    # The message stands beside the credit-code field, and what was typed is still there.
    assert page.rindex("校验码错误") > page.index('name="uscc"')
    assert 'value="某矿业测试名"' in page and 'value="张某"' in page
    assert _count(Enterprise) == 0
    client.post("/enterpriseview/add", data={"name": "某矿业", "uscc": "91350100M000100Y43", "region_code": "140105"})
    assert _count(Enterprise) == 1


# ---------------------------------------------------------------------------
# No existence oracle (issue 16, point 6): a code held by a record outside the user's scope is
# refused with one message that does not say where the record is.
# ---------------------------------------------------------------------------
def _licence_taken(no: str) -> str:
    return f"采矿许可证号 {no} 已被登记，请联系上级主管部门。"


def _uscc_taken(code: str) -> str:
    return f"统一社会信用代码 {code} 已被登记，请联系上级主管部门。"


def _mine_body(licence_no: str, enterprise) -> dict:
    return {"name": "重复矿", "licence_no": licence_no, "enterprise_id": enterprise.id, "region_code": "140105",
            "mining_method": "underground"}


def test_a_licence_number_held_outside_the_scope_is_refused_without_saying_where(
        county_api, make_mine, make_enterprise):
    own_enterprise = make_enterprise("140105")
    # A neighbouring county of the same city, another province: the same answer for both.
    elsewhere = [make_mine("140106", name="清徐某矿"), make_mine("110101", name="北京某矿")]
    answers = []
    for mine in elsewhere:
        before = _count(Mine)
        response = county_api.post("/api/v1/mine/", json=_mine_body(mine.licence_no, own_enterprise))
        assert response.status_code == 422
        body = response.get_json()
        assert body == {"message": _licence_taken(mine.licence_no), "field": "licence_no"}
        assert mine.name not in body["message"]
        assert _count(Mine) == before
        answers.append((response.status_code, body["message"].replace(mine.licence_no, "N")))
    assert answers[0] == answers[1]
    # Moving an own mine onto the number by an edit is refused alike.
    own = make_mine("140105", enterprise=own_enterprise)
    response = county_api.put(f"/api/v1/mine/{own.id}", json={"licence_no": elsewhere[1].licence_no})
    assert response.status_code == 422
    assert response.get_json()["message"] == _licence_taken(elsewhere[1].licence_no)


def test_a_credit_code_held_outside_the_scope_is_refused_without_saying_where(county_api, make_enterprise):
    inside = make_enterprise("140105", name="小店某矿业")
    outside = make_enterprise("110101", name="北京某矿业")
    before = _count(Enterprise)
    response = county_api.post("/api/v1/enterprise/", json={"name": "新矿业", "uscc": outside.uscc,
                                                            "region_code": "140105"})
    assert response.status_code == 422
    assert response.get_json() == {"message": _uscc_taken(outside.uscc), "field": "uscc"}
    # Within the scope the refusal names the enterprise the user can see anyway.
    response = county_api.post("/api/v1/enterprise/", json={"name": "新矿业", "uscc": inside.uscc,
                                                            "region_code": "140105"})
    assert response.status_code == 422
    assert response.get_json()["message"] == f"统一社会信用代码 {inside.uscc} 已由矿业权人“小店某矿业”登记。"
    assert _count(Enterprise) == before


def test_an_enterprise_user_learns_nothing_of_other_enterprises_mines(make_user, make_enterprise, make_mine, api):
    own = make_enterprise("140105")
    other_mine = make_mine("140105", name="别家的矿")
    client = api(make_user("enterprise", enterprise=own))
    response = client.post("/api/v1/mine/", json=_mine_body(other_mine.licence_no, own))
    assert response.status_code in (403, 422)
    assert "别家的矿" not in response.get_json()["message"]
    if response.status_code == 422:
        assert response.get_json()["message"] == _licence_taken(other_mine.licence_no)


def test_the_html_forms_refuse_a_code_held_outside_the_scope_without_saying_where(
        make_user, browser, make_mine, make_enterprise):
    outside_mine = make_mine("110101", name="北京某矿")
    outside_enterprise = make_enterprise("110101", name="北京某矿业")
    own_enterprise = make_enterprise("140105")
    client = browser(make_user("county", "140105"))
    before = _count(Enterprise)
    page = client.post("/enterpriseview/add", data={"name": "新矿业", "uscc": outside_enterprise.uscc,
                                                    "region_code": "140105"}).get_data(as_text=True)
    assert _uscc_taken(outside_enterprise.uscc) in page and "北京某矿业" not in page
    assert _count(Enterprise) == before
    before = _count(Mine)
    page = client.post("/mineview/add", data={
        "name": "新矿", "licence_no": outside_mine.licence_no, "enterprise": str(own_enterprise.id),
        "region_code": "140105", "mining_method": "underground",
    }).get_data(as_text=True)
    assert _licence_taken(outside_mine.licence_no) in page and "北京某矿" not in page
    assert _count(Mine) == before
