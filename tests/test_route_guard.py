"""The guard of issue 16, point 7: every URL rule that Flask knows (FAB's own routes, its REST
resources and ours alike, read from ``app.url_map``, not from a hand-written list), called by an
anonymous user and by a county user, is either

- refused (401, 403, 404, 405, 400, or a redirect to the login page or home), or
- scoped: the answer names no record and no account outside the user's scope, and nothing outside
  the scope changed, or
- one of the public routes of ``tests/test_urls.PUBLIC_ENDPOINTS``, each with its reason.

The county user calls each route with the ids of records *outside* its county, of the kind the
route serves, so that an unscoped route shows itself by answering with them. A new route without
a rule, a FAB route that goes around the scope, or a lookup that pages through the country fails
here, with every offending route listed.
"""
from __future__ import annotations

import io
import itertools
import json
import zipfile
import re
from urllib.parse import quote
from typing import Iterator, Optional

from flask_appbuilder import BaseView
from flask_jwt_extended import create_access_token
from sqlalchemy import inspect, select

from app.extensions import db
from app.services import demo, scoping
from tests.conftest import _fresh_request_globals, csrf_token_for
from tests.test_urls import PUBLIC_ENDPOINTS

COUNTY_USER = "xiaodian"  # 小店区 (140105) in the demo data
REFUSED = {400, 401, 403, 404, 405, 409, 413, 415, 422, 429}
REDIRECTS = {301, 302, 303, 307, 308}
UNKNOWN_ACTION = "no_such_action"
# Path arguments whose value is not a record: what to put there.
PLAIN_ARGUMENTS = {
    "filename": ["x"], "locale": ["zh"], "group_by": ["username"], "level": ["county", "city", "province"],
    "source": ["enterprise", "agency", "certifier", "body"], "slot": ["photo"], "number": ["x"],
}
# Path arguments that name a record of another kind than the route's own model.
RECORD_ARGUMENTS = {
    "attachment_id": "Attachment", "member_id": "CertificationTeamMember",
    "certificate_pk": "CertificationCertificate", "campaign_id": "SpotCheckCampaign",
    "notification_id": "Notification", "role_id": "Role", "user_id": "GreenMineUser", "owner_id": None,
}


def _models() -> dict[str, type]:
    return {mapper.class_.__name__: mapper.class_ for mapper in db.Model.registry.mappers}


def _is_outside(user, record) -> bool:
    """Outside the user's reach: the scope rule says so, and the row is not one of his own (his
    notifications and account events belong to him, not to a region)."""
    model = type(record)
    if scoping.scope_path(model) is None and getattr(record, "user_id", None) == user.id:
        return False
    if model.__name__ == "GreenMineUser" and record.id == user.id:
        return False
    return not scoping.can_access(user, record, scoping.READ)


class Outside:
    """For a user: one record of each kind that lies outside his scope, and the strings by which
    an answer would show that it leaked such a record or an account he may not know."""

    def __init__(self, user) -> None:
        self.user = user
        self.ids: dict[type, int] = {}
        self.markers: set[str] = set()
        models = _models()
        for model in models.values():
            self._find_outside(model)
        mine, enterprise = models["Mine"], models["Enterprise"]
        inside_names = set()
        self.sample_names: list[str] = []
        for record in db.session.scalars(select(mine)):
            if scoping.can_access(user, record, scoping.READ):
                inside_names.update({record.name, record.licence_no})
            else:
                self.markers.update({record.licence_no, record.name})
        for record in db.session.scalars(select(enterprise)):
            if scoping.can_access(user, record, scoping.READ):
                inside_names.update({record.name, record.uscc})
            else:
                self.markers.update({record.uscc, record.name})
        self.markers.update(self._foreign_accounts(models["GreenMineUser"]))
        # A marker contained in a name the user may see would be found on his own pages.
        self.markers = {m for m in self.markers
                        if m and len(m) >= 4 and not any(m in name for name in inside_names if name)}
        self.attachment = self._outside_attachment(models["Attachment"])
        for model in (mine, enterprise):
            record = db.session.get(model, self.ids[model])
            self.sample_names.append(record.name)

    def _find_outside(self, model) -> None:
        primary = inspect(model).primary_key
        if len(primary) != 1:
            return
        for record in db.session.scalars(select(model).order_by(primary[0]).limit(500)):
            if _is_outside(self.user, record):
                self.ids[model] = inspect(record).identity[0]
                return

    def _foreign_accounts(self, user_model) -> set[str]:
        """Logins (and mail addresses) of staff and enterprise accounts bound to regions that are
        neither within the user's region nor above it, or to enterprises outside his scope."""
        own = self.user.region_code or ""
        foreign = set()
        for account in db.session.scalars(select(user_model)):
            region = account.region_code or ""
            outside_region = region and not (region.startswith(own) or own.startswith(region.rstrip("0")))
            outside_enterprise = account.enterprise is not None and not scoping.can_access(
                self.user, account.enterprise, scoping.READ)
            if account.id != self.user.id and (outside_region or outside_enterprise):
                foreign.update({account.username, account.email})
        return foreign

    def _outside_attachment(self, attachment_model):
        attachment_id = self.ids.get(attachment_model)
        return db.session.get(attachment_model, attachment_id) if attachment_id else None

    def id_of(self, model_name: Optional[str]) -> int:
        model = _models().get(model_name or "")
        # No record of that kind outside the scope: an id that exists nowhere.
        return self.ids.get(model, 2_000_000_000) if model is not None else 2_000_000_000

    def leaks(self, text: str) -> list[str]:
        return sorted(m for m in self.markers
                      if re.search(r"(?<![\w@.-])" + re.escape(m) + r"(?![\w@-])", text))


