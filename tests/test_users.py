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


# ---------------------------------------------------------------------------
# Issue 16, point 3: the admin's user screen and the user API under the account rules
# ---------------------------------------------------------------------------
def _events(user_id, action):
    from app.models import AccountEvent

    return db.session.scalars(select(AccountEvent).where(AccountEvent.user_id == user_id,
                                                         AccountEvent.action == action)).all()


def test_an_account_made_on_the_admin_screen_must_change_its_password_at_first_sign_in(app, make_user, browser):
    from werkzeug.security import check_password_hash

    admin = make_user("admin")
    client = browser(admin)
    # The must-change box and FAB's groups are not on the form; the box is ignored if sent.
    form_page = client.get("/users/add").get_data(as_text=True)
    assert 'name="must_change_password"' not in form_page and 'name="groups"' not in form_page
    response = client.post("/users/add", data=_user_form(app, "county", region_code="140105",
                                                         must_change_password=""))
    assert response.status_code == 302
    db.session.expire_all()
    user = app.appbuilder.sm.find_user(username="formuser")
    assert user.must_change_password and check_password_hash(user.password, "Aa1!aaaa")
    assert [e.actor_id for e in _events(user.id, "account_created")] == [admin.id]
    # Signing in leads to the change form and nowhere else.
    from tests.conftest import csrf_token_for

    fresh = app.test_client()
    fresh.get("/login/")
    fresh.post("/login/", data={"username": "formuser", "password": "Aa1!aaaa",
                                "csrf_token": csrf_token_for(app, fresh)})
    from tests.conftest import _fresh_request_globals

    _fresh_request_globals()
    assert fresh.get("/mineview/list/").headers["Location"].endswith("/account/password")


def test_create_user_requires_a_change_at_first_sign_in_unless_told_otherwise(app):
    assert _run(app, "create-user", "cli1", "--role", "national", "--password", "Aa1!aaaa").exit_code == 0
    assert _run(app, "create-user", "cli2", "--role", "national", "--password", "Aa1!aaaa",
                "--keep-password").exit_code == 0
    db.session.expire_all()
    sm = app.appbuilder.sm
    assert sm.find_user(username="cli1").must_change_password
    assert not sm.find_user(username="cli2").must_change_password
    for name in ("cli1", "cli2"):
        assert [e.actor_id for e in _events(sm.find_user(username=name).id, "account_created")] == [None]


def test_fab_password_and_profile_forms_are_not_served(app, make_user, browser):
    admin = browser(make_user("admin"))
    target = make_user("county", "140105")
    for url in ("/resetpassword/form", f"/resetpassword/form?pk={target.id}", "/resetmypassword/form",
                "/userinfoeditview/form"):
        assert admin.get(url).status_code == 404, url
        assert admin.post(url, data={"password": "Aa1!aaaa", "conf_password": "Aa1!aaaa",
                                     "first_name": "x", "last_name": "y"}).status_code == 404, url
    sm = app.appbuilder.sm
    registered = {pv.view_menu.name for pv in sm.session.query(sm.permissionview_model).all()}
    assert not registered & {"ResetPasswordView", "ResetMyPasswordView", "UserInfoEditView"}


def test_the_admin_user_pages_lead_to_our_password_and_profile_screens(app, make_user, browser):
    admin_user = make_user("admin")
    admin = browser(admin_user)
    target = make_user("county", "140105")
    other = make_user("county", "140105")  # another account, not on the one-account reset page
    page = admin.get(f"/users/show/{target.id}").get_data(as_text=True)
    assert f"/users/action/resetpasswords/{target.id}" in page
    # FAB's action buttons POST (with the CSRF token) to the action route.
    response = admin.post(f"/users/action/resetpasswords/{target.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/account/users?user={target.id}")
    listing = admin.get(f"/account/users?user={target.id}").get_data(as_text=True)
    assert listing.count("/account/reset/") == 1 and f"/account/reset/{target.id}" in listing
    assert f"/account/reset/{other.id}" in admin.get("/account/users").get_data(as_text=True)
    done = admin.post(f"/account/reset/{target.id}")
    assert done.status_code == 200 and 'id="one-time-password"' in done.get_data(as_text=True)
    assert admin.get("/users/list/").status_code == 200
    edit = admin.get(f"/users/edit/{target.id}")
    assert edit.status_code == 200 and 'name="groups"' not in edit.get_data(as_text=True)
    info = admin.get("/users/userinfo/").get_data(as_text=True)
    for name, target_url in (("resetmypassword", "/account/password"), ("userinfoedit", "/account/profile")):
        assert f"/users/action/{name}/{admin_user.id}" in info
        assert admin.post(f"/users/action/{name}/{admin_user.id}").headers["Location"].endswith(target_url)
    # Everyone else reads his own information, without those buttons.
    county_info = browser(make_user("county", "140105")).get("/users/userinfo/")
    assert county_info.status_code == 200 and "/users/action/" not in county_info.get_data(as_text=True)


