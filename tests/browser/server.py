"""A real server for the browser journeys and the API fuzz tests.

The demo data set (``flask gm demo --no-serve``: migrations, reference data, roles, demo users
and records) is built once per test session in a temporary SQLite file; every server started
from it works on its own copy of that file and of the upload folder, in a ``flask run``
subprocess on a free loopback port (a second ``create_app()`` in the test process is not
possible: FAB serves one app per process). The servers never touch ``TEST_DATABASE_URL``.
"""
from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = "/usr/bin/chromium"
DEMO_PASSWORD = "GreenMine#2026"


def _env(folder: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_DEBUG", "FLASK_APP", "DATABASE_URL")}
    env.update(
        DATABASE_URL="sqlite:///" + os.path.join(folder, "gm.db"),
        UPLOAD_FOLDER=os.path.join(folder, "uploads"),
        GM_ENV="development",  # plain http: session cookies are not marked Secure
        # Each demo user logs in once per test context; the fuzz logs in several roles.
        AUTH_RATE_LIMIT="1000 per minute",
        PYTHONUNBUFFERED="1",
    )
    return env


@functools.lru_cache(maxsize=1)
def demo_template() -> str:
    """A folder with the seeded demo database and its uploads (built once per session)."""
    folder = tempfile.mkdtemp(prefix="gm-demo-template-")
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "run", "gm", "demo", "--no-serve"],
        cwd=ROOT, env=_env(folder), capture_output=True, text=True, timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"gm demo failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return folder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    folder: str
    process: subprocess.Popen
    log_path: str

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_server(name: str) -> LiveServer:
    """Start a server on a fresh copy of the demo data; stop it with ``.stop()``."""
    template = demo_template()
    folder = tempfile.mkdtemp(prefix=f"gm-{name}-")
    shutil.copy(os.path.join(template, "gm.db"), os.path.join(folder, "gm.db"))
    if os.path.isdir(os.path.join(template, "uploads")):
        shutil.copytree(os.path.join(template, "uploads"), os.path.join(folder, "uploads"))
    port = _free_port()
    log_path = os.path.join(folder, "server.log")
    log = open(log_path, "w", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "run", "run", "--host", "127.0.0.1", "--port", str(port),
         "--no-reload", "--no-debugger", "--with-threads"],
        cwd=ROOT, env=_env(folder), stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()
    server = LiveServer(f"http://127.0.0.1:{port}", folder, process, log_path)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}):\n{server.log()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url + "/login/", timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError("the server did not answer within 60 s")
        time.sleep(0.2)  # polling a starting process: there is no event to wait for


def skip_reason() -> str | None:
    """Why the live-server tests cannot or need not run here, or None."""
    if os.environ.get("TEST_DATABASE_URL"):
        return ("the live-server tests use their own SQLite demo database, whatever TEST_DATABASE_URL says: "
                "they run in the SQLite pass only")
    return None
