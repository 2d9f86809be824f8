"""Security defaults, each with its test: CSRF, login rate limits (HTML and REST), safe
redirects, cookie flags, the production secret key, password policy, the REST API surface."""
import os
import re
import secrets
from urllib.parse import urlparse

import pytest
from flask import Flask

from app import InsecureConfiguration, _check_production_config
from app.extensions import db
from app.models import Mine
from tests.conftest import TEST_PASSWORD, csrf_token_for


def _mine_exists(pk) -> bool:
    db.session.expire_all()
    return db.session.get(Mine, pk) is not None


def test_get_to_a_delete_url_deletes_nothing(make_mine, make_user, browser):
    mine = make_mine("140105")
    client = browser(make_user("county", "140105"))
    client.get(f"/mineview/delete/{mine.id}")
    assert _mine_exists(mine.id)


def test_post_without_csrf_token_is_refused(make_mine, make_user, browser):
    mine = make_mine("140105")
    client = browser(make_user("county", "140105"))
    response = client.post(f"/mineview/delete/{mine.id}", csrf=False)
    assert response.status_code == 400
    assert _mine_exists(mine.id)
    client.post(f"/mineview/delete/{mine.id}")  # with the token it works
    assert not _mine_exists(mine.id)


def test_cookie_authenticated_api_write_needs_csrf(make_mine, make_user, browser):
    mine = make_mine("140105")
    client = browser(make_user("county", "140105"))
    response = client.client.delete(f"/api/v1/mine/{mine.id}")
    assert response.status_code == 400
    assert _mine_exists(mine.id)


def _login_form(app, client, username, password, next_url=None, **kwargs):
    client.get("/login/")
    url = "/login/" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"username": username, "password": password,
                                  "csrf_token": csrf_token_for(app, client)}, **kwargs)


def test_html_login_is_rate_limited(app, make_user):
    user = make_user("national")
    client = app.test_client()
    responses = [_login_form(app, client, user.username, "wrong-password") for _ in range(12)]
    statuses = [response.status_code for response in responses]
    assert 429 in statuses
    assert statuses[0] != 429
    assert "尝试次数过多" in responses[-1].get_data(as_text=True)


def test_rest_login_is_rate_limited(app, make_user):
    user = make_user("national")
    client = app.test_client()
    body = {"username": user.username, "password": "wrong", "provider": "db"}
    statuses = [client.post("/api/v1/security/login", json=body).status_code for _ in range(12)]
    assert statuses[0] == 401
    assert 429 in statuses
    assert "尝试次数过多" in client.post("/api/v1/security/login", json=body).get_json()["message"]


def test_login_limit_can_be_shared_through_redis(app):
    """With RATELIMIT_STORAGE_URI=redis://… the limit lives in Redis, shared by every process."""
    import redis

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    from app import create_app

    shared = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "TESTING": True,
                         "RATELIMIT_STORAGE_URI": url})
    limiter = shared.appbuilder.sm.limiter
    assert type(limiter._storage).__name__ == "RedisStorage"
    limiter.reset()
    body = {"username": "nobody-here", "password": "wrong", "provider": "db"}
    first, second = shared.test_client(), shared.test_client()
    for _ in range(10):
        first.post("/api/v1/security/login", json=body)
    assert second.post("/api/v1/security/login", json=body).status_code == 429
    # The counter is in Redis, where another process would find it.
    assert redis.Redis.from_url(url).keys("LIMITS*")
    limiter.reset()


