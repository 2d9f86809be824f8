"""Test fixtures: one database per test session, migrated by Alembic, reference data and roles
loaded once; every test starts from that state (domain rows and users are deleted after each
test); factories build what a test needs.

The database is ``TEST_DATABASE_URL`` (a PostgreSQL URL in CI's PostgreSQL run), else a fresh
SQLite file. The suite is the same on both.
"""
from __future__ import annotations

import itertools
import os
import secrets
import tempfile

import pytest
from flask_jwt_extended import create_access_token
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text

TEST_PASSWORD = "Test#Passw0rd"
# Tables emptied after each test: everything but reference data and FAB's permission tables.
_DOMAIN_TABLES = [
    "audit_log", "notification", "login_throttle", "transition_log", "account_event", "notice", "attachment", "indicator_evidence",
    "surveillance_audit", "certification_score", "certification_pause", "certification_team_member",
    "certification_certificate", "certification_application",
    "spot_check_confirmation", "spot_check", "spot_check_team_member", "spot_check_team", "spot_check_campaign",
    "inspector", "problem_lead", "self_check",
    "certificate", "national_recommendation", "anomaly_entry", "directory_entry", "objection", "review_decision",
    "review_meeting", "evaluation_score", "agency_assignment", "agency_conflict", "province_indicator_adoption",
    "demo_zone_application", "fraud_finding", "application", "public_notice", "application_window",
    "predeclaration", "responsible_person", "ab_user_role", "ab_user_group", "ab_api_key", "ab_user",
    "mine", "enterprise", "agency", "certification_body",
]


def pytest_configure(config):
    # WTForms 3.3 deprecates the tuple choices that FAB 5.3 itself still builds.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:wtforms.*")
    _hold_the_day()


def _hold_the_day():
    """The whole run lives on the day it started (the deployment's day, app.clock): modules keep
    ``TODAY`` from import time, and a run that crosses midnight must not see the product move on to
    the next day under them. Tests that need another day pin the service's ``_today``."""
    from app import clock

    day = clock.today()
    clock.today = lambda: day


def _database_url() -> tuple[str, str | None]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url, None
    folder = tempfile.mkdtemp(prefix="gm-test-")
    return "sqlite:///" + os.path.join(folder, "test.db"), folder


@pytest.fixture(scope="session")
def app():
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.services import reference
    from app.services.roles import sync_roles

    url, _folder = _database_url()
    application = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "TESTING": True,
            "FAB_SAFE_REDIRECT_HOSTS": ["localhost"],
            "UPLOAD_FOLDER": tempfile.mkdtemp(prefix="gm-uploads-"),
            # Room for the concurrency tests' 20 simultaneous connections.
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "max_overflow": 40}
            if url.startswith("postgresql") else {},
        }
    )
    with application.app_context():
        _register_probe_view(application.appbuilder)
        upgrade()
        reference.load_all()
        sync_roles(application.appbuilder)
        db.session.remove()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------------------
# A test-only view with a real FAB action, to prove that the base class scopes FAB's
# `action` and `action_post` routes (the product's views have no FAB actions yet).
# ---------------------------------------------------------------------------
PROBE_ACTION_CALLS: list[int] = []


def _register_probe_view(appbuilder) -> None:
    from flask import redirect
    from flask_appbuilder.actions import action
    from flask_appbuilder.models.sqla.interface import SQLAInterface

    from app.models import Mine
    from app.web.base import ScopedModelView

    class MineProbeView(ScopedModelView):
        datamodel = SQLAInterface(Mine)
        route_base = "/mineprobe"
        list_columns = ["name"]

        @action("touch", "touch", "", "fa-hand-o-up", multiple=True, single=True)
        def touch(self, items):
            for item in items if isinstance(items, list) else [items]:
                PROBE_ACTION_CALLS.append(item.id)
            return redirect("/")

    appbuilder.add_view_no_menu(MineProbeView)


@pytest.fixture
def probe_action(app):
    """Grant the probe view's action to the county and city roles for one test."""
    sm = app.appbuilder.sm
    permission = sm.find_permission_view_menu("touch", "MineProbeView")
    for role in ("county", "city"):
        sm.add_permission_role(sm.find_role(role), permission)
    PROBE_ACTION_CALLS.clear()
    yield PROBE_ACTION_CALLS
    for role in ("county", "city"):
        sm.del_permission_role(sm.find_role(role), permission)


