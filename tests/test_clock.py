"""The product's days are the deployment's days (Asia/Shanghai), not the server clock's."""
from __future__ import annotations

import datetime

from app import clock

UTC = datetime.timezone.utc


def test_a_morning_in_china_is_already_the_chinese_day_on_a_utc_server(app):
    with app.app_context():
        assert clock.now().utcoffset() == datetime.timedelta(hours=8)
        # 2026-12-07 23:30 UTC is 2026-12-08 07:30 in Shanghai; stored timestamps are naive UTC.
        assert clock.day_of(datetime.datetime(2026, 12, 7, 23, 30, tzinfo=UTC)) == datetime.date(2026, 12, 8)
        assert clock.day_of(datetime.datetime(2026, 12, 7, 16, 0)) == datetime.date(2026, 12, 8)
        assert clock.day_of(datetime.datetime(2026, 12, 7, 15, 59)) == datetime.date(2026, 12, 7)
        app.config["BABEL_DEFAULT_TIMEZONE"] = "UTC"
        try:
            assert clock.day_of(datetime.datetime(2026, 12, 7, 23, 30)) == datetime.date(2026, 12, 7)
        finally:
            app.config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Shanghai"


def test_outside_a_request_the_default_zone_holds():
    assert clock.now().utcoffset() == datetime.timedelta(hours=8)


def test_the_suite_holds_the_day_still():
    """A run that crosses midnight keeps the day it started on (tests/conftest.py)."""
    assert clock.today.__name__ == "<lambda>"
    assert clock.today() == clock.today()
