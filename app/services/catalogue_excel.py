"""An indicator catalogue version as an Excel file, out and in (issue 19.7).

The workbook has two sheets:

- 版本信息: one value per row (the version's code, name, total points, pass line, share each
  area must reach, the document it follows and a note on what of it is inferred);
- 指标: one row per node of the tree, parents before their children: 编码 ("1", "1.2", "1.2.3":
  the level is the number of parts and the parent the code without its last part), 名称, 分值,
  评分说明, 来源 (the document or passage the row is read in), 确认/推定 (whether the row's name
  and points are as in that document or inferred).

An import creates a new version and writes nothing unless every row is right: the report names
each refused cell by row and column. The admin imports national catalogues; a province imports
its own (the version belongs to the province, which then adopts it like any other). A version
in use is never changed by an import: a corrected table comes in as a new version.
"""
from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy import select

from app.extensions import db
from app.services.exceptions import AccessDenied, ValidationFailed
from app.services.workbooks import (
    ImportRefused,
    RowError,
    as_number,
    as_text,
    blank,
    max_bytes,
    open_workbook,
    read_bytes,
    shown,
)

VERSION_SHEET = "版本信息"
ITEM_SHEET = "指标"

# (attribute, heading) of the version sheet, in order; the headings are the screens' labels
# (app.web.labels.INDICATOR_LABELS) where the screens show the same field.
VERSION_FIELDS = (
    ("code", _l("Code")),
    ("name", _l("Name")),
    ("total_points", _l("Total points")),
    ("pass_points", _l("Pass line (points)")),
    ("area_min_ratio", _l("Minimum share of each area")),
    ("source", _l("Source")),
    ("source_note", _l("Source note")),
)
# The item sheet's columns (attribute, heading).
ITEM_COLUMNS = (
    ("code", _l("Code")),
    ("name", _l("Name")),
    ("points", _l("Points")),
    ("scoring_note", _l("Scoring note")),
    ("source_note", _l("Source note")),
    ("inferred", _l("Confirmed or inferred")),
)
# How a row's provenance reads in the file (the screens say 推定值 for the same flag).
CONFIRMED_WORD = lazy_pgettext("indicator row", "Confirmed")
INFERRED_WORD = lazy_pgettext("indicator row", "Inferred")
_CODE = re.compile(r"^[1-9][0-9]{0,2}(\.[1-9][0-9]{0,2}){0,2}$")
_VERSION_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}$")
MAX_ITEMS = 2000
# The file's headings and words are Chinese whatever the language of the user who exports it.
FILE_LOCALE = "zh"
# The points of a node and the sum of its children's may differ by rounding only.
_TOLERANCE = 1e-6


def as_in_file(text) -> str:
    """A heading or word as the file writes it."""
    with force_locale(FILE_LOCALE):
        return str(text)


@dataclass
class CatalogueReport:
    items: int = 0
    errors: list[RowError] = field(default_factory=list)
    version: Any = None  # the IndicatorVersion written, when the file was right

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.version is not None:
            return _("The catalogue “%(name)s” was imported with %(count)s rows.", name=self.version.name,
                     count=self.items)
        return _("Nothing was saved: correct the %(count)s entries listed and import the file again.",
                 count=len(self.errors))


# ---------------------------------------------------------------------------
# Who may import
# ---------------------------------------------------------------------------
def importing_province(user) -> Optional[str]:
    """The province a user's import belongs to: None for the admin (a national catalogue), the
    province's code for a province user; anyone else may not import."""
    from app.services.roles import ROLES

    names = {role.name for role in getattr(user, "roles", ())}
    if any(ROLES.get(name) is not None and ROLES[name].all_permissions for name in names):
        return None
    region = getattr(user, "region", None)
    if "province" in names and region is not None and region.level == 1:
        return region.code
    raise AccessDenied(_("Only the administrator (national catalogues) and a province (its own) import "
                         "indicator catalogues."))


