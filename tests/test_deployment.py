"""Deployment (issue 10, points 3 and 4): ProxyFix, `flask gm deploy`, two gunicorn servers.

- ProxyFix: with PROXY_FIX_X_* set, X-Forwarded-For is the client's address (the limiter counts
  per forwarded address) and X-Forwarded-Proto / -Host make external URLs (the certificate's QR
  code) https on the public host; without it the headers are ignored. Child app processes
  (tests/test_redis_limits.py's AppProcess), memory storage: no Redis needed.
- `flask gm deploy` on a fresh PostgreSQL database: run twice, the second run changes nothing
  (row counts, highest ids, Alembic revision); two runs started together both succeed (the
  advisory lock makes the second wait, then it finds nothing to do).
- Two gunicorn processes (`gunicorn -c gunicorn.conf.py run:app`, one worker each, two loopback
  ports) over one fresh PostgreSQL database and one Redis, GM_ENV=production: a REST token and
  a record made on A work on B, a form login's session cookie from A works on B (same
  SECRET_KEY), and wrong logins alternating between A and B exhaust one shared limit.

Production marks cookies Secure: the servers run with PROXY_FIX_X_FOR / _X_PROTO = 1 and every
request carries X-Forwarded-Proto: https, as nginx would send it, so the app sees https (the
CSRF check's referrer rule for https included); the client here sends the cookie itself.

The PostgreSQL tests use the server of TEST_DATABASE_URL (else postgresql://postgres@127.0.0.1:5432)
and create and drop databases named gm_deploy_*; they are skipped, with the reason, when it or
Redis (TEST_REDIS_URL) does not answer, or when gunicorn is not installed.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.test_redis_limits import REDIS_URL, child_overrides, delete_prefixed, redis_client_or_skip, start_apps

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ADMIN = "deployadmin"
ADMIN_PASSWORD = "Deploy#Passw0rd"


# ---------------------------------------------------------------------------
# ProxyFix
# ---------------------------------------------------------------------------
_FORWARDED = {"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https",
              "X-Forwarded-Host": "greenmine.example.gov.cn"}


def _wrong_login(instance, address: str) -> int:
    return instance.request("/api/v1/security/login", "POST", headers={**_FORWARDED, "X-Forwarded-For": address},
                            json_body={"username": "nobody", "password": "Wrong#Passw0rd", "provider": "db"})["status"]


def test_proxy_fix_on_trusts_the_forwarded_headers_and_off_ignores_them(app):
    behind_proxy, direct = start_apps(
        child_overrides(app, PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1, PROXY_FIX_X_HOST=1, AUTH_RATE_LIMIT="2 per hour"),
        child_overrides(app, AUTH_RATE_LIMIT="2 per hour"),
    )
    try:
        seen = behind_proxy.request("/_probe", headers=_FORWARDED)["json"]
        assert seen["remote_addr"] == "203.0.113.5"
        assert seen["scheme"] == "https"
        assert seen["external"] == "https://greenmine.example.gov.cn/login/"
        assert seen["qr"] == "https://greenmine.example.gov.cn/public/certificate/GMC-2026-00001"

        seen = direct.request("/_probe", headers=_FORWARDED)["json"]
        assert seen["remote_addr"] == "127.0.0.1"
        assert seen["scheme"] == "http"
        assert seen["external"] == "http://localhost/login/"
        assert seen["qr"] == "http://localhost/public/certificate/GMC-2026-00001"

        # Behind the proxy the limit is per forwarded address: another client still gets in.
        assert [_wrong_login(behind_proxy, "203.0.113.5") for _ in range(3)] == [401, 401, 429]
        assert _wrong_login(behind_proxy, "203.0.113.6") == 401
        # Directly, a forged header changes nothing: the connection's address is counted.
        assert [_wrong_login(direct, "203.0.113.5") for _ in range(3)] == [401, 401, 429]
        assert _wrong_login(direct, "203.0.113.6") == 429
    finally:
        behind_proxy.close()
        direct.close()


def test_proxy_fix_refuses_a_negative_count():
    from app import _install_proxy_fix
    from flask import Flask

    flask_app = Flask("probe")
    flask_app.config["PROXY_FIX_X_FOR"] = -1
    with pytest.raises(ValueError, match="PROXY_FIX_X_FOR"):
        _install_proxy_fix(flask_app)


# ---------------------------------------------------------------------------
# PostgreSQL helpers
# ---------------------------------------------------------------------------
def _pg_server() -> str:
    """The server (no database) of TEST_DATABASE_URL, else the local default."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url.startswith("postgresql"):
        return re.sub(r"^postgresql(\+psycopg2)?://", "postgresql://", url).rsplit("/", 1)[0]
    return "postgresql://postgres@127.0.0.1:5432"


def _pg_admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(_pg_server() + "/postgres", connect_timeout=5)
    conn.autocommit = True
    try:
        conn.cursor().execute(sql)
    finally:
        conn.close()


