"""Statistics of the mine registry (SPEC B6; seed 003 §2.3, §3.1–3.4), scoped to the user.

Every number comes from ONE function, ``count_mines(user, args, by)``. It applies

- the scope rule, ``scoping.scope_filter(Mine, user)``, and
- the mine list's criteria, ``mine_search.parse(args).conditions``,

and counts with one GROUP BY statement (no mine is loaded). Each resulting ``Cell`` carries the
``args`` of the mine list that shows exactly the mines it counts: the criteria already applied
plus the cell's own (``region=<prefix>``, ``size=``, ``mineral_class=``, ``subclass=``,
``mineral=<id>``, ``workers_over=30``, ``depth_over=800``). The list page parses the same
arguments with the same parser, under the same scope, so the number and the list agree.

A group that no search argument can select (mines whose size or mineral is not recorded) gets
``args=None``: it is shown, without a link.

The screens and the REST API call ``summary``, ``region_breakdown`` and ``mineral_breakdown``,
which only choose the grouping and arrange the cells.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Mapping, Optional, Sequence

from flask_babel import gettext as _
from sqlalchemy import Row, String, func, literal_column, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.models import Mine, Mineral, Region
from app.models.choices import (
    DEVELOPMENT_METHODS,
    MINE_SIZES,
    MINING_METHODS,
    PRODUCTION_STATUSES,
    SUPERVISION_LEVELS,
)
from app.models.region import GROUPING_NAMES
from app.services import mine_search, scoping

# The only mineral class with sub-classes (Mineral.subclass: "Metals only").
METALS = "金属"
WORKERS_ARGS = {"workers_over": str(mine_search.WORKERS_THRESHOLD)}
DEPTH_ARGS = {"depth_over": str(mine_search.DEPTH_THRESHOLD_M)}


class By(str, Enum):
    """How ``count_mines`` groups the mines."""

    TOTAL = "total"
    SIZE = "size"
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    MINERAL_CLASS = "mineral_class"
    SUBCLASS = "subclass"
    MINERAL = "mineral"


# Region grouping: the length of the GB/T 2260 prefix (2 province, 4 city, 6 county).
PREFIX_LENGTH = {By.PROVINCE: 2, By.CITY: 4, By.COUNTY: 6}
# The level shown below a region argument of this length (none: the provinces).
_REGION_LEVEL_BELOW = {0: By.PROVINCE, 2: By.CITY, 4: By.COUNTY, 6: By.COUNTY}


@dataclass(frozen=True)
class Cell:
    """One number: what it counts, how many, and the mine list that shows exactly those mines."""

    key: Optional[str]
    label: str
    count: int
    # mine_search arguments of the list; None when no argument selects exactly this group.
    args: Optional[dict[str, str]]
    # True when a statistics level below this cell exists (a province's cities ...).
    deeper: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "count": self.count, "args": self.args,
                "deeper": self.deeper}


@dataclass
class Counts:
    """The cells of one grouping, and the criteria they were counted under."""

    by: By
    cells: list[Cell]
    applied: dict[str, str]
    errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(cell.count for cell in self.cells)


def search_args(args: Mapping[str, Any]) -> dict[str, str]:
    """The mine_search arguments among ``args`` (a request's MultiDict or a dict), first values."""
    result: dict[str, str] = {}
    for name in mine_search.ARGUMENTS:
        value = args.get(name)
        if value is not None and str(value).strip() != "":
            result[name] = str(value).strip()
    return result


# ---------------------------------------------------------------------------
# The one query function
# ---------------------------------------------------------------------------
def count_mines(user, args: Mapping[str, Any], by: By = By.TOTAL) -> Counts:
    """Count the mines ``user`` may see that match ``args``, grouped ``by``: one statement."""
    criteria = mine_search.parse(search_args(args))
    base = dict(criteria.applied)
    where: list[ColumnElement] = [scoping.scope_filter(Mine, user), *criteria.conditions]
    statement, to_cells = _grouping(by, where, base)
    rows = db.session.execute(statement).all()
    return Counts(by=by, cells=to_cells(rows), applied=base, errors=list(criteria.errors))


def _grouping(by: By, where: Sequence[ColumnElement], base: dict[str, str]
              ) -> tuple[Select, Callable[[Sequence[Row]], list[Cell]]]:
    """The GROUP BY statement for ``by`` and the function that turns its rows into cells."""
    if by is By.TOTAL:
        statement = select(func.count()).select_from(Mine).where(*where)
        return statement, lambda rows: [Cell(None, _("All mines"), int(rows[0][0]), dict(base))]
    if by is By.SIZE:
        statement = select(Mine.size, func.count()).select_from(Mine).where(*where).group_by(Mine.size)
        return statement, lambda rows: _size_cells(rows, base)
    if by in PREFIX_LENGTH:
        return _region_statement(PREFIX_LENGTH[by], where), lambda rows: _region_cells(rows, base, by)
    return _mineral_statement(by, where), lambda rows: _mineral_cells(rows, base, by)


def _region_statement(length: int, where: Sequence[ColumnElement]) -> Select:
    """Mines per region prefix, then the region's name (and its parent's, for 市辖区 rows)."""
    if length == 6:
        prefix = Mine.region_code
    else:
        # Literal positions: the same SQL text in SELECT and GROUP BY on every driver.
        prefix = func.substr(Mine.region_code, literal_column("1"), literal_column(str(length)), type_=String)
    counted = (
        select(prefix.label("prefix"), func.count().label("n"))
        .select_from(Mine)
        .where(*where)
        .group_by(prefix)
        .subquery("counted")
    )
    region = aliased(Region, name="named_region")
    parent = aliased(Region, name="parent_region")
    code = counted.c.prefix if length == 6 else counted.c.prefix.concat("0" * (6 - length))
    return (
        select(counted.c.prefix, counted.c.n, region.name, parent.name)
        .select_from(counted)
        .outerjoin(region, region.code == code)
        .outerjoin(parent, parent.code == region.parent_code)
        .order_by(counted.c.prefix)
    )


def _mineral_statement(by: By, where: Sequence[ColumnElement]) -> Select:
    """Mines per mineral first (on mine.mineral_id), then summed up the catalogue."""
    counted = (
        select(Mine.mineral_id.label("mineral_id"), func.count().label("n"))
        .select_from(Mine)
        .where(*where)
        .group_by(Mine.mineral_id)
        .subquery("counted")
    )
    keys: list[Any] = [Mineral.mineral_class]
    if by in (By.SUBCLASS, By.MINERAL):
        keys.append(Mineral.subclass)
    if by is By.MINERAL:
        keys += [Mineral.id, Mineral.name]
    return (
        select(*keys, func.sum(counted.c.n).label("n"))
        .select_from(counted)
        .outerjoin(Mineral, Mineral.id == counted.c.mineral_id)
        .group_by(*keys)
        # Catalogue order; mines without a mineral last.
        .order_by(func.coalesce(func.min(Mineral.sort_order), 1_000_000))
    )


# ---------------------------------------------------------------------------
# Rows -> cells
# ---------------------------------------------------------------------------
def _not_recorded(count: int, args: dict[str, str]) -> list[Cell]:
    """The mines where the grouped value is missing, linked with the `none` criterion."""
    return [Cell(None, _("Not recorded"), count, args)] if count else []


def _size_cells(rows: Sequence[Row], base: dict[str, str]) -> list[Cell]:
    counts = {size: int(n) for size, n in rows}
    cells = [Cell(size, str(label), counts.pop(size, 0), dict(base, size=size)) for size, label in MINE_SIZES.items()]
    if "size" in base:
        # The list is already limited to one size: the other sizes are not part of it.
        cells = [cell for cell in cells if cell.key == base["size"]]
    return cells + _not_recorded(sum(counts.values()), dict(base, size=mine_search.NOT_RECORDED))


def _region_label(prefix: str, name: Optional[str], parent_name: Optional[str]) -> str:
    if name is None:
        return prefix
    if name in GROUPING_NAMES and parent_name:
        return f"{parent_name}{name}"
    return name


def _region_cells(rows: Sequence[Row], base: dict[str, str], by: By) -> list[Cell]:
    deeper = PREFIX_LENGTH[by] < 6
    within = base.get("region", "")

    def region_arg(prefix: str) -> str:
        # Grouped more coarsely than the region argument (provinces under region=1401): the
        # row still counts only the argument's mines, so its list keeps the narrower region.
        return prefix if len(prefix) >= len(within) else within

    return [
        Cell(prefix, _region_label(prefix, name, parent_name), int(n), dict(base, region=region_arg(prefix)),
             deeper and len(prefix) >= len(within))
        for prefix, n, name, parent_name in rows
    ]


def _mineral_cells(rows: Sequence[Row], base: dict[str, str], by: By) -> list[Cell]:
    cells: list[Cell] = []
    unknown = 0
    for row in rows:
        mineral_class, n = row[0], int(row[-1])
        if mineral_class is None:
            unknown += n
            continue
        if by is By.MINERAL_CLASS:
            cells.append(Cell(mineral_class, mineral_class, n, dict(base, mineral_class=mineral_class), True))
            continue
        subclass = row[1]
        if by is By.SUBCLASS:
            if subclass is None and mineral_class == METALS:
                unknown += n  # a metal without a sub-class: no argument selects exactly these
            elif subclass is None:
                cells.append(Cell(mineral_class, mineral_class, n, dict(base, mineral_class=mineral_class), True))
            else:
                cells.append(Cell(subclass, subclass, n, dict(base, mineral_class=mineral_class, subclass=subclass),
                                  True))
            continue
        mineral_id, name = row[2], row[3]
        cells.append(Cell(str(mineral_id), name, n, dict(base, mineral=str(mineral_id))))
    if by is By.MINERAL_CLASS and not any(key in base for key in ("mineral_class", "subclass", "mineral")):
        # The four classes are always shown, in catalogue order, with their zeros.
        present = {cell.key: cell for cell in cells}
        classes = mine_search.MINERAL_CLASSES
        cells = [present.get(name) or Cell(name, name, 0, dict(base, mineral_class=name), True) for name in classes] \
            + [cell for cell in cells if cell.key not in classes]
    return cells + _not_recorded(unknown, dict(base, mineral=mine_search.NOT_RECORDED))


# ---------------------------------------------------------------------------
# What the screens and the API show
# ---------------------------------------------------------------------------
@dataclass
class Summary:
    """The home summary (seed 003 §2.3): totals by size, >30 workers, >800 m, mineral classes."""

    total: Cell
    by_size: list[Cell]
    workers_over: Cell
    depth_over: Cell
    by_mineral_class: list[Cell]
    applied: dict[str, str]
    errors: list[str]


@dataclass
class Breakdown:
    """One drill-down level: the cells, their total, and where the level sits."""

    by: By
    total: Cell
    cells: list[Cell]
    applied: dict[str, str]
    errors: list[str]
    # (label, statistics args) from the top down to the current level.
    path: list[tuple[str, dict[str, str]]]


def summary(user, args: Mapping[str, Any]) -> Summary:
    """Four statements, whatever the number of mines."""
    plain = search_args(args)
    sizes = count_mines(user, plain, By.SIZE)
    # Every mine has one size group (NULL included): their sum is the total of the criteria.
    total = Cell(None, _("All mines"), sizes.total, dict(sizes.applied))
    workers = count_mines(user, {**plain, **WORKERS_ARGS}, By.TOTAL).cells[0]
    depth = count_mines(user, {**plain, **DEPTH_ARGS}, By.TOTAL).cells[0]
    classes = count_mines(user, plain, By.MINERAL_CLASS)
    return Summary(
        total=total,
        by_size=sizes.cells,
        workers_over=Cell("workers_over", _("More than %(n)s workers underground per shift",
                                             n=mine_search.WORKERS_THRESHOLD), workers.count, workers.args),
        depth_over=Cell("depth_over", _("Deeper than %(n)s m", n=mine_search.DEPTH_THRESHOLD_M),
                        depth.count, depth.args),
        by_mineral_class=classes.cells,
        applied=sizes.applied,
        errors=sizes.errors,
    )


def region_level(applied: Mapping[str, str]) -> By:
    """The level shown under the region argument: provinces, a province's cities, a city's counties."""
    return _REGION_LEVEL_BELOW[len(applied.get("region", ""))]


def region_breakdown(user, args: Mapping[str, Any]) -> Breakdown:
    """Province → city → county, under the criteria (seed 003 §3.1–3.3): one statement, plus one
    to name the current region when there is one."""
    plain = search_args(args)
    applied = mine_search.parse(plain).applied
    counts = count_mines(user, plain, region_level(applied))
    # Every mine has a region: the rows add up to the total of the criteria.
    total = Cell(None, _("All mines"), counts.total, dict(counts.applied))
    without_region = {k: v for k, v in counts.applied.items() if k != "region"}
    path = [(_("Nationwide"), without_region)]
    for prefix, label in region_path(counts.applied.get("region")):
        path.append((label, dict(without_region, region=prefix)))
    return Breakdown(counts.by, total, counts.cells, counts.applied, counts.errors, path)


def mineral_level(applied: Mapping[str, str]) -> By:
    """Class → sub-class (metals) → mineral; other classes go straight to their minerals."""
    if "mineral" in applied or "subclass" in applied:
        return By.MINERAL
    if applied.get("mineral_class") == METALS:
        return By.SUBCLASS
    if "mineral_class" in applied:
        return By.MINERAL
    return By.MINERAL_CLASS


def mineral_breakdown(user, args: Mapping[str, Any]) -> Breakdown:
    """The mineral drill-down (seed 003 §3.4): one statement, plus one to name a chosen mineral."""
    plain = search_args(args)
    applied = mine_search.parse(plain).applied
    counts = count_mines(user, plain, mineral_level(applied))
    total = Cell(None, _("All mines"), counts.total, dict(counts.applied))
    keep = {k: v for k, v in counts.applied.items() if k not in ("mineral_class", "subclass", "mineral")}
    path = [(_("All minerals"), dict(keep))]
    if "mineral_class" in applied:
        keep = dict(keep, mineral_class=applied["mineral_class"])
        path.append((applied["mineral_class"], dict(keep)))
    if "subclass" in applied:
        keep = dict(keep, subclass=applied["subclass"])
        path.append((applied["subclass"], dict(keep)))
    if "mineral" in applied:
        mineral = db.session.get(Mineral, int(applied["mineral"]))
        path.append((mineral.name if mineral else applied["mineral"], dict(keep, mineral=applied["mineral"])))
    return Breakdown(counts.by, total, counts.cells, counts.applied, counts.errors, path)


# ---------------------------------------------------------------------------
# Words for the criteria and the scope
# ---------------------------------------------------------------------------
def region_path(prefix: Optional[str]) -> list[tuple[str, str]]:
    """(prefix, name) from the province down to the region of ``prefix``: one statement."""
    if not prefix:
        return []
    code = prefix.ljust(6, "0")
    # The region and its ancestors in one query (codes are hierarchical); the parents it
    # reads for display names are then in the session already.
    ancestors = {code[:2] + "0000", code[:4] + "00", code}
    regions = {region.code: region for region in db.session.scalars(select(Region).where(Region.code.in_(ancestors)))}
    if code not in regions:
        return [(prefix, prefix)]
    chain: list[tuple[str, str]] = []
    node: Optional[Region] = regions[code]
    while node is not None:
        length = {1: 2, 2: 4}.get(node.level, 6)
        chain.append((node.code[:length], node.display_name))
        node = node.parent
    return [(p, name) for p, name in reversed(chain) if len(p) <= len(prefix)]


_ARGUMENT_LABELS: dict[str, Callable[[], str]] = {
    "q": lambda: _("Mine name contains"),
    "region": lambda: _("Region"),
    "size": lambda: _("Mine size"),
    "mineral": lambda: _("Mineral"),
    "mineral_class": lambda: _("Mineral class"),
    "subclass": lambda: _("Sub-class"),
    "mining_method": lambda: _("Mining method"),
    "development_method": lambda: _("Development method"),
    "production_status": lambda: _("Production status"),
    "supervision_level": lambda: _("Daily supervision"),
    "design_capacity_min": lambda: _("Design capacity (10,000 t/year)"),
    "design_capacity_max": lambda: _("Design capacity (10,000 t/year)"),
    "depth_min": lambda: _("Maximum mining depth (m)"),
    "depth_max": lambda: _("Maximum mining depth (m)"),
    "depth_over": lambda: _("Maximum mining depth (m)"),
    "workers_min": lambda: _("Workers underground per shift"),
    "workers_max": lambda: _("Workers underground per shift"),
    "workers_over": lambda: _("Workers underground per shift"),
}
_CHOICES = {"size": MINE_SIZES, "mining_method": MINING_METHODS, "development_method": DEVELOPMENT_METHODS,
            "production_status": PRODUCTION_STATUSES, "supervision_level": SUPERVISION_LEVELS}
_COMPARISONS = {"_min": "≥", "_max": "≤", "_over": ">"}


def describe(applied: Mapping[str, str]) -> list[tuple[str, str]]:
    """(label, value) for each applied criterion, in words (the page's 统计条件)."""
    result: list[tuple[str, str]] = []
    for name, value in applied.items():
        label = _ARGUMENT_LABELS[name]() if name in _ARGUMENT_LABELS else name
        if name == "region":
            region = db.session.get(Region, value.ljust(6, "0"))
            shown = region.full_name if region is not None else value
        elif name == "mineral":
            mineral = db.session.get(Mineral, int(value))
            shown = mineral.name if mineral is not None else value
        elif name in _CHOICES:
            shown = str(_CHOICES[name].get(value, value))
        else:
            suffix = next((s for s in _COMPARISONS if name.endswith(s)), None)
            shown = f"{_COMPARISONS[suffix]} {value}" if suffix else value
        result.append((label, shown))
    return result


def scope_label(user) -> str:
    """The statistics' range in words (统计范围): nationwide, the user's region, his enterprise."""
    scope = scoping.user_scope(user)
    if scope.everything:
        return _("Nationwide")
    if scope.region_prefixes and getattr(user, "region", None) is not None:
        return user.region.full_name
    if scope.enterprise_ids and getattr(user, "enterprise", None) is not None:
        return user.enterprise.name
    return _("No records")
