"""Login limits shared through Redis (issue 10, point 2).

FAB's limiter (the HTML login, and the REST login that create_app limits with it) counts in
RATELIMIT_STORAGE_URI. Two app instances built by create_app with the same Redis URI must count
together: the limit is per client, not per process. AppBuilder is one per process, so each
instance runs in a child process (``AppProcess``) that serves requests through its Flask test
client, asked over stdin/stdout. The children use the test session's database (the logins
fail, so they only write lock-out rows, which every test's clean-up deletes) and a Redis key
prefix of their own, deleted at the end.

Skipped, with the reason, when Redis does not answer on TEST_REDIS_URL
(default redis://127.0.0.1:6379/15).
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# The child: create_app(overrides) plus a probe route, then one JSON request per stdin line,
# one JSON answer per stdout line.
_CHILD = r"""
import json, sys

from flask import jsonify, request, url_for

from app import create_app

app = create_app(json.loads(sys.argv[1]))


@app.route("/_probe")
def _probe():
    from app.services.certificates import verification_url

    return jsonify(remote_addr=request.remote_addr, scheme=request.scheme, host=request.host,
                   external=url_for("AuthDBView.login", _external=True),
                   qr=verification_url("GMC-2026-00001"),
                   storage=type(app.appbuilder.sm.limiter.storage).__name__)


client = app.test_client()
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    ask = json.loads(line)
    response = client.open(ask["path"], method=ask.get("method", "GET"), headers=ask.get("headers") or {},
                           json=ask.get("json"), data=ask.get("data"))
    answer = {"status": response.status_code, "headers": dict(response.headers),
              "json": response.get_json(silent=True)}
    if ask.get("text"):
        answer["text"] = response.get_data(as_text=True)
    print(json.dumps(answer), flush=True)
"""


class AppProcess:
    """One app instance in a child process."""

    def __init__(self, overrides: dict):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, json.dumps(overrides)], cwd=ROOT, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )

    def wait_ready(self) -> None:
        line = self._read_line()
        assert json.loads(line) == {"ready": True}, line

    def _read_line(self) -> str:
        # The app prints nothing else on stdout: any other line is a start-up failure.
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=30)
            raise AssertionError(f"the app process ended (status {self.proc.returncode}):\n"
                                 + self.proc.stderr.read()[-4000:])
        return line

    def request(self, path: str, method: str = "GET", headers: dict | None = None, json_body=None,
                data: dict | None = None, text: bool = False) -> dict:
        """The answer's status, headers, JSON body (and with ``text`` the body as text). The
        child's test client keeps its cookies from one request to the next."""
        self.proc.stdin.write(json.dumps({"path": path, "method": method, "headers": headers,
                                          "json": json_body, "data": data, "text": text}) + "\n")
        self.proc.stdin.flush()
        return json.loads(self._read_line())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()


def start_apps(*overrides: dict) -> list[AppProcess]:
    """Start the instances together (each takes seconds to build) and wait for all."""
    apps = [AppProcess(o) for o in overrides]
    try:
        for instance in apps:
            instance.wait_ready()
    except BaseException:
        for instance in apps:
            instance.close()
        raise
    return apps


def child_overrides(app, **extra) -> dict:
    """Settings of a child instance over the test session's database. The lock-out thresholds
    are raised so that a 429 can only come from the rate limit."""
    settings = {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "TESTING": True,
        "FAB_SAFE_REDIRECT_HOSTS": ["localhost"],
        "UPLOAD_FOLDER": tempfile.mkdtemp(prefix="gm-uploads-"),
        "LOGIN_LOCKOUT_FAILURES": 1000,
        "LOGIN_ADDRESS_FAILURES": 1000,
        "AUTH_RATE_LIMIT": "3 per hour",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    settings.update(extra)
    return settings


def redis_client_or_skip(url: str = REDIS_URL):
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis does not answer at {url} ({exc}): the tests of state shared between processes "
                    "need a Redis (set TEST_REDIS_URL to another one)")
    return client


def delete_prefixed(client, prefix: str) -> int:
    keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    return len(keys)


@pytest.fixture
def redis_prefix():
    """A Redis (skips without one) and a key prefix of this test's own, deleted afterwards."""
    client = redis_client_or_skip()
    prefix = "gm-test-" + secrets.token_hex(6)
    yield client, prefix
    delete_prefixed(client, prefix)
    client.close()


