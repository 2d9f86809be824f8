"""Excel import and export of mines (SPEC B8), with openpyxl.

One column layout (``COLUMNS``) serves the template, the export and the import, so that an
exported file can be imported again unchanged. The import applies the *same* rules as the
screens: ``app.services.registry.validate_mine`` and the scope rule
(``scoping.check_access`` + ``scoping.check_related_access``), on every row, before anything
is written:

- every bad row is reported with its row number, its column heading and the reason (zh);
- with any error nothing is written, unless ``skip_invalid``; ``dry_run`` writes nothing;
- the valid rows are written in one transaction (all or nothing on a database error);
- a row whose licence number is already registered updates that mine (when in the user's
  scope); a blank cell then keeps the stored value, so a partly filled sheet clears nothing.

No Flask views here: the screens and ``flask gm import-mines`` call these functions and turn
``DomainError`` into a flashed message or a CLI error.
"""
from __future__ import annotations

import datetime
import io
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, NamedTuple, Optional

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import Select, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models.choices import (
    DEVELOPMENT_METHODS,
    MINE_SIZES,
    MINING_METHODS,
    PRODUCTION_STATUSES,
    SUPERVISION_LEVELS,
)
from app.services import codes, registry, scoping
from app.services.exceptions import AccessDenied, DomainError, FieldErrors, ValidationFailed
from app.services.workbooks import (  # noqa: F401  (the screens and tests name them through this module)
    XLSX_MAGIC,
    XLSX_MIMETYPE,
    FileLike,
    ImportRefused,
    RowError,
    max_bytes,
    size_text,
)
from app.services.workbooks import as_number as _as_number
from app.services.workbooks import as_text as _as_text
from app.services.workbooks import blank as _blank
from app.services.workbooks import config_number as _config
from app.services.workbooks import open_workbook as _open_workbook
from app.services.workbooks import read_bytes as _read_bytes
from app.services.workbooks import shown as _shown

# ---------------------------------------------------------------------------
# Limits (a deployment may override them in its config: IMPORT_MAX_ROWS here, the file's size
# and unpacked size in app.services.workbooks)
# ---------------------------------------------------------------------------
DEFAULT_IMPORT_MAX_ROWS = 20_000
_EXPORT_BATCH = 500
_LOOKUP_CHUNK = 500

# ---------------------------------------------------------------------------
# The column layout
# ---------------------------------------------------------------------------
# Kinds of cell.
TEXT, CODE, NUMBER, INTEGER, DATE, CHOICE, INFO = "text", "code", "number", "integer", "date", "choice", "info"

# Sources that are not Mine attributes: the enterprise by its credit code, the mineral by its
# catalogue name; INFO columns (enterprise name, region name) are written by the export for the
# reader and ignored by the import.
ENTERPRISE_USCC = "enterprise.uscc"
MINERAL_NAME = "mineral.name"


class Column(NamedTuple):
    """One column of the workbook.

    ``header`` is the heading of the official registry form (非煤矿山基本信息表). The headings
    and units are kept as Chinese *data*, not msgids: they are the form's own wording, the same
    in every interface language, and the import recognises a file by them.
    """

    header: str
    source: str  # a Mine attribute, ENTERPRISE_USCC, MINERAL_NAME, or an INFO path
    unit: str = ""
    required: bool = False
    kind: str = TEXT
    choices: Optional[dict] = None

    @property
    def title(self) -> str:
        """The text of the heading cell: the heading and its unit."""
        return f"{self.header}（{self.unit}）" if self.unit else self.header


