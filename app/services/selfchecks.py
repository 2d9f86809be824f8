"""The yearly self-check of listed green mines (SPEC H1; seed 001 §二(二)1) and problem leads.

- Each enterprise files one self-check record (自查记录表) per listed mine and year: what it
  found in each of the six areas of the green-mine standard (seed 004 附件1), its main
  achievements (主要成效), the problems (存在问题) and its measures, with evidence files. It is
  due by the year's deadline (``SELF_CHECK_DEADLINE``, default 30 September); a filing after
  the deadline is accepted and marked late (``is_late``).
- ``missing_self_checks`` lists, for the authorities, the listed mines in scope that have not
  filed (submitted) the year's self-check.
- Problem leads (问题线索): a problem reported about a mine (a complaint, an inspection, the
  media), recorded by an authority; open leads make the mine a priority of the next draw.
- ``overdue_rectification_count``: spot-checked mines whose rectification deadline has passed
  (the home page's warning).

Status changes go through the transition table (workflows ``self_check`` and ``problem_lead``);
``check_self_check_complete`` is the guard of the ``submit`` step.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Optional

from flask import current_app, has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import aliased

from app import clock
from app.extensions import db
from app.models.directory import LEVELS, DirectoryEntry
from app.models.enterprise import Enterprise, Mine
from app.models.mixins import provide_rule
from app.models.region import Region
from app.models.spotcheck import AREA_COLUMNS, ProblemLead, SelfCheck
from app.services import scoping, spotchecks
from app.services.workflow import WORKFLOWS
from app.services.exceptions import AccessDenied, TransitionRefused, ValidationFailed

# The six areas of the record, in the order of seed 004 附件1 (the columns of
# app.models.spotcheck.AREA_COLUMNS).
SELF_CHECK_AREA_LABELS: dict[str, Any] = dict(zip(AREA_COLUMNS, (
    _l("Mining area environment"),
    _l("Resource development"),
    _l("Comprehensive use of resources"),
    _l("Energy saving and emission reduction"),
    _l("Technological innovation and digital mining"),
    _l("Enterprise management and image"),
)))
TEXT_COLUMNS = (*AREA_COLUMNS, "achievements", "problems", "measures")
# Changed and deleted while not submitted or returned: declared with the workflows.
EDITABLE_STATES = WORKFLOWS["self_check"].editable
PROBLEM_LEAD_EDITABLE_STATES = WORKFLOWS["problem_lead"].editable
SUBMITTED = "submitted"
DEFAULT_DEADLINE = (9, 30)
FIRST_YEAR = 2000
STAFF_ROLES = frozenset({"national", "province", "city", "county"})


def _today() -> datetime.date:
    """Today's date (tests pin it)."""
    return clock.today()


def _role_names(user) -> set[str]:
    return {role.name for role in getattr(user, "roles", ())}


def is_staff(user) -> bool:
    return bool(_role_names(user) & STAFF_ROLES)


def _config(key: str, default):
    return current_app.config.get(key, default) if has_app_context() else default


# ---------------------------------------------------------------------------
# The deadline
# ---------------------------------------------------------------------------
def deadline(year: int) -> datetime.date:
    """The last day to file the self-check of ``year`` (``SELF_CHECK_DEADLINE``: (month, day)
    or "MM-DD"; default 30 September)."""
    value = _config("SELF_CHECK_DEADLINE", DEFAULT_DEADLINE)
    if isinstance(value, str):
        month, day = (int(part) for part in value.split("-"))
    else:
        month, day = value
    return datetime.date(int(year), int(month), int(day))


def submitted_on(record) -> Optional[datetime.date]:
    """The day (in the deployment's time zone) the record was last submitted."""
    if record.submitted_at is None:
        return None
    return clock.day_of(record.submitted_at)


def is_late(record) -> bool:
    """Filed after the year's deadline. A record returned for revision counts from its last
    submission (``submitted_at``), the one that made it complete."""
    day = submitted_on(record)
    return day is not None and record.year is not None and day > deadline(record.year)


provide_rule("selfchecks.is_late", is_late)


def parse_year(value) -> int:
    """A year from a form or a URL; ValidationFailed (field "year") when it is not one."""
    last = _today().year
    text = str(value).strip() if value is not None else ""
    digits = text.isascii() and text.isdigit() and len(text) == 4
    if isinstance(value, bool) or not digits or not FIRST_YEAR <= int(text) <= last:
        raise ValidationFailed(_("The year must be a number from %(first)s to %(last)s.", first=FIRST_YEAR,
                                 last=last), field="year")
    return int(text)


# ---------------------------------------------------------------------------
# Listed mines
# ---------------------------------------------------------------------------
def _level_rank():
    """National first, then provincial, city-level, county-level."""
    return case({level: rank for rank, level in enumerate(LEVELS)}, value=DirectoryEntry.level, else_=len(LEVELS))


