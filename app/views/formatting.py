"""How values are shown: times in the deployment's time zone (stored in UTC), yes/no as 是/否, regions
by their full names; never "None", "True", "False" or a bare code."""
from __future__ import annotations

import datetime

from flask_appbuilder.security.sqla.models import Role
from flask_babel import gettext as _
from markupsafe import Markup

from app import clock
from app.services.roles import AUTHORITY_ROLES, role_label

# Between the items of a list shown as text (a user's roles, a record's related rows).
LIST_SEPARATOR = "、"


def local_datetime(value: datetime.datetime | None) -> str:
    """A UTC timestamp (as stored) in BABEL_DEFAULT_TIMEZONE (Asia/Shanghai), to the minute."""
    if value is None:
        return ""
    return clock.local(value).strftime("%Y-%m-%d %H:%M")


def for_staff(value) -> str:
    """A note meant for the authorities' staff (a directory entry due for review): shown to the
    national, province, city and county users, blank for anyone else (the enterprise)."""
    from flask import g

    names = {role.name for role in getattr(getattr(g, "user", None), "roles", ())}
    return value if names & AUTHORITY_ROLES else ""


def blank_if_none(value) -> str:
    return "" if value is None else value


def display_value(value):
    """How any value reads on a page: Python's None as blank, a boolean as 是 or 否, a role (FAB's
    Role, whose str() is its code) by its name, a list (a user's roles, a record's related rows)
    as its items' names joined by 、. Anything else as it is (Jinja escapes it and calls str()).

    Installed as Jinja's ``finalize`` (app.create_app), so it applies to every ``{{ … }}`` of
    every template: FAB's list and show widgets, which print ``item[column]`` as it comes, and
    ours alike."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, Role):
        return role_label(value.name)
    if isinstance(value, (list, tuple, set, frozenset)) and not isinstance(value, Markup):
        return LIST_SEPARATOR.join(str(display_value(item)) for item in value)
    return value


def formatters(datetimes: tuple[str, ...] = (), optional: tuple[str, ...] = ()) -> dict:
    """FAB ``formatters_columns`` for these datetime and optional columns (a datetime named in both
    keeps its time-zone formatting; both show an empty value as blank)."""
    result = {name: blank_if_none for name in optional}
    result.update({name: local_datetime for name in datetimes})
    return result


def share_percent(value) -> str:
    """A share stored as a fraction (0.75) as people read it: 75%; blank when not set."""
    if value is None or value == "":
        return ""
    return f"{float(value) * 100:.4g}%"


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


# Babel's locale -> the HTML language tag (BCP 47) where the two differ: our Chinese is the
# simplified Chinese of the mainland.
_HTML_LANGUAGE_TAGS = {"zh": "zh-CN", "zh-Hans": "zh-CN"}


def html_lang() -> str:
    """The page's language for ``<html lang>`` (app/templates/appbuilder/init.html, the PDFs'
    layouts): the user's locale, zh as zh-CN; the default locale outside a request."""
    from flask import current_app
    from flask_babel import get_locale

    locale = get_locale()
    tag = str(locale).replace("_", "-") if locale is not None else current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")
    return _HTML_LANGUAGE_TAGS.get(tag, tag)


# Select2's messages that count (characters to type or delete, items allowed): the number's place.
COUNT_PLACEHOLDER = "__N__"


def widget_words() -> dict:
    """The words of the browser-side widgets FAB's pages use, in the user's language: the
    calendar of bootstrap-datepicker (month and day names from Babel's locale data) and Select2's
    messages (from our catalogue). FAB loads both in English only. (app/templates/gm/baselayout.html)"""
    from flask_babel import get_locale

    locale = get_locale()
    sunday_first = (6, 0, 1, 2, 3, 4, 5)  # Babel counts from Monday, the datepicker from Sunday
    days, months = locale.days, locale.months
    count = {"count": COUNT_PLACEHOLDER}
    return {
        "datepicker": {
            "days": [days["format"]["wide"][day] for day in sunday_first],
            "daysShort": [days["format"]["abbreviated"][day] for day in sunday_first],
            "daysMin": [days["stand-alone"]["narrow"][day] for day in sunday_first],
            "months": [months["stand-alone"]["wide"][month] for month in range(1, 13)],
            "monthsShort": [months["format"]["abbreviated"][month] for month in range(1, 13)],
            "today": _("Today"),
            "clear": _("Clear"),
            "weekStart": (locale.first_week_day + 1) % 7,
        },
        "select2": {
            "noResults": _("No matches"),
            "searching": _("Searching…"),
            "loadingMore": _("Loading more…"),
            "errorLoading": _("The choices could not be loaded."),
            "inputTooShort": _("Type %(count)s more characters", **count),
            "inputTooLong": _("Delete %(count)s characters", **count),
            "maximumSelected": _("You can choose %(count)s items at most", **count),
            "removeAllItems": _("Remove all"),
        },
    }
