"""Loading the shipped reference data (app/data/*.csv) into the database, idempotently.

Running the loader twice changes nothing the second time; a changed row in a file is
updated in place; rows are never deleted (records may point to them).
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from typing import Iterable, Optional

from flask import current_app
from sqlalchemy import select

from app.extensions import db


@dataclass
class LoadResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"inserted {self.inserted}, updated {self.updated}, unchanged {self.unchanged}"


def _read_csv(name: str) -> list[dict[str, str]]:
    path = os.path.join(current_app.config["REFERENCE_DATA_DIR"], name)
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _flag(row: dict[str, str], column: str, name: str) -> bool:
    """A yes/no column of a data file; anything else stops the load (a typo must not read as
    "confirmed")."""
    value = (row.get(column) or "").strip()
    if value not in ("yes", "no"):
        raise ValueError(f"{name}: {column} must be yes or no, not {value!r} (row {row})")
    return value == "yes"


def _text(row: dict[str, str], column: str, limit: int) -> Optional[str]:
    return (row.get(column) or "").strip()[:limit] or None


def _upsert(model, key_attrs: tuple[str, ...], rows: list[dict], result: LoadResult) -> None:
    existing = {
        tuple(getattr(obj, attr) for attr in key_attrs): obj for obj in db.session.scalars(select(model))
    }
    for values in rows:
        key = tuple(values[attr] for attr in key_attrs)
        obj = existing.get(key)
        if obj is None:
            db.session.add(model(**values))
            result.inserted += 1
            continue
        changed = False
        for attr, value in values.items():
            if getattr(obj, attr) != value:
                setattr(obj, attr, value)
                changed = True
        if changed:
            result.updated += 1
        else:
            result.unchanged += 1


def load_regions() -> LoadResult:
    from app.models import Region
    from app.models.region import full_region_names

    rows = _read_csv("regions.csv")
    parents = {row["parent_code"] for row in rows if row["parent_code"]}
    values = [
        {
            "code": row["code"],
            "name": row["name"],
            "level": int(row["level"]),
            "parent_code": row["parent_code"] or None,
            # Leaves take records: counties, and prefectures without counties.
            "is_leaf": int(row["level"]) > 1 and row["code"] not in parents,
        }
        for row in rows
    ]
    full_names = full_region_names({v["code"]: (v["name"], v["parent_code"]) for v in values})
    for value in values:
        value["full_name"] = full_names[value["code"]]
    result = LoadResult()
    # Parents before children, so foreign keys hold at every flush.
    values.sort(key=lambda v: v["level"])
    _upsert(Region, ("code",), values, result)
    db.session.flush()
    return result


def load_minerals() -> LoadResult:
    from app.models import Mineral

    rows = _read_csv("minerals.csv")
    values = [
        {
            "name": row["name"].strip(),
            "mineral_class": row["class"].strip(),
            "subclass": row["subclass"].strip() or None,
            "sort_order": index,
            "note": (row.get("note") or "").strip() or None,
            "added": row["added"].strip() or None,
        }
        for index, row in enumerate(rows, start=1)
    ]
    result = LoadResult()
    _upsert(Mineral, ("name",), values, result)
    db.session.flush()
    return result


def load_size_thresholds() -> LoadResult:
    from app.models import Mineral, MineSizeThreshold

    minerals = {m.name: m.id for m in db.session.scalars(select(Mineral))}
    values = []
    for row in _read_csv("mine_size_thresholds.csv"):
        key = row["mineral"].strip()
        values.append(
            {
                "mineral_key": key,
                "mineral_id": minerals.get(key),
                "use": row["use"].strip(),
                "mining_method": row["mining_method"].strip(),
                "unit": row["unit"].strip(),
                "large_min": float(row["large_min"]),
                "medium_min": float(row["medium_min"]),
                "remark": _text(row, "remark", 256),
                "inferred": _flag(row, "inferred", "mine_size_thresholds.csv"),
                "source_note": _text(row, "source_note", 512),
            }
        )
    result = LoadResult()
    _upsert(MineSizeThreshold, ("mineral_key", "use", "mining_method"), values, result)
    db.session.flush()
    return result


# ``source``: the official text, for every reader; ``source_note``: what is inferred, for the
# authorities' staff (the data files' SOURCE notes tell the whole story).
INDICATOR_VERSION = {
    "code": "national-2020",
    "name": "绿色矿山评价指标（自然资源部 2020）",
    "total_points": 1000.0,
    "pass_points": 800.0,
    "area_min_ratio": 0.75,
    "source": "自然资源部矿产资源保护监督司《关于印发〈绿色矿山评价指标〉和〈绿色矿山遴选第三方评估工作要求〉的函》"
              "（2020年6月1日）",
    "source_note": "公开资料未见指标表全文：6个一级指标、24个二级指标、100个三级指标和总分1000分见于公开资料，"
                   "前两个一级指标的分值和少数指标名称也已核实；其余名称和分值为推定值（各指标项标有“推定值”），"
                   "用于正式评分前须与原文核对。",
}
# The 2024 national indicators (自然资规〔2024〕1号): 6 areas, 49 items, 100 points. No pass line
# or per-area share was found in a public text, so none is stated (null: no pass rule applies
# until the admin or a province's adoption sets one). Everything below the areas is
# reconstructed (see the SOURCE note), so the version is loaded *inactive*: the admin
# activates it after checking it against the original table.
INDICATOR_VERSION_2024 = {
    "code": "national-2024",
    "name": "绿色矿山建设评价指标（自然资规〔2024〕1号）",
    "total_points": 100.0,
    "pass_points": None,
    "area_min_ratio": None,
    "source": "自然资源部等七部门《关于进一步加强绿色矿山建设的通知》（自然资规〔2024〕1号）附件"
              "《绿色矿山建设评价指标》",
    "source_note": "公开资料未见指标表全文：6个一级指标、23个二级指标、49个三级指标和总分100分见于公开资料；"
                   "一级指标以下的名称和全部分值为推定值，合格线未见于公开资料。本版本初始为停用，"
                   "与原文核对后再启用。",
}
# (version values, data file, is_active when first inserted; later runs keep the admin's choice)
INDICATOR_CATALOGUES = (
    (INDICATOR_VERSION, "indicators_national_2020.csv", True),
    (INDICATOR_VERSION_2024, "indicators_national_2024.csv", False),
)


def load_indicators() -> LoadResult:
    """The national indicator catalogues (2020 and 2024), each a versioned tree of areas,
    second-level indicators and items with points. Idempotent: a re-run updates in place."""
    result = LoadResult()
    for values, filename, active_when_new in INDICATOR_CATALOGUES:
        _load_indicator_catalogue(values, filename, active_when_new, result)
    return result


def _load_indicator_catalogue(values: dict, filename: str, active_when_new: bool, result: LoadResult) -> None:
    from app.models import IndicatorItem, IndicatorVersion

    exists = db.session.scalars(select(IndicatorVersion).where(IndicatorVersion.code == values["code"])).first()
    row = dict(values) if exists is not None else dict(values, is_active=active_when_new)
    _upsert(IndicatorVersion, ("code",), [row], result)
    db.session.flush()
    version = db.session.scalars(
        select(IndicatorVersion).where(IndicatorVersion.code == values["code"])
    ).one()
    rows = _read_csv(filename)
    # Parents before children: each level is flushed before the next names its parents.
    for level in sorted({int(row["level"]) for row in rows}):
        ids = {item.code: item.id for item in db.session.scalars(
            select(IndicatorItem).where(IndicatorItem.version_id == version.id))}
        items = []
        for index, row in enumerate(rows, start=1):
            if int(row["level"]) != level:
                continue
            code = row["code"].strip()
            parent = code.rsplit(".", 1)[0] if "." in code else None
            items.append({
                "version_id": version.id,
                "code": code,
                "level": level,
                "name": row["name"].strip(),
                "points": float(row["points"]) if row["points"].strip() else None,
                "parent_id": ids[parent] if parent else None,
                "sort_order": index,
                "inferred": _flag(row, "inferred", filename),
                "source_note": _text(row, "source_note", 512),
            })
        _upsert(IndicatorItem, ("version_id", "code"), items, result)
        db.session.flush()


def load_all() -> dict[str, LoadResult]:
    """Load every reference file in one transaction."""
    try:
        results = {
            "regions": load_regions(),
            "minerals": load_minerals(),
            "mine_size_thresholds": load_size_thresholds(),
            "indicators": load_indicators(),
        }
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return results


# ---------------------------------------------------------------------------
# Who reads the working notes
# ---------------------------------------------------------------------------
def shows_working_notes(user) -> bool:
    """Whether ``user`` sees the reference data's working notes: that a threshold or an indicator
    item is inferred rather than read in the official text (推定值), and the source note saying
    why. The authorities' staff and the other professional roles do; an enterprise does not
    (``RoleDefinition.working_notes``). Nobody who is not signed in."""
    from app.services.roles import ROLES

    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return any(ROLES[role.name].working_notes for role in getattr(user, "roles", ()) if role.name in ROLES)


# ---------------------------------------------------------------------------
# Mine size from the threshold table
# ---------------------------------------------------------------------------
_METHOD_NAMES = {"open_pit": "露天", "underground": "地下"}
# A threshold row for a whole class or subclass of minerals is keyed "类:<class>".
CLASS_KEY_PREFIX = "类:"


def _threshold_keys(mineral) -> list[str]:
    """The threshold table's keys for a mineral, most specific first: its name, then its
    subclass and class catch-alls (类:…)."""
    keys = [mineral.name]
    if mineral.subclass:
        keys.append(f"{CLASS_KEY_PREFIX}{mineral.subclass}")
    keys.append(f"{CLASS_KEY_PREFIX}{mineral.mineral_class}")
    return keys


def _pick_threshold(by_key: dict, mineral, mining_method: Optional[str], use: str):
    method = _METHOD_NAMES.get(mining_method or "", "")
    for key in _threshold_keys(mineral):
        for candidate in ((key, use, method), (key, "", method), (key, use, ""), (key, "", "")):
            if candidate in by_key:
                return by_key[candidate]
    return None


def _thresholds_for(minerals) -> dict:
    """(mineral key, use, method) -> threshold row, for these minerals: one query."""
    from app.models import MineSizeThreshold

    keys = {key for mineral in minerals for key in _threshold_keys(mineral)}
    if not keys:
        return {}
    rows = db.session.scalars(select(MineSizeThreshold).where(MineSizeThreshold.mineral_key.in_(keys))).all()
    return {(r.mineral_key, r.use, r.mining_method): r for r in rows}


def size_threshold(mineral, mining_method: Optional[str] = None, use: str = ""):
    """The threshold row for a mineral: the most specific of (use, method) that exists,
    then the mineral's subclass and class catch-alls (类:…)."""
    return _pick_threshold(_thresholds_for([mineral]), mineral, mining_method, use)


