"""Pre-declaration creation rules (SPEC C1): own mine, county-level region in the mine's
province, one per licence and year; changes and deletion only while 未提交."""
import pytest

from app.extensions import db
from app.models import PreDeclaration
from app.services import predeclarations, workflow
from app.services.exceptions import DomainError
from tests.conftest import fill_checklist


@pytest.fixture
def enterprise_user(make_mine, make_user):
    mine = make_mine("140105")
    return mine, make_user("enterprise", enterprise=mine.enterprise)


@pytest.mark.parametrize("region, fragment", [("140100", "县一级"), ("610102", "所在省"), ("1401", "六位数字")])
def test_region_must_be_county_level_in_the_mines_province(enterprise_user, region, fragment):
    mine, user = enterprise_user
    with pytest.raises(DomainError) as info:
        predeclarations.create(user, mine, 2026, region_code=region)
    assert fragment in str(info.value)
    assert db.session.query(PreDeclaration).count() == 0


def test_defaults_to_the_mines_region_and_one_per_licence_and_year(enterprise_user):
    mine, user = enterprise_user
    record = predeclarations.create(user, mine, 2026)
    assert record.region_code == "140105" and record.status == "draft"
    with pytest.raises(DomainError) as info:
        predeclarations.create(user, mine, 2026)
    assert "已有预申报" in str(info.value)
    assert predeclarations.create(user, mine, 2027).year == 2027


def test_another_enterprises_mine_is_refused(enterprise_user, make_mine):
    _mine, user = enterprise_user
    with pytest.raises(DomainError):
        predeclarations.create(user, make_mine("140105"), 2026)


def test_changes_and_delete_only_while_not_submitted(enterprise_user, browser, api):
    mine, user = enterprise_user
    record = predeclarations.create(user, mine, 2026)
    fill_checklist(record, user)
    workflow.transition(record, "submit", user)
    response = api(user).put(f"/api/v1/predeclaration/{record.id}", json={"year": 2027})
    assert response.status_code == 422 and "未提交" in response.get_json()["message"]
    browser(user).post(f"/predeclarationview/delete/{record.id}")
    db.session.expire_all()
    assert db.session.get(PreDeclaration, record.id).year == 2026
    workflow.transition(record, "withdraw", user)
    # Withdrawn, it is 未提交 again and can be changed, but it was submitted once: it is kept (I4).
    response = api(user).delete(f"/api/v1/predeclaration/{record.id}")
    assert response.status_code == 422 and "不能删除" in response.get_json()["message"]
    db.session.expire_all()
    assert db.session.get(PreDeclaration, record.id) is not None
    never_submitted = predeclarations.create(user, mine, 2027)
    assert api(user).delete(f"/api/v1/predeclaration/{never_submitted.id}").status_code == 200
    assert db.session.get(PreDeclaration, never_submitted.id) is None


def test_enterprise_creates_through_the_api_and_the_form(enterprise_user, browser, api):
    mine, user = enterprise_user
    response = api(user).post("/api/v1/predeclaration/", json={"mine_id": mine.id, "year": 2026})
    assert response.status_code == 201, response.get_json()
    created = db.session.get(PreDeclaration, response.get_json()["id"])
    assert (created.enterprise_id, created.region_code, created.status) == (mine.enterprise_id, "140105", "draft")
    browser(user).post("/predeclarationview/add", data={"mine": str(mine.id), "year": "2027"})
    assert db.session.query(PreDeclaration).filter_by(year=2027).count() == 1
