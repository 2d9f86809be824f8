"""Browser journeys (issue 7, point 3): headless Chromium driven by Playwright against a real
server on a copy of the demo data (``tests/browser/server.py``), in the zh interface.

- One server per test session; each demo user logs in once and keeps its browser context.
- A failing test leaves a full-page screenshot of every page it used, and the server log, in
  ``test-artifacts/``.
- Skipped when ``/usr/bin/chromium`` (Debian's ``chromium``; ``.ci/run`` installs it) or the
  ``playwright`` package is missing, and in the ``TEST_DATABASE_URL`` pass (the server has its
  own SQLite database, so a second run would repeat the first).
"""
from __future__ import annotations

import os
import re
import shutil

import pytest

from tests.browser import server as live

ARTIFACTS = os.path.join(live.ROOT, "test-artifacts")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: end-to-end journeys in headless Chromium (Playwright)")


def _skip_reason() -> str | None:
    if not os.path.exists(live.CHROMIUM):
        return f"{live.CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser journeys"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -r tests/requirements.txt)"
    return live.skip_reason()


def pytest_collection_modifyitems(config, items):
    reason = _skip_reason()
    here = os.path.dirname(os.path.abspath(__file__))
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"gm_report_{report.when}", report)


@pytest.fixture(scope="session")
def live_server():
    server = live.start_server("browser")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=live.CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class Users:
    """One logged-in browser context per demo user, for the whole session (one login each:
    the login rate limit and lock-out stay out of the way)."""

    def __init__(self, chromium, server):
        self.chromium = chromium
        self.server = server
        self.contexts = {}
        self.used = []  # (username, page) used by the current test

    def page(self, username: str):
        from playwright.sync_api import expect

        if username not in self.contexts:
            context = self.chromium.new_context(base_url=self.server.url, locale="zh-CN",
                                                accept_downloads=True, viewport={"width": 1366, "height": 900})
            context.set_default_timeout(15_000)
            page = context.new_page()
            # Every workflow button and delete asks for a confirmation: the user says yes.
            page.on("dialog", lambda dialog: dialog.accept())
            page.goto("/login/")
            page.fill("#username", username)
            page.fill("#password", live.DEMO_PASSWORD)
            page.get_by_role("button", name="登录").or_(page.locator("input[type=submit][value='登录']")).click()
            expect(page.locator("form[action*='/logout'] button").first).to_be_attached()
            self.contexts[username] = (context, page)
        page = self.contexts[username][1]
        if (username, page) not in self.used:
            self.used.append((username, page))
        return page

    def close(self):
        for context, _page in self.contexts.values():
            context.close()


@pytest.fixture(scope="session")
def _users(chromium, live_server):
    users = Users(chromium, live_server)
    yield users
    users.close()


@pytest.fixture
def users(_users, live_server, request):
    """``users.page("qiye1")``: that user's logged-in page. On failure, screenshots of every page
    the test used and the server log go to test-artifacts/."""
    _users.used = []
    yield _users
    report = getattr(request.node, "gm_report_call", None)
    if report is not None and report.failed:
        os.makedirs(ARTIFACTS, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        for username, page in _users.used:
            try:
                page.screenshot(path=os.path.join(ARTIFACTS, f"{name}-{username}.png"), full_page=True)
            except Exception as exc:  # the page may be gone; the other screenshots still matter
                print(f"no screenshot of {username}: {exc}")
        shutil.copy(live_server.log_path, os.path.join(ARTIFACTS, f"{name}-server.log"))
