"""Mine search criteria (SPEC B6, B7): one parser for the URL arguments of the mine list, the
statistics links, the Excel export and the API, so that a number on the statistics page and
the list it links to always count the same mines.

Arguments (all optional, combined with AND):
  q                   name contains (case-insensitive)
  region              a region code prefix: 2 digits (province), 4 (city) or 6 (county)
  size                large / medium / small, or none (size not recorded)
  mineral             a mineral id, or none (mineral not recorded)
  mineral_class       能源 / 金属 / 非金属 / 水气
  subclass            a metal sub-class (黑色金属 ...)
  mining_method, development_method, production_status, supervision_level: a closed-list code
  design_capacity_min, design_capacity_max, depth_min, depth_max, workers_min, workers_max
  workers_over        workers underground per shift strictly above (SPEC: more than 30)
  depth_over          maximum depth strictly above, in m (SPEC: deeper than 800 m)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from app.models.choices import (
    DEVELOPMENT_METHODS,
    MINE_SIZES,
    MINING_METHODS,
    PRODUCTION_STATUSES,
    SUPERVISION_LEVELS,
)
from app.services import search_text

# The thresholds the statistics page highlights (seed 003 §3.2, §3.3).
WORKERS_THRESHOLD = 30
DEPTH_THRESHOLD_M = 800

MINERAL_CLASSES = ("能源", "金属", "非金属", "水气")
# The value of `size` and `mineral` that selects the mines where it is not recorded.
NOT_RECORDED = "none"

_CHOICE_ARGS = {
    "size": MINE_SIZES,
    "mining_method": MINING_METHODS,
    "development_method": DEVELOPMENT_METHODS,
    "production_status": PRODUCTION_STATUSES,
    "supervision_level": SUPERVISION_LEVELS,
}
# argument -> (column, comparison)
_NUMBER_ARGS = {
    "design_capacity_min": ("design_capacity", ">="),
    "design_capacity_max": ("design_capacity", "<="),
    "depth_min": ("max_depth_m", ">="),
    "depth_max": ("max_depth_m", "<="),
    "depth_over": ("max_depth_m", ">"),
    "workers_min": ("workers_per_shift", ">="),
    "workers_max": ("workers_per_shift", "<="),
    "workers_over": ("workers_per_shift", ">"),
}
ARGUMENTS = ("q", "region", "mineral", "mineral_class", "subclass", *_CHOICE_ARGS, *_NUMBER_ARGS)


@dataclass
class MineCriteria:
    """Parsed criteria: the SQL conditions, the arguments that produced them, the refusals."""

    conditions: list[ColumnElement] = field(default_factory=list)
    applied: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def parse(args: Mapping[str, Any]) -> MineCriteria:
    """Turn URL arguments into conditions on Mine. Bad values are reported, not applied."""
    from app.models import Mine, Mineral

    criteria = MineCriteria()

    def refuse(name: str, value: str) -> None:
        criteria.errors.append(_("Search condition %(name)s=%(value)s is not valid and was ignored.",
                                 name=name, value=value))

    for name in ARGUMENTS:
        raw = args.get(name)
        if raw is None or str(raw).strip() == "":
            continue
        value = str(raw).strip()
        if name == "q":
            condition = search_text.contains(Mine.name, value)
        elif name == "region":
            if not value.isdigit() or len(value) not in (2, 4, 6):
                refuse(name, value)
                continue
            from app.services.scoping import region_condition

            condition = region_condition(Mine.region_code, [value])
        elif name in ("mineral", "size") and value == NOT_RECORDED:
            condition = (Mine.mineral_id if name == "mineral" else Mine.size).is_(None)
        elif name == "mineral":
            if not value.isdigit():
                refuse(name, value)
                continue
            condition = Mine.mineral_id == int(value)
        elif name == "mineral_class":
            if value not in MINERAL_CLASSES:
                refuse(name, value)
                continue
            condition = Mine.mineral_id.in_(select(Mineral.id).where(Mineral.mineral_class == value))
        elif name == "subclass":
            condition = Mine.mineral_id.in_(select(Mineral.id).where(Mineral.subclass == value))
        elif name in _CHOICE_ARGS:
            if value not in _CHOICE_ARGS[name]:
                refuse(name, value)
                continue
            condition = getattr(Mine, name) == value
        else:
            column_name, comparison = _NUMBER_ARGS[name]
            try:
                number = float(value)
            except ValueError:
                refuse(name, value)
                continue
            column = getattr(Mine, column_name)
            condition = {">=": column >= number, "<=": column <= number, ">": column > number}[comparison]
        criteria.conditions.append(condition)
        criteria.applied[name] = value
    return criteria
