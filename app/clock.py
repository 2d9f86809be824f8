"""What day it is where the users are.

Every date the product decides (deadlines, validity, draw and check dates, the year a record
belongs to) is a day of the deployment's time zone, ``BABEL_DEFAULT_TIMEZONE`` (Asia/Shanghai),
never of the server's own clock: on a server that runs on UTC, ``datetime.date.today()`` dates
everything done in China before 08:00 to the day before. Timestamps are stored in UTC and read in
the same zone. Callers write ``clock.today()`` (not ``from app.clock import today``) so that the
test suite can hold the day still for a whole run.
"""
from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


DEFAULT_TIMEZONE = "Asia/Shanghai"


def zone() -> ZoneInfo:
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_TIMEZONE)


def now() -> datetime.datetime:
    """The wall-clock time in the deployment's zone (aware)."""
    return datetime.datetime.now(zone())


def today() -> datetime.date:
    return now().date()


def local(timestamp: datetime.datetime) -> datetime.datetime:
    """A stored timestamp (naive UTC, or aware) in the deployment's zone."""
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=datetime.timezone.utc)
    return timestamp.astimezone(zone())


def day_of(timestamp: datetime.datetime) -> datetime.date:
    """The deployment's day on which a stored timestamp fell."""
    return local(timestamp).date()