@pytest.fixture(autouse=True)
def _isolated(app):
    """Each test runs in its own app context and leaves the database as it found it."""
    from app.extensions import db

    ctx = app.app_context()
    ctx.push()
    app.appbuilder.sm.limiter.reset()
    yield
    db.session.rollback()
    db.session.remove()
    with db.engine.begin() as conn:
        # agency and ab_user point at each other (an agency's user; who disqualified it).
        conn.execute(text("UPDATE agency SET disqualified_by_id = NULL"))
        # A renewal names the certificate it renews, and the certificate its application.
        conn.execute(text("UPDATE certification_application SET previous_certificate_id = NULL"))
        for table in _DOMAIN_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))
    ctx.pop()


@pytest.fixture
def db_session(app):
    from app.extensions import db

    return db.session


# ---------------------------------------------------------------------------
# Factories
# ---------------------------------------------------------------------------
_counter = itertools.count(1)


@pytest.fixture
def make_region():
    """The real region with this GB/T 2260 code (reference data is loaded once)."""
    from app.extensions import db
    from app.models import Region

    def factory(code: str) -> Region:
        region = db.session.get(Region, code)
        assert region is not None, f"no region {code}"
        return region

    return factory


@pytest.fixture
def make_enterprise():
    from app.extensions import db
    from app.models import Enterprise
    from app.services.demo import demo_uscc

    import random

    rng = random.Random()

    def factory(region_code: str = "140105", name: str | None = None, **fields) -> Enterprise:
        n = next(_counter)
        enterprise = Enterprise(
            name=name or f"测试矿业{n}号有限公司",
            uscc=fields.pop("uscc", None) or demo_uscc(rng, region_code),
            region_code=region_code,
            **fields,
        )
        db.session.add(enterprise)
        db.session.commit()
        return enterprise

    return factory


@pytest.fixture
def make_mine(make_enterprise):
    from app.extensions import db
    from app.models import Mine, Mineral
    from app.services.demo import demo_licence

    def factory(region_code: str = "140105", enterprise=None, **fields) -> Mine:
        n = next(_counter)
        enterprise = enterprise or make_enterprise(region_code)
        mineral = db.session.query(Mineral).filter_by(name=fields.pop("mineral_name", "煤")).one()
        mine = Mine(
            name=fields.pop("name", f"测试矿{n}号"),
            licence_no=fields.pop("licence_no", demo_licence(region_code, 500000 + n)),
            enterprise=enterprise,
            mineral=mineral,
            mining_method=fields.pop("mining_method", "underground"),
            production_scale=fields.pop("production_scale", 60.0),
            region_code=region_code,
            **fields,
        )
        db.session.add(mine)
        db.session.commit()
        return mine

    return factory


@pytest.fixture
def make_agency():
    from app.extensions import db
    from app.models import Agency

    def factory(name: str | None = None) -> Agency:
        agency = Agency(name=name or f"测试评估机构{next(_counter)}")
        db.session.add(agency)
        db.session.commit()
        return agency

    return factory


@pytest.fixture
def make_certification_body():
    from app.extensions import db
    from app.models import CertificationBody

    def factory(name: str | None = None, **fields) -> CertificationBody:
        body = CertificationBody(name=name or f"测试认证机构{next(_counter)}", **fields)
        db.session.add(body)
        db.session.commit()
        return body

    return factory


