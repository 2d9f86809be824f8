"""Own profile and password (SPEC A2) and password resets by an authority (A4): who may reset
whom, one-time passwords, the forced change, and old sessions and tokens ending."""
import datetime

import pytest
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models import AccountEvent
from app.services import accounts
from app.services.exceptions import DomainError
from app.services.passwords import password_problems
from tests.conftest import TEST_PASSWORD, csrf_token_for


@pytest.fixture
def accounts_world(make_enterprise, make_user):
    shanxi_enterprise = make_enterprise("140105")
    shaanxi_enterprise = make_enterprise("610102")
    return {
        "admin": make_user("admin"),
        "province": make_user("province", "140000"),
        "other_province": make_user("province", "610000"),
        "city": make_user("city", "140100"),
        "county": make_user("county", "140105"),
        "enterprise": make_user("enterprise", enterprise=shanxi_enterprise),
        "far_enterprise": make_user("enterprise", enterprise=shaanxi_enterprise),
    }


def _reload(user):
    db.session.expire_all()
    return db.session.get(type(user), user.id)


def test_change_password_needs_the_current_one(accounts_world, browser):
    user = accounts_world["county"]
    client = browser(user)
    page = client.post("/account/password", data={"current_password": "wrong", "new_password": "New#Pass123",
                                                   "confirm_password": "New#Pass123"}).get_data(as_text=True)
    assert "当前密码不正确" in page
    assert check_password_hash(_reload(user).password, TEST_PASSWORD)
    for new, confirm, fragment in (("New#Pass123", "Other#Pass123", "不一致"), ("weak", "weak", "密码至少8位"),
                                   (TEST_PASSWORD, TEST_PASSWORD, "不能与当前密码相同")):
        page = client.post("/account/password", data={"current_password": TEST_PASSWORD, "new_password": new,
                                                       "confirm_password": confirm}).get_data(as_text=True)
        assert fragment in page
    response = client.post("/account/password", data={"current_password": TEST_PASSWORD,
                                                       "new_password": "New#Pass123",
                                                       "confirm_password": "New#Pass123"})
    assert response.status_code == 302
    assert check_password_hash(_reload(user).password, "New#Pass123")
    # This session goes on; it was renewed with the new credentials.
    assert client.get("/mineview/list/").status_code == 200


def test_profile_changes_name_mobile_and_email_only(accounts_world, browser):
    user = accounts_world["county"]
    client = browser(user)
    client.post("/account/profile", data={"first_name": "新名", "last_name": "新姓", "phone": "13900001111",
                                          "email": "new@test.invalid", "username": "hacker", "region_code": "110101"})
    saved = _reload(user)
    assert (saved.first_name, saved.last_name, saved.phone, saved.email) == ("新名", "新姓", "13900001111",
                                                                              "new@test.invalid")
    assert saved.username == user.username and saved.region_code == "140105"
    page = client.post("/account/profile", data={"first_name": "x", "email": "not-an-email"}).get_data(as_text=True)
    assert "不是有效的电子邮箱" in page


@pytest.mark.parametrize("actor, target, allowed", [
    ("province", "enterprise", True),
    ("admin", "enterprise", True),
    ("admin", "county", True),
    ("province", "far_enterprise", False),     # another province's enterprise
    ("other_province", "enterprise", False),
    ("city", "enterprise", False),             # a city does not reset
    ("county", "enterprise", False),
    ("province", "county", False),             # a province resets enterprise users only
    ("enterprise", "enterprise", False),
])
def test_who_may_reset_whom(accounts_world, actor, target, allowed):
    actor_user, target_user = accounts_world[actor], accounts_world[target]
    if allowed:
        user, password = accounts.reset_password(actor_user, target_user.id)
        assert password_problems(password) == [] and check_password_hash(user.password, password)
        assert user.must_change_password
        event = db.session.query(AccountEvent).filter_by(user_id=target_user.id, action="password_reset").one()
        assert event.actor_id == actor_user.id
    else:
        with pytest.raises(DomainError):
            accounts.reset_password(actor_user, target_user.id)
        assert check_password_hash(_reload(target_user).password, TEST_PASSWORD)