def test_only_the_admin_holds_the_user_api(app):
    sm = app.appbuilder.sm
    granted = {
        role.name for role in sm.get_all_roles()
        if any(p.view_menu.name in role_definitions.USER_ADMINISTRATION for p in role.permissions)
    }
    assert granted == {"admin"}
    admin = {(p.permission.name, p.view_menu.name) for p in sm.find_role("admin").permissions}
    assert {(name, "UserApi") for name in role_definitions.USER_ADMINISTRATION_PERMISSIONS} <= admin


@pytest.mark.parametrize("role", [name for name in ROLES if name != "admin"])
def test_the_user_api_refuses_every_other_role(app, make_user, api, role, make_enterprise):
    target = make_user("county", "140105")
    client = api(make_user(role, {"province": "140000", "city": "140100", "county": "140105"}.get(role)))
    calls = [("get", "/api/v1/user/", None), ("get", f"/api/v1/user/{target.id}", None),
             ("post", "/api/v1/user/", {"username": "x"}), ("put", f"/api/v1/user/{target.id}", {"active": False}),
             ("post", f"/api/v1/user/{target.id}/reset_password", None)]
    for method, url, body in calls:
        response = getattr(client, method)(url, json=body) if body is not None else getattr(client, method)(url)
        assert response.status_code in (401, 403), (method, url, response.status_code)
    db.session.expire_all()
    assert db.session.get(type(target), target.id).active


def _new_account(**fields):
    body = {"username": "apiuser", "first_name": "接口", "last_name": "用户", "email": "api@test.invalid",
            "roles": ["county"], "region_code": "140105"}
    body.update(fields)
    return {key: value for key, value in body.items() if value is not None}


