"""How values are shown: times in the deployment's time zone (stored in UTC), yes/no as 是/否, regions
by their full names; never "None", "True", "False" or a bare code."""
from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _


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


def yes_no(value) -> str:
    """Every yes/no value on screen: 是 / 否, blank when unknown (never True, False or None)."""
    if value is None or value == "":
        return ""
    return _("Yes") if value else _("No")


def yes_no_answer(value) -> str:
    """A yes/no question the user answers (the eligibility conditions): unanswered is said so."""
    return _("Not answered") if value is None else yes_no(value)


def region_name(region) -> str:
    """A region as people name it: its full name, province, city and county (山西省太原市小店区),
    never its bare code."""
    if region is None:
        return ""
    return getattr(region, "full_name", None) or str(region)
