"""Configuration of the green-mine management information system.

Every value here is a documented default. Anything secret or site-specific comes from the
environment: ``DATABASE_URL``, ``SECRET_KEY``, ``GM_ENV``, ``RATELIMIT_STORAGE_URI``,
``RATELIMIT_KEY_PREFIX``, ``PROXY_FIX_X_FOR`` / ``_X_PROTO`` / ``_X_HOST``,
``SAFE_REDIRECT_HOSTS``, ``UPLOAD_FOLDER`` or ``STORAGE_URL`` (with ``S3_ENDPOINT_URL``, ``S3_REGION``
and boto3's credentials). ``create_app(overrides)`` applies test or CLI overrides last.
"""
import os

BASE_DIR = os.path.abspath(os.path.dirname(__file__))

# ---------------------------------------------------------------------------
# Environment
# ---------------------------------------------------------------------------
# "development" (default, embedded SQLite, demo-friendly) or "production"; create_app()
# refuses any other value. In production the app refuses to start without a strong SECRET_KEY
# of its own (not blank, at least 32 characters, not a repeated character or sequence, not one
# of the published keys below), and cookies are marked Secure (HTTPS only).
GM_ENV = os.environ.get("GM_ENV", "development")

# Published keys, refused in production: the development key (it is in this file) and the
# example of the README's deployment section (people copy examples).
DEVELOPMENT_SECRET_KEY = "development-only-not-secret-0f3b9c"
EXAMPLE_SECRET_KEY = "d05243339f43f2301b2e06e697faef191080c036d46df3393d65f400769aae3b"
SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)

# ---------------------------------------------------------------------------
# Database: PostgreSQL in production (postgresql+psycopg2://user@host/db),
# an SQLite file under instance/ by default.
# ---------------------------------------------------------------------------
SQLALCHEMY_DATABASE_URI = os.environ.get(
    "DATABASE_URL", "sqlite:///" + os.path.join(BASE_DIR, "instance", "greenmine.db")
)
SQLALCHEMY_TRACK_MODIFICATIONS = False
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

# Alembic owns the schema (FAB's tables included): FAB must not create tables itself,
# nor write permissions at start-up (that needs the tables). `flask gm sync-roles` does it.
FAB_CREATE_DB = False
FAB_UPDATE_PERMS = False

# ---------------------------------------------------------------------------
# Application and authentication
# ---------------------------------------------------------------------------
APP_NAME = "绿色矿山管理信息系统"
APP_THEME = ""
# FAB's page layout with the calendar's and the select boxes' words in the user's language.
FAB_BASE_TEMPLATE = "gm/baselayout.html"
# The security manager (our user model) and the home view are passed to AppBuilder in
# create_app(): FAB's string settings for them fall back silently when an import fails.
AUTH_TYPE = 1  # flask_appbuilder.const.AUTH_DB
AUTH_ROLE_ADMIN = "admin"
AUTH_ROLE_PUBLIC = "public"
AUTH_USER_REGISTRATION = False
# FAB's user/role/permission REST API (/api/v1/security/users|roles|permissions|...) sets
# passwords and roles around the account rules: off, replaced by /api/v1/user (app/api/users.py).
# The REST login and refresh (/api/v1/security/login, /refresh) are served regardless.
FAB_ADD_SECURITY_API = False
# FAB's screens of base permissions, views/menus and their pairs list program internals (can_list
# on MineView) and let them be clicked into roles, which `flask gm sync-roles` undoes: roles are
# declared in app/services/roles.py; the admin's role screen shows them read-only, in words.
FAB_ADD_SECURITY_PERMISSION_VIEW = False
FAB_ADD_SECURITY_VIEW_MENU_VIEW = False
FAB_ADD_SECURITY_PERMISSION_VIEWS_VIEW = False
FAB_API_SWAGGER_UI = False
FAB_API_SHOW_STACKTRACE = False
FAB_API_MAX_PAGE_SIZE = 100
# Lists on PostgreSQL: above this many rows (the planner's estimate), the page shows the
# estimate ("about N") instead of counting every row; 0 counts always (app/views/datamodel.py).
LIST_EXACT_COUNT_LIMIT = int(os.environ.get("LIST_EXACT_COUNT_LIMIT", "20000"))

# Password policy: at least 8 characters with upper case, lower case, a digit and a symbol.
# (create_app() installs app.services.passwords.validate_password_complexity as the validator.)
FAB_PASSWORD_COMPLEXITY_ENABLED = True

