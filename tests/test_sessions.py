"""Issue 16, point 2: logout ends the session on the server. A session cookie or API token
captured before a logout, a password change or reset, or a change of the account's roles or
binding is refused afterwards, from any address; logout is a POST with CSRF."""
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import AccountEvent, GreenMineUser
from app.services import accounts
from tests.conftest import TEST_PASSWORD, _fresh_request_globals, csrf_token_for

PAGE = "/mineview/list/"


class Client(FlaskClient):
    """A plain test client whose every request starts without the ``g`` of the one before (the
    tests share one app context), as each request in production does."""

    def open(self, *args, **kwargs):
        _fresh_request_globals()
        return super().open(*args, **kwargs)


def _client(app, address=None) -> Client:
    client = Client(app, app.response_class, use_cookies=True)
    if address:
        client.environ_base["REMOTE_ADDR"] = address
    return client


def _sign_in(app, client, username, password=TEST_PASSWORD):
    client.get("/login/")
    response = client.post("/login/", data={"username": username, "password": password,
                                            "csrf_token": csrf_token_for(app, client)})
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    return client


def _rest_tokens(app, username, password=TEST_PASSWORD) -> dict:
    response = _client(app).post("/api/v1/security/login", json={
        "username": username, "password": password, "provider": "db", "refresh": True})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _copy_of_session(app, client, address="203.0.113.77"):
    """Another client (from another address) holding a copy of ``client``'s session cookie."""
    thief = _client(app, address)
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _logout(app, client):
    return client.post("/logout/", data={"csrf_token": csrf_token_for(app, client)})


def _events(user, action):
    return db.session.scalars(select(AccountEvent).where(AccountEvent.user_id == user.id,
                                                         AccountEvent.action == action)).all()


def _reload(user):
    db.session.expire_all()
    return db.session.get(GreenMineUser, user.id)


@pytest.fixture
def county(make_user):
    return make_user("county", "140105")


def test_a_session_cookie_copied_before_logout_is_refused_afterwards(app, county):
    client = _sign_in(app, _client(app), county.username)
    copy = _copy_of_session(app, client)
    assert copy.get(PAGE).status_code == 200
    response = _logout(app, client)
    assert response.status_code == 302
    assert client.get(PAGE).status_code == 302
    # The copy, from another address, is refused too: the server no longer accepts the session.
    refused = copy.get(PAGE)
    assert refused.status_code == 302 and "/login/" in refused.headers["Location"]
    # Same cookie on the REST API (which accepts browser sessions): 401.
    copy = _copy_of_session(app, client)
    assert copy.get("/api/v1/mine/").status_code in (401, 302)
    assert len(_events(county, "logout")) == 1


def test_a_token_issued_before_logout_is_refused_afterwards(app, county):
    tokens = _rest_tokens(app, county.username)
    rest = _client(app)
    assert rest.get("/api/v1/mine/", headers=_bearer(tokens["access_token"])).status_code == 200
    _logout(app, _sign_in(app, _client(app), county.username))
    assert rest.get("/api/v1/mine/", headers=_bearer(tokens["access_token"])).status_code == 401
    # Nor can the refresh token mint a new access token.
    assert rest.post("/api/v1/security/refresh", headers=_bearer(tokens["refresh_token"])).status_code == 401
    # A new login works as before, and its token too.
    fresh = _rest_tokens(app, county.username)
    assert rest.get("/api/v1/mine/", headers=_bearer(fresh["access_token"])).status_code == 200


def test_a_get_to_the_logout_url_signs_nobody_out(app, county):
    client = _sign_in(app, _client(app), county.username)
    version = _reload(county).credentials_version
    response = client.get("/logout/")
    assert response.status_code == 302 and "/logout" not in response.headers["Location"]
    assert client.get(PAGE).status_code == 200
    assert _reload(county).credentials_version == version and not _events(county, "logout")


def test_a_logout_without_the_csrf_token_is_refused(app, county):
    client = _sign_in(app, _client(app), county.username)
    version = _reload(county).credentials_version
    response = client.post("/logout/", data={})
    assert response.status_code == 400
    assert client.get(PAGE).status_code == 200
    assert _reload(county).credentials_version == version
    # An anonymous POST with a token is harmless: a redirect, nothing changes.
    anonymous = _client(app)
    anonymous.get("/login/")
    assert _logout(app, anonymous).status_code == 302


def test_the_navigation_bar_logs_out_with_a_post_form(app, county):
    client = _sign_in(app, _client(app), county.username)
    page = client.get(PAGE).get_data(as_text=True)
    form = page.split('id="gm-logout"')[0].rsplit("<form", 1)[1] + page.split('id="gm-logout"')[1].split("</form>")[0]
    assert 'method="post"' in form and 'action="/logout/"' in form and 'name="csrf_token"' in form
    assert 'href="/logout/"' not in page
    token = form.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/logout/", data={"csrf_token": token}).status_code == 302
    assert client.get(PAGE).status_code == 302


def test_logout_while_a_new_password_is_required(app, county, make_user):
    """A user whose password was reset may still sign out (and that ends the session too)."""
    _user, password = accounts.reset_password(make_user("admin"), county.id)
    client = _sign_in(app, _client(app), county.username, password)
    assert client.get(PAGE).headers["Location"].endswith("/account/password")
    copy = _copy_of_session(app, client)
    assert _logout(app, client).status_code == 302
    assert copy.get("/account/password").status_code == 302
    assert "/login/" in copy.get("/account/password").headers["Location"]


