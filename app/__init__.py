"""The application factory. No seeding and no create_all here: Alembic owns the schema and
the `flask gm` commands load reference data, roles and demo data."""
from __future__ import annotations

import os
from typing import Any, Optional

from flask import Flask, request
from flask_appbuilder import AppBuilder
from sqlalchemy.orm import Session

from app.extensions import csrf, db, migrate

# Paths whose POST carries no cookie credentials (JSON login, token refresh): CSRF does not apply.
_CSRF_EXEMPT_PATHS = ("/api/v1/security/login", "/api/v1/security/refresh")
# Upload endpoints with a smaller request limit than MAX_CONTENT_LENGTH: the config key of the
# largest file. Applied before anything reads the body (the CSRF check reads the form).
_UPLOAD_LIMITS = {
    "MineExcelView.upload": "IMPORT_MAX_BYTES",
    "AttachmentView.upload": "UPLOAD_VIDEO_MAX_BYTES",
    "AttachmentApi.upload": "UPLOAD_VIDEO_MAX_BYTES",
    # The public objection form: its evidence files together (app.services.public_notices).
    "PublicView.file_objection": "PUBLIC_OBJECTION_REQUEST_MAX_BYTES",
}
# Room for the multipart envelope and the other form fields around the file.
_MULTIPART_OVERHEAD = 64 * 1024


class InsecureConfiguration(RuntimeError):
    pass


def create_app(overrides: Optional[dict[str, Any]] = None) -> Flask:
    app = Flask(__name__)
    app.config.from_object("config")
    if overrides:
        app.config.update(overrides)
    _check_production_config(app)
    # A malformed STORAGE_URL (or presigning setting) stops the start, not the first upload.
    from app.services.storage import check_configuration

    check_configuration(app)
    _ensure_sqlite_folder(app.config["SQLALCHEMY_DATABASE_URI"])
    _configure_limiter_storage(app)
    _install_proxy_fix(app)

    from app.services.passwords import validate_password_complexity

    app.config["FAB_PASSWORD_COMPLEXITY_VALIDATOR"] = validate_password_complexity
    # The CSRF check runs in our before_request (below) so that token-authenticated API calls
    # can be told apart from cookie-authenticated ones.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "migrations"))
    csrf.init_app(app)

    from app.services import audit
    from app.services.workflow import install_status_guard

    install_status_guard(Session)
    audit.install(Session)

    with app.app_context():
        from app import models  # noqa: F401  (register the models on the metadata)

        from app.security import GreenMineSecurityManager
        from app.views.home import HomeView
        from app.views.widgets import keep_blank_choices_blank
        from app.web.base import cache_rison_validators, document_field_errors
        from app.web.datamodel import escape_like_in_every_filter

        cache_rison_validators()
        keep_blank_choices_blank()
        escape_like_in_every_filter()
        document_field_errors()

        appbuilder = AppBuilder(update_perms=False, security_manager_class=GreenMineSecurityManager,
                                indexview=HomeView)
        appbuilder.init_app(app, db.session)
        _register_views(appbuilder)
        _limit_api_login(app, appbuilder)
        # A required-materials setting naming a slot that does not exist stops the start too
        # (after FAB's set-up: the slots' labels need the translations).
        from app.services.uploads import check_required_materials_configuration

        check_required_materials_configuration(app)
    # After FAB's own before_request (which sets g.user), so that a refusal page can render.
    from app.web.base import refuse_unknown_actions

    app.before_request(refuse_unknown_actions)
    _install_csrf_check(app)
    _install_account_guards(app, appbuilder)
    from app.web.base import check_paging_args, check_path_ids

    app.before_request(check_paging_args)
    app.before_request(check_path_ids)

    from app import cli, errors
    from app.services.roles import role_label
    from app.services.workflow import action_label

    from app.views.formatting import COUNT_PLACEHOLDER, display_value, html_lang, local_datetime, widget_words

    # FAB's templates indent every block tag: without this a list of 100 mines is 290 KB, a
    # third of it blank lines (issue 7: no page over 200 KB). Only whitespace around block
    # tags goes; the text and the markup stay.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    # None, True/False and Python lists never reach a page as such (app.views.formatting).
    app.jinja_env.finalize = display_value
    from app.web.base import empty_hint

    app.jinja_env.globals.update(role_label=role_label, action_label=action_label, gm_widget_words=widget_words,
                                 gm_count_placeholder=COUNT_PLACEHOLDER, gm_html_lang=html_lang,
                                 gm_empty_hint=empty_hint)
    app.jinja_env.filters["local_datetime"] = local_datetime
    cli.register(app)
    errors.register(app)
    return app