def listed_entries(mine_id: int) -> list[DirectoryEntry]:
    """The mine's entries in status "listed", the highest level first."""
    return list(db.session.scalars(
        select(DirectoryEntry)
        .where(DirectoryEntry.mine_id == mine_id, DirectoryEntry.status == "listed")
        .order_by(_level_rank(), DirectoryEntry.id)
    ))


def is_listed(mine_id: int) -> bool:
    return db.session.scalar(
        select(func.count(DirectoryEntry.id))
        .where(DirectoryEntry.mine_id == mine_id, DirectoryEntry.status == "listed")
    ) > 0


# ---------------------------------------------------------------------------
# The record rule (view and API)
# ---------------------------------------------------------------------------
def _clean_texts(record, columns) -> None:
    for column in columns:
        value = getattr(record, column)
        # (PostgreSQL refuses NUL characters in text.)
        if value is not None and (not isinstance(value, str) or "\x00" in value):
            raise ValidationFailed(_("Not a valid string."), field=column)
        setattr(record, column, (value or "").strip() or None)


def _check_editable(record) -> None:
    if record.id is not None and record.status not in EDITABLE_STATES:
        raise ValidationFailed(_("Only a self-check that is not submitted or was returned for revision can be "
                                 "changed."))


def self_check_rule(record, user, action: str) -> None:
    """A self-check is filed by the enterprise for one of its listed mines, once per mine and
    year, and changed or deleted only before it is submitted (or after it was returned).

    The mine, its enterprise and county and the directory entry (the mine's highest-level
    listed entry) are derived here; the form's values for them are never trusted.
    """
    _check_editable(record)
    if action != scoping.EDIT:
        return
    _clean_texts(record, TEXT_COLUMNS)
    if record.id is not None:
        return
    enterprise_id = getattr(user, "enterprise_id", None)
    if "enterprise" not in _role_names(user) or not enterprise_id:
        raise AccessDenied(_("The self-check is filed by the mine's enterprise."))
    mine = record.mine
    if mine is None and record.mine_id is not None:
        mine = db.session.get(Mine, record.mine_id)
    if mine is None:
        raise ValidationFailed(_("Choose the mine."), field="mine")
    if mine.enterprise_id != enterprise_id:
        raise ValidationFailed(_("The mine is not one of your enterprise's mines."), field="mine")
    entries = listed_entries(mine.id)
    if not entries:
        raise ValidationFailed(_("Only a mine listed in the green-mine directory files a self-check."),
                               field="mine")
    if record.year in (None, ""):
        record.year = _today().year
    record.year = parse_year(record.year)
    first_listed = min(entry.year for entry in entries)
    if record.year < first_listed:
        raise ValidationFailed(_("The mine is listed from %(year)s: it files self-checks from that year.",
                                 year=first_listed), field="year")
    duplicate = db.session.scalar(
        select(func.count(SelfCheck.id)).where(SelfCheck.mine_id == mine.id, SelfCheck.year == record.year)
    )
    if duplicate:
        raise ValidationFailed(_("The self-check of %(year)s for this mine already exists.", year=record.year),
                               field="year")
    entry = entries[0]
    record.mine = mine
    record.entry = entry
    record.mine_id, record.entry_id = mine.id, entry.id
    record.enterprise_id, record.region_code = mine.enterprise_id, mine.region_code


# ---------------------------------------------------------------------------
# The guard of "submit"
# ---------------------------------------------------------------------------
def missing_parts(record) -> list[str]:
    """The labels of what is still empty and must be filled in before submitting."""
    missing = [str(label) for column, label in SELF_CHECK_AREA_LABELS.items()
               if not (getattr(record, column) or "").strip()]
    if not (record.achievements or "").strip():
        missing.append(_("Main achievements"))
    if not (record.problems or "").strip():
        missing.append(_("Problems"))
    return missing


def check_self_check_complete(record, user, comment) -> None:
    """Submit: every area answered (无 where nothing was found), the achievements and the
    problems written, the mine still the enterprise's and still listed. After the deadline the
    filing is accepted (and marked late)."""
    missing = missing_parts(record)
    if missing:
        raise TransitionRefused(_("Fill in before submitting (write “none” where nothing was found): %(parts)s.",
                                  parts="、".join(missing)))
    if record.mine is None or record.mine.enterprise_id != record.enterprise_id:
        raise TransitionRefused(_("The mining licence is not one of this enterprise's mines."))
    if not is_listed(record.mine_id):
        raise TransitionRefused(_("The mine is no longer listed in the green-mine directory."))