def test_rest_login_works_and_the_token_is_scoped(app, make_user, make_mine):
    make_mine("140121")
    user = make_user("county", "140105")
    client = app.test_client()
    token = client.post("/api/v1/security/login",
                        json={"username": user.username, "password": TEST_PASSWORD, "provider": "db"}).get_json()
    listing = client.get("/api/v1/mine/", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert listing.status_code == 200 and listing.get_json()["count"] == 0


@pytest.mark.parametrize("next_url", ["//evil.example/", "http://evil.example/x", "https://evil.example",
                                      "javascript:alert(1)", "/\\evil.example"])
def test_login_never_redirects_off_site(app, make_user, next_url):
    user = make_user("national")
    client = app.test_client()
    response = _login_form(app, client, user.username, TEST_PASSWORD, next_url=next_url)
    assert response.status_code == 302
    location = urlparse(response.headers["Location"])
    assert location.scheme in ("", "http") and location.netloc in ("", "localhost")


def test_spoofed_host_does_not_make_a_redirect_off_site(app, make_user):
    user = make_user("national")
    client = app.test_client()
    response = _login_form(app, client, user.username, TEST_PASSWORD, next_url="http://evil.example/",
                           headers={"Host": "evil.example"})
    assert "evil.example" not in response.headers.get("Location", "")


def test_session_cookie_flags(app, make_user):
    client = app.test_client()
    response = client.get("/login/")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.config["SESSION_COOKIE_SECURE"] is False  # development default


def _bare_app(**config) -> Flask:
    bare = Flask("production-check")
    bare.config.from_object("config")
    bare.config.update(config)
    return bare


def test_production_refuses_a_missing_default_or_weak_secret_key():
    from config import DEVELOPMENT_SECRET_KEY, EXAMPLE_SECRET_KEY

    weak = (
        DEVELOPMENT_SECRET_KEY, EXAMPLE_SECRET_KEY, "", " " * 40, "short-key",
        "x" * 48,                       # one repeated character
        "ab" * 24, "abcdefgh" * 5,      # a repeated sequence
        "0123456789abcdef" * 2,
        "aabbccaabbccaabbccaabbccaabbccaabbcc"[:-1] + "d",  # four different characters
    )
    for key in weak:
        with pytest.raises(InsecureConfiguration) as refusal:
            _check_production_config(_bare_app(GM_ENV="production", SECRET_KEY=key))
        assert "SECRET_KEY" in str(refusal.value)
    with pytest.raises(InsecureConfiguration):
        _check_production_config(_bare_app(GM_ENV="production", SECRET_KEY=None))


def test_production_accepts_a_random_key():
    for _ in range(200):
        _check_production_config(_bare_app(GM_ENV="production", SECRET_KEY=secrets.token_hex(16)))
        _check_production_config(_bare_app(GM_ENV="production", SECRET_KEY=secrets.token_urlsafe(32)))


def _documented_secret_keys() -> list[str]:
    """Every literal key the documentation and the shipped configuration show."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def read(name):
        with open(os.path.join(root, name), encoding="utf-8") as handle:
            return handle.read()

    keys = re.findall(r"^\s*(?:export\s+)?SECRET_KEY=['\"]?([^\s'\"`]+)", read("README.md"), re.MULTILINE)
    keys += re.findall(r"SECRET_KEY\s*=\s*\"([^\"]+)\"", read("config.py"))
    keys += re.findall(r"SECRET_KEY\s*=\s*['\"]([^'\"]+)['\"]", read("gunicorn.conf.py"))
    return keys


def test_every_secret_key_shown_in_the_documentation_is_refused():
    keys = _documented_secret_keys()
    assert len(keys) >= 3  # the README's example, and the development and example keys in config.py
    for key in keys:
        with pytest.raises(InsecureConfiguration):
            _check_production_config(_bare_app(GM_ENV="production", SECRET_KEY=key))


@pytest.mark.parametrize("environment", ["prod", "Production", "production ", "staging", "testing", "", None])
def test_gm_env_accepts_only_its_documented_values(environment):
    with pytest.raises(InsecureConfiguration) as refusal:
        _check_production_config(_bare_app(GM_ENV=environment, SECRET_KEY=secrets.token_hex(32)))
    assert "development, production" in str(refusal.value)


def test_an_unknown_gm_env_stops_the_app_factory():
    from app import create_app

    # Refused before anything is built (a second app in this process could not be built anyway).
    with pytest.raises(InsecureConfiguration, match="GM_ENV='prod'"):
        create_app({"GM_ENV": "prod"})


def test_the_documented_environments_start():
    bare = _bare_app(GM_ENV="development")
    _check_production_config(bare)
    assert bare.config["SESSION_COOKIE_SECURE"] is False
    bare = _bare_app(GM_ENV="production", SECRET_KEY=secrets.token_hex(32))
    _check_production_config(bare)
    assert bare.config["SESSION_COOKIE_SECURE"] and bare.config["REMEMBER_COOKIE_SECURE"]


def test_password_policy_in_chinese(app):
    from flask_appbuilder.exceptions import PasswordComplexityValidationError

    from app.services.passwords import generate_one_time_password, password_problems, validate_password_complexity

    with app.test_request_context("/"):
        for weak in ("short1!", "alllowercase1!", "NoDigits!!", "NoSymbol123", "NOLOWER1!"):
            with pytest.raises(PasswordComplexityValidationError) as info:
                validate_password_complexity(weak)
            assert "密码" in str(info.value)
        validate_password_complexity("Good#Pass1")
    for _ in range(20):
        assert password_problems(generate_one_time_password()) == []


def test_admin_user_form_applies_the_password_policy(app, make_user, browser):
    admin = make_user("admin")
    client = browser(admin)
    page = client.post("/users/add", data={
        "first_name": "a", "last_name": "b", "username": "weakling", "email": "w@test.invalid",
        "roles": [str(app.appbuilder.sm.find_role("national").id)], "password": "weak", "conf_password": "weak",
    }).get_data(as_text=True)
    assert "密码至少8位" in page
    assert app.appbuilder.sm.find_user(username="weakling") is None


def test_api_surface_is_explicit(app, make_user, api):
    assert app.config["FAB_API_SHOW_STACKTRACE"] is False
    client = api(make_user("national"))
    # Filtering on a column outside search_columns is refused.
    response = client.get("/api/v1/mine/?q=(filters:!((col:created_at,opr:gt,value:'2000-01-01')))")
    assert response.status_code == 400
    # Asking for a column outside show/list columns gives nothing of it.
    response = client.get("/api/v1/mine/?q=(columns:!(created_at))")
    assert all("created_at" not in row for row in response.get_json().get("result", []))
    # FAB's security API is not served; ours (admin only) never filters on or shows password hashes.
    admin = api(make_user("admin"))
    for path in ("/api/v1/security/users/?q=(filters:!((col:password,opr:sw,value:s)))", "/api/v1/security/users/",
                 "/api/v1/security/roles/", "/api/v1/security/permissions/"):
        assert admin.get(path).status_code == 404
    listed = admin.get("/api/v1/user/?search=scrypt").get_json()
    assert listed["count"] == 0
    listed = admin.get("/api/v1/user/").get_json()
    assert listed["count"] >= 2 and all("password" not in row for row in listed["result"])


def test_unexpected_errors_are_a_translated_page_not_a_trace(app, make_user, browser, monkeypatch):
    from app.views.registry import MineView

    def boom(self, *args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(MineView, "_list", boom)
    response = browser(make_user("national")).get("/mineview/list/")
    body = response.get_data(as_text=True)
    assert response.status_code == 500 and "secret internals" not in body and "Traceback" not in body


def test_malformed_ids_are_refused_not_500(make_user, make_mine, api, browser):
    """Found by the fuzz run: ids of the wrong kind in a body, and ids beyond the id columns'
    range in a path, were 500s."""
    county_api = api(make_user("county", "140105"))
    mine = make_mine("140105")
    for body in ({"name": "x", "licence_no": "C1400002021061000000990", "enterprise_id": [1],
                  "region_code": "140105"},
                 {"name": "x", "licence_no": "C1400002021061000000991", "enterprise_id": {"a": 1},
                  "region_code": "140105"},
                 {"name": "x", "licence_no": "C1400002021061000000992", "enterprise_id": True,
                  "region_code": "140105"}):
        response = county_api.post("/api/v1/mine/", json=body)
        assert response.status_code in (400, 422), (body, response.get_json())
    enterprise = make_user("enterprise", enterprise=mine.enterprise)
    response = api(enterprise).post("/api/v1/predeclaration/", json={"mine_id": {"a": 1}, "year": 2027})
    assert response.status_code in (400, 422)
    for url in ("/api/v1/mine/99999999999999999999", "/api/v1/evaluation/99999999999999999999",
                "/api/v1/notification/99999999999/read"):
        assert county_api.get(url).status_code in (404, 405), url
    assert browser(make_user("county", "140105")).get("/mineview/show/99999999999999999999").status_code == 404
    assert county_api.get("/api/v1/notification/?page=32589158477190044731").status_code == 200


def test_a_number_too_large_for_its_column_is_a_400_not_a_500(make_mine, make_user, api, browser):
    mine = make_mine("140105")
    county_api = api(make_user("county", "140105"))
    huge = 99999999999999999999
    # in a filter (rison q), in a body field, in an HTML search
    response = county_api.get(f"/api/v1/mine/?q=(filters:!((col:enterprise_id,opr:eq,value:{huge})))")
    # PostgreSQL compares the column with a numeric and finds nothing; SQLite's driver refuses it.
    assert (response.status_code, response.get_json().get("message")) in ((200, None), (400, "数值超出允许范围。"))
    assert response.get_json().get("result", []) == []
    response = county_api.put(f"/api/v1/mine/{mine.id}", json={"employees": huge})
    assert response.status_code == 400, response.get_json()
    page = browser(make_user("county", "140105")).get(f"/mineview/list/?_flt_0_employees={huge}")
    assert page.status_code in (200, 400)
    # nothing was written, and the session goes on working
    assert county_api.get(f"/api/v1/mine/{mine.id}").get_json()["result"]["employees"] != huge


def test_a_second_agency_of_the_same_name_is_refused(make_user, api):
    client = api(make_user("province", "140000"))
    assert client.post("/api/v1/agency/", json={"name": "重复机构"}).status_code == 201
    response = client.post("/api/v1/agency/", json={"name": "重复机构"})
    assert response.status_code == 422 and response.get_json()["field"] == "name"


def test_a_body_that_fails_the_schema_gets_field_messages_in_chinese(make_user, api):
    response = api(make_user("county", "140105")).post("/api/v1/enterprise/", json={"name": "x", "region_code": None})
    assert response.status_code == 422
    assert response.get_json()["message"]["region_code"] == ["该字段不能为空。"]


def test_a_body_that_is_not_an_object_is_a_400(make_mine, make_user, api):
    mine = make_mine("140105")
    client = api(make_user("county", "140105"))
    for body in ([1, 2], 3, "text"):
        response = client.put(f"/api/v1/mine/{mine.id}", json=body)
        assert response.status_code == 400 and response.get_json()["message"] == "请求内容必须是一个 JSON 对象。"


def test_our_own_routes_read_a_body_that_is_not_an_object_as_empty(make_mine, make_user, api):
    """A list or a number as the body of a custom route is refused by the rule, never a 500."""
    mine = make_mine("140105")
    client = api(make_user("county", "140105"))
    for body in ([1, 2], 7):
        # no position given: the position is cleared, as with an empty object
        assert client.post(f"/api/v1/mine/{mine.id}/location", json=body).status_code == 200
        response = client.post(f"/api/v1/mine/{mine.id}/responsible", json=body)
        assert 400 <= response.status_code < 500, (body, response.get_json())
