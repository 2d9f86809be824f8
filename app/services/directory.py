"""The directory (绿色矿山名录, SPEC F1, E6), the recommendations to the national list and the
anomaly list (异常名录, F4). Entries enter and leave through the transition table (有进有出):

- an application is listed when its public notice ended without objection (the ``list`` step of
  the application workflow, whose effect is ``list_application``): a provincial entry and its
  certificate are made in the same transaction;
- a province recommends provincial entries to the national list, at most
  NATIONAL_RECOMMENDATION_QUOTA (default one half) of its listed provincial entries
  (``recommend``); the national user accepts (``list_nationally`` makes the national entry and
  its certificate) or declines;
- an entry is removed by the authority of its level (national entries by the national user,
  the others by their province) with the reason and the decision (``remove``); the removal
  revokes the certificate (app.services.certificates reads the entry's state);
- a mine is put on the anomaly list with reason and decision (``put_on_anomaly_list``; the
  selection puts a new mine there when it fails again after rectification, E7) and released
  through the ``release`` step.

A listing has no fixed term (the seeds give none): an entry stands until it is removed, and its
certificate with it. DIRECTORY_REVIEW_YEARS (config, off by default) only flags the entries listed
that many years ago or more as due for review, for the staff (``review_note``); nothing expires.
"""
from __future__ import annotations

import contextvars
import datetime
import math
from contextlib import contextmanager
from typing import Iterator, Optional

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models.directory import CITY, COUNTY, LEVEL_LABELS, NATIONAL, PROVINCIAL
from app.models.mixins import provide_rule
from app.services import scoping, workflow
from app.services.exceptions import AccessDenied, TransitionRefused, ValidationFailed, on_field

DEFAULT_RECOMMENDATION_QUOTA = 0.5
# The decision document (文号) of the step under way, handed from ``remove`` to its effect.
_pending_decision: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("gm_decision", default=None)


def _today() -> datetime.date:
    return clock.today()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _role_names(user) -> set[str]:
    return {role.name for role in getattr(user, "roles", ())}


@contextmanager
def _decision(decision: Optional[str]) -> Iterator[None]:
    token = _pending_decision.set((decision or "").strip()[:128] or None)
    try:
        yield
    finally:
        _pending_decision.reset(token)


# ---------------------------------------------------------------------------
# The optional review period (DIRECTORY_REVIEW_YEARS)
# ---------------------------------------------------------------------------
def review_years() -> Optional[int]:
    """DIRECTORY_REVIEW_YEARS: a positive whole number of years, or None (no review period)."""
    value = current_app.config.get("DIRECTORY_REVIEW_YEARS")
    if value in (None, "", 0, False):
        return None
    years = int(value)
    return years if years > 0 else None


def review_due_on(entry) -> Optional[datetime.date]:
    """The day a standing entry becomes due for review: the review period's anniversary of its
    listing; None without a review period or once the entry was removed."""
    from app.services.certificates import anniversary

    years = review_years()
    if years is None or entry.status != "listed" or entry.listed_on is None:
        return None
    return anniversary(entry.listed_on, years)


def review_due(entry, today: Optional[datetime.date] = None) -> bool:
    """Whether ``entry`` is due for review (listed ``DIRECTORY_REVIEW_YEARS`` years ago or more).
    It stays listed, and its certificate valid, until someone removes it."""
    due_on = review_due_on(entry)
    return due_on is not None and (today or _today()) >= due_on


def review_note(entry) -> str:
    """The staff's note of an entry due for review, else ''."""
    if not review_due(entry):
        return ""
    return _("Due for review: listed %(years)s years ago or more (since %(date)s)",
             years=review_years(), date=entry.listed_on.isoformat())


def _new_entry(mine, level: str, year: int, reason: str, decision: Optional[str], application_id=None,
               enterprise_name: Optional[str] = None):
    """A directory entry of ``mine``, with its certificate, added to the session (the caller's
    transaction)."""
    from app.models import DirectoryEntry
    from app.services import certificates

    entry = DirectoryEntry(
        mine_id=mine.id, enterprise_id=mine.enterprise_id, region_code=mine.region_code, level=level, year=year,
        mine_name=mine.name, enterprise_name=enterprise_name or mine.enterprise.name,
        mineral_name=mine.mineral.name if mine.mineral else None, listed_on=_today(), entry_reason=reason,
        entry_decision=decision, application_id=application_id,
    )
    db.session.add(entry)
    db.session.flush()
    certificates.issue(entry, db.session)
    return entry