def _api_login(instance: AppProcess, name: str, address: str = "127.0.0.1") -> dict:
    return instance.request("/api/v1/security/login", "POST", json_body={
        "username": name, "password": "Wrong#Passw0rd", "provider": "db"},
        headers={"X-Forwarded-For": address})


def _form_login(instance: AppProcess, name: str) -> dict:
    """A form login as a browser makes it: the form (its CSRF token), then the POST."""
    import re

    form = instance.request("/login/", text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form["text"]).group(1)
    return instance.request("/login/", "POST", data={"username": name, "password": "Wrong#Passw0rd",
                                                     "csrf_token": token})


def test_two_processes_share_the_login_limits_in_redis(app, redis_prefix):
    client, prefix = redis_prefix
    shared = child_overrides(app, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix)
    first, second = start_apps(shared, shared)
    try:
        for instance in (first, second):
            assert instance.request("/_probe")["json"]["storage"] == "RedisStorage"

        # REST login, 3 per hour: one, two, three alternating between the processes, each
        # counting down the same remaining number; the fourth is refused by both.
        remaining = []
        for instance, name in ((first, "nobody1"), (second, "nobody2"), (first, "nobody3")):
            answer = _api_login(instance, name)
            assert answer["status"] == 401, answer
            remaining.append(answer["headers"]["X-RateLimit-Remaining"])
        assert remaining == ["2", "1", "0"]
        for instance in (second, first):
            answer = _api_login(instance, "nobody4")
            assert answer["status"] == 429, answer
            assert answer["headers"]["X-RateLimit-Remaining"] == "0"

        # The HTML form's limit, counted apart from the REST one, is shared the same way.
        for instance, name in ((second, "nobody5"), (first, "nobody6"), (second, "nobody7")):
            # FAB answers a failed form login with a redirect back to the form.
            assert _form_login(instance, name)["status"] == 302
        for instance in (first, second):
            assert _form_login(instance, "nobody8")["status"] == 429

        # The counts are in Redis under this deployment's prefix (storage and limiter keys),
        # and only there.
        keys = [key.decode() for key in client.scan_iter(match=f"LIMITS:{prefix}:*")]
        assert keys and all(f"/{prefix}/" in key for key in keys)
    finally:
        first.close()
        second.close()


def test_another_key_prefix_counts_apart_and_reset_leaves_it_alone(app, redis_prefix):
    """Two deployments on one Redis: their own counts, and a reset (as the tests do before
    each test) clears only its own."""
    client, prefix = redis_prefix
    other = prefix + "-other"
    try:
        one, two = start_apps(child_overrides(app, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix),
                              child_overrides(app, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=other))
        try:
            for name in ("nobody1", "nobody2", "nobody3"):
                assert _api_login(one, name)["status"] == 401
            assert _api_login(one, "nobody4")["status"] == 429
            # The other deployment, same client address, has its whole limit.
            assert _api_login(two, "nobody5")["headers"]["X-RateLimit-Remaining"] == "2"
        finally:
            one.close()
            two.close()
        before = len(list(client.scan_iter(match=f"LIMITS:{prefix}:*")))
        assert before
        from limits.storage import storage_from_string

        storage_from_string(REDIS_URL, key_prefix=f"LIMITS:{other}").reset()
        assert len(list(client.scan_iter(match=f"LIMITS:{prefix}:*"))) == before
        assert not list(client.scan_iter(match=f"LIMITS:{other}:*"))
    finally:
        delete_prefixed(client, other)


def test_memory_storage_is_per_process(app):
    """The default (memory://) is what the shared storage is for: each process counts alone."""
    first, second = start_apps(child_overrides(app), child_overrides(app))
    try:
        for name in ("nobody1", "nobody2", "nobody3"):
            assert _api_login(first, name)["status"] == 401
        assert _api_login(first, "nobody4")["status"] == 429
        assert _api_login(second, "nobody5")["status"] == 401
    finally:
        first.close()
        second.close()


def test_without_redis_the_limits_fall_back_to_the_process(app):
    """Redis down (nothing listens on the port): logins still answer, counted in the process
    (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED) rather than failing with 500."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (instance,) = start_apps(child_overrides(app, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port}/0",
                                             RATELIMIT_KEY_PREFIX="gm-test-down"))
    try:
        assert [_api_login(instance, f"nobody{i}")["status"] for i in range(4)] == [401, 401, 401, 429]
    finally:
        instance.close()