# ---------------------------------------------------------------------------
# Security defaults
# ---------------------------------------------------------------------------
WTF_CSRF_ENABLED = True
WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = GM_ENV == "production"
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SECURE = GM_ENV == "production"
# Idle timeout: a signed-in session ends after this many seconds without a request (the
# session is marked permanent at login and its cookie is renewed on every request).
PERMANENT_SESSION_LIFETIME = 30 * 60

# Only redirect to these hosts (the ?next= after login, "back" links, ...).
FAB_SAFE_REDIRECT_HOSTS = [
    h.strip()
    for h in os.environ.get("SAFE_REDIRECT_HOSTS", "127.0.0.1:8080,localhost:8080,localhost").split(",")
    if h.strip()
]

# Login rate limits (HTML form and REST /api/v1/security/login).
RATELIMIT_ENABLED = True
AUTH_RATE_LIMITED = True
AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "10 per minute")
# Lock-out (app.services.login_throttle): this many failed logins for one name within the window
# lock that name for LOGIN_LOCKOUT_MINUTES, even with the right password; this many from one
# address lock the address. Kept in the database, so every app server sees the same counts.
LOGIN_LOCKOUT_FAILURES = 5
LOGIN_LOCKOUT_WINDOW_MINUTES = 15
LOGIN_LOCKOUT_MINUTES = 15
LOGIN_ADDRESS_FAILURES = 30
# Where the limiter (FAB's, which also limits the REST login: app/__init__.py) counts.
# memory:// is per process: with several gunicorn workers or servers each would allow its own
# 10 a minute. Use Redis when more than one process serves: redis://127.0.0.1:6379/0
# (Flask-Limiter's storage; the `redis` package is in requirements.txt).
RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
# Prefix of this deployment's keys in that storage, so that two deployments (or the tests) on one
# Redis neither share counts nor clear each other's (create_app() also gives it to the Redis
# storage, whose reset() deletes only the keys under its own prefix).
RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "greenmine")
# If Redis stops answering, count in the process's memory until it is back (limits per process
# for that time, and the database lock-out below still holds) rather than failing every login.
RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
RATELIMIT_HEADERS_ENABLED = True
# What else several processes must share, and where it already is (issue 10):
# - sessions are signed cookies (nothing on the server): every server needs the same SECRET_KEY;
#   REST tokens (JWT) are signed with it too;
# - the login lock-out, credentials versions (sessions and tokens ended by a logout, a password
#   set or changed, a change of roles or binding: app/services/accounts.py), notifications and
#   the workflow's row locks are in the database;
# - what a process caches is read-only data from the code or the shipped files: the scope and
#   score-sheet tables (app/services/scoping.py, evaluation.py), the holiday calendar
#   (workdays.py), the photo checklist (photo_checklist.py), compiled REST argument schemas
#   (app/views/base.py) and FAB's menus and views; permissions are cached per request only
#   (app/security.py). None of it changes while the app runs, so nothing needs invalidating.
# - uploaded files: a shared UPLOAD_FOLDER or object storage (see the README's deployment part).

# Behind a reverse proxy (nginx): how many proxies in front of the app set X-Forwarded-For,
# X-Forwarded-Proto and X-Forwarded-Host. 0 (default) ignores the headers, which is right when
# clients reach the app directly (they could forge them). With 1 behind one nginx, werkzeug's
# ProxyFix makes the client's address (rate limits, lock-out, audit trail), https (Secure
# cookies, CSRF's referrer check) and the public host (url_for(_external=True), the
# certificate's QR code) those the proxy saw.
PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "0"))
PROXY_FIX_X_PROTO = int(os.environ.get("PROXY_FIX_X_PROTO", "0"))
PROXY_FIX_X_HOST = int(os.environ.get("PROXY_FIX_X_HOST", "0"))

# Request bodies above this are refused before being read (413).
MAX_CONTENT_LENGTH = 120 * 1024 * 1024