# ---------------------------------------------------------------------------
# Effects and guards named in the transition table
# ---------------------------------------------------------------------------
def list_application(application, user, comment) -> dict:
    """Effect of the application's ``list`` step: the provincial entry and its certificate."""
    notice = application.public_notice
    reason = comment or _("Selected: passed the third-party assessment and the collective review; the public "
                          "notice ended without objection.")
    _new_entry(application.mine, PROVINCIAL, application.year, reason, notice.title if notice else None,
               application_id=application.id, enterprise_name=application.enterprise_name)
    return {}


# Who keeps the directory of each level: it lists there, and it (or an authority above it in
# scope) removes from there.
KEEPERS = {NATIONAL: ("national",), PROVINCIAL: ("province",), CITY: ("city", "province"),
           COUNTY: ("county", "city", "province")}
LEVEL_OF_ROLE = {"national": NATIONAL, "province": PROVINCIAL, "city": CITY, "county": COUNTY}


def check_removable(entry, user, comment) -> None:
    """An entry leaves by its level's authority: the national list by the national level, the
    provincial by the province, a city's by the city or its province, a county's by the county,
    its city or its province (the scope rule has checked the region)."""
    if not _role_names(user) & set(KEEPERS[entry.level]):
        raise AccessDenied(_("Your level does not keep the %(level)s directory.",
                             level=LEVEL_LABELS[entry.level]))


def stamp_removal(entry, user, comment) -> dict:
    return {"removed_on": _today(), "exit_reason": comment, "exit_decision": _pending_decision.get(),
            "decided_at": _now(), "decision_comment": comment}


def list_nationally(recommendation, user, comment) -> dict:
    """Effect of ``accept``: the national entry and its certificate."""
    provincial = recommendation.entry
    reason = comment or _("Recommended by the province and listed nationally.")
    entry = _new_entry(provincial.mine, NATIONAL, recommendation.year, reason, None,
                       application_id=provincial.application_id, enterprise_name=provincial.enterprise_name)
    return {"national_entry_id": entry.id, "decided_at": _now(), "decision_comment": comment}


# ---------------------------------------------------------------------------
# Removal with its decision document
# ---------------------------------------------------------------------------
def remove(entry, user, reason: str, decision: Optional[str] = None, within: bool = False):
    """Take ``entry`` off the directory with the reason and the decision (文号). ``within``: in
    the caller's transaction (a finding of falsified materials, app.services.fraud)."""
    with _decision(decision):
        return workflow.transition(entry, "remove", user, reason, within=within)


