"""Issue 18, point 6: the home page's business-summary blocks that are all zero wait behind one
link, which says what it will do: 展开 while they are hidden, 收起 while they are shown."""
from __future__ import annotations

import re

from app.services.demo import DEMO_USERS


def test_the_empty_summaries_link_reads_expand_then_collapse(users):
    from playwright.sync_api import expect

    tried = []
    for demo in DEMO_USERS:
        page = users.page(demo.username)
        page.goto("/")
        link = page.locator("#gm-empty-summary-link")
        if link.count() == 0:
            tried.append(demo.username)
            continue  # every kind of business has a record for this user
        blocks = page.locator("#gm-empty-summary")
        expect(link).to_have_text("展开")
        expect(blocks).to_be_hidden()
        link.click()
        expect(blocks).to_be_visible()
        expect(link).to_have_text("收起")
        # (Bootstrap ignores a click while the blocks are still sliding open.)
        expect(blocks).to_have_class(re.compile(r"\bcollapse in\b"))
        link.click()
        expect(blocks).to_be_hidden()
        expect(link).to_have_text("展开")
        return
    raise AssertionError(f"no demo user has an all-zero summary block: {tried}")