def test_reset_screen_shows_a_random_password_once_and_lists_only_resettable_users(accounts_world, browser):
    province = browser(accounts_world["province"])
    listing = province.get("/account/users").get_data(as_text=True)
    assert accounts_world["enterprise"].username in listing
    assert accounts_world["far_enterprise"].username not in listing and accounts_world["county"].username not in listing
    first = province.post(f"/account/reset/{accounts_world['enterprise'].id}")
    second = province.post(f"/account/reset/{accounts_world['enterprise'].id}")
    assert first.headers["Cache-Control"] == "no-store"
    otp = lambda response: response.get_data(as_text=True).split('id="one-time-password">')[1].split("<")[0]  # noqa: E731
    assert otp(first) != otp(second)  # random, never chosen by the resetter
    assert province.post(f"/account/reset/{accounts_world['far_enterprise'].id}").status_code == 404
    assert browser(accounts_world["city"]).post(f"/account/reset/{accounts_world['enterprise'].id}").status_code == 403


def test_after_a_reset_old_sessions_and_tokens_end_and_a_new_password_is_required(app, accounts_world, browser, api):
    target = accounts_world["enterprise"]
    old_session, old_token = browser(target), api(target)
    assert old_session.get("/mineview/list/").status_code == 200
    assert old_token.get("/api/v1/mine/").status_code == 200
    _user, password = accounts.reset_password(accounts_world["province"], target.id)
    assert old_session.get("/mineview/list/").status_code == 302
    assert old_token.get("/api/v1/mine/").status_code == 401
    # Signing in with the one-time password leads straight to the change form, and nowhere else.
    client = app.test_client()
    client.get("/login/")
    client.post("/login/", data={"username": target.username, "password": password,
                                 "csrf_token": csrf_token_for(app, client)})
    blocked = client.get("/mineview/list/")
    assert blocked.status_code == 302 and blocked.headers["Location"].endswith("/account/password")
    client.post("/account/password", data={"current_password": password, "new_password": "Fresh#Pass99",
                                           "confirm_password": "Fresh#Pass99", "csrf_token": csrf_token_for(app, client)})
    assert not _reload(target).must_change_password
    assert client.get("/mineview/list/").status_code == 200


def test_account_menus(app):
    sm = app.appbuilder.sm

    def menus(role):
        return {p.view_menu.name for p in sm.find_role(role).permissions if p.permission.name == "menu_access"}

    for role in ("county", "enterprise", "agency", "national"):
        assert {"Account", "My profile", "Change password"} <= menus(role)
        assert "Reset passwords" not in menus(role)
    assert "Reset passwords" in menus("province")


def _sign_in(app, client, username, password=TEST_PASSWORD):
    client.get("/login/")
    return client.post("/login/", data={"username": username, "password": password,
                                        "csrf_token": csrf_token_for(app, client)})


def test_idle_sessions_end_and_logout_ends_the_session(app, accounts_world, monkeypatch):
    import time

    client = app.test_client()
    _sign_in(app, client, accounts_world["county"].username)
    assert client.get("/mineview/list/").status_code == 200
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.expires is not None  # a permanent, expiring session
    # Past the idle timeout the signed cookie is no longer accepted.
    later = time.time() + app.config["PERMANENT_SESSION_LIFETIME"] + 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get("/mineview/list/").status_code == 302
    monkeypatch.undo()
    _sign_in(app, client, accounts_world["county"].username)
    assert client.get("/mineview/list/").status_code == 200
    # Logout is the navigation bar's POST form (tests/test_sessions.py: a GET signs nobody out).
    client.post("/logout/", data={"csrf_token": csrf_token_for(app, client)})
    assert client.get("/mineview/list/").status_code == 302


def test_unknown_user_and_wrong_password_look_the_same(app, accounts_world, monkeypatch):
    """Same message, and similar time (FAB balances the failure with a fake hash check of the same
    cost as ours); measured over many tries, with wide bounds (this is not a speed test)."""
    import statistics
    import time

    # Measure the password check itself, not the lock-out that many failures bring (tested below).
    monkeypatch.setitem(app.config, "LOGIN_LOCKOUT_FAILURES", 1000)
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_FAILURES", 1000)

    sm = app.appbuilder.sm
    known = accounts_world["county"].username

    def timed(username):
        with app.test_request_context("/login/", method="POST"):
            start = time.perf_counter()
            assert sm.auth_user_db(username, "Wrong#Pass1") is None
            return time.perf_counter() - start

    timed(known), timed("nobody-at-all")  # warm up
    wrong_password = statistics.median(timed(known) for _ in range(15))
    unknown_user = statistics.median(timed("nobody-at-all") for _ in range(15))
    assert 0.5 < unknown_user / wrong_password < 2.0, (unknown_user, wrong_password)

    def message(username):
        app.appbuilder.sm.limiter.reset()
        client = app.test_client()
        location = _sign_in(app, client, username, "Wrong#Pass1").headers["Location"]
        page = client.get("/login/").get_data(as_text=True)
        return location, page.count("无效的用户名或密码，请重试")

    assert message(known) == message("nobody-at-all") == (message(known)[0], 1)