def test_a_password_change_ends_the_other_sessions_and_tokens_but_not_this_one(app, county):
    client = _sign_in(app, _client(app), county.username)
    other = _sign_in(app, _client(app), county.username)
    token = _rest_tokens(app, county.username)["access_token"]
    client.post("/account/password", data={"current_password": TEST_PASSWORD, "new_password": "New#Pass123",
                                           "confirm_password": "New#Pass123",
                                           "csrf_token": csrf_token_for(app, client)})
    assert client.get(PAGE).status_code == 200
    assert other.get(PAGE).status_code == 302
    assert _client(app).get("/api/v1/mine/", headers=_bearer(token)).status_code == 401


def test_a_role_change_on_the_admin_screen_ends_the_sessions_and_tokens(app, county, make_user, browser):
    client = _sign_in(app, _client(app), county.username)
    token = _rest_tokens(app, county.username)["access_token"]
    admin = browser(make_user("admin"))
    sm = app.appbuilder.sm
    form = {"first_name": county.first_name, "last_name": county.last_name, "username": county.username,
            "email": county.email, "active": "y", "roles": [str(sm.find_role("county").id)],
            "region_code": "140105"}
    # An edit that changes nothing the account may reach keeps its sessions.
    assert admin.post(f"/users/edit/{county.id}", data=dict(form, last_name="改名")).status_code == 302
    assert _reload(county).last_name == "改名"
    assert client.get(PAGE).status_code == 200
    assert _client(app).get("/api/v1/mine/", headers=_bearer(token)).status_code == 200
    # The role (and with it the region's level) changes: the old session and token end.
    response = admin.post(f"/users/edit/{county.id}", data=dict(form, roles=[str(sm.find_role("city").id)],
                                                                region_code="140100"))
    assert response.status_code == 302
    saved = _reload(county)
    assert [r.name for r in saved.roles] == ["city"] and saved.region_code == "140100"
    assert client.get(PAGE).status_code == 302
    assert _client(app).get("/api/v1/mine/", headers=_bearer(token)).status_code == 401
    event = _events(county, "access_changed")[0]
    assert event.actor_id is not None and event.actor_id != county.id


def test_a_refused_role_change_changes_nothing(app, county, make_user, browser):
    client = _sign_in(app, _client(app), county.username)
    admin = browser(make_user("admin"))
    sm = app.appbuilder.sm
    form = {"first_name": county.first_name, "last_name": county.last_name, "username": county.username,
            "email": county.email, "active": "y", "roles": [str(sm.find_role("city").id)],
            "region_code": "140105"}  # a county code for a city account
    page = admin.post(f"/users/edit/{county.id}", data=form, follow_redirects=True).get_data(as_text=True)
    assert "市级" in page
    saved = _reload(county)
    assert [r.name for r in saved.roles] == ["county"] and not _events(county, "access_changed")
    assert client.get(PAGE).status_code == 200


def test_deactivating_an_account_ends_its_sessions(app, county, make_user, api):
    client = _sign_in(app, _client(app), county.username)
    response = api(make_user("admin")).put(f"/api/v1/user/{county.id}", json={"active": False})
    assert response.status_code == 200, response.get_json()
    assert client.get(PAGE).status_code == 302


def test_a_role_change_through_the_user_api_ends_the_sessions_and_tokens(app, county, make_user, api):
    client = _sign_in(app, _client(app), county.username)
    token = _rest_tokens(app, county.username)["access_token"]
    admin = api(make_user("admin"))
    # The same account, said again: nothing changes, nothing ends.
    assert admin.put(f"/api/v1/user/{county.id}", json={"roles": ["county"], "region_code": "140105"}).status_code == 200
    assert client.get(PAGE).status_code == 200
    response = admin.put(f"/api/v1/user/{county.id}", json={"roles": ["city"], "region_code": "140100"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["result"]["roles"] == ["city"]
    assert client.get(PAGE).status_code == 302
    assert _client(app).get("/api/v1/mine/", headers=_bearer(token)).status_code == 401
    assert len(_events(county, "access_changed")) == 1


def test_roles_of_fab_groups_grant_nothing(app, county, browser):
    """A FAB group holding the admin role would give its permissions to a county account
    without the binding rule: roles come from the account alone. (FAB's ORM cannot even add our
    user model to a group; the table can.)"""
    from flask_appbuilder.security.sqla.models import assoc_user_group

    sm = app.appbuilder.sm
    group = sm.add_group("gm-test-group", "测试组", "", roles=[sm.find_role("admin")])
    try:
        db.session.execute(assoc_user_group.insert().values(user_id=county.id, group_id=group.id))
        db.session.commit()
        user = _reload(county)
        assert [g.name for g in user.groups] == ["gm-test-group"]
        client = browser(user)
        assert client.get(PAGE).status_code == 200
        for admin_page in ("/users/list/", "/auditlogview/list/", "/api/v1/user/"):
            assert client.get(admin_page).status_code in (302, 401, 403), admin_page
    finally:
        db.session.rollback()
        db.session.execute(assoc_user_group.delete())
        db.session.delete(db.session.get(sm.group_model, group.id))
        db.session.commit()


def test_cli_password_set_ends_sessions_and_is_logged(app, county):
    client = _sign_in(app, _client(app), county.username)
    result = app.test_cli_runner().invoke(args=["gm", "create-user", county.username, "--role", "county",
                                                "--password", "Cli#Pass1234", "--region", "140105"])
    assert result.exit_code == 0, result.output
    assert client.get(PAGE).status_code == 302
    saved = _reload(county)
    assert saved.must_change_password  # the operator typed it: the holder chooses a new one
    event = _events(county, "password_set")[0]
    assert event.actor_id is None