def versions_of(province_code: Optional[str]) -> list:
    """The versions an importer starts from or replaces: the national ones, and the province's own."""
    from app.models import IndicatorVersion

    condition = IndicatorVersion.province_code.is_(None)
    if province_code is not None:
        condition = condition | (IndicatorVersion.province_code == province_code)
    return list(db.session.scalars(select(IndicatorVersion).where(condition).order_by(IndicatorVersion.code)))


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------
def export_version(version) -> bytes:
    """The version as the workbook the import reads back (an exported file imports unchanged,
    under a new version code). The file's layout is Chinese whatever the user's language, so
    that a file passes between users as it is."""
    with force_locale(FILE_LOCALE):
        return _export_version(version)


def _export_version(version) -> bytes:
    from app.models import IndicatorItem

    book = Workbook()
    head = book.active
    head.title = VERSION_SHEET
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for row, (attr, heading) in enumerate(VERSION_FIELDS, start=1):
        head.cell(row=row, column=1, value=str(heading)).font = bold
        head.cell(row=row, column=2, value=getattr(version, attr))
    head.column_dimensions["A"].width = 24
    head.column_dimensions["B"].width = 80
    sheet = book.create_sheet(ITEM_SHEET)
    for column, (_attr, heading) in enumerate(ITEM_COLUMNS, start=1):
        cell = sheet.cell(row=1, column=column, value=str(heading))
        cell.font, cell.fill = bold, fill
    items = db.session.scalars(select(IndicatorItem).where(IndicatorItem.version_id == version.id)
                               .order_by(IndicatorItem.sort_order, IndicatorItem.id))
    for row, item in enumerate(items, start=2):
        values = (item.code, item.name, item.points, item.scoring_note, item.source_note,
                  str(INFERRED_WORD if item.inferred else CONFIRMED_WORD))
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=column, value=value)
            cell.alignment = Alignment(wrap_text=column in (2, 4, 5), vertical="top")
            if column == 1:
                cell.number_format = "@"  # "1.10" stays text
    for letter, width in zip("ABCDEF", (10, 48, 8, 48, 40, 12)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_name(version) -> str:
    return f"{version.code}.xlsx"


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------
@dataclass
class _Item:
    row: int
    code: str
    level: int
    name: str
    points: Optional[float]
    scoring_note: Optional[str]
    source_note: Optional[str]
    inferred: bool


def _sheet(book, title: str):
    if title not in book.sheetnames:
        raise ImportRefused(_("The workbook has no sheet “%(sheet)s”: start from an exported catalogue.",
                              sheet=title))
    return book[title]


def _optional_text(value: Any, limit: int) -> Optional[str]:
    if blank(value):
        return None
    text = as_text(value)
    if len(text) > limit:
        raise ValidationFailed(_("At most %(count)s characters.", count=limit))
    return text


def _read_version(sheet, report: CatalogueReport) -> dict[str, Any]:
    by_heading = {as_in_file(heading): attr for attr, heading in VERSION_FIELDS}
    values: dict[str, Any] = {}
    for number, cells in enumerate(sheet.iter_rows(max_col=2, values_only=True), start=1):
        if number > 50:
            break
        heading = as_text(cells[0]) if cells and not blank(cells[0]) else ""
        if heading in by_heading:
            values[by_heading[heading]] = (number, cells[1] if len(cells) > 1 else None)
    checked: dict[str, Any] = {}

    def fail(attr: str, message: str) -> None:
        row = values.get(attr, (0, None))[0]
        report.errors.append(RowError(row, as_in_file(dict(VERSION_FIELDS)[attr]), message))

    for attr, heading in VERSION_FIELDS:
        row, raw = values.get(attr, (0, None))
        try:
            if attr == "code":
                code = as_text(raw) if not blank(raw) else ""
                if not _VERSION_CODE.match(code):
                    raise ValidationFailed(_("A version code is 2 to 32 lower-case letters, digits and hyphens, "
                                             "e.g. shanxi-2026."))
                checked[attr] = code
            elif attr == "name":
                name = _optional_text(raw, 128)
                if not name:
                    raise ValidationFailed(_("Give the version's name."))
                checked[attr] = name
            elif attr == "total_points":
                if blank(raw):
                    raise ValidationFailed(_("Give the total points."))
                total = as_number(raw)
                if total <= 0:
                    raise ValidationFailed(_("The total points must be above zero."))
                checked[attr] = total
            elif attr == "pass_points":
                checked[attr] = None if blank(raw) else as_number(raw)
            elif attr == "area_min_ratio":
                ratio = None if blank(raw) else as_number(raw)
                if ratio is not None and ratio > 1:
                    ratio = ratio / 100  # 75 written for 75 %
                if ratio is not None and not 0 < ratio <= 1:
                    raise ValidationFailed(_("The share lies between 0 and 100 %."))
                checked[attr] = ratio
            else:
                checked[attr] = _optional_text(raw, 4000)
        except ValidationFailed as exc:
            fail(attr, str(exc))
    total, line = checked.get("total_points"), checked.get("pass_points")
    if total is not None and line is not None and not 0 < line <= total:
        fail("pass_points", _("The pass line lies between 0 and the total points (%(total)s).", total=shown(total)))
    return checked


def _read_items(sheet, report: CatalogueReport) -> list[_Item]:
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    expected = [as_in_file(heading) for _attr, heading in ITEM_COLUMNS]
    found = [as_text(cell) if not blank(cell) else "" for cell in (header or ())][:len(expected)]
    if found != expected:
        raise ImportRefused(_("The sheet “%(sheet)s” must start with the columns %(columns)s.", sheet=ITEM_SHEET,
                              columns="、".join(expected)))
    headings = {attr: as_in_file(heading) for attr, heading in ITEM_COLUMNS}
    items: list[_Item] = []
    for number, cells in enumerate(rows, start=2):
        cells = tuple(cells[:len(ITEM_COLUMNS)]) + (None,) * (len(ITEM_COLUMNS) - len(cells))
        if all(blank(cell) for cell in cells):
            continue
        if len(items) >= MAX_ITEMS:
            raise ImportRefused(_("A catalogue has at most %(count)s rows.", count=MAX_ITEMS))
        raw = dict(zip((attr for attr, _heading in ITEM_COLUMNS), cells))
        errors_before = len(report.errors)

        def fail(attr: str, message: str) -> None:
            report.errors.append(RowError(number, headings[attr], message))

        code = as_text(raw["code"]) if not blank(raw["code"]) else ""
        if not _CODE.match(code):
            fail("code", _("“%(value)s” is not an indicator code such as 1, 1.2 or 1.2.3.", value=shown(code)))
        name = points = scoring_note = source_note = None
        inferred = False
        try:
            name = _optional_text(raw["name"], 512)
            if not name:
                raise ValidationFailed(_("Give the indicator's name."))
        except ValidationFailed as exc:
            fail("name", str(exc))
        try:
            points = None if blank(raw["points"]) else as_number(raw["points"])
            if points is not None and points < 0:
                raise ValidationFailed(_("Points cannot be negative."))
        except ValidationFailed as exc:
            fail("points", str(exc))
        for attr in ("scoring_note", "source_note"):
            try:
                value = _optional_text(raw[attr], 4000 if attr == "scoring_note" else 512)
            except ValidationFailed as exc:
                fail(attr, str(exc))
                value = None
            if attr == "scoring_note":
                scoring_note = value
            else:
                source_note = value
        word = as_text(raw["inferred"]) if not blank(raw["inferred"]) else ""
        if word in (as_in_file(INFERRED_WORD), "推定值"):
            inferred = True
        elif word != as_in_file(CONFIRMED_WORD):
            fail("inferred", _("Write “%(confirmed)s” or “%(inferred)s”.", confirmed=as_in_file(CONFIRMED_WORD),
                               inferred=as_in_file(INFERRED_WORD)))
        if len(report.errors) == errors_before:
            items.append(_Item(number, code, code.count(".") + 1, name or "", points, scoring_note, source_note,
                               inferred))
    return items


def _check_tree(items: list[_Item], version: dict[str, Any], report: CatalogueReport) -> None:
    """Codes unique, parents before children, points on every item, children adding up to
    their parent, and the areas to the total."""
    code_heading, points_heading = as_in_file(dict(ITEM_COLUMNS)["code"]), as_in_file(dict(ITEM_COLUMNS)["points"])
    seen: dict[str, _Item] = {}
    children: dict[Optional[str], list[_Item]] = {}
    for item in items:
        parent = item.code.rsplit(".", 1)[0] if "." in item.code else None
        if item.code in seen:
            report.errors.append(RowError(item.row, code_heading, _("The code %(code)s is already on row %(row)s.",
                                                                    code=item.code, row=seen[item.code].row)))
            continue
        if parent is not None and parent not in seen:
            report.errors.append(RowError(item.row, code_heading, _(
                "The row of %(parent)s must come before %(code)s.", parent=parent, code=item.code)))
            continue
        seen[item.code] = item
        children.setdefault(parent, []).append(item)
    if not children.get(None):
        report.errors.append(RowError(0, ITEM_SHEET, _("The catalogue has no area (a row with a code such as 1).")))
        return
    for item in seen.values():
        below = children.get(item.code, [])
        if not below and item.points is None:
            report.errors.append(RowError(item.row, points_heading, _("An item without sub-items needs its points.")))
        if below and item.points is not None and all(child.points is not None for child in below):
            added = sum(child.points for child in below)
            if not math.isclose(added, item.points, abs_tol=_TOLERANCE):
                report.errors.append(RowError(item.row, points_heading, _(
                    "%(code)s has %(points)s points but its sub-items add up to %(sum)s.",
                    code=item.code, points=shown(item.points), sum=shown(round(added, 6)))))
    total = version.get("total_points")
    areas = children[None]
    if total is not None and all(area.points is not None for area in areas):
        added = sum(area.points for area in areas)
        if not math.isclose(added, total, abs_tol=_TOLERANCE):
            report.errors.append(RowError(0, as_in_file(dict(VERSION_FIELDS)["total_points"]), _(
                "The total is %(total)s points but the areas add up to %(sum)s.", total=shown(total),
                sum=shown(round(added, 6)))))


def import_version(file, user) -> CatalogueReport:
    """Read a catalogue workbook and, when every row is right, write it as a new version of the
    importing user's catalogues (``importing_province``): a national one inactive until the admin
    has checked and activated it, a province's own active at once, for that province to adopt. Raises ImportRefused for
    a file refused as a whole; row errors are in the report and nothing is written."""
    from app.models import IndicatorItem, IndicatorVersion

    province_code = importing_province(user)
    book = open_workbook(read_bytes(file, max_bytes()))
    report = CatalogueReport()
    try:
        version_values = _read_version(_sheet(book, VERSION_SHEET), report)
        items = _read_items(_sheet(book, ITEM_SHEET), report)
    finally:
        book.close()
    report.items = len(items)
    if not report.errors:
        _check_tree(items, version_values, report)
    code = version_values.get("code")
    if code and db.session.scalar(select(IndicatorVersion.id).where(IndicatorVersion.code == code)) is not None:
        report.errors.append(RowError(1, as_in_file(dict(VERSION_FIELDS)["code"]), _(
            "The version code %(code)s is taken: a corrected table comes in as a new version.", code=code)))
    if report.errors:
        return report
    try:
        version = IndicatorVersion(is_active=province_code is not None, province_code=province_code, **version_values)
        db.session.add(version)
        db.session.flush()
        ids: dict[str, int] = {}
        for order, item in enumerate(items, start=1):
            parent = item.code.rsplit(".", 1)[0] if "." in item.code else None
            row = IndicatorItem(version_id=version.id, parent_id=ids.get(parent) if parent else None, code=item.code,
                                level=item.level, name=item.name, points=item.points, sort_order=order,
                                inferred=item.inferred, source_note=item.source_note, scoring_note=item.scoring_note)
            db.session.add(row)
            db.session.flush()
            ids[item.code] = row.id
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    report.version = version
    return report