# ---------------------------------------------------------------------------
# Lock-out after repeated failures
# ---------------------------------------------------------------------------
def _expire_locks() -> None:
    from app.models import LoginThrottle

    past = datetime.datetime(2000, 1, 1)
    for row in db.session.query(LoginThrottle).all():
        row.locked_until, row.window_started_at = past, past
    db.session.commit()


def test_repeated_failures_lock_the_name_and_say_so_in_zh(app, accounts_world):
    user = accounts_world["county"]
    client = app.test_client()
    for _ in range(app.config["LOGIN_LOCKOUT_FAILURES"]):
        _sign_in(app, client, user.username, "Wrong#Pass1")
    app.appbuilder.sm.limiter.reset()
    # Locked: even the right password is refused, and the page says why and for how long.
    response = _sign_in(app, client, user.username)
    page = client.get("/login/").get_data(as_text=True)
    assert "登录失败次数过多" in page and "15 分钟" in page
    assert client.get("/mineview/list/").status_code == 302
    rest = app.test_client().post("/api/v1/security/login",
                                  json={"username": user.username, "password": TEST_PASSWORD, "provider": "db"})
    assert rest.status_code == 429 and "登录失败次数过多" in rest.get_json()["message"]
    assert int(rest.headers["Retry-After"]) > 0
    # When the lock has run out, the right password works again and clears the count.
    _expire_locks()
    assert _sign_in(app, client, user.username).status_code == 302
    assert client.get("/mineview/list/").status_code == 200
    from app.models import LoginThrottle
    from app.services.login_throttle import name_key

    assert db.session.get(LoginThrottle, name_key(user.username)) is None


def test_an_unknown_name_is_locked_the_same_way(app, accounts_world):
    """The lock must not tell which names have accounts."""
    known, unknown = accounts_world["county"].username, "no-such-account"

    def after_failures(username):
        app.appbuilder.sm.limiter.reset()
        api_client = app.test_client()
        body = {"username": username, "password": "Wrong#Pass1", "provider": "db"}
        statuses = [api_client.post("/api/v1/security/login", json=body).status_code
                    for _ in range(app.config["LOGIN_LOCKOUT_FAILURES"] + 1)]
        return statuses, api_client.post("/api/v1/security/login", json=body).get_json()["message"]

    statuses, message = after_failures(known)
    assert (statuses, message) == after_failures(unknown)
    assert statuses[-1] == 429 and statuses[0] == 401


def test_a_password_reset_lifts_the_lock(app, accounts_world, browser):
    target = accounts_world["enterprise"]
    client = app.test_client()
    for _ in range(app.config["LOGIN_LOCKOUT_FAILURES"]):
        _sign_in(app, client, target.username, "Wrong#Pass1")
    from app.services import accounts, login_throttle

    with app.test_request_context():
        with pytest.raises(login_throttle.LoginLocked):
            login_throttle.check(target.username, None)
    _user, password = accounts.reset_password(accounts_world["province"], target.id)
    app.appbuilder.sm.limiter.reset()
    assert _sign_in(app, app.test_client(), target.username, password).headers["Location"].endswith("/")


def test_many_names_from_one_address_lock_the_address(app, accounts_world, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_FAILURES", 4)
    client = app.test_client()
    for n in range(4):
        app.appbuilder.sm.limiter.reset()
        _sign_in(app, client, f"spray-{n}", "Wrong#Pass1")
    response = client.post("/api/v1/security/login", json={
        "username": accounts_world["city"].username, "password": TEST_PASSWORD, "provider": "db"})
    assert response.status_code == 429 and "网络地址" in response.get_json()["message"]