COLUMNS: tuple[Column, ...] = (
    Column("矿山名称", "name", required=True),
    Column("采矿许可证号", "licence_no", required=True, kind=CODE),
    Column("采矿权人统一社会信用代码", ENTERPRISE_USCC, required=True, kind=CODE),
    Column("采矿权人名称", "enterprise.name", kind=INFO),
    Column("行政区划代码", "region_code", required=True, kind=CODE),
    Column("行政区划名称", "region.full_name", kind=INFO),
    Column("矿山地址", "address"),
    Column("主要开采矿种", MINERAL_NAME),
    Column("开采方式", "mining_method", kind=CHOICE, choices=MINING_METHODS),
    Column("生产规模", "production_scale", unit="万吨/年", kind=NUMBER),
    Column("矿山规模", "size", kind=CHOICE, choices=MINE_SIZES),
    Column("矿区面积", "area_km2", unit="平方千米", kind=NUMBER),
    Column("从业人数", "employees", unit="人", kind=INTEGER),
    Column("发证机关", "issuing_authority"),
    Column("采矿许可证有效期起", "licence_valid_from", kind=DATE),
    Column("采矿许可证有效期止", "licence_valid_to", kind=DATE),
    Column("设计生产能力", "design_capacity", unit="万吨/年", kind=NUMBER),
    Column("开拓方式", "development_method", kind=CHOICE, choices=DEVELOPMENT_METHODS),
    Column("最大开采深度", "max_depth_m", unit="米", kind=NUMBER),
    Column("单班下井作业人数", "workers_per_shift", unit="人", kind=INTEGER),
    Column("生产状况", "production_status", kind=CHOICE, choices=PRODUCTION_STATUSES),
    Column("日常安全监管主体", "supervision_level", kind=CHOICE, choices=SUPERVISION_LEVELS),
    Column("纬度", "latitude", unit="度", kind=NUMBER),
    Column("经度", "longitude", unit="度", kind=NUMBER),
    Column("主要负责人", "principal_name"),
    Column("主要负责人联系电话", "principal_phone"),
)
HEADERS: tuple[str, ...] = tuple(column.title for column in COLUMNS)
_BY_SOURCE = {column.source: column for column in COLUMNS}
# A rule's ``exc.field`` -> the column it concerns.
_FIELD_COLUMNS = {
    **{column.source: column for column in COLUMNS if "." not in column.source},
    "enterprise": _BY_SOURCE[ENTERPRISE_USCC],
    "enterprise_id": _BY_SOURCE[ENTERPRISE_USCC],
    "mineral": _BY_SOURCE[MINERAL_NAME],
    "mineral_id": _BY_SOURCE[MINERAL_NAME],
    "region": _BY_SOURCE["region_code"],
}
# The Mine columns an import writes (size is derived by the registry rule).
WRITTEN_ATTRIBUTES: tuple[str, ...] = tuple(
    column.source for column in COLUMNS if column.kind != INFO and "." not in column.source
) + ("enterprise_id", "mineral_id")


def column_for_field(name: Optional[str]) -> str:
    """The heading of the column a rule's field name points at ('' for the whole row)."""
    column = _FIELD_COLUMNS.get(name or "")
    return column.title if column is not None else ""


# ---------------------------------------------------------------------------
# Results and refusals
# ---------------------------------------------------------------------------
class ImportFailed(DomainError):
    """The database refused the write; the transaction was rolled back, nothing was written."""

    status_code = 409


@dataclass
class ImportReport:
    total: int = 0  # data rows in the file (blank rows are not counted)
    inserted: int = 0  # new mines (written, or to be written)
    updated: int = 0  # registered mines whose values change
    unchanged: int = 0  # registered mines the row leaves as they are
    refused: int = 0  # rows with at least one error
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    skip_invalid: bool = False
    written: bool = False  # True once the valid rows are committed

    @property
    def ok(self) -> bool:
        return self.refused == 0

    def summary(self) -> str:
        """One translated sentence: the counts and what happened to them."""
        counts = _(
            "%(total)s rows: %(inserted)s new, %(updated)s updated, %(unchanged)s unchanged, "
            "%(refused)s refused.",
            total=self.total, inserted=self.inserted, updated=self.updated,
            unchanged=self.unchanged, refused=self.refused,
        )
        if self.written:
            outcome = _("The valid rows were saved.")
        elif self.dry_run:
            outcome = _("Check only: nothing was saved.")
        elif self.refused:
            outcome = _("Nothing was saved: correct the rows listed, or choose to skip invalid rows.")
        else:
            outcome = _("Nothing needed saving.")
        return f"{counts} {outcome}"


Progress = Callable[[int, int], None]


def max_rows() -> int:
    return _config("IMPORT_MAX_ROWS", DEFAULT_IMPORT_MAX_ROWS)