# The values GM_ENV may take (config.py): anything else, a typo of "production" say, would
# quietly run the development defaults.
GM_ENVIRONMENTS = ("development", "production")
SECRET_KEY_MIN_LENGTH = 32
# A random key of 32 characters has a dozen or more different ones; fewer looks typed by hand.
SECRET_KEY_MIN_DISTINCT_CHARACTERS = 6


def secret_key_problem(key: str, public_keys: tuple[str, ...]) -> Optional[str]:
    """Why ``key`` is no secret key for production, or None."""
    if not key.strip():
        return "SECRET_KEY is blank"
    if key in public_keys:
        return "SECRET_KEY is a published key (the development key or the README's example)"
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"SECRET_KEY is shorter than {SECRET_KEY_MIN_LENGTH} characters"
    if len(set(key)) < SECRET_KEY_MIN_DISTINCT_CHARACTERS:
        return f"SECRET_KEY has fewer than {SECRET_KEY_MIN_DISTINCT_CHARACTERS} different characters"
    if any(key == (key[:period] * (len(key) // period + 1))[:len(key)] for period in range(1, len(key) // 2 + 1)):
        return "SECRET_KEY repeats a shorter sequence"
    return None


def _check_production_config(app: Flask) -> None:
    """Refuse to start with an unknown GM_ENV, and in production with a public or weak key."""
    environment = app.config.get("GM_ENV")
    if environment not in GM_ENVIRONMENTS:
        raise InsecureConfiguration(
            f"GM_ENV={environment!r} is not one of {', '.join(GM_ENVIRONMENTS)}: set GM_ENV=production on a "
            "server, or leave it unset (development)."
        )
    if environment != "production":
        return
    public_keys = tuple(key for key in (app.config.get("DEVELOPMENT_SECRET_KEY"),
                                        app.config.get("EXAMPLE_SECRET_KEY")) if key)
    problem = secret_key_problem(str(app.config.get("SECRET_KEY") or ""), public_keys)
    if problem is not None:
        raise InsecureConfiguration(
            f"GM_ENV=production needs SECRET_KEY set in the environment to a random value of at least "
            f"{SECRET_KEY_MIN_LENGTH} characters of its own, but {problem} "
            "(make one with python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    app.config["SESSION_COOKIE_SECURE"] = True
    app.config["REMEMBER_COOKIE_SECURE"] = True


# Flask-Limiter storages that live outside the process (shared by every worker and server).
_SHARED_LIMITER_SCHEMES = ("redis", "rediss", "redis+unix", "redis+cluster", "redis+sentinel", "valkey",
                           "valkeys", "valkey+unix", "valkey+cluster", "valkey+sentinel")


def _configure_limiter_storage(app: Flask) -> None:
    """FAB's limiter (the HTML login, and the REST login limited in _limit_api_login) is built
    by Flask-Limiter from RATELIMIT_STORAGE_URI. For Redis, the deployment's RATELIMIT_KEY_PREFIX
    also becomes the storage's own key prefix: Flask-Limiter puts it into each counter's key,
    but the storage's reset() deletes every key under the storage prefix ("LIMITS" by default),
    which would clear the counts of every other deployment (or test run) on the same Redis."""
    uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    scheme = uri.split("://", 1)[0].lower()
    if scheme in _SHARED_LIMITER_SCHEMES:
        prefix = app.config.get("RATELIMIT_KEY_PREFIX") or ""
        options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        if prefix:
            options.setdefault("key_prefix", f"LIMITS:{prefix}")
        app.config["RATELIMIT_STORAGE_OPTIONS"] = options
    elif app.config.get("GM_ENV") == "production" and scheme == "memory":
        # Right for one process only; several workers would each allow the full limit.
        app.logger.warning("RATELIMIT_STORAGE_URI is memory://: login limits are counted per process. "
                           "Set it to redis://... when more than one process serves.")


def _install_proxy_fix(app: Flask) -> None:
    """Behind a reverse proxy, trust its X-Forwarded-For / -Proto / -Host for as many hops as
    configured (PROXY_FIX_X_*; 0 ignores the header, and all 0 installs nothing): the client's
    address (rate limits, lock-out, audit), https (Secure cookies, CSRF's referrer check) and
    the public host (external URLs, the certificate's QR code) are then those the proxy saw."""
    hops = {}
    for name in ("x_for", "x_proto", "x_host"):
        value = int(app.config.get(f"PROXY_FIX_{name.upper()}") or 0)
        if value < 0:
            raise ValueError(f"PROXY_FIX_{name.upper()} must be 0 or the number of trusted proxies, not {value}.")
        hops[name] = value
    if any(hops.values()):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_port=0, x_prefix=0, **hops)  # type: ignore[method-assign]


def _ensure_sqlite_folder(uri: str) -> None:
    """The embedded default lives in instance/, which a fresh checkout does not have."""
    prefix = "sqlite:///"
    if uri.startswith(prefix) and uri != prefix + ":memory:":
        folder = os.path.dirname(os.path.abspath(uri[len(prefix):]))
        os.makedirs(folder, exist_ok=True)


def _install_csrf_check(app: Flask) -> None:
    @app.before_request
    def _csrf_protect():
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return None
        limit_key = _UPLOAD_LIMITS.get(request.endpoint or "")
        if limit_key:
            request.max_content_length = app.config[limit_key] + _MULTIPART_OVERHEAD
        if request.path in _CSRF_EXEMPT_PATHS:
            return None
        # A bearer token is never sent by a browser on its own: such a request is not forgeable.
        if request.path.startswith("/api/") and request.headers.get("Authorization", "").startswith("Bearer "):
            return None
        csrf.protect()
        return None


# Where a user whose password was reset (or set by someone else) may still go before choosing
# a new one.
_OPEN_WHILE_PASSWORD_MUST_CHANGE = {
    "AccountView.password", "AuthDBView.login", "AuthDBView.logout", "LocaleView.index", "static",
    "appbuilder.static",
}


def _install_account_guards(app: Flask, appbuilder: AppBuilder) -> None:
    """A session or token older than the account's credentials version is refused, from any
    address: the version rises at logout, with every password set, and when the account's roles,
    binding or active flag change. A password set by someone else must be changed before
    anything else (app.services.accounts)."""
    from flask import flash, g, jsonify, redirect, session, url_for
    from flask_babel import gettext as _
    from flask_login import current_user, logout_user, user_logged_in

    from app.services import accounts

    @user_logged_in.connect_via(app)
    def _remember_credentials(sender, user, **extra):
        session[accounts.SESSION_KEY] = user.credentials_version
        # Permanent: the session expires PERMANENT_SESSION_LIFETIME after the last request.
        session.permanent = True

    @appbuilder.sm.jwt_manager.additional_claims_loader
    def _token_claims(identity):
        user = appbuilder.sm.get_user_by_id(int(identity))
        return {accounts.TOKEN_CLAIM: user.credentials_version if user is not None else -1}

    @app.before_request
    def _check_account():
        user = current_user
        if not getattr(user, "is_authenticated", False):
            return None
        api = request.path.startswith("/api/")
        if not accounts.credentials_current(user, session.get(accounts.SESSION_KEY)):
            logout_user()
            session.pop(accounts.SESSION_KEY, None)
            g.user = current_user
            message = _("Your session has ended (you signed out, or the account's password or roles "
                        "changed); please sign in again.")
            if api:
                return jsonify(message=message), 401
            flash(message, "warning")
            return redirect(url_for("AuthDBView.login"))
        if user.must_change_password and request.endpoint not in _OPEN_WHILE_PASSWORD_MUST_CHANGE:
            message = _("Your password was reset: choose a new one before you go on.")
            if api:
                return jsonify(message=message), 403
            flash(message, "warning")
            return redirect(url_for("AccountView.password"))
        return None


def _limit_api_login(app: Flask, appbuilder: AppBuilder) -> None:
    """FAB limits the HTML login only; the REST login gets the same limit. A REST login refused
    by the lock-out (app.services.login_throttle) answers 429 with the reason, not a bare 401."""
    from flask import g, jsonify

    from app.security import LOGIN_REFUSAL

    @app.after_request
    def _explain_login_lock(response):
        refusal = g.pop(LOGIN_REFUSAL, None)
        if refusal is None or request.endpoint != "SecurityApi.login" or response.status_code != 401:
            return response
        locked = jsonify(message=str(refusal))
        locked.status_code = 429
        locked.headers["Retry-After"] = str(refusal.retry_after_seconds)
        return locked

    if not app.config.get("AUTH_RATE_LIMITED"):
        return
    from flask_appbuilder.security.api import SecurityApi

    for view in appbuilder.baseviews:
        if isinstance(view, SecurityApi):
            appbuilder.sm.limiter.limit(app.config["AUTH_RATE_LIMIT"], methods=["POST"])(view.blueprint)


def _register_views(appbuilder: AppBuilder) -> None:
    from flask_babel import lazy_gettext as _l

    from app import api
    from app.views import account, applications, attachments, mine_excel, notices, notifications, statistics
    from app.views.predeclaration import PreDeclarationView
    from app.views.process import AuditLogView, TransitionLogView
    from app.views.reference import MineralView, MineSizeThresholdView, RegionView
    from app.views.registry import EnterpriseView, MineView

    registry = _l("Mine registry")
    green = _l("Green mines")
    reference = _l("Reference data")
    appbuilder.add_view(MineView, "Mines", label=_l("Mines"), icon="fa-industry",
                        category="Registry", category_label=registry, category_icon="fa-database")
    appbuilder.add_view(EnterpriseView, "Enterprises", label=_l("Enterprises"), icon="fa-building",
                        category="Registry")
    statistics.register(appbuilder)
    mine_excel.register(appbuilder)
    appbuilder.add_view(PreDeclarationView, "Pre-declarations", label=_l("Pre-declarations"),
                        icon="fa-file-text-o", category="GreenMine", category_label=green,
                        category_icon="fa-leaf")
    applications.register(appbuilder)
    attachments.register(appbuilder)
    appbuilder.add_view(TransitionLogView, "Process log", label=_l("Process log"), icon="fa-history",
                        category="GreenMine")
    appbuilder.add_view(RegionView, "Regions", label=_l("Administrative regions"), icon="fa-map",
                        category="Reference", category_label=reference, category_icon="fa-book")
    appbuilder.add_view(MineralView, "Minerals", label=_l("Mineral catalogue"), icon="fa-diamond",
                        category="Reference")
    appbuilder.add_view(MineSizeThresholdView, "Mine size thresholds", label=_l("Mine size thresholds"),
                        icon="fa-sliders", category="Reference")
    # Evaluation and agencies (E1-E3), selection (E4, E5, E7, E8), directory and certificates
    # (E6, F1, F2, F4), the public pages (F3).
    from app.views import directory, evaluation, fraud, public, selection

    for domain in (evaluation, selection, directory, fraud, public):
        domain.register(appbuilder)
    # Spot checks (H1-H6): self-checks and problem leads; campaigns, inspectors, records;
    # the summary table, the report and the public results.
    from app.views import selfchecks, spotcheck_reports, spotchecks

    for domain in (selfchecks, spotchecks, spotcheck_reports):
        domain.register(appbuilder)
    # Certification (G1-G4): bodies, applications with their team and clock, certificates and
    # surveillance audits.
    from app.views import certification, surveillance

    for domain in (certification, surveillance):
        domain.register(appbuilder)
    account.register(appbuilder)
    notifications.register(appbuilder)
    notices.register(appbuilder)
    appbuilder.add_view(AuditLogView, "Audit trail", label=_l("Audit trail"), icon="fa-eye", category="Security")
    api.register(appbuilder)