def sample_jpeg() -> bytes:
    """A small, valid JPEG (for uploads)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 16), (30, 120, 60)).save(out, "JPEG")
    return out.getvalue()


def fill_checklist(record, user, skip: dict | None = None) -> None:
    """Upload the minimum number of photos of every checklist item that applies to ``record``
    (``skip[code]`` fewer for the items named)."""
    import io

    from werkzeug.datastructures import FileStorage

    from app.services import photo_checklist, uploads

    photo = sample_jpeg()
    for item in photo_checklist.items_for(record):
        for n in range(item.min_count - (skip or {}).get(item.code, 0)):
            uploads.attach("PreDeclaration", record.id, item.code,
                           FileStorage(stream=io.BytesIO(photo), filename=f"{item.code}-{n}.jpg"), user)


# A minimal PDF (for uploads of reports).
SAMPLE_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def upload_required_materials(owner_type: str, record, user, skip: tuple[str, ...] = ()) -> None:
    """Upload one PDF into every slot a submission of ``record`` requires
    (APPLICATION_REQUIRED_MATERIALS, CERTIFICATION_REQUIRED_MATERIALS), except the ``skip`` ones."""
    import io

    from werkzeug.datastructures import FileStorage

    from app.services import uploads

    for slot in uploads.required_slots(owner_type):
        if slot not in skip:
            uploads.attach(owner_type, record.id, slot,
                           FileStorage(stream=io.BytesIO(SAMPLE_PDF), filename=f"{slot}.pdf"), user)


@pytest.fixture
def without_photo_checklist(monkeypatch):
    """For tests where a pre-declaration is only the way in: its photo checklist (tested in
    tests/test_photo_checklist.py) is taken out of the submit guard."""
    from app.services import photo_checklist

    monkeypatch.setattr(photo_checklist, "check_complete", lambda *args, **kwargs: None)


@pytest.fixture
def make_user(app):
    """make_user(role, region_code=None, enterprise=None, agency=None) -> a committed user
    (a certifier: ``certification_body_id=body.id``)."""
    from app.extensions import db

    sm = app.appbuilder.sm

    def factory(role: str, region: str | None = None, enterprise=None, agency=None, **fields):
        n = next(_counter)
        user = sm.user_model(
            username=fields.pop("username", f"{role or 'nobody'}{n}"),
            first_name=fields.pop("first_name", role or "nobody"),
            last_name=fields.pop("last_name", str(n)),
            email=fields.pop("email", f"{role}{n}@test.invalid"),
            active=fields.pop("active", True),
            **fields,
        )
        from werkzeug.security import generate_password_hash

        user.password = generate_password_hash(TEST_PASSWORD)
        user.region_code = region
        user.enterprise_id = enterprise.id if enterprise is not None else None
        user.agency_id = agency.id if agency is not None else None
        db.session.add(user)
        user.roles = [sm.find_role(role)] if role else []
        db.session.commit()
        return user

    return factory


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------
def csrf_token_for(app, client) -> str:
    """A valid CSRF token for this client's session (what a rendered form would carry)."""
    with client.session_transaction() as session:
        raw = session.get("csrf_token")
        if not raw:
            raw = session["csrf_token"] = secrets.token_hex(20)
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


def _fresh_request_globals() -> None:
    """Tests run inside an app context, which Flask reuses for the test client's requests:
    forget what an earlier request cached in ``g`` (the logged-in user, the JWT), as a new
    request in production would."""
    from flask import g

    for key in list(vars(g)):
        delattr(g, key)


class Browser:
    """A test client logged in as ``user`` through the session, as the login form would do."""

    def __init__(self, app, user=None):
        self.app = app
        self.client = app.test_client()
        if user is not None:
            with self.client.session_transaction() as session:
                session["_user_id"] = str(user.id)
                session["_fresh"] = True
                # What the login records: the account's credentials version (app.services.accounts).
                session["gm_cv"] = user.credentials_version

    def get(self, url, **kwargs):
        _fresh_request_globals()
        return self.client.get(url, **kwargs)

    def post(self, url, data=None, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", csrf_token_for(self.app, self.client))
        _fresh_request_globals()
        return self.client.post(url, data=data, **kwargs)


class ApiClient:
    """A REST client with a bearer token for ``user`` (as /api/v1/security/login issues)."""

    def __init__(self, app, user=None):
        self.client = app.test_client()
        self.headers = {}
        if user is not None:
            self.headers["Authorization"] = "Bearer " + create_access_token(identity=str(user.id), fresh=True)

    def _call(self, method, url, **kwargs):
        headers = dict(self.headers, **kwargs.pop("headers", {}))
        _fresh_request_globals()
        return getattr(self.client, method)(url, headers=headers, **kwargs)

    def get(self, url, **kwargs):
        return self._call("get", url, **kwargs)

    def post(self, url, **kwargs):
        return self._call("post", url, **kwargs)

    def put(self, url, **kwargs):
        return self._call("put", url, **kwargs)

    def delete(self, url, **kwargs):
        return self._call("delete", url, **kwargs)


@pytest.fixture
def browser(app):
    return lambda user=None: Browser(app, user)


@pytest.fixture
def api(app):
    return lambda user=None: ApiClient(app, user)


def is_postgres(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def pdf_layout(pdf: bytes):
    """What a reader sees of a PDF: its page count, the first page's (width, height) in points,
    its text, and the heights (y, from the bottom) at which text is drawn on it."""
    import io
    from types import SimpleNamespace

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    page = reader.pages[0]
    heights: list[float] = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            heights.append(float(cm[5]) + float(tm[5]) * float(cm[3]))

    text = page.extract_text(visitor_text=visit)
    box = page.mediabox
    return SimpleNamespace(pages=len(reader.pages), size=(float(box.width), float(box.height)), text=text,
                           heights=heights)