@pytest.fixture
def fresh_database():
    """make() -> the SQLAlchemy URL of a new, empty PostgreSQL database; dropped afterwards."""
    import psycopg2

    try:
        _pg_admin("SELECT 1")
    except psycopg2.Error as exc:
        pytest.skip(f"PostgreSQL does not answer at {_pg_server()} ({str(exc).strip()}): the deployment "
                    "tests need one")
    made = []

    def make() -> str:
        name = "gm_deploy_" + secrets.token_hex(5)
        _pg_admin(f'CREATE DATABASE "{name}"')
        made.append(name)
        return _pg_server().replace("postgresql://", "postgresql+psycopg2://") + "/" + name

    yield make
    for name in made:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _environment(database_url: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "FLASK_APP")}
    env.update({
        "DATABASE_URL": database_url,
        "GM_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "UPLOAD_FOLDER": tempfile.mkdtemp(prefix="gm-uploads-"),
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def _flask(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "python"), "-m", "flask", "--app", "run", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _deploy_together(env: dict, count: int = 2) -> list[dict]:
    """Start `flask gm deploy --json` ``count`` times at once; their reports."""
    procs = [subprocess.Popen([str(BIN / "python"), "-m", "flask", "--app", "run", "gm", "deploy", "--json"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(count)]
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, out + err
        reports.append(_report(out))
    return reports


def _deploy(env: dict) -> dict:
    done = _flask(env, "gm", "deploy", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return _report(done.stdout)


def _report(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def _snapshot(database_url: str) -> dict:
    """Every table's row count and highest id, and the Alembic revision."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            state = {}
            for table in inspect(conn).get_table_names():
                columns = {c["name"] for c in inspect(conn).get_columns(table)}
                max_id = "max(id)" if "id" in columns else "NULL"
                state[table] = tuple(conn.execute(text(f'SELECT count(*), {max_id} FROM "{table}"')).one())
            state["revision"] = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()
    return state


# ---------------------------------------------------------------------------
# flask gm deploy
# ---------------------------------------------------------------------------
def test_deploy_twice_changes_nothing_the_second_time(fresh_database):
    url = fresh_database()
    env = _environment(url)
    first = _deploy(env)
    assert first["changed"] and first["revision_before"] == "-" and first["revision_after"] != "-"
    assert first["reference"]["regions"]["inserted"] > 3000 and first["granted"] > 0
    after_first = _snapshot(url)
    assert after_first["revision"] == first["revision_after"]
    assert after_first["region"][0] > 3000 and after_first["ab_role"][0] == 9
    assert after_first["ab_permission_view_role"][0] == first["granted"]
    assert after_first["ab_user"][0] == 0  # no accounts: `flask gm create-user` makes them

    second = _deploy(env)
    assert _snapshot(url) == after_first
    assert not second["changed"] and not second["waited"]
    assert second["revision_before"] == second["revision_after"] == first["revision_after"]
    assert second["granted"] == second["withdrawn"] == 0
    assert all(r["inserted"] == r["updated"] == 0 for r in second["reference"].values())
    assert second["roles"] == first["roles"]

    # The text report says the same for people.
    text = _flask(env, "gm", "deploy")
    assert text.returncode == 0 and first["revision_after"] in text.stdout


def test_deploy_started_twice_at_once_runs_once(fresh_database):
    url = fresh_database()
    env = _environment(url)
    reports = _deploy_together(env)
    # One migrated the empty database; the other waited for the lock and found it done.
    assert sorted(r["changed"] for r in reports) == [False, True]
    waiting = next(r for r in reports if not r["changed"])
    # (It waited for the lock, unless it started only after the first had finished.)
    assert waiting["revision_before"] != "-"
    state = _snapshot(url)
    assert not _deploy(env)["changed"]
    assert _snapshot(url) == state


# ---------------------------------------------------------------------------
# Two gunicorn servers
# ---------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, name: str, env: dict, folder: Path):
        self.port = _free_port()
        self.log = folder / f"gunicorn-{name}.log"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [str(self.gunicorn()), "-c", "gunicorn.conf.py", "run:app"], cwd=ROOT, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
                env={**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_WORKERS": "1"},
            )

    @staticmethod
    def gunicorn() -> Path:
        return BIN / "gunicorn"

    def wait_until_up(self, seconds: float = 120.0) -> None:
        import time

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn on {self.port} ended (status {self.proc.returncode}):\n"
                                     + self.log.read_text()[-4000:])
            try:
                if self.request("GET", "/login/")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"gunicorn on {self.port} did not answer:\n" + self.log.read_text()[-4000:])

    def request(self, method: str, path: str, headers: dict | None = None, body: bytes | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers={"X-Forwarded-Proto": "https", **(headers or {})})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def json(self, method: str, path: str, payload=None, token: str | None = None, address: str = "198.51.100.10"):
        headers = {"Content-Type": "application/json", "X-Forwarded-For": address}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        status, response_headers, body = self.request(
            method, path, headers, json.dumps(payload).encode() if payload is not None else None)
        return status, response_headers, json.loads(body) if body else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture
def two_servers(fresh_database, tmp_path):
    """Two gunicorn servers over one fresh database and one Redis, as two machines would run."""
    if not Server.gunicorn().exists():
        pytest.skip(f"gunicorn is not installed in {BIN} (pip install -r requirements.txt)")
    redis_client = redis_client_or_skip()
    prefix = "gm-test-" + secrets.token_hex(6)
    url = fresh_database()
    env = _environment(url, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix,
                       PROXY_FIX_X_FOR="1", PROXY_FIX_X_PROTO="1", AUTH_RATE_LIMIT="10 per hour",
                       SAFE_REDIRECT_HOSTS="127.0.0.1")
    servers = []
    try:
        # Both servers' deployments start together, as at a release: one migrates, one waits.
        assert sorted(r["changed"] for r in _deploy_together(env)) == [False, True]
        made = _flask(env, "gm", "create-user", ADMIN, "--role", "admin", "--password", ADMIN_PASSWORD,
                      "--keep-password")
        assert made.returncode == 0, made.stdout + made.stderr
        servers = [Server("a", env, tmp_path), Server("b", env, tmp_path)]
        for server in servers:
            server.wait_until_up()
        yield servers
    finally:
        for server in servers:
            server.stop()
        delete_prefixed(redis_client, prefix)
        redis_client.close()


def _cookie(headers, name: str = "session") -> tuple[str, str]:
    """(value, the whole Set-Cookie line) of cookie ``name`` in a response."""
    for line in headers.get_all("Set-Cookie") or []:
        if line.startswith(name + "="):
            return line.split(";", 1)[0].split("=", 1)[1], line
    raise AssertionError(f"no {name} cookie in {headers.get_all('Set-Cookie')}")


def test_two_gunicorn_servers_share_data_sessions_and_the_login_limit(two_servers):
    a, b = two_servers
    assert a.port != b.port

    # A REST login on A; the token is good on B (same SECRET_KEY).
    status, _, body = a.json("POST", "/api/v1/security/login",
                             {"username": ADMIN, "password": ADMIN_PASSWORD, "provider": "db"})
    assert status == 200, body
    token = body["access_token"]

    # A record made through A is read through B: one database.
    from app.services.demo import demo_uscc

    uscc = demo_uscc(random.Random(), "140105")
    status, _, body = a.json("POST", "/api/v1/enterprise/", {"name": "部署测试企业", "uscc": uscc,
                                                             "region_code": "140105"}, token=token)
    assert status == 201, body
    status, _, body = b.json("GET", f"/api/v1/enterprise/{body['id']}", token=token)
    assert status == 200, body
    assert body["result"]["uscc"] == uscc and body["result"]["name"] == "部署测试企业"

    # A form login on A (CSRF token and all); its session cookie is good on B.
    status, headers, page = a.request("GET", "/login/")
    assert status == 200
    session, _ = _cookie(headers)
    csrf = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
    status, headers, _ = a.request("POST", "/login/", {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"session={session}",
        "Referer": f"https://127.0.0.1:{a.port}/login/"},
        urlencode({"username": ADMIN, "password": ADMIN_PASSWORD, "csrf_token": csrf}).encode())
    assert status == 302, headers
    session, line = _cookie(headers)
    assert "Secure" in line and "HttpOnly" in line  # production cookies
    status, _, page = b.request("GET", "/users/userinfo/", {"Cookie": f"session={session}"})
    assert status == 200 and ADMIN.encode() in page
    # Without the cookie B sends the visitor to its login page.
    status, headers, _ = b.request("GET", "/users/userinfo/")
    assert status == 302 and "/login/" in headers["Location"]

    # Wrong logins from one client address, alternating A and B: one count (10 an hour here)
    # going down on both, then both refuse. Other names each time: the lock-out (5 per name)
    # must not be what refuses.
    address = "203.0.113.20"
    remaining = []
    for attempt in range(10):
        server = (a, b)[attempt % 2]
        status, headers, _ = server.json("POST", "/api/v1/security/login", {
            "username": f"nobody{attempt}", "password": "Wrong#Passw0rd", "provider": "db"}, address=address)
        assert status == 401
        remaining.append(int(headers["X-RateLimit-Remaining"]))
    assert remaining == list(range(9, -1, -1))
    for server in (a, b):
        status, headers, _ = server.json("POST", "/api/v1/security/login", {
            "username": ADMIN, "password": ADMIN_PASSWORD, "provider": "db"}, address=address)
        assert status == 429 and headers["X-RateLimit-Remaining"] == "0"
    # Another client is not affected.
    status, _, _ = b.json("POST", "/api/v1/security/login",
                          {"username": ADMIN, "password": ADMIN_PASSWORD, "provider": "db"}, address="203.0.113.21")
    assert status == 200
