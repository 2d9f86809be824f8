"""Every registered URL needs a permission, except the pages listed here as public. (The anonymous
caller and a county user are walked over every route in tests/test_route_guard.py.)"""
import re


from tests.conftest import csrf_token_for

# Endpoints anyone may reach, and why.
PUBLIC_ENDPOINTS = {
    "static": "static files",
    "appbuilder.static": "FAB's static files",
    "AuthDBView.login": "the login page",
    "AuthDBView.logout": "logging out",
    "LocaleView.index": "switching the language",
    "UtilView.back": "a redirect to the previous page",
    "HomeView.index": "redirects anonymous users to the login page",
    "SecurityApi.login": "REST login",
    "PublicView.index": "the public pages (SPEC F3): redirect to the directory",
    "PublicView.directory": "the public directory (SPEC F3)",
    "PublicView.verify": "public certificate verification (SPEC F3)",
    "PublicView.verify_json": "public certificate verification as JSON",
    "PublicView.directory_json": "the public directory as JSON",
    "PublicView.certifications": "the public list of certified green mines (SPEC G3)",
    "PublicView.certifications_json": "the public list of certified green mines as JSON",
    "PublicView.spot_checks": "the published spot checks (SPEC H2, 双随机一公开)",
    "PublicView.spot_check": "one published spot check: its draw and results",
    "PublicView.spot_checks_json": "the published spot checks as JSON",
    "PublicView.spot_check_json": "one published spot check as JSON, enough to replay the draw",
    "PublicView.notices": "the provinces' public notices of selection results (seed 001 二(五), issue 19.3)",
    "PublicView.notice": "one public notice: its mines, period and contact, and the objection form",
    "PublicView.file_objection": "anyone files an objection while the notice runs (CSRF, throttled per address)",
    "PublicView.notices_json": "the public notices as JSON",
    "PublicView.notice_json": "one public notice as JSON",
    "SecurityApi.refresh": "REST token refresh (needs a refresh token)",
}
# A request that succeeds: what an unauthorised caller must never get.
SUCCESS = {200, 201, 204}


def _url_for(rule) -> str:
    url = rule.rule
    for argument in rule.arguments:
        converter = rule._converters[argument].__class__.__name__
        value = "1" if converter in ("IntegerConverter",) or argument in ("pk", "id") else "x"
        url = re.sub(r"<(?:[^:<>]+:)?%s>" % re.escape(argument), value, url)
    return url


def _rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def _call(app, client, method, url):
    kwargs = {}
    if method in ("POST", "PUT", "DELETE", "PATCH"):
        if url.startswith("/api/"):
            kwargs["json"] = {}
            kwargs["headers"] = {"X-CSRFToken": csrf_token_for(app, client)}
        else:
            kwargs["data"] = {"csrf_token": csrf_token_for(app, client)}
    return client.open(url, method=method, **kwargs)


def test_every_rule_refuses_a_user_without_permissions(app, make_user):
    from flask_jwt_extended import create_access_token

    user = make_user(None)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["gm_cv"] = user.credentials_version
        session["_fresh"] = True
    reachable = []
    for rule, method in _rules(app):
        from tests.conftest import _fresh_request_globals

        _fresh_request_globals()
        url = _url_for(rule)
        if url.startswith("/api/"):
            token = create_access_token(identity=str(user.id), fresh=True)
            response = client.open(url, method=method, headers={"Authorization": f"Bearer {token}"},
                                   json={} if method != "GET" else None)
        else:
            response = _call(app, client, method, url)
        if response.status_code in SUCCESS:
            reachable.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert reachable == []


def test_the_public_list_is_small_and_real(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(PUBLIC_ENDPOINTS) <= endpoints
