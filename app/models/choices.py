"""Closed lists of values: stored as short English codes, shown with translated labels."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

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


# 开拓方式 (seed 003)
DEVELOPMENT_METHODS = {
    "shaft": _l("Vertical shaft"),
    "incline": _l("Inclined shaft"),
    "adit": _l("Adit"),
    "ramp": _l("Ramp"),
    "combined": _l("Combined"),
}

# 生产状况
PRODUCTION_STATUSES = {
    "producing": _l("Producing"),
    "construction": _l("Under construction"),
    "suspended": _l("Production suspended"),
    "closed": lazy_pgettext("mine production status", "Closed"),
}

# 日常安全监管主体: the level of the authority that supervises the mine day to day.
SUPERVISION_LEVELS = {
    "province": _l("Province-level supervision"),
    "city": _l("City-level supervision"),
    "county": _l("County-level supervision"),
}

# 包保责任人 levels (seed 003 §6), highest first.
RESPONSIBILITY_LEVELS = {
    "province": _l("Province-level responsible person"),
    "city": _l("City-level responsible person"),
    "county": _l("County-level responsible person"),
    "enterprise": _l("Enterprise-level responsible person"),
}


def label(choices: dict, value: str | None) -> str:
    if value is None:
        return ""
    return str(choices.get(value, value))


def choice_list(choices: dict) -> list[tuple[str, str]]:
    """(value, label) pairs for a select field; labels stay lazy so they follow the locale."""
    return list(choices.items())
