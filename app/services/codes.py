"""Official codes: the unified social credit code, mining licence numbers, region codes.

Pure functions (no database): they are used by form validators, the API schemas, the CLI,
the Excel import and the demo-data generator alike.
"""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from app.services.exceptions import ValidationFailed

# ---------------------------------------------------------------------------
# 统一社会信用代码 (GB 32100-2015)
# ---------------------------------------------------------------------------
# 31 characters: digits and capital letters without I, O, S, V, Z.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Weight of position i (0-based) is 3^i mod 31.
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def uscc_check_character(first17: str) -> str:
    """The 18th character of a USCC whose first 17 characters are given."""
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalize_uscc(value: str | None) -> str:
    return (value or "").strip().upper()


def validate_uscc(value: str | None) -> str:
    """Return the normalised code, or raise ValidationFailed saying what is wrong.

    Positions 3-8 are the registering authority's region code (digits); positions 1-2 may be
    letters (e.g. Y, N), so, unlike some libraries, letters are accepted there.
    """
    code = normalize_uscc(value)
    if len(code) != 18:
        raise ValidationFailed(_l("The unified social credit code must have 18 characters."))
    if not _USCC_SHAPE.match(code):
        raise ValidationFailed(
            _l(
                "The unified social credit code contains characters that are not allowed "
                "(digits and capital letters except I, O, S, V, Z; characters 3-8 are digits)."
            )
        )
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        raise ValidationFailed(
            _l(
                "The check character of the unified social credit code is wrong "
                "(the last character should be %(expected)s).",
                expected=expected,
            )
        )
    return code


# ---------------------------------------------------------------------------
# 采矿许可证号 / 勘查许可证号
# ---------------------------------------------------------------------------
# Current form (unified numbering): C or T, then 22 digits: the issuing authority's 6-digit
# region code, the 4-digit year, then month and sequence. Older numbers stay valid: the
# 18-character form (C/T and 17 digits) and the all-digit numbers of the 1990s (12-16 digits).
_LICENCE_CURRENT = re.compile(r"^[CT](\d{6})(\d{4})\d{12}$")
_LICENCE_OLD_LETTER = re.compile(r"^[CT]\d{17}$")
_LICENCE_OLD_DIGITS = re.compile(r"^\d{12,16}$")
# '10' is the Ministry itself (部发证), the others the province prefixes of GB/T 2260.
_LICENCE_AUTHORITY_PREFIXES = {
    "10", "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
    "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63",
    "64", "65",
}


def normalize_licence_no(value: str | None) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def validate_licence_no(value: str | None) -> str:
    """Return the normalised licence number or raise ValidationFailed."""
    number = normalize_licence_no(value)
    if not number:
        raise ValidationFailed(_l("The licence number is required."))
    current = _LICENCE_CURRENT.match(number)
    if current:
        region, year = current.group(1), int(current.group(2))
        if region[:2] not in _LICENCE_AUTHORITY_PREFIXES:
            raise ValidationFailed(
                _l("Characters 2-7 of the licence number must be the issuing authority's region code.")
            )
        if not 1980 <= year <= 2100:
            raise ValidationFailed(_l("Characters 8-11 of the licence number must be a year."))
        return number
    if _LICENCE_OLD_LETTER.match(number) or _LICENCE_OLD_DIGITS.match(number):
        return number
    raise ValidationFailed(
        _l(
            "The licence number is not valid: expected C or T followed by 22 digits "
            "(or an older number: C/T and 17 digits, or 12 to 16 digits)."
        )
    )


# ---------------------------------------------------------------------------
# 行政区划代码 (GB/T 2260)
# ---------------------------------------------------------------------------
_REGION_CODE = re.compile(r"^\d{6}$")

PROVINCE, PREFECTURE, COUNTY = 1, 2, 3


def validate_region_code_shape(value: str | None) -> str:
    code = (value or "").strip()
    if not _REGION_CODE.match(code):
        raise ValidationFailed(_l("A region code has six digits."))
    return code


def region_level_of_code(code: str) -> int:
    """The level a 6-digit code names by its shape: 140000 province, 140100 city, else county."""
    if code.endswith("0000"):
        return PROVINCE
    if code.endswith("00"):
        return PREFECTURE
    return COUNTY


def scope_prefix(code: str, level: int) -> str:
    """The code prefix that a scope at ``level`` covers: 2, 4 or 6 digits."""
    return code[: {PROVINCE: 2, PREFECTURE: 4, COUNTY: 6}[level]]


def ancestor_codes(code: str | None) -> list[str]:
    """140105 -> [140000, 140100, 140105]: the region and the regions above it (a notice to any
    of them reaches this region; their staff oversee it)."""
    if not code:
        return []
    return sorted({code[:2] + "0000", code[:4] + "00", code})
