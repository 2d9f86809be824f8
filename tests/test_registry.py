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
    assert response.status_code == 422 and "已存在" in response.get_json()["message"]


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