# ---------------------------------------------------------------------------
# Who has not filed
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class MissingMine:
    """A listed mine without a submitted self-check of the year (one row per mine: its
    highest-level listed entry), and its unfinished record if it has one."""

    entry_id: int
    level: str
    mine_id: int
    mine_name: str
    licence_no: str
    enterprise_id: int
    enterprise_name: str
    region_code: str
    region_name: str
    self_check_id: Optional[int]
    self_check_status: Optional[str]

    @property
    def level_label(self) -> str:
        from app.services.directory import LEVEL_LABELS

        return str(LEVEL_LABELS.get(self.level, self.level))

    @property
    def self_check_status_label(self) -> str:
        from app.services.workflow import workflow_state_label

        if self.self_check_status is None:
            return _("No record")
        return workflow_state_label("self_check", self.self_check_status)


def _missing_select(user, year: int):
    """One statement: the listed mines in ``user``'s scope, listed by the year's deadline,
    without a submitted self-check of ``year``."""
    ranked = (
        select(
            DirectoryEntry.id.label("entry_id"),
            func.row_number().over(partition_by=DirectoryEntry.mine_id,
                                   order_by=(_level_rank(), DirectoryEntry.id)).label("position"),
        )
        .join(Mine, Mine.id == DirectoryEntry.mine_id)
        .where(DirectoryEntry.status == "listed", DirectoryEntry.listed_on <= deadline(year),
               scoping.scope_filter(Mine, user))
        .subquery()
    )
    own = aliased(SelfCheck)
    return (
        select(DirectoryEntry.id, DirectoryEntry.level, Mine.id, Mine.name, Mine.licence_no, Enterprise.id,
               Enterprise.name, Region.code, Region.full_name, own.id, own.status)
        .select_from(ranked)
        .join(DirectoryEntry, DirectoryEntry.id == ranked.c.entry_id)
        .join(Mine, Mine.id == DirectoryEntry.mine_id)
        .join(Enterprise, Enterprise.id == Mine.enterprise_id)
        .join(Region, Region.code == Mine.region_code)
        .outerjoin(own, and_(own.mine_id == Mine.id, own.year == year))
        .where(ranked.c.position == 1, or_(own.id.is_(None), own.status != SUBMITTED))
    )


def missing_self_checks(user, year: int, limit: Optional[int] = None, offset: int = 0) -> list[MissingMine]:
    """The listed mines in ``user``'s scope with no submitted self-check of ``year`` (for the
    authorities; an enterprise gets its own), by region and mine name."""
    query = _missing_select(user, year).order_by(Region.code, Mine.name, Mine.id)
    if limit is not None:
        query = query.limit(limit).offset(max(offset, 0))
    return [MissingMine(*row) for row in db.session.execute(query).all()]


def count_missing(user, year: int) -> int:
    return db.session.scalar(select(func.count()).select_from(_missing_select(user, year).subquery()))


# ---------------------------------------------------------------------------
# Problem leads
# ---------------------------------------------------------------------------
def problem_lead_rule(lead, user, action: str) -> None:
    """An authority records a lead on a mine in its scope (the enterprise and the county are
    the mine's); the day it was received is not in the future; changed only while open."""
    if lead.id is not None and lead.status not in PROBLEM_LEAD_EDITABLE_STATES:
        raise ValidationFailed(_("Only an open problem lead can be changed."))
    if action != scoping.EDIT:
        return
    if not is_staff(user):
        raise AccessDenied(_("Problem leads are recorded by the authorities."))
    # A form sets the relationship, a request body the id: whichever was changed names the mine.
    mine = lead.mine
    id_changed = sa_inspect(lead).attrs.mine_id.history.has_changes()
    if lead.mine_id is not None and (mine is None or (id_changed and mine.id != lead.mine_id)):
        mine = db.session.get(Mine, lead.mine_id)
    if mine is None:
        raise ValidationFailed(_("Choose the mine."), field="mine")
    scoping.check_access(user, mine, scoping.LINK)
    _clean_texts(lead, ("content", "source"))
    if not lead.content:
        raise ValidationFailed(_("Describe the problem."), field="content")
    if lead.received_on is None:
        lead.received_on = _today()
    if not isinstance(lead.received_on, datetime.date) or isinstance(lead.received_on, datetime.datetime):
        raise ValidationFailed(_("Not a valid date."), field="received_on")
    if lead.received_on > _today():
        raise ValidationFailed(_("The day the lead was received cannot be in the future."), field="received_on")
    lead.mine = mine
    lead.mine_id, lead.enterprise_id, lead.region_code = mine.id, mine.enterprise_id, mine.region_code


def open_lead_count(mine_id: int) -> int:
    return db.session.scalar(
        select(func.count(ProblemLead.id)).where(ProblemLead.mine_id == mine_id, ProblemLead.status == "open")
    )


# ---------------------------------------------------------------------------
# The home page
# ---------------------------------------------------------------------------
def overdue_rectification_count(user) -> int:
    """Spot-checked mines in ``user``'s scope ordered to rectify whose deadline has passed: the
    count of app.services.spotchecks.overdue_rectifications (one definition), as of this
    module's today."""
    overdue = spotchecks.overdue_rectifications(user, today=_today()).order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(overdue))
