"""Reading and writing Excel workbooks that users upload and download: the guards every import
shares (size, the .xlsx format, a zip bomb), cell values as text and numbers, and the row-by-row
report's unit. The mine import (app.services.mine_excel) and the indicator catalogue files
(app.services.catalogue_excel) use these; a deployment may override the limits in its config
(IMPORT_MAX_BYTES, IMPORT_MAX_UNZIPPED_BYTES)."""
from __future__ import annotations

import datetime
import io
import math
import os
import zipfile
from dataclasses import dataclass
from typing import Any, BinaryIO, Union

from flask import current_app
from flask_babel import gettext as _
from openpyxl import load_workbook

from app.services.exceptions import ValidationFailed

# An .xlsx of 20,000 fully filled mine rows is about 2 MB; 10 MB leaves room for styling.
DEFAULT_IMPORT_MAX_BYTES = 10 * 1024 * 1024
# The sum of the sizes the zip directory declares for its members (a zip bomb guard):
# zipfile never inflates a member beyond its declared size.
DEFAULT_IMPORT_MAX_UNZIPPED_BYTES = 200 * 1024 * 1024

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_MAGIC = b"PK\x03\x04"

FileLike = Union[bytes, bytearray, str, os.PathLike, BinaryIO]


class ImportRefused(ValidationFailed):
    """The file as a whole is refused (not an .xlsx, too large, wrong header, no rows...)."""


@dataclass(frozen=True)
class RowError:
    row: int  # the row number as Excel shows it (the header is row 1)
    column: str  # the column heading, '' when the whole row is concerned
    message: str  # translated


def config_number(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def max_bytes() -> int:
    return config_number("IMPORT_MAX_BYTES", DEFAULT_IMPORT_MAX_BYTES)


# ---------------------------------------------------------------------------
# Cell values
# ---------------------------------------------------------------------------
def shown(value: Any, limit: int = 40) -> str:
    text = str(value).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def as_text(value: Any) -> str:
    """A cell as text. A whole number (a region code typed as 140105) loses its '.0'; dates
    become YYYY-MM-DD. Long codes must be text cells: Excel keeps only 15 digits of a number."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def as_number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValidationFailed(_("“%(value)s” is not a number.", value=shown(value)))
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", "").replace("，", ""))
        except ValueError:
            raise ValidationFailed(_("“%(value)s” is not a number.", value=shown(value))) from None
    else:
        raise ValidationFailed(_("“%(value)s” is not a number.", value=shown(value)))
    if math.isnan(number) or math.isinf(number):
        raise ValidationFailed(_("“%(value)s” is not a number.", value=shown(value)))
    return number


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------
def read_bytes(file: FileLike, limit: int) -> bytes:
    """The file's bytes, refusing anything larger than ``limit`` without reading past it."""
    too_large = ImportRefused(_("The file is larger than the allowed %(size)s.", size=size_text(limit)))
    if isinstance(file, (bytes, bytearray)):
        data = bytes(file)
    elif isinstance(file, (str, os.PathLike)):
        if os.path.getsize(file) > limit:
            raise too_large
        with open(file, "rb") as handle:
            data = handle.read(limit + 1)
    else:
        stream = getattr(file, "stream", file)  # a werkzeug FileStorage or a binary file
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise too_large
    return data


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"


def _not_xlsx() -> ImportRefused:
    return ImportRefused(_("The file is not an Excel workbook in .xlsx format "
                           "(an older .xls file must first be saved as .xlsx)."))


def open_workbook(data: bytes):
    if not data.startswith(XLSX_MAGIC):
        raise _not_xlsx()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            names = {member.filename for member in members}
            unzipped = sum(member.file_size for member in members)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise _not_xlsx() from None
    if "xl/workbook.xml" not in names:
        raise _not_xlsx()
    if unzipped > config_number("IMPORT_MAX_UNZIPPED_BYTES", DEFAULT_IMPORT_MAX_UNZIPPED_BYTES):
        raise ImportRefused(_("The workbook is too large once unpacked."))
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged file
        raise ImportRefused(_("The workbook could not be read; it may be damaged.")) from None