def list_mine(user, licence_no: str, year, reason: str, decision: Optional[str] = None):
    """List a mine by hand on the directory of the user's own level (a city keeps its city-level
    directory, a county its county-level one; the province and the national level may also record
    entries decided outside the system). The entry and its certificate, in one transaction."""
    from app.models import DirectoryEntry, Mine
    from app.services import codes

    level = next((LEVEL_OF_ROLE[name] for name in ("national", "province", "city", "county")
                  if name in _role_names(user)), None)
    if level is None:
        raise AccessDenied(_("Only an authority keeps a directory."))
    with on_field("licence_no"):
        number = codes.normalize_licence_no(licence_no)
        mine = db.session.scalars(select(Mine).where(Mine.licence_no == number)).first() if number else None
        if mine is None or not scoping.can_access(user, mine, scoping.LINK):
            raise ValidationFailed(_("No mine in your region has this licence number."))
    with on_field("year"):
        try:
            year = int(year or _today().year)
        except (TypeError, ValueError):
            raise ValidationFailed(_("Enter a year."))
        if not 2000 <= year <= _today().year + 1:
            raise ValidationFailed(_("Enter a year."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give the reason."), field="reason")
    listed_now = db.session.scalar(select(func.count(DirectoryEntry.id)).where(
        DirectoryEntry.mine_id == mine.id, DirectoryEntry.level == level, DirectoryEntry.status == "listed"))
    if listed_now:
        raise ValidationFailed(_("The mine is already on the %(level)s directory.", level=LEVEL_LABELS[level]),
                               field="licence_no")
    try:
        entry = _new_entry(mine, level, year, reason, (decision or "").strip()[:128] or None)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return entry


# ---------------------------------------------------------------------------
# Recommendation to the national list
# ---------------------------------------------------------------------------
def recommendation_quota(province_code: str) -> tuple[int, int]:
    """(how many the province may have recommended, how many it has) for the current list."""
    from app.models import DirectoryEntry, NationalRecommendation

    prefix = province_code[:2]
    listed = db.session.scalar(select(func.count(DirectoryEntry.id)).where(
        DirectoryEntry.level == PROVINCIAL, DirectoryEntry.status == "listed",
        scoping.region_condition(DirectoryEntry.region_code, [prefix]))) or 0
    ratio = float(current_app.config.get("NATIONAL_RECOMMENDATION_QUOTA", DEFAULT_RECOMMENDATION_QUOTA))
    used = db.session.scalar(select(func.count(NationalRecommendation.id)).where(
        NationalRecommendation.status.in_(("recommended", "accepted")),
        scoping.region_condition(NationalRecommendation.region_code, [prefix]))) or 0
    return math.floor(ratio * listed), used


def recommend(entry, user, reason: Optional[str] = None):
    """A province recommends one of its listed provincial entries to the national list."""
    from app.models import NationalRecommendation

    if "province" not in _role_names(user):
        raise AccessDenied(_("The province recommends mines to the national list."))
    scoping.check_access(user, entry, scoping.ACT)
    if entry.level != PROVINCIAL or entry.status != "listed":
        raise ValidationFailed(_("Only a mine listed in the provincial directory can be recommended."))
    pending = db.session.scalar(select(func.count(NationalRecommendation.id)).where(
        NationalRecommendation.entry_id == entry.id, NationalRecommendation.status.in_(("recommended", "accepted"))))
    if pending:
        raise ValidationFailed(_("This mine has already been recommended."))
    quota, used = recommendation_quota(entry.region_code)
    if used >= quota:
        raise ValidationFailed(_("The province's quota is used up: at most %(quota)s of its listed mines may be "
                                 "recommended, and %(used)s are.", quota=quota, used=used))
    recommendation = NationalRecommendation(entry_id=entry.id, region_code=entry.region_code,
                                            enterprise_id=entry.enterprise_id, year=_today().year,
                                            reason=(reason or "").strip() or None)
    try:
        db.session.add(recommendation)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return recommendation


# ---------------------------------------------------------------------------
# The anomaly list
# ---------------------------------------------------------------------------
def put_on_anomaly_list(mine, reason: str, decision: Optional[str] = None, application_id=None,
                        commit: bool = True):
    """Add ``mine`` to the anomaly list (in the caller's transaction when ``commit`` is False)."""
    from app.models import AnomalyEntry

    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give the reason."), field="reason")
    entry = AnomalyEntry(mine_id=mine.id, enterprise_id=mine.enterprise_id, region_code=mine.region_code,
                         year=_today().year, listed_on=_today(), reason=reason,
                         decision=(decision or "").strip() or None, application_id=application_id)
    db.session.add(entry)
    if commit:
        try:
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return entry


def is_on_anomaly_list(mine_id: int) -> bool:
    from app.models import AnomalyEntry

    return bool(db.session.scalar(select(func.count(AnomalyEntry.id)).where(
        AnomalyEntry.mine_id == mine_id, AnomalyEntry.status == "listed")))


def anomaly_rule(entry, user, action: str) -> None:
    """The manual listing form (province): the mine in scope, a reason; the rest derived."""
    from app.models import Mine

    if action != scoping.EDIT or entry.id is not None:
        if entry.id is not None and action == scoping.EDIT:
            raise ValidationFailed(_("An anomaly-list entry is not edited; release it instead."))
        return
    mine = entry.mine or (db.session.get(Mine, entry.mine_id) if entry.mine_id else None)
    if mine is None:
        raise ValidationFailed(_("Choose the mine."), field="mine")
    scoping.check_access(user, mine, scoping.LINK)
    if not (entry.reason or "").strip():
        raise ValidationFailed(_("Give the reason."), field="reason")
    entry.mine_id, entry.enterprise_id, entry.region_code = mine.id, mine.enterprise_id, mine.region_code
    entry.year = entry.year or _today().year
    entry.listed_on = entry.listed_on or _today()


def check_not_on_anomaly_list(mine) -> None:
    if is_on_anomaly_list(mine.id):
        raise TransitionRefused(_("The mine is on the anomaly list and cannot apply."))


provide_rule("directory.review_note", review_note)