def _views_by_endpoint_prefix(app) -> dict[str, BaseView]:
    return {view.__class__.__name__: view for view in app.appbuilder.baseviews}


def _model_of(view) -> Optional[str]:
    datamodel = getattr(view, "datamodel", None)
    return getattr(getattr(datamodel, "obj", None), "__name__", None)


def _argument_values(rule, view, outside: Outside) -> Iterator[dict[str, str]]:
    """Every combination of values to try for the rule's path arguments."""
    choices: dict[str, list[str]] = {}
    for argument in rule.arguments:
        if argument in ("pk", "id"):
            choices[argument] = [str(outside.id_of(_model_of(view)))]
        elif argument == "name":
            known = list(getattr(view, "actions", {}) or {})
            choices[argument] = known + [UNKNOWN_ACTION]
        elif argument == "field":
            choices[argument] = list(getattr(view, "search_choices", {}) or {}) or ["x"]
        elif argument == "owner_type":
            attachment = outside.attachment
            choices[argument] = [attachment.owner_type if attachment is not None else "application"]
        elif argument == "owner_id":
            attachment = outside.attachment
            choices[argument] = [str(attachment.owner_id if attachment is not None else outside.id_of("Application"))]
        elif argument in RECORD_ARGUMENTS:
            choices[argument] = [str(outside.id_of(RECORD_ARGUMENTS[argument]))]
        else:
            choices[argument] = PLAIN_ARGUMENTS.get(argument, ["x"])
    names = sorted(choices)
    for values in itertools.product(*(choices[name] for name in names)):
        yield dict(zip(names, values))


def _url(rule, values: dict[str, str]) -> str:
    url = rule.rule
    for argument, value in values.items():
        url = re.sub(r"<(?:[^:<>]+:)?%s>" % re.escape(argument), value, url)
    return url


def _calls(app, outside: Outside) -> Iterator[tuple[str, str, str]]:
    views = _views_by_endpoint_prefix(app)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        view = views.get(rule.endpoint.split(".", 1)[0])
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for values in _argument_values(rule, view, outside):
                yield rule.endpoint, method, _url(rule, values)


class Caller:
    """One user's requests: through the session cookie for pages, a bearer token for the API;
    signed in again whenever a route (logout, a password change) ended the session."""

    def __init__(self, app, user=None) -> None:
        self.app, self.user = app, user
        self._sign_in()

    def _sign_in(self) -> None:
        self.client = self.app.test_client()
        self.headers: dict[str, str] = {}
        if self.user is None:
            return
        db.session.refresh(self.user)
        self.version = self.user.credentials_version
        with self.client.session_transaction() as session:
            session["_user_id"] = str(self.user.id)
            session["_fresh"] = True
            session["gm_cv"] = self.user.credentials_version
        self.headers["Authorization"] = "Bearer " + create_access_token(identity=str(self.user.id), fresh=True)

    def call(self, method: str, url: str, query: str = ""):
        if self.user is not None:
            db.session.refresh(self.user)
            if self.user.credentials_version != self.version or self.user.must_change_password:
                self.user.must_change_password = False
                db.session.commit()
                self._sign_in()
        self.flashed_error()  # a message left by an earlier answer is not this one's
        _fresh_request_globals()
        kwargs: dict = {}
        api = url.startswith("/api/")
        if api:
            kwargs["headers"] = dict(self.headers)
            if method in ("POST", "PUT", "PATCH", "DELETE"):
                kwargs["json"] = {}
        elif method in ("POST", "PUT", "PATCH", "DELETE"):
            kwargs["data"] = {"csrf_token": csrf_token_for(self.app, self.client)}
        response = self.client.open(url + query, method=method, **kwargs)
        db.session.rollback()  # what the request committed is read afresh
        return response

    def flashed_error(self) -> bool:
        """Whether the last answer left an error message for the next page (and forget it)."""
        with self.client.session_transaction() as session:
            flashes = session.pop("_flashes", [])
        return any(category == "danger" for category, _message in flashes)


