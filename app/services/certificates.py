"""Certificates of directory entries (SPEC F2) and their public verification (F3).

Number scheme: ``GM-{L}-{PP}-{YYYY}-{NNNN}``

- ``L``    the level of the entry: N national, P province, C city, X county (县);
- ``PP``   the two-digit GB/T 2260 province code of the mine (a national entry keeps the
           province of its mine: GM-N-14-2026-0001 is a mine of 山西省);
- ``YYYY`` the entry's directory year;
- ``NNNN`` a sequence per (level, province, year) from 0001 (a fifth digit appears only after
           9999 certificates of one level, province and year).

e.g. ``GM-P-14-2026-0007``: the 7th certificate of 山西省's provincial directory of 2026.

``issue`` is called by app.services.directory inside the listing transaction. Two listings of
the same (level, province, year) at once cannot take the same number: on PostgreSQL the issue
takes a transaction-scoped advisory lock on the sequence, and everywhere the unique constraint
on ``certificate.number`` is the last word: a collision is retried with the next number inside
a savepoint, so the caller's transaction goes on.

A certificate stores no status: ``status_of`` computes it. A directory certificate follows its
directory entry (issue 19 point 8): valid while the entry stands, revoked once the entry is removed
from the directory (app.services.directory, the ``remove`` step). The seeds give a directory listing
no fixed term (three years are the certification certificate's, seed 002), so the certificate has
no expiry date: the PDF and the public verification page say "valid while the mine stays in the
directory" (``VALIDITY``). An optional review period (DIRECTORY_REVIEW_YEARS, off by default) only
flags entries due for review to the staff (app.services.directory.review_note); it never expires
a certificate. ``issued_on`` is the day of issue.

``last_valid_day`` is the validity convention of the certification certificate
(app.services.surveillance): issued 2026-03-05 for 3 years, valid through 2029-03-04.

``render_pdf`` prints it on one A4 landscape page with xhtml2pdf (template gm/certificate_pdf.html)
in the WenQuanYi Micro Hei font shipped in app/data/fonts/ (embedded, subset, in every PDF:
app.services.pdf), with a QR code of the public verification page (``verification_url``), and the
issuing authority (``issuing_authority``: the directory's level decides whose) over the date of
issue, under a marked place for its seal.
"""
from __future__ import annotations

import base64
import datetime
import io
import re
import zlib
from dataclasses import asdict, dataclass
from typing import Any, Callable, Optional

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.models.directory import (
    CERTIFICATE_REVOKED,
    CERTIFICATE_STATUS_LABELS,
    CERTIFICATE_VALID,
    CERTIFICATE_VALIDITY,
    CITY,
    COUNTY,
    NATIONAL,
    PROVINCIAL,
    Certificate,
    DirectoryEntry,
)
from app.models.mixins import provide_rule
from app.services import pdf, search_text
from app.services.exceptions import ValidationFailed
from app.services.paging import Page, int_or_none

LEVEL_LETTERS = {NATIONAL: "N", PROVINCIAL: "P", CITY: "C", COUNTY: "X"}
# What a certificate number looks like (after upper-casing and trimming the input).
NUMBER_PATTERN = re.compile(r"^GM-[NPCX]-\d{2}-\d{4}-\d{4,5}$")
NUMBER_MAX_LENGTH = 32
_ISSUE_ATTEMPTS = 5

VALID, REVOKED = CERTIFICATE_VALID, CERTIFICATE_REVOKED
STATUS_LABELS = CERTIFICATE_STATUS_LABELS
# The term of a directory certificate, where a certification certificate prints its last day.
VALIDITY = CERTIFICATE_VALIDITY
# The title printed on the certificate, per level of the directory.
TITLES = {
    NATIONAL: _l("National green mine"),
    PROVINCIAL: _l("Provincial green mine"),
    CITY: _l("City-level green mine"),
    COUNTY: _l("County-level green mine"),
}

# The embedded font (app.services.pdf, shared with the spot-check report).
FONT_DIR, FONT_FILE, FONT_FAMILY = pdf.FONT_DIR, pdf.FONT_FILE, pdf.FONT_FAMILY