# Uploads (SPEC D3, seed 000 §3.2): PDF and images at most 10 MB each and 10 per application,
# videos at most 100 MB each and 5 per application; images above this many pixels are refused
# (decompression bombs). The video size is also the upload routes' request limit.
UPLOAD_IMAGE_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_PDF_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_VIDEO_MAX_BYTES = 100 * 1024 * 1024
UPLOAD_MAX_IMAGE_PIXELS = 40_000_000
UPLOAD_APPLICATION_MAX_DOCUMENTS = 10
UPLOAD_APPLICATION_MAX_VIDEOS = 5
UPLOAD_EVIDENCE_MAX_FILES = 10
# A notice's attachments (SPEC A6): PDF or images, this many per notice.
UPLOAD_NOTICE_MAX_FILES = 5
# The public objection form on the public notice (issue 19.3, app.services.public_notices): at most
# this many forms from one client address within the window (every attempt counts), this many
# evidence files (PDF or images, the sizes above), and this many bytes for the whole form.
PUBLIC_OBJECTION_ADDRESS_LIMIT = 5
PUBLIC_OBJECTION_WINDOW_MINUTES = 60
PUBLIC_OBJECTION_MAX_FILES = 5
PUBLIC_OBJECTION_REQUEST_MAX_BYTES = 5 * 10 * 1024 * 1024
# Evaluation files (SPEC E2, E3): the self-evaluation report, the agency's assessment report
# (PDF) and its on-site record (PDF or images), at most this many files each.
UPLOAD_EVALUATION_MAX_FILES = 5

# Evaluation (SPEC E2): a self-evaluation below the pass rules (2020: 800 points and 75 % of
# each area) cannot be submitted ("below 800 a mine cannot take part"). Off: it is submitted
# and the result is only shown.
EVALUATION_SELF_MUST_PASS = True

# Selection (SPEC E5, E6): the shortest public-notice period in days, and the share of a
# province's listed provincial mines it may recommend to the national list.
PUBLIC_NOTICE_MIN_DAYS = 5
NATIONAL_RECOMMENDATION_QUOTA = 0.5

# Deadline reminders (`flask gm remind`, SPEC I3): this many days before a deadline.
REMIND_DAYS_BEFORE = (7, 1)

# The yearly application deadline (month, day) where a province has set no window (SPEC D9).
APPLICATION_DEADLINE = (10, 15)
# The material slots (app.services.uploads) a green-mine application cannot be submitted
# without: "self_evaluation_report" (PDF), "document" (documents and images), "video".
APPLICATION_REQUIRED_MATERIALS = ("self_evaluation_report",)

# Excel import of mines (SPEC B8): the largest file (also the request limit of the upload
# screen), the most rows, and the largest size once unpacked (an xlsx is a zip: bomb guard).
IMPORT_MAX_BYTES = 10 * 1024 * 1024
IMPORT_MAX_ROWS = 20_000
IMPORT_MAX_UNZIPPED_BYTES = 200 * 1024 * 1024

# ---------------------------------------------------------------------------
# Languages: Chinese first, English available.
# ---------------------------------------------------------------------------
BABEL_DEFAULT_LOCALE = "zh"
BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
LANGUAGES = {
    "zh": {"flag": "cn", "name": "中文"},
    "en": {"flag": "gb", "name": "English"},
}

# ---------------------------------------------------------------------------
# Business defaults (configurable per deployment)
# ---------------------------------------------------------------------------
# Where the shipped reference data lives.
REFERENCE_DATA_DIR = os.path.join(BASE_DIR, "app", "data")
# Uploaded files are stored here under generated names, outside the static folder.
UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", os.path.join(BASE_DIR, "instance", "uploads"))
# Attachments: "" keeps them in UPLOAD_FOLDER; s3://bucket/optional/prefix puts them in S3-compatible
# object storage (app.services.storage; credentials from boto3's chain: AWS_ACCESS_KEY_ID /
# AWS_SECRET_ACCESS_KEY, a profile, an instance role; never in this file).
STORAGE_URL = os.environ.get("STORAGE_URL", "")
# The store's endpoint for MinIO and similar (path-style addressing then); None: AWS itself.
S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL") or None
S3_REGION = os.environ.get("S3_REGION", "us-east-1")
# Downloads redirect (302) to a presigned URL valid this many seconds instead of passing the bytes
# through the app server; only after the scope check, and only with object storage.
STORAGE_PRESIGNED_DOWNLOADS = os.environ.get("STORAGE_PRESIGNED_DOWNLOADS", "").lower() in ("1", "true", "yes", "on")
STORAGE_PRESIGNED_SECONDS = int(os.environ.get("STORAGE_PRESIGNED_SECONDS", "60"))
# The technical-support contact on the home page: who answers, how, when (set them for the
# deployment; an empty value is left out). The defaults name the information centre's operations
# group, with a number of the right form that reaches nobody.
SUPPORT_CONTACT = os.environ.get("SUPPORT_CONTACT", "信息中心运维组")
SUPPORT_PHONE = os.environ.get("SUPPORT_PHONE", "0351-0000000")
SUPPORT_EMAIL = os.environ.get("SUPPORT_EMAIL", "")
SUPPORT_HOURS = os.environ.get("SUPPORT_HOURS", "工作日 8:30–12:00，14:30–17:30")

