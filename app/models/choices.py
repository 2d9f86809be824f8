"""Closed lists of values: stored as short English codes, shown with translated labels."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

MINING_METHODS = {
    "open_pit": _l("Open-pit"),
    "underground": _l("Underground"),
    "combined": _l("Open-pit and underground"),
}

MINE_SIZES = {
    "large": _l("Large"),
    "medium": _l("Medium"),
    "small": _l("Small"),
}

ECONOMIC_TYPES = {
    "state_owned": _l("State-owned"),
    "collective": _l("Collective"),
    "private": _l("Private"),
    "limited_liability": _l("Limited liability company"),
    "joint_stock": _l("Joint-stock company"),
    "foreign_invested": _l("Foreign-invested"),
    "hk_macao_taiwan": _l("Hong Kong, Macao or Taiwan invested"),
    "other": _l("Other"),
}


def label(choices: dict, value: str | None) -> str:
    if value is None:
        return ""
    return str(choices.get(value, value))


def choice_list(choices: dict) -> list[tuple[str, str]]:
    """(value, label) pairs for a select field; labels stay lazy so they follow the locale."""
    return list(choices.items())