# The unit of a mine's production scale where the threshold table names none for its mineral.
DEFAULT_SCALE_UNIT = "万吨/年"


def _unit_of(row) -> str:
    """A threshold row's unit without its qualifier (万吨/年 矿石 -> 万吨/年)."""
    unit = (row.unit if row is not None else "").split()
    return unit[0] if unit else DEFAULT_SCALE_UNIT


def scale_unit(mineral, mining_method: Optional[str] = None, use: str = "") -> str:
    """The unit of a mine's production scale (生产规模): the threshold table's for the mineral
    (万吨/年, 万立方米/年, 万克拉/年 …) without its qualifier (矿石, 原煤), else 万吨/年."""
    return _unit_of(size_threshold(mineral, mining_method, use) if mineral is not None else None)


def scale_units(pairs: Iterable) -> dict:
    """``scale_unit`` of every (mineral or None, mining method) pair, in one query."""
    pairs = set(pairs)
    by_key = _thresholds_for({mineral for mineral, _method in pairs if mineral is not None})
    return {(mineral, method): _unit_of(_pick_threshold(by_key, mineral, method, "") if mineral is not None else None)
            for mineral, method in pairs}


def classify_size(mineral, production_scale: Optional[float], mining_method: Optional[str] = None,
                  use: str = "") -> Optional[str]:
    """大型/中型/小型 ('large'/'medium'/'small') from the threshold table, or None if unknown."""
    if mineral is None or production_scale is None:
        return None
    row = size_threshold(mineral, mining_method, use)
    if row is None:
        return None
    if production_scale >= row.large_min:
        return "large"
    if production_scale >= row.medium_min:
        return "medium"
    return "small"