def test_the_user_api_creates_accounts_with_a_one_time_password(app, make_user, api):
    from werkzeug.security import check_password_hash

    from app.services.passwords import password_problems

    admin_user = make_user("admin")
    admin = api(admin_user)
    response = admin.post("/api/v1/user/", json=_new_account(phone="13800001111"))
    assert response.status_code == 201, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    password = body["one_time_password"]
    assert password_problems(password) == []
    result = body["result"]
    assert result["roles"] == ["county"] and result["region_code"] == "140105" and result["must_change_password"]
    assert not {"password", "credentials_version"} & set(result)
    user = db.session.get(app.appbuilder.sm.user_model, body["id"])
    assert check_password_hash(user.password, password) and user.must_change_password
    assert [e.actor_id for e in _events(user.id, "account_created")] == [admin_user.id]
    # Read back: never a password, hash or version.
    shown = admin.get(f"/api/v1/user/{user.id}").get_json()["result"]
    assert shown["username"] == "apiuser" and shown["phone"] == "13800001111"
    listed = admin.get("/api/v1/user/?search=apius&role=county").get_json()
    assert listed["count"] == 1 and listed["result"][0]["id"] == user.id
    assert "scrypt" not in admin.get("/api/v1/user/?page_size=100").get_data(as_text=True)
    # A token for the new account works only after the password was changed.
    token = app.test_client().post("/api/v1/security/login", json={
        "username": "apiuser", "password": password, "provider": "db"}).get_json()["access_token"]
    assert app.test_client().get("/api/v1/mine/", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.parametrize("fields, fragment", [
    ({"roles": ["county"], "region_code": "140100"}, "县级"),            # a city code for a county user
    ({"roles": ["province"], "region_code": "140105"}, "省级"),
    ({"roles": ["county"], "region_code": None}, "县级"),
    ({"roles": ["enterprise"], "region_code": None}, "统一社会信用代码"),
    ({"roles": ["agency"], "region_code": None, "agency": "不存在的机构"}, "不存在的机构"),
    ({"roles": ["national"]}, "只有"),                                   # a national account has no region
    ({"roles": ["boss"]}, "boss"),
    ({"roles": []}, "角色"),
    ({"roles": "county"}, "角色"),
    ({"roles": ["county", "city"], "region_code": "140105"}, "只能"),
    ({"password": "Aa1!aaaa"}, "一次性密码"),
    ({"credentials_version": 0}, "credentials_version"),
    ({"must_change_password": False}, "must_change_password"),
    ({"email": "not-an-email"}, "电子邮箱"),
    ({"username": ""}, "必填"),
    ({"first_name": 5}, "文本"),
    ({"active": "yes"}, "true"),
])
def test_the_user_api_refuses_what_create_user_refuses(app, make_user, api, fields, fragment):
    response = api(make_user("admin")).post("/api/v1/user/", json=_new_account(**fields))
    assert response.status_code == 422, response.get_json()
    assert fragment in response.get_json()["message"]
    assert app.appbuilder.sm.find_user(username="apiuser") is None


def test_the_user_api_refuses_malformed_bodies_and_duplicates(app, make_user, api):
    admin = api(make_user("admin"))
    taken = make_user("county", "140105")
    for body in ([1, 2], "text", 7, None):
        response = admin.post("/api/v1/user/", json=body)
        assert response.status_code == 422 and response.get_json()["message"]
    assert admin.post("/api/v1/user/", data="{not json", content_type="application/json").status_code == 422
    response = admin.post("/api/v1/user/", json=_new_account(username=taken.username.upper()))
    assert response.status_code == 422 and response.get_json()["field"] == "username"
    response = admin.post("/api/v1/user/", json=_new_account(email=taken.email))
    assert response.status_code == 422 and response.get_json()["field"] == "email"
    for path in ("/api/v1/user/999999", "/api/v1/user/abc", "/api/v1/user/99999999999999999999"):
        assert admin.get(path).status_code == 404
        assert admin.put(path, json={"active": False}).status_code == 404
    assert admin.post("/api/v1/user/99999999/reset_password").status_code == 404
    assert admin.get("/api/v1/user/?page=99999999999999&page_size=100").get_json()["result"] == []
    assert admin.get("/api/v1/user/?page=x&page_size=abc").status_code == 400


def test_the_user_api_updates_through_the_binding_rules(app, make_user, api, make_enterprise):
    admin = api(make_user("admin"))
    user = make_user("county", "140105")
    enterprise = make_enterprise("140105")
    # Roles and binding together; the old binding goes with the old role.
    response = admin.put(f"/api/v1/user/{user.id}", json={"roles": ["enterprise"], "enterprise_uscc": enterprise.uscc})
    assert response.status_code == 200, response.get_json()
    result = response.get_json()["result"]
    assert result["roles"] == ["enterprise"] and result["region_code"] is None
    assert result["enterprise_uscc"] == enterprise.uscc
    for body, fragment in (({"roles": ["city"], "region_code": "140105"}, "市级"),
                           ({"region_code": "140105"}, "只有"),                  # an enterprise user has no region
                           ({"password": "Aa1!aaaa"}, "一次性密码"),
                           ({"username": "renamed"}, "用户名"),
                           ({"last_name": "x" * 65}, "64")):
        response = admin.put(f"/api/v1/user/{user.id}", json=body)
        assert response.status_code == 422 and fragment in response.get_json()["message"], (body, response.get_json())
    db.session.expire_all()
    saved = db.session.get(type(user), user.id)
    assert [r.name for r in saved.roles] == ["enterprise"] and saved.enterprise_id == enterprise.id
    assert saved.username == user.username
    response = admin.put(f"/api/v1/user/{user.id}", json={"first_name": "新", "phone": "13900002222"})
    assert response.status_code == 200 and response.get_json()["result"]["first_name"] == "新"


def test_the_user_api_resets_a_password_once_and_ends_the_sessions(app, make_user, api):
    from werkzeug.security import check_password_hash

    admin_user = make_user("admin")
    target = make_user("county", "140105")
    old_token = api(target)
    assert old_token.get("/api/v1/mine/").status_code == 200
    response = api(admin_user).post(f"/api/v1/user/{target.id}/reset_password")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = response.get_json()["one_time_password"]
    db.session.expire_all()
    saved = db.session.get(type(target), target.id)
    assert check_password_hash(saved.password, password) and saved.must_change_password
    assert old_token.get("/api/v1/mine/").status_code == 401
    assert [e.actor_id for e in _events(target.id, "password_reset")] == [admin_user.id]


def test_the_rest_login_and_refresh_stay_served_and_limited(app, make_user):
    from tests.conftest import TEST_PASSWORD

    user = make_user("county", "140105")
    client = app.test_client()
    tokens = client.post("/api/v1/security/login", json={"username": user.username, "password": TEST_PASSWORD,
                                                         "provider": "db", "refresh": True}).get_json()
    refreshed = client.post("/api/v1/security/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert refreshed.status_code == 200 and refreshed.get_json()["access_token"]
    body = {"username": user.username, "password": "Wrong#Pass1", "provider": "db"}
    app.appbuilder.sm.limiter.reset()
    statuses = [client.post("/api/v1/security/login", json=body).status_code for _ in range(12)]
    assert statuses[-1] == 429


def test_fab_role_permission_and_group_editing_screens_are_not_served(app, make_user, browser):
    """Roles are declared in app.services.roles and synced: FAB's screens that would edit them, or
    list their program-level permissions, or grant roles through groups, do not exist."""
    admin = browser(make_user("admin"))
    role = app.appbuilder.sm.find_role("county")
    for url in ("/roles/add", f"/roles/edit/{role.id}", f"/roles/delete/{role.id}", "/roles/action_post",
                "/permissions/list/", "/viewmenus/list/", "/permissionviews/list/", "/groups/list/", "/groups/add"):
        assert admin.get(url).status_code in (404, 405), url
    assert admin.get("/roles/list/").status_code == 200
    assert admin.get(f"/roles/show/{role.id}").status_code == 200
    security = app.appbuilder.menu.find("Security")
    assert [item.name for item in security.childs if item.name != "-"] == [
        "List Users", "List Roles", "User's Statistics", "Audit trail"]