def _today() -> datetime.date:
    return clock.today()


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def anniversary(day: datetime.date, years: int) -> datetime.date:
    """The ``years``-th anniversary of ``day``; of 29 February in a year without one, 1 March
    (so that the day before it, ``last_valid_day``, is the last day of February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return datetime.date(day.year + years, 3, 1)


def last_valid_day(valid_from: datetime.date, years: int) -> datetime.date:
    """The certification certificate's validity convention (app.services.surveillance): valid
    from ``valid_from`` through the day before its ``years``-th anniversary (2026-03-05, 3 years:
    2029-03-04). A directory certificate has no such term."""
    return anniversary(valid_from, years) - datetime.timedelta(days=1)


# ---------------------------------------------------------------------------
# Issue
# ---------------------------------------------------------------------------
def number_prefix(entry: DirectoryEntry) -> str:
    letter = LEVEL_LETTERS.get(entry.level)
    if letter is None:
        raise ValidationFailed(_("Unknown directory level: %(level)s.", level=entry.level))
    return f"GM-{letter}-{entry.region_code[:2]}-{int(entry.year):04d}-"


def next_in_sequence(session: Session, column, prefix: str, width: int) -> str:
    """The next free number of ``prefix`` in the unique ``column``: one more than the highest
    issued (the range scan uses the column's unique index), zero-padded to ``width`` digits.
    Shared by both kinds of certificate (directory and certification)."""
    numbers = session.scalars(select(column).where(column > prefix, column < prefix + "~")).all()
    highest = max((int(n[len(prefix):]) for n in numbers if n[len(prefix):].isdigit()), default=0)
    return f"{prefix}{highest + 1:0{width}d}"


def _next_number(session: Session, prefix: str) -> str:
    """The next free directory-certificate number of ``prefix``."""
    return next_in_sequence(session, Certificate.number, prefix, 4)


def lock_sequence(session: Session, prefix: str) -> None:
    """On PostgreSQL, serialise the issues of one sequence until the transaction ends."""
    if session.get_bind().dialect.name != "postgresql":
        return
    from sqlalchemy import text

    # A stable 31-bit key per sequence (crc32 is the same in every process).
    key = zlib.crc32(("gm-certificate:" + prefix).encode()) & 0x7FFFFFFF
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def insert_numbered(session: Session, prefix: str, next_number: Callable[[], str], build: Callable[[str], Any]):
    """Insert the record ``build(number)`` under the next number of the sequence ``prefix``, in
    the caller's transaction (flushed, not committed): the sequence is locked (PostgreSQL), and a
    number another transaction took meanwhile (the unique constraint) is retried with the next
    one inside a savepoint, so the caller's transaction goes on."""
    lock_sequence(session, prefix)
    last_error: Optional[Exception] = None
    for _attempt in range(_ISSUE_ATTEMPTS):
        record = build(next_number())
        savepoint = session.begin_nested()
        try:
            session.add(record)
            session.flush()
        except IntegrityError as exc:  # another transaction took the number first
            savepoint.rollback()
            last_error = exc
            continue
        savepoint.commit()
        return record
    raise last_error  # type: ignore[misc]


def issue(entry: DirectoryEntry, session: Session) -> Certificate:
    """Create the certificate of ``entry`` in the caller's transaction (flushed, not committed).

    Idempotent: an entry that already has its certificate gets that one back. No expiry date: the
    certificate is valid as long as the entry stands (``status_of``)."""
    if entry.id is None:
        session.add(entry)
        session.flush()
    existing = session.scalar(select(Certificate).where(Certificate.entry_id == entry.id))
    if existing is not None:
        return existing
    prefix = number_prefix(entry)
    issued_on = _today()
    return insert_numbered(
        session, prefix, lambda: _next_number(session, prefix),
        lambda number: Certificate(
            number=number, entry_id=entry.id, enterprise_id=entry.enterprise_id, region_code=entry.region_code,
            issued_on=issued_on,
        ),
    )


# ---------------------------------------------------------------------------
# Status
# ---------------------------------------------------------------------------
def status_from(entry_status: Optional[str]) -> str:
    """The rule: the certificate follows its directory entry. Valid while the entry stands
    (listed), revoked once it has left the directory; no date ends it."""
    return VALID if entry_status == "listed" else REVOKED


def status_of(certificate: Certificate) -> str:
    """valid (its entry stands) or revoked (its entry was removed from the directory)."""
    entry = certificate.entry
    return status_from(entry.status if entry is not None else None)


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


provide_rule("certificates.status_of", status_of)


def normalise_number(number: Any) -> Optional[str]:
    """The number as stored, or None when the input cannot be a certificate number."""
    if not isinstance(number, str):
        return None
    candidate = number.strip().upper()[: NUMBER_MAX_LENGTH + 1]
    if len(candidate) > NUMBER_MAX_LENGTH or not NUMBER_PATTERN.match(candidate):
        return None
    return candidate


def find(number: Any, session: Optional[Session] = None) -> Optional[Certificate]:
    from app.extensions import db

    normalised = normalise_number(number)
    if normalised is None:
        return None
    return (session or db.session).scalar(select(Certificate).where(Certificate.number == normalised))


def province_name(region_code: str) -> str:
    from app.extensions import db
    from app.models import Region

    province = db.session.get(Region, region_code[:2] + "0000")
    return province.name if province is not None else ""


def public_view(certificate: Certificate) -> dict:
    """What the public may know of a certificate: no contact data, nothing from the registry
    beyond the names copied into the directory entry. ``validity`` says what its term is (while
    the mine stays in the directory), where a certification certificate gives ``valid_until``."""
    entry = certificate.entry
    status = status_of(certificate)
    return {
        "number": certificate.number,
        "status": status,
        "status_label": status_label(status),
        "mine_name": entry.mine_name,
        "enterprise_name": entry.enterprise_name,
        "mineral_name": entry.mineral_name or "",
        "province": province_name(certificate.region_code),
        "level": entry.level,
        "level_label": entry.level_label,
        "year": entry.year,
        "issued_on": certificate.issued_on.isoformat(),
        "validity": str(VALIDITY),
        "removed_on": entry.removed_on.isoformat() if status == REVOKED and entry.removed_on else None,
    }


def verify(number: Any) -> Optional[dict]:
    """The public facts of the certificate with this number, or None (unknown or malformed)."""
    certificate = find(number)
    return public_view(certificate) if certificate is not None else None


# ---------------------------------------------------------------------------
# The PDF
# ---------------------------------------------------------------------------
VERIFY_ENDPOINT = "PublicView.verify"


def verification_url(number: str) -> str:
    """The absolute address of the public verification page of ``number``.

    PUBLIC_BASE_URL (config) wins when set (a proxy in front of the app); else the request's
    own host; outside a request, SERVER_NAME or http://localhost."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if base:
        if has_request_context():
            path = url_for(VERIFY_ENDPOINT, number=number)
        else:
            with current_app.test_request_context():
                path = url_for(VERIFY_ENDPOINT, number=number)
        return base + path
    if has_request_context():
        return url_for(VERIFY_ENDPOINT, number=number, _external=True)
    with current_app.test_request_context():
        return url_for(VERIFY_ENDPOINT, number=number, _external=True)


def qr_data_uri(text: str) -> str:
    """A PNG QR code of ``text`` as a data: URI (error correction M, no Pillow needed)."""
    import segno

    code = segno.make(text, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="png", scale=6, border=2)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


# The natural-resources authority of a level of the directory (config
# CERTIFICATE_ISSUING_AUTHORITIES names another one for a region code).
MINISTRY = _l("Ministry of Natural Resources")
# The provincial authorities that are not a "<province>自然资源厅": the four municipalities'.
MUNICIPAL_AUTHORITIES = {
    "11": _l("Beijing Municipal Commission of Planning and Natural Resources"),
    "12": _l("Tianjin Municipal Bureau of Planning and Natural Resources"),
    "31": _l("Shanghai Municipal Bureau of Planning and Natural Resources"),
    "50": _l("Chongqing Municipal Bureau of Planning and Natural Resources"),
}


def issuing_authority(level: str, region_code: str) -> str:
    """The authority that issues the certificate of a directory entry of ``level`` for a mine in
    ``region_code`` (a county): 自然资源部 (national); the province's 自然资源厅 (provincial);
    the city's or the county's 自然资源局 (city, county). A code in config
    CERTIFICATE_ISSUING_AUTHORITIES (the province's, city's or county's, as the level says) wins."""
    from app.extensions import db
    from app.models import Region
    from app.models.region import GROUPING_NAMES

    if level == NATIONAL:
        return str(MINISTRY)
    province_code, city_code = region_code[:2] + "0000", region_code[:4] + "00"
    code = {PROVINCIAL: province_code, CITY: city_code, COUNTY: region_code}.get(level)
    if code is None:
        raise ValidationFailed(_("Unknown directory level: %(level)s.", level=level))
    configured = current_app.config.get("CERTIFICATE_ISSUING_AUTHORITIES") or {}
    if configured.get(code):
        return str(configured[code])
    names = dict(db.session.execute(select(Region.code, Region.name)
                                    .where(Region.code.in_({province_code, city_code, region_code}))).all())
    province = names.get(province_code, "")
    city = names.get(city_code, "")
    if level == PROVINCIAL or (level == CITY and city in GROUPING_NAMES and region_code[:2] in MUNICIPAL_AUTHORITIES):
        municipal = MUNICIPAL_AUTHORITIES.get(region_code[:2])
        return str(municipal) if municipal is not None else _("%(province)s Department of Natural Resources",
                                                             province=province)
    if level == CITY and city and city not in GROUPING_NAMES:
        return _("%(region)s Natural Resources Bureau", region=city)
    # A county, or a county-level city directly under its province (no city above it).
    county = names.get(region_code, "")
    prefix = city if city and city not in GROUPING_NAMES else (
        province if region_code[:2] in MUNICIPAL_AUTHORITIES else "")
    return _("%(region)s Natural Resources Bureau", region=prefix + county)


def signature_context(authority: str, issued_on: datetime.date) -> dict[str, str]:
    """What the certificates' signature block prints: the issuing authority, the date of issue
    in words of the locale (2026年3月5日) and the marked place for the seal."""
    from flask_babel import format_date

    return {"issuing_authority": authority, "issued_on_text": format_date(issued_on, "long"),
            "seal_mark": pdf.seal_mark_uri()}


def render_html(certificate: Certificate) -> str:
    entry = certificate.entry
    url = verification_url(certificate.number)
    status = status_of(certificate)
    with force_locale("zh"):
        return render_template(
            "gm/certificate_pdf.html",
            certificate=certificate, entry=entry, status=status, status_label=status_label(status),
            validity=str(VALIDITY),
            title=str(TITLES.get(entry.level, "")), level_label=entry.level_label,
            province=province_name(certificate.region_code),
            region_name=entry.region.full_name if entry.region is not None else "",
            verification_url=url, qr_code=qr_data_uri(url),
            **signature_context(issuing_authority(entry.level, certificate.region_code), certificate.issued_on),
            **pdf.font_context(),
        )


def render_pdf(certificate: Certificate) -> bytes:
    """The certificate as a PDF (A4 landscape), Chinese text in the embedded WenQuanYi font."""
    return pdf.render(render_html(certificate), "certificate PDF")


def file_name(certificate: Certificate) -> str:
    return f"{certificate.number}.pdf"


# ---------------------------------------------------------------------------
# The public directory (SPEC F3)
# ---------------------------------------------------------------------------
# Only entries *listed* now are public: an entry that was removed (有进有出) leaves the public
# directory (its certificate shows as revoked on the verification page), and nothing that is
# not an entry at all (applications, notices, drafts) is ever read here. Only the columns
# copied into the entry at listing are shown, never the registry's contact data.
PUBLIC_STATUS = "listed"
YEAR_RANGE = (1990, 2100)
MAX_PAGE = 10_000
NAME_MAX_LENGTH = 64


@dataclass(frozen=True)
class DirectoryQuery:
    name: str = ""
    province: str = ""  # two-digit province code
    level: str = ""
    year: Optional[int] = None
    page: int = 1
    size: int = 20


@dataclass(frozen=True)
class DirectoryRow:
    mine_name: str
    enterprise_name: str
    mineral_name: str
    province: str
    region: str
    level: str
    level_label: str
    year: int
    listed_on: str
    certificate_number: Optional[str]


def parse_directory_query(args: Any) -> DirectoryQuery:
    """Search parameters from a request's arguments; anything malformed is dropped (never an
    error): name (substring of the mine's or enterprise's name), province (2 or 6 digits),
    level, year, page, size (capped at PUBLIC_MAX_PAGE_SIZE)."""
    from app.models.directory import LEVELS

    name = str(args.get("name", "") or "").strip()[:NAME_MAX_LENGTH]
    province = str(args.get("province", "") or "").strip()
    province = province[:2] if re.fullmatch(r"\d{2}(0000)?", province) else ""
    level = str(args.get("level", "") or "").strip()
    level = level if level in LEVELS else ""
    year = int_or_none(args.get("year"))
    year = year if year is not None and YEAR_RANGE[0] <= year <= YEAR_RANGE[1] else None
    default_size = int(current_app.config.get("PUBLIC_PAGE_SIZE", 20))
    max_size = int(current_app.config.get("PUBLIC_MAX_PAGE_SIZE", 100))
    size = int_or_none(args.get("size")) or default_size
    size = min(max(size, 1), max_size)
    page = int_or_none(args.get("page")) or 1
    page = min(max(page, 1), MAX_PAGE)
    return DirectoryQuery(name=name, province=province, level=level, year=year, page=page, size=size)


def _directory_conditions(query: DirectoryQuery) -> list:
    from sqlalchemy import or_

    from app.services.scoping import region_condition

    conditions = [DirectoryEntry.status == PUBLIC_STATUS]
    if query.level:
        conditions.append(DirectoryEntry.level == query.level)
    if query.year is not None:
        conditions.append(DirectoryEntry.year == query.year)
    if query.province:
        # A range on the indexed code, as the scope rule does.
        conditions.append(region_condition(DirectoryEntry.region_code, [query.province]))
    if query.name:
        conditions.append(or_(search_text.contains(DirectoryEntry.mine_name, query.name),
                              search_text.contains(DirectoryEntry.enterprise_name, query.name)))
    return conditions


def region_names(codes: set[str]) -> dict[str, tuple[str, str]]:
    """code -> (province name, full name) for the regions of one page: one query for them and
    their ancestors (at most three levels)."""
    from app.extensions import db
    from app.models import Region
    from app.models.region import GROUPING_NAMES

    wanted = set(codes)
    for code in codes:
        wanted.update({code[:2] + "0000", code[:4] + "00"})
    names = dict(db.session.execute(select(Region.code, Region.name).where(Region.code.in_(wanted))).all())
    result = {}
    for code in codes:
        parts = []
        for ancestor in (code[:2] + "0000", code[:4] + "00", code):
            name = names.get(ancestor)
            if name and name not in GROUPING_NAMES and name not in parts:
                parts.append(name)
        result[code] = (names.get(code[:2] + "0000", ""), "".join(parts))
    return result


def public_directory(query: DirectoryQuery) -> Page:
    """One page of the public directory: three statements (count, rows, region names)."""
    from sqlalchemy import func

    from app.extensions import db

    conditions = _directory_conditions(query)
    total = db.session.scalar(select(func.count(DirectoryEntry.id)).where(*conditions)) or 0
    statement = (
        select(DirectoryEntry.mine_name, DirectoryEntry.enterprise_name, DirectoryEntry.mineral_name,
               DirectoryEntry.region_code, DirectoryEntry.level, DirectoryEntry.year, DirectoryEntry.listed_on,
               Certificate.number)
        .outerjoin(Certificate, Certificate.entry_id == DirectoryEntry.id)
        .where(*conditions)
        .order_by(DirectoryEntry.year.desc(), DirectoryEntry.id.desc())
        .limit(query.size)
        .offset((query.page - 1) * query.size)
    )
    records = db.session.execute(statement).all()
    regions = region_names({record.region_code for record in records})
    from app.services.directory import LEVEL_LABELS

    rows = [
        DirectoryRow(
            mine_name=record.mine_name, enterprise_name=record.enterprise_name,
            mineral_name=record.mineral_name or "", province=regions[record.region_code][0],
            region=regions[record.region_code][1], level=record.level,
            level_label=str(LEVEL_LABELS.get(record.level, record.level)), year=record.year,
            listed_on=record.listed_on.isoformat(), certificate_number=record.number,
        )
        for record in records
    ]
    return Page(query=query, rows=rows, total=total)


def provinces() -> list[tuple[str, str]]:
    """(two-digit code, name) of every province, for the search form."""
    from app.extensions import db
    from app.models import Region

    return [(code[:2], name) for code, name in
            db.session.execute(select(Region.code, Region.name).where(Region.level == 1).order_by(Region.code))]


def directory_row_dict(row: DirectoryRow) -> dict:
    return asdict(row)