# ---------------------------------------------------------------------------
# Cell values
# ---------------------------------------------------------------------------
def _as_integer(value: Any) -> int:
    number = _as_number(value)
    if not number.is_integer():
        raise ValidationFailed(_("“%(value)s” is not a whole number.", value=_shown(value)))
    return int(number)


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
# Excel's day numbers for 1900-01-01 .. 9999-12-31.
_EXCEL_DAYS = (1, 2958465)


def _as_date(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and _EXCEL_DAYS[0] <= value <= _EXCEL_DAYS[1]:
        # A date cell whose format was lost: Excel's day number.
        return from_excel(value).date()
    if isinstance(value, str):
        text = value.strip()
        for pattern in _DATE_FORMATS:
            try:
                return datetime.datetime.strptime(text, pattern).date()
            except ValueError:
                continue
    raise ValidationFailed(_("“%(value)s” is not a date (write it as 2024-01-31).", value=_shown(value)))


def _choice_lookup(choices: dict) -> dict[str, str]:
    """Label or code -> code: the Chinese label, the English label and the stored code."""
    lookup: dict[str, str] = {}
    for locale in ("en", "zh"):
        with force_locale(locale):
            for code, label in choices.items():
                lookup[str(label).strip().lower()] = code
    for code in choices:
        lookup[code.lower()] = code
    return lookup


def choice_label(choices: dict, code: Optional[str]) -> Optional[str]:
    """The Chinese label written to the workbook for a stored code."""
    if code is None:
        return None
    with force_locale("zh"):
        return str(choices.get(code, code))


def _max_length(attr: str) -> Optional[int]:
    from app.models import Mine

    column = Mine.__table__.columns.get(attr)
    return getattr(column.type, "length", None) if column is not None else None


# ---------------------------------------------------------------------------
# Template and export
# ---------------------------------------------------------------------------
_HEADER_FONT = Font(bold=True)
_REQUIRED_FONT = Font(bold=True, color="C00000")
_HEADER_FILL = PatternFill("solid", fgColor="E2EFDA")
_WIDTHS = {TEXT: 22, CODE: 26, NUMBER: 16, INTEGER: 14, DATE: 16, CHOICE: 16, INFO: 26}


def _column_width(column: Column) -> int:
    return max(_WIDTHS[column.kind], len(column.title) * 2 + 2)


def template_workbook() -> bytes:
    """The empty import template: the heading row, drop-down lists for the closed lists and
    the minerals, and a sheet explaining every column."""
    from app.models import Mineral

    wb = Workbook()
    ws = wb.active
    ws.title = _("Mines")
    for index, column in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=index, value=column.title)
        cell.font = _REQUIRED_FONT if column.required else _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = _column_width(column)
        if column.kind == CODE:
            # Codes are text: 16-digit licence numbers would lose digits as numbers.
            for row in range(2, 1002):
                ws.cell(row=row, column=index).number_format = "@"
    ws.freeze_panes = "A2"

    minerals = db.session.scalars(select(Mineral.name).order_by(Mineral.sort_order, Mineral.id)).all()
    lists = wb.create_sheet(_("Lists"))
    for row, name in enumerate(minerals, start=1):
        lists.cell(row=row, column=1, value=name)
    lists.sheet_state = "hidden"

    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        if column.kind == CHOICE:
            labels = [choice_label(column.choices, code) for code in column.choices]
            formula = '"' + ",".join(labels) + '"'
        elif column.source == MINERAL_NAME and minerals:
            formula = f"'{lists.title}'!$A$1:$A${len(minerals)}"
        else:
            continue
        validation = DataValidation(type="list", formula1=formula, allow_blank=True)
        validation.error = _("Choose a value from the list.")
        validation.showErrorMessage = True
        ws.add_data_validation(validation)
        validation.add(f"{letter}2:{letter}20001")

    notes = wb.create_sheet(_("Instructions"))
    notes.append([_("Column"), _("Required"), _("Unit"), _("How to fill it in")])
    for cell in notes[1]:
        cell.font = _HEADER_FONT
    for column in COLUMNS:
        notes.append([column.title, _("Yes") if column.required else "", column.unit, _column_note(column)])
    notes.append([])
    for line in (
        _("Keep the first row of the sheet as it is; one mine per row from the second row on."),
        _("A row whose mining licence number is already registered updates that mine; "
          "a blank cell then keeps the registered value."),
        _("The licence holder must be registered, and the mines must lie within your area of responsibility."),
        _("Codes (licence number, credit code, region code) are text: type them into cells "
          "formatted as text."),
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 30
    notes.column_dimensions["B"].width = 8
    notes.column_dimensions["C"].width = 12
    notes.column_dimensions["D"].width = 90
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _column_note(column: Column) -> str:
    if column.kind == INFO:
        return _("Shown in exports for reference; ignored on import.")
    if column.kind == CHOICE:
        labels = "、".join(choice_label(column.choices, code) for code in column.choices)
        return _("One of: %(values)s.", values=labels)
    if column.source == ENTERPRISE_USCC:
        return _("The 18-character unified social credit code of a registered licence holder.")
    if column.source == MINERAL_NAME:
        return _("The mineral's name as in the mineral catalogue (e.g. 煤, 铁).")
    if column.source == "region_code":
        return _("The six-digit code of the county-level region (GB/T 2260), e.g. 140105.")
    if column.source == "licence_no":
        return _("C or T followed by 22 digits (older numbers are accepted).")
    if column.kind == DATE:
        return _("A date, e.g. 2024-01-31.")
    if column.kind == INTEGER:
        return _("A whole number, not negative.")
    if column.kind == NUMBER:
        return _("A number, not negative.")
    return ""


def _exporter(column: Column) -> Callable[[Any], Any]:
    """mine -> the cell value of ``column`` (labels computed once, not per row)."""
    if column.kind == CHOICE:
        labels = {code: choice_label(column.choices, code) for code in column.choices}
        return lambda mine: labels.get(getattr(mine, column.source), getattr(mine, column.source))
    if "." in column.source:
        relationship, attr = column.source.split(".", 1)
        return lambda mine: getattr(getattr(mine, relationship), attr, None)
    return lambda mine: getattr(mine, column.source)


def export_mines(query: Select) -> bytes:
    """The mines ``query`` selects (a ``select(Mine)`` already filtered by scope and criteria),
    as an .xlsx in the import layout. Streams: write-only workbook, rows fetched in batches,
    enterprise, mineral and region eager-loaded (a constant number of statements)."""
    from app.models import Mine, Region

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Mines"))
    for index, column in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = _column_width(column)
    ws.freeze_panes = "A2"
    header = []
    for column in COLUMNS:
        cell = WriteOnlyCell(ws, value=column.title)
        cell.font = _REQUIRED_FONT if column.required else _HEADER_FONT
        cell.fill = _HEADER_FILL
        header.append(cell)
    ws.append(header)

    cells = [(_exporter(column), column.kind == CODE) for column in COLUMNS]
    statement = query.options(
        joinedload(Mine.enterprise),
        joinedload(Mine.mineral),
        joinedload(Mine.region).joinedload(Region.parent).joinedload(Region.parent),
    ).execution_options(yield_per=_EXPORT_BATCH)
    for mine in db.session.scalars(statement):
        ws.append([_export_cell(ws, value(mine), is_code) for value, is_code in cells])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _export_cell(ws, value: Any, is_code: bool) -> Any:
    """Plain values where openpyxl writes them right; a styled cell for codes, dates and text
    that openpyxl would take for a formula."""
    if isinstance(value, str):
        if is_code or value.startswith("="):
            cell = WriteOnlyCell(ws, value=value)
            # Text stays text: a name starting with '=' is never written as a formula.
            cell.data_type = "s"
            if is_code:
                cell.number_format = "@"
            return cell
        return value
    if isinstance(value, datetime.date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return value


# ---------------------------------------------------------------------------
# Import: reading the file
# ---------------------------------------------------------------------------


def _normal_header(value: Any) -> str:
    text = "" if value is None else str(value)
    text = text.replace("(", "（").replace(")", "）")
    return re.sub(r"\s+", "", text)


def _check_header(row: tuple) -> None:
    found = [_normal_header(value) for value in row]
    for index, expected in enumerate(HEADERS):
        actual = found[index] if index < len(found) else ""
        if actual != _normal_header(expected):
            raise ImportRefused(_(
                "The first row does not match the template: column %(column)s should be “%(expected)s”, "
                "not “%(found)s”. Download the template and keep its first row.",
                column=get_column_letter(index + 1), expected=expected, found=_shown(actual) if actual else "",
            ))
    for index in range(len(HEADERS), len(found)):
        if found[index]:
            raise ImportRefused(_(
                "The first row does not match the template: column %(column)s “%(found)s” is not "
                "one of its columns.",
                column=get_column_letter(index + 1), found=_shown(found[index]),
            ))


def _read_rows(data: bytes, row_limit: int) -> list[tuple[int, tuple]]:
    """(Excel row number, cell values) of every non-blank data row of the first sheet."""
    workbook = _open_workbook(data)
    width = len(COLUMNS)
    rows: list[tuple[int, tuple]] = []
    try:
        sheet = workbook.worksheets[0]
        # A few columns beyond the layout, to notice a header that does not belong.
        iterator = sheet.iter_rows(values_only=True, max_col=width + 5)
        header = next(iterator, None)
        _check_header(tuple(header or ()))
        for number, values in enumerate(iterator, start=2):
            if all(_blank(value) for value in values):
                # Blank rows are skipped, but a sheet cannot run on forever.
                if number > 2 * row_limit + 1000:
                    raise ImportRefused(_("The file has more than %(max)s rows.", max=row_limit))
                continue
            if len(rows) >= row_limit:
                raise ImportRefused(_("The file has more than %(max)s rows.", max=row_limit))
            values = tuple(values[:width]) + (None,) * (width - len(values[:width]))
            rows.append((number, values))
    except DomainError:
        raise
    except Exception:
        raise ImportRefused(_("The workbook could not be read; it may be damaged.")) from None
    finally:
        workbook.close()
    if not rows:
        raise ImportRefused(_("The file contains no mine rows below the heading."))
    return rows


# ---------------------------------------------------------------------------
# Import: one row
# ---------------------------------------------------------------------------
@dataclass
class _Row:
    number: int
    values: dict[str, Any]  # source -> parsed value (None for a blank cell)
    errors: list[RowError] = field(default_factory=list)
    candidate: Any = None  # the Mine as it would be saved (transient, never in the session)
    existing: Any = None  # the registered mine this row updates

    def fail(self, column: Column | str, message: str) -> None:
        header = column.title if isinstance(column, Column) else column
        self.errors.append(RowError(self.number, header, str(message)))


@dataclass
class _Lookups:
    enterprises: dict[str, Any]
    minerals: dict[str, Any]
    existing: dict[str, Any]
    choices: dict[str, dict[str, str]]


def _parse(number: int, cells: tuple, lookups: _Lookups) -> _Row:
    """Turn the cells into typed values; report every cell that cannot be read."""
    row = _Row(number, {})
    for column, raw in zip(COLUMNS, cells):
        if column.kind == INFO:
            continue
        if _blank(raw):
            if column.required:
                row.fail(column, _("This value is required."))
            row.values[column.source] = None
            continue
        try:
            row.values[column.source] = _parse_cell(column, raw, lookups)
        except DomainError as exc:
            row.fail(column, str(exc))
    return row


def _parse_cell(column: Column, raw: Any, lookups: _Lookups) -> Any:
    if column.kind == NUMBER:
        return _as_number(raw)
    if column.kind == INTEGER:
        return _as_integer(raw)
    if column.kind == DATE:
        return _as_date(raw)
    text = _as_text(raw)
    if column.kind == CHOICE:
        code = lookups.choices[column.source].get(text.lower())
        if code is None:
            raise ValidationFailed(_("%(field)s: “%(value)s” is not one of the allowed values.",
                                     field=column.header, value=_shown(text)))
        return code
    if column.source == ENTERPRISE_USCC:
        uscc = codes.normalize_uscc(text)
        enterprise = lookups.enterprises.get(uscc)
        if enterprise is None:
            codes.validate_uscc(uscc)  # a malformed code is said so
            raise ValidationFailed(_("There is no enterprise with the credit code %(code)s.", code=uscc))
        return enterprise
    if column.source == MINERAL_NAME:
        mineral = lookups.minerals.get(text)
        if mineral is None:
            raise ValidationFailed(_("“%(name)s” is not a mineral of the mineral catalogue.", name=_shown(text)))
        return mineral
    if column.source == "licence_no":
        return codes.normalize_licence_no(text)
    limit = _max_length(column.source)
    if limit is not None and len(text) > limit:
        raise ValidationFailed(_("The text is longer than %(max)s characters.", max=limit))
    return text


def _build(row: _Row, lookups: _Lookups, user) -> None:
    """The candidate Mine: for a registered licence a copy of that mine with the row's
    non-blank values over it (as an edit form would change it), else a new mine."""
    from app.models import Mine

    values = dict(row.values)
    enterprise = values.pop(ENTERPRISE_USCC, None)
    mineral = values.pop(MINERAL_NAME, None)
    existing = lookups.existing.get(values.get("licence_no") or "")
    candidate = Mine()
    if existing is not None:
        # Loaded, not changed: the rules see only what the row changes (e.g. the size).
        for attr in WRITTEN_ATTRIBUTES + ("id",):
            set_committed_value(candidate, attr, getattr(existing, attr))
        for relationship in ("enterprise", "mineral", "region"):
            set_committed_value(candidate, relationship, getattr(existing, relationship))
    for attr, value in values.items():
        if value is not None and (existing is None or getattr(existing, attr) != value):
            setattr(candidate, attr, value)
    # Related rows by their keys; the relationship is set without events so that nothing is
    # appended to the enterprise's collection of mines (the candidate is never saved itself).
    if enterprise is not None and (existing is None or enterprise.id != existing.enterprise_id):
        candidate.enterprise_id = enterprise.id
        set_committed_value(candidate, "enterprise", enterprise)
    if mineral is not None and (existing is None or mineral.id != existing.mineral_id):
        candidate.mineral_id = mineral.id
        set_committed_value(candidate, "mineral", mineral)
    row.candidate, row.existing = candidate, existing
    if enterprise is not None and not scoping.can_access(user, enterprise, scoping.LINK):
        # As the forms answer: taken, without saying where (issue 16).
        row.fail(_BY_SOURCE[ENTERPRISE_USCC], registry.uscc_registered_elsewhere(enterprise.uscc))


def _check(row: _Row, user) -> None:
    """The screens' rules on the candidate: every refusal of the registry's validation, each in its
    column (as the form marks each field), then the scope."""
    candidate, existing = row.candidate, row.existing
    licence_column = _BY_SOURCE["licence_no"]
    if existing is not None and not scoping.can_access(user, existing, scoping.EDIT):
        # As the forms answer a duplicate outside the scope: taken, without saying where.
        row.fail(licence_column, registry.licence_registered_elsewhere(existing.licence_no))
        return
    try:
        registry.validate_mine(candidate, user)
    except FieldErrors as exc:
        for error in exc.errors:
            row.fail(column_for_field(error.field), str(error))
        return
    except DomainError as exc:
        row.fail(column_for_field(exc.field), str(exc))
        return
    try:
        scoping.check_access(user, candidate, scoping.EDIT)
    except AccessDenied:
        row.fail(_BY_SOURCE["region_code"],
                 _("The region %(code)s is outside your area of responsibility.", code=candidate.region_code))
        return
    try:
        scoping.check_related_access(user, candidate)
    except DomainError as exc:
        row.fail(column_for_field(exc.field) or _BY_SOURCE[ENTERPRISE_USCC].title, str(exc))


def _changes(row: _Row) -> dict[str, Any]:
    """The attributes the row changes on its registered mine."""
    return {
        attr: getattr(row.candidate, attr)
        for attr in WRITTEN_ATTRIBUTES
        if getattr(row.candidate, attr) != getattr(row.existing, attr)
    }


def _chunks(items: Iterable[str]) -> Iterable[list[str]]:
    items = sorted(set(items))
    for start in range(0, len(items), _LOOKUP_CHUNK):
        yield items[start:start + _LOOKUP_CHUNK]


def _lookups(raw_rows: list[tuple[int, tuple]]) -> _Lookups:
    """Everything the rows name, fetched in a few queries rather than one per row."""
    from app.models import Enterprise, Mine, Mineral

    uscc_index = COLUMNS.index(_BY_SOURCE[ENTERPRISE_USCC])
    licence_index = COLUMNS.index(_BY_SOURCE["licence_no"])
    usccs = {codes.normalize_uscc(_as_text(cells[uscc_index])) for _n, cells in raw_rows
             if not _blank(cells[uscc_index])}
    licences = {codes.normalize_licence_no(_as_text(cells[licence_index])) for _n, cells in raw_rows
                if not _blank(cells[licence_index])}
    enterprises: dict[str, Any] = {}
    for chunk in _chunks(usccs):
        for enterprise in db.session.scalars(select(Enterprise).where(Enterprise.uscc.in_(chunk))):
            enterprises[enterprise.uscc] = enterprise
    existing: dict[str, Any] = {}
    for chunk in _chunks(licences):
        for mine in db.session.scalars(select(Mine).where(Mine.licence_no.in_(chunk))):
            existing[mine.licence_no] = mine
    minerals = {mineral.name: mineral for mineral in db.session.scalars(select(Mineral))}
    choices = {column.source: _choice_lookup(column.choices) for column in COLUMNS if column.kind == CHOICE}
    return _Lookups(enterprises, minerals, existing, choices)


def _mark_duplicates(rows: list[_Row]) -> None:
    """A licence number on several rows: every one of them is refused, since nobody can tell
    which of them is meant."""
    by_licence: dict[str, list[_Row]] = {}
    for row in rows:
        licence = row.values.get("licence_no")
        if licence:
            by_licence.setdefault(licence, []).append(row)
    column = _BY_SOURCE["licence_no"]
    for licence, same in by_licence.items():
        if len(same) < 2:
            continue
        numbers = "、".join(str(row.number) for row in same)
        for row in same:
            row.fail(column, _("The licence number %(no)s appears on several rows of the file (rows %(rows)s).",
                               no=licence, rows=numbers))


# ---------------------------------------------------------------------------
# Import: the whole file
# ---------------------------------------------------------------------------
def import_mines(
    file: FileLike,
    user,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Optional[Progress] = None,
) -> ImportReport:
    """Validate every row of ``file`` (an .xlsx as bytes, a path or a binary stream) for
    ``user``, then write the valid rows in one transaction unless told or bound not to.

    Raises ImportRefused when the file as a whole is refused, ImportFailed when the database
    refuses the write (nothing is written then). ``progress(done, total)`` is called per row.
    """
    raw_rows = _read_rows(_read_bytes(file, max_bytes()), max_rows())
    report = ImportReport(total=len(raw_rows), dry_run=dry_run, skip_invalid=skip_invalid)
    rows: list[_Row] = []
    # Nothing is flushed while the rows are checked: the candidates are never in the session.
    with db.session.no_autoflush:
        lookups = _lookups(raw_rows)
        rows = [_parse(number, cells, lookups) for number, cells in raw_rows]
        _mark_duplicates(rows)
        for done, row in enumerate(rows, start=1):
            if not row.errors:
                _build(row, lookups, user)
            if not row.errors:
                _check(row, user)
            if progress is not None:
                progress(done, report.total)

    valid = [row for row in rows if not row.errors]
    order = {title: index for index, title in enumerate(HEADERS)}
    for row in rows:
        report.errors.extend(sorted(row.errors, key=lambda error: order.get(error.column, -1)))
    report.refused = len(rows) - len(valid)
    changes: list[tuple[_Row, dict[str, Any]]] = []
    for row in valid:
        if row.existing is None:
            report.inserted += 1
        else:
            changed = _changes(row)
            if changed:
                report.updated += 1
                changes.append((row, changed))
            else:
                report.unchanged += 1
    if dry_run or (report.refused and not skip_invalid) or not (report.inserted or report.updated):
        return report
    _write([row for row in valid if row.existing is None], changes)
    report.written = True
    return report


def _write(new_rows: list[_Row], changes: list[tuple[_Row, dict[str, Any]]]) -> None:
    """One transaction: every insert and update, or nothing."""
    from app.models import Mine

    try:
        for row in new_rows:
            db.session.add(Mine(**{attr: getattr(row.candidate, attr) for attr in WRITTEN_ATTRIBUTES}))
        for row, changed in changes:
            for attr, value in changed.items():
                setattr(row.existing, attr, value)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("Mine import refused by the database")
        raise ImportFailed(_("The database refused the import (perhaps another user changed the same "
                             "mines meanwhile); nothing was saved. Please try again.")) from None
