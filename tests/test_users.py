"""Roles declared in code and synced; `flask gm create-user` refuses inconsistent input."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.services import roles as role_definitions
from app.services.roles import ROLES, sync_roles


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["gm", *args])


def test_roles_are_exactly_the_declared_ones(app):
    sm = app.appbuilder.sm
    names = {role.name for role in sm.get_all_roles()}
    assert set(ROLES) <= names
    county = sm.find_role("county")
    granted = {(p.permission.name, p.view_menu.name) for p in county.permissions}
    declared = role_definitions.declared_permissions(ROLES["county"])
    assert {pair for pair in granted if pair[0] != "menu_access"} == declared & granted
    assert ("can_list", "MineView") in granted and ("can_list", "GreenMineUserView") not in granted


def test_sync_removes_permissions_clicked_in_by_hand(app):
    sm = app.appbuilder.sm
    county = sm.find_role("county")
    extra = sm.find_permission_view_menu("can_list", "GreenMineUserView")
    assert extra is not None
    county.permissions.append(extra)
    db.session.commit()
    sync_roles(app.appbuilder)
    assert extra not in sm.find_role("county").permissions
    # And running it twice changes nothing.
    before = {r.name: len(r.permissions) for r in sm.get_all_roles()}
    sync_roles(app.appbuilder)
    assert {r.name: len(r.permissions) for r in sm.get_all_roles()} == before


def test_create_user_binds_staff_to_a_region_of_its_level(app):
    result = _run(app, "create-user", "xd", "--role", "county", "--password", "Aa1!aaaa", "--region", "140105")
    assert result.exit_code == 0, result.output
    user = app.appbuilder.sm.find_user(username="xd")
    assert user.region_code == "140105" and [r.name for r in user.roles] == ["county"]
    # Running it again updates the same user.
    result = _run(app, "create-user", "xd", "--role", "city", "--password", "Bb2@bbbb", "--region", "140100")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    user = app.appbuilder.sm.find_user(username="xd")
    assert user.region_code == "140100" and [r.name for r in user.roles] == ["city"]


@pytest.mark.parametrize(
    "args",
    [
        ["--role", "county", "--region", "140100"],        # a city code for a county user
        ["--role", "county"],                              # no region
        ["--role", "province", "--region", "140105"],      # a county code for a province user
        ["--role", "city", "--region", "140000"],          # a province code for a city user
        ["--role", "county", "--region", "999999"],        # no such region
        ["--role", "county", "--region", "14010"],         # not six digits
        ["--role", "enterprise"],                          # no enterprise
        ["--role", "enterprise", "--enterprise", "91350100M000100Y43"],  # no such enterprise
        ["--role", "agency"],                              # no agency
        ["--role", "agency", "--agency", "不存在的机构"],
        ["--role", "national", "--region", "140105"],      # a national account has no region
        ["--role", "boss"],                                # unknown role
    ],
)
def test_create_user_refuses_inconsistent_input(app, args):
    result = _run(app, "create-user", "bad", "--password", "Aa1!aaaa", *args)
    assert result.exit_code != 0
    assert "Error" in result.output and len(result.output.strip()) > 10
    assert app.appbuilder.sm.find_user(username="bad") is None


def test_create_user_refuses_weak_password(app):
    result = _run(app, "create-user", "weak", "--role", "national", "--password", "password")
    assert result.exit_code != 0
    assert app.appbuilder.sm.find_user(username="weak") is None


def test_create_enterprise_and_agency_users(app, make_enterprise, make_agency):
    enterprise = make_enterprise("140105")
    agency = make_agency("测试机构甲")
    assert _run(app, "create-user", "qy", "--role", "enterprise", "--password", "Aa1!aaaa",
                "--enterprise", enterprise.uscc.lower()).exit_code == 0
    assert _run(app, "create-user", "jg", "--role", "agency", "--password", "Aa1!aaaa",
                "--agency", agency.name).exit_code == 0
    sm = app.appbuilder.sm
    assert sm.find_user(username="qy").enterprise_id == enterprise.id
    assert sm.find_user(username="jg").agency_id == agency.id


def test_seed_demo_is_idempotent_and_coherent(app):
    from app.models import Enterprise, Mine, PreDeclaration
    from app.services import codes
    from app.services.demo import DEMO_USERS

    assert _run(app, "seed-demo").exit_code == 0
    counts = [db.session.scalar(select(db.func.count()).select_from(m)) for m in (Enterprise, Mine, PreDeclaration)]
    result = _run(app, "seed-demo")
    assert result.exit_code == 0, result.output
    assert [db.session.scalar(select(db.func.count()).select_from(m)) for m in (Enterprise, Mine, PreDeclaration)] == counts
    assert counts[0] >= 8 and counts[1] >= 300  # a few hundred mines for the statistics
    sizes = set(db.session.scalars(select(Mine.size)))
    methods = set(db.session.scalars(select(Mine.mining_method)))
    assert {"large", "medium", "small"} <= sizes and {"open_pit", "underground"} <= methods
    assert len(set(db.session.scalars(select(Mine.mineral_id)))) >= 8
    assert db.session.scalar(select(db.func.count()).select_from(Mine).where(Mine.max_depth_m > 800)) > 0
    assert db.session.scalar(select(db.func.count()).select_from(Mine).where(Mine.workers_per_shift > 30)) > 0
    for enterprise in db.session.scalars(select(Enterprise)):
        assert codes.validate_uscc(enterprise.uscc) == enterprise.uscc
        assert enterprise.region_code.startswith("14")
    for mine in db.session.scalars(select(Mine)):
        assert codes.validate_licence_no(mine.licence_no) == mine.licence_no
    counties = {m.region_code for m in db.session.scalars(select(Mine))}
    assert len(counties) >= 4 and len({c[:4] for c in counties}) >= 2
    sm = app.appbuilder.sm
    for demo in DEMO_USERS:
        user = sm.find_user(username=demo.username)
        assert user is not None and [r.name for r in user.roles] == [demo.role]
    assert {r.name for u in sm.get_all_users() for r in u.roles} >= set(ROLES)
    # Every state of both workflows, so that each reviewer finds work waiting.
    from app.models import Application, Attachment
    from app.services.workflow import WORKFLOWS

    assert set(db.session.scalars(select(PreDeclaration.status))) == set(WORKFLOWS["predeclaration"].states)
    assert set(db.session.scalars(select(Application.status))) == set(WORKFLOWS["application"].states)
    # Submitted pre-declarations carry their checklist photos.
    assert db.session.scalar(select(db.func.count()).select_from(Attachment)) > 100


def _user_form(app, role, **extra):
    form = {"first_name": "测试", "last_name": "用户", "username": "formuser", "email": "f@test.invalid",
            "active": "y", "roles": [str(app.appbuilder.sm.find_role(role).id)],
            "password": "Aa1!aaaa", "conf_password": "Aa1!aaaa"}
    form.update(extra)
    return form


def test_admin_user_screen_checks_the_binding(app, make_user, browser, make_enterprise):
    client = browser(make_user("admin"))
    page = client.post("/users/add", data=_user_form(app, "county", region_code="140100"),
                       follow_redirects=True).get_data(as_text=True)
    assert "县级" in page and "140100" in page
    assert app.appbuilder.sm.find_user(username="formuser") is None
    client.post("/users/add", data=_user_form(app, "county", region_code="140105"))
    user = app.appbuilder.sm.find_user(username="formuser")
    assert user is not None and user.region_code == "140105"
    enterprise = make_enterprise("140105")
    client.post("/users/add", data=_user_form(app, "enterprise", username="qyform", email="q@test.invalid",
                                                   enterprise_uscc=enterprise.uscc))
    assert app.appbuilder.sm.find_user(username="qyform").enterprise_id == enterprise.id


def test_menus_lead_only_to_pages_the_role_may_open(app):
    sm = app.appbuilder.sm
    for name in ROLES:
        if name == "admin":
            continue
        menus = {p.view_menu.name for p in sm.find_role(name).permissions if p.permission.name == "menu_access"}
        assert not menus & {"Security", "List Users", "List Roles"}, (name, menus)
    county_menus = {p.view_menu.name for p in sm.find_role("county").permissions if p.permission.name == "menu_access"}
    assert {"Registry", "Mines", "Statistics"} <= county_menus
    # Import is the province's: the export-only roles get no menu item leading to a refusal.
    assert "Import mines" not in county_menus
    province_menus = {p.view_menu.name for p in sm.find_role("province").permissions if p.permission.name == "menu_access"}
    assert "Import mines" in province_menus


def test_the_certifier_sees_only_the_certification_menus(app):
    """The certifier reads EvaluationView for its score sheets; the agencies' assignments list that
    the menu item opens is not his: hidden, and the empty category with it."""
    sm = app.appbuilder.sm
    menus = {p.view_menu.name for p in sm.find_role("certifier").permissions if p.permission.name == "menu_access"}
    assert {"Certification applications", "Certification certificates", "Surveillance audits"} <= menus
    assert not menus & {"Third-party assessments", "GreenMine", "Applications", "Spot checks"}
    assert "Third-party assessments" in {p.view_menu.name for p in sm.find_role("agency").permissions
                                         if p.permission.name == "menu_access"}
