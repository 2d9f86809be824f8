"""How values are shown: times in the deployment's time zone (stored in UTC), no "None"."""
from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from flask import current_app


def local_datetime(value: datetime.datetime | None) -> str:
    """A UTC timestamp (as stored) in BABEL_DEFAULT_TIMEZONE (Asia/Shanghai), to the minute."""
    if value is None:
        return ""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    return value.replace(tzinfo=datetime.timezone.utc).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def blank_if_none(value) -> str:
    return "" if value is None else value


def formatters(datetimes: tuple[str, ...] = (), optional: tuple[str, ...] = ()) -> dict:
    """FAB ``formatters_columns`` for these datetime and optional columns (a datetime named in both
    keeps its time-zone formatting; both show an empty value as blank)."""
    result = {name: blank_if_none for name in optional}
    result.update({name: local_datetime for name in datetimes})
    return result
