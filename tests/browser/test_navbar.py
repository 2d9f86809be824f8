"""Issue 18, point 6: the navigation bar does not wrap at 1280 px wide, for any role.

Every role's menus are measured in Chromium as one of its demo users sees them (the demo has a user
for every declared role; a role without one fails the test rather than going unmeasured): the
brand, every menu and the right-hand items stand on one row, and the bar is one row high. The
account pages, which left the bar for the user's menu, are still there.
"""
from __future__ import annotations

from app.services.demo import DEMO_USERS
from app.services.roles import ROLES

WIDTH = 1280
MEASURE = """() => {
  const bar = document.querySelector('.navbar');
  const items = [...bar.querySelectorAll('.navbar-brand, .navbar-nav > li')].filter(e => e.offsetParent !== null);
  const boxes = items.map(e => e.getBoundingClientRect());
  return {
    bar: bar.getBoundingClientRect().height,
    row: Math.max(...boxes.map(b => b.height)),
    tops: boxes.map(b => Math.round(b.top)),
    items: items.map(e => e.innerText.trim()),
  };
}"""


def test_every_role_s_navigation_bar_is_one_line_at_1280_px(users):
    demo_user_of_role: dict[str, str] = {}
    for demo in DEMO_USERS:
        demo_user_of_role.setdefault(demo.role, demo.username)
    assert set(demo_user_of_role) == set(ROLES)
    wrapped = []
    for role, username in demo_user_of_role.items():
        page = users.page(username)
        page.set_viewport_size({"width": WIDTH, "height": 900})
        try:
            page.goto("/")
            bar = page.evaluate(MEASURE)
            account_links = page.locator("#gm-account-menu a").all_inner_texts()
        finally:
            page.set_viewport_size({"width": 1366, "height": 900})
        if bar["bar"] > 1.5 * bar["row"] or max(bar["tops"]) - min(bar["tops"]) > 4:
            wrapped.append(f"{role} ({username}): bar {bar['bar']:.0f} px for rows of {bar['row']:.0f} px, "
                           f"items at {bar['tops']}: {bar['items']}")
        # The account pages are in the user's menu now (not in the bar): still reachable.
        assert any("修改密码" in text for text in account_links), (role, account_links)
    assert wrapped == [], "\n".join(wrapped)