def _visible_text(response) -> str:
    """What the answer says, also inside the files it returns (an Excel table, a PDF)."""
    data = response.get_data()
    if data.startswith(b"%PDF"):
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
                              if name.endswith(".xml"))
    text = data.decode("utf-8", "replace")
    if response.is_json:
        # JSON escapes Chinese (\\u5c0f…): compare with what a reader sees.
        return json.dumps(response.get_json(silent=True), ensure_ascii=False)
    return text


def _refused(response, caller: "Caller") -> bool:
    """Refused: an error status, a redirect to the login page or home, or a redirect that
    carries an error message (FAB's "access denied" and our refusals are flashed as danger)."""
    if response.status_code in REFUSED:
        return True
    if response.status_code in REDIRECTS:
        location = response.headers.get("Location", "")
        return "/login" in location or location in ("/", "http://localhost/") or caller.flashed_error()
    return False


def _snapshot(outside: Outside) -> dict[tuple[str, int], tuple]:
    """The rows outside the user's scope, column by column: nothing the user does may change them."""
    rows = {}
    for model in _models().values():
        table = getattr(model, "__table__", None)
        primary = inspect(model).primary_key
        if table is None or len(primary) != 1 or model.__name__ in ("AuditLog", "LoginThrottle"):
            continue
        for record in db.session.scalars(select(model)):
            if _is_outside(outside.user, record):
                rows[(model.__name__, inspect(record).identity[0])] = tuple(
                    str(getattr(record, column.key, None)) for column in inspect(model).column_attrs
                    if column.key not in ("last_login", "login_count", "fail_login_count"))
    return rows


def _seeded_county_user(app):
    from app.models import GreenMineUser

    demo.seed_demo()
    db.session.commit()
    user = db.session.scalar(select(GreenMineUser).where(GreenMineUser.username == COUNTY_USER))
    user.must_change_password = False
    db.session.commit()
    return user


def test_every_route_refuses_an_anonymous_caller_or_is_public(app):
    """Anonymous: every route that is not on the public list is refused, whatever its arguments
    (an unknown action name included)."""
    outside = Outside(_seeded_county_user(app))
    caller = Caller(app)
    reachable = []
    for endpoint, method, url in _calls(app, outside):
        response = caller.call(method, url)
        if response.status_code >= 500 or not _refused(response, caller):
            reachable.append(f"{method} {url} ({endpoint}): {response.status_code}")
    assert reachable == [], "\n".join(reachable)


def test_every_route_refuses_a_county_user_or_answers_within_his_county(app):
    user = _seeded_county_user(app)
    outside = Outside(user)
    # The test can fail: there are records of every main kind, and accounts, outside the county.
    models = _models()
    for name in ("Mine", "Enterprise", "PreDeclaration", "Application", "DirectoryEntry", "Certificate",
                 "SpotCheckCampaign", "GreenMineUser", "Attachment"):
        assert models[name] in outside.ids, name
    assert len(outside.markers) > 100
    before = _snapshot(outside)
    caller = Caller(app, user)
    failures, calls = [], 0
    for endpoint, method, url in _calls(app, outside):
        # A search-as-you-type lookup is asked for records outside the county by their names.
        queries = [""]
        if endpoint.endswith(".choices"):
            queries = ["?q=" + quote(name) for name in outside.sample_names]
        for query in queries:
            response = caller.call(method, url, query)
            calls += 1
            if response.status_code >= 500:
                failures.append(f"{method} {url}{query} ({endpoint}): {response.status_code}")
                continue
            if _refused(response, caller):
                continue
            leaked = outside.leaks(_visible_text(response))
            if leaked:
                failures.append(f"{method} {url}{query} ({endpoint}): {response.status_code} shows {leaked[:5]}")
    changed = sorted(key for key, row in _snapshot(outside).items() if before.get(key, row) != row)
    removed = sorted(set(before) - set(_snapshot(outside)))
    assert failures == [], "\n".join(failures)
    assert changed == [] and removed == []
    assert calls > 600