# Directory certificates (SPEC F2) have no fixed term: the seeds give a directory listing none
# (the three years are certification's, CERTIFICATION_VALID_YEARS), so a certificate is valid while
# its entry stands and revoked when the entry is removed (app.services.certificates).
# DIRECTORY_REVIEW_YEARS (a whole number of years; unset or empty: off) flags the entries listed that
# many years ago or more as due for review on the staff's directory and certificate screens
# (app.services.directory.review_note); it never expires an entry or its certificate.
DIRECTORY_REVIEW_YEARS: "int | None" = (int(os.environ["DIRECTORY_REVIEW_YEARS"])
                                         if os.environ.get("DIRECTORY_REVIEW_YEARS", "").strip() else None)
# The issuing authority printed on a directory certificate, by the directory's level: national
# 自然资源部, provincial "<province>自然资源厅" (the four municipalities' own bureaus), city and
# county "<region>自然资源局". Where a region's authority has another official name (e.g.
# 太原市规划和自然资源局), map the region's code to it here: {"140100": "太原市规划和自然资源局"}.
CERTIFICATE_ISSUING_AUTHORITIES: dict[str, str] = {}
# The absolute base URL of the public pages (e.g. "https://greenmine.example.gov.cn"), used in
# the certificate's QR code. Empty: taken from the request (or SERVER_NAME outside a request);
# set it when requests come through a proxy that changes the host or scheme.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")
# The public directory's page size (SPEC F3); a ?size= above the cap is cut to it.
# Spot checks (SPEC H1-H6; seed 001 §二, seed 004): the self-check deadline (month, day) of
# each year, the default share of listed mines a campaign draws (at least 20 %), the team size
# bounds, and the default deadline of the province's summary table and report.
SELF_CHECK_DEADLINE = (9, 30)
SPOT_CHECK_RATIO = 0.2
SPOT_CHECK_TEAM_SIZE = (3, 5)
SPOT_CHECK_REPORT_DEADLINE = (11, 30)

# Green-mine certification (SPEC G1-G4; seed 002). The evaluation ends within this many working
# days of acceptance, the enterprise's rectification not counted (app.services.workdays, with the
# holiday calendar app/data/holidays_cn.csv).
CERTIFICATION_EVALUATION_WORKING_DAYS = 20
# The materials of seed 002 §四 a certification application cannot be submitted without (slots of
# app.services.uploads): the self-evaluation report, the work atlas, the supporting documents.
# (The application form is the record itself; the self-scoring sheet is checked on its own.)
CERTIFICATION_REQUIRED_MATERIALS = ("self_evaluation_report", "atlas", "supporting")
# The grades by the certification body's score, as a share of the catalogue's maximum (per 100),
# highest first; below the last one a mine is not certified. The catalogue's own pass rules (2020:
# 800 points and 75 % of each area) must be met as well.
CERTIFICATION_GRADE_THRESHOLDS = (("AAAAA", 90.0), ("AAAA", 80.0))
# The catalogue version certification scores against (its code); None: the active default
# (national-2020, else the oldest active version), as for applications.
CERTIFICATION_INDICATOR_VERSION = None
# A certificate is valid this many years; surveillance audits are due once in every certificate
# year; the re-evaluation is due this many days before expiry (shown from then on).
CERTIFICATION_VALID_YEARS = 3
CERTIFICATION_RENEWAL_NOTICE_DAYS = 90
# `flask gm remind` tells the body's certifiers this many days before a certificate year ends
# without its surveillance audit.
CERTIFICATION_AUDIT_NOTICE_DAYS = 30
# Certificate numbers: <prefix>-<year>-<five-digit sequence>, e.g. GMC-2026-00001.
CERTIFICATION_NUMBER_PREFIX = "GMC"

PUBLIC_PAGE_SIZE = 20
PUBLIC_MAX_PAGE_SIZE = 100

# Findings of falsified materials (弄虚作假认定, seed 001 三(三)): a mine found to have falsified its
# materials may not pre-declare or apply again for this many years from the decision's date.
FRAUD_BAR_YEARS = 3
