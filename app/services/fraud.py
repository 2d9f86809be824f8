"""Findings of falsified materials (弄虚作假认定, seed 001 三(三): "对存在弄虚作假、徇私舞弊等严重违规行为的
矿山……予以通报，取消绿色矿山遴选资格").

The province (its own region's mines) and the national level (every mine) record a finding
against a mine, or against one of its applications: the facts found (reason), the decision
document's number or title, the day it was decided (not in the future) and, optionally, the
decision document as a PDF (the upload rules of app.services.uploads). In one transaction:

- every application of the mine that is not final ends, through the application workflow's
  ``disqualify`` step (its guard lets only a finding under way take it);
- every directory entry of the mine that the recording authority keeps is removed through the
  directory's removal (app.services.directory.remove, the finding as the reason and the decision
  document as the decision), which revokes its certificate; the keepers of its other entries (a
  national entry, for a province's finding) are told to decide on it;
- the enterprise's users are told;
- the mine may not pre-declare or apply (``check_not_barred``) before ``barred_until``, the
  decision's date plus FRAUD_BAR_YEARS years (default 3).

A finding is kept as recorded: it is neither edited nor deleted. Agencies' own disqualification
(app.services.agencies) is unchanged.
"""
from __future__ import annotations

import contextvars
import datetime
from typing import Optional

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.services import codes, scoping
from app.services.exceptions import AccessDenied, ErrorCollector, TransitionRefused, ValidationFailed

DEFAULT_BAR_YEARS = 3
RECORDING_ROLES = frozenset({"national", "province"})
# The application states a finding ends (the sources of the ``disqualify`` step).
OPEN_APPLICATION_STATES = ("draft", "submitted", "returned", "county_passed", "city_recommended", "accepted",
                           "self_evaluated", "under_assessment", "assessed", "rectifying", "review_passed",
                           "in_notice")
DECISION_MAX = 128

# The finding being recorded in this context: the ``disqualify`` guard and the document's upload
# rule open only for it.
_recording: contextvars.ContextVar[Optional[object]] = contextvars.ContextVar("gm_fraud_recording", default=None)


def bar_years() -> int:
    return int(current_app.config.get("FRAUD_BAR_YEARS", DEFAULT_BAR_YEARS))


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _role_names(user) -> set[str]:
    return {role.name for role in getattr(user, "roles", ())}


def may_record(user) -> bool:
    return bool(_role_names(user) & RECORDING_ROLES)


def may_read(user, finding) -> bool:
    """Findings are the province's and the national level's (their scope), not the enterprise's
    nor the lower authorities' screens."""
    return may_record(user) and scoping.can_access(user, finding, scoping.READ)


def is_being_recorded(finding) -> bool:
    return finding is not None and _recording.get() is finding


def _default_locale() -> str:
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")


# ---------------------------------------------------------------------------
# The bar
# ---------------------------------------------------------------------------
def active_bar(mine_id, today: Optional[datetime.date] = None):
    """The finding that bars the mine now (the one whose bar ends last), or None."""
    from app.models import FraudFinding

    if mine_id is None:
        return None
    today = today or clock.today()
    return db.session.scalars(
        select(FraudFinding).where(FraudFinding.mine_id == mine_id, FraudFinding.barred_until > today)
        .order_by(FraudFinding.barred_until.desc(), FraudFinding.id.desc()).limit(1)).first()


def bar_message(finding) -> str:
    return _("The mine was found to have falsified its materials (%(decision)s, decided on %(date)s) and is "
             "disqualified from the green-mine selection: it may apply again from %(until)s.",
             decision=finding.decision_no, date=finding.decided_on.isoformat(),
             until=finding.barred_until.isoformat())


def check_not_barred(mine, field: Optional[str] = None, refusal=ValidationFailed) -> None:
    """A new pre-declaration or application of ``mine`` (and their submission) is refused while
    a finding bars it."""
    finding = active_bar(getattr(mine, "id", None))
    if finding is not None:
        raise refusal(bar_message(finding), field=field)


def check_submittable(record, user, comment) -> None:
    """For the submit guards: a barred mine's record is not submitted."""
    check_not_barred(getattr(record, "mine", None), refusal=TransitionRefused)


# ---------------------------------------------------------------------------
# The guard of the application's ``disqualify`` step
# ---------------------------------------------------------------------------
def check_finding_under_way(application, user, comment) -> None:
    finding = _recording.get()
    if finding is None or getattr(finding, "mine_id", None) != application.mine_id:
        raise TransitionRefused(_("An application is disqualified by recording a finding of falsified materials "
                                  "with its decision document."))


# ---------------------------------------------------------------------------
# Recording a finding
# ---------------------------------------------------------------------------
def _parse_date(value) -> Optional[datetime.date]:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value or "").strip()
    if not text:
        raise ValidationFailed(_("Enter the date of the decision."))
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(_("Enter the date of the decision as YYYY-MM-DD."))


def _target(user, application_id, licence_no, errors: ErrorCollector):
    """(mine, application or None) named by the application's id or the mine's licence number,
    in the user's scope; refusals on their fields."""
    from app.models import Application, Mine

    raw = str(application_id or "").strip()
    if raw:
        with errors.on_field("application_id"):
            application = db.session.get(Application, int(raw)) if raw.isdigit() and scoping.is_record_id(
                int(raw)) else None
            if application is None or not scoping.can_access(user, application, scoping.ACT):
                raise ValidationFailed(_("No application in your region has this number."))
            return application.mine, application
        return None, None
    with errors.on_field("licence_no"):
        if not str(licence_no or "").strip():
            raise ValidationFailed(_("Enter the mining licence number of the mine."))
        number = codes.normalize_licence_no(str(licence_no))
        mine = db.session.scalars(select(Mine).where(Mine.licence_no == number)).first() if number else None
        if mine is None or not scoping.can_access(user, mine, scoping.ACT):
            raise ValidationFailed(_("No mine in your region has this licence number."))
        return mine, None
    return None, None


def _has_file(document) -> bool:
    return document is not None and bool(getattr(document, "filename", None))


def record(user, *, reason, decision_no, decided_on, licence_no=None, application_id=None, document=None):
    """Record a finding and apply its effects, in one transaction. Returns the finding.

    Raises AccessDenied (not a province or national user), ValidationFailed / FieldErrors (each
    refused field; nothing is stored)."""
    from app.models import Application, DirectoryEntry, FraudFinding
    from app.services import directory, notifications, spotchecks, uploads, workflow
    from app.models.directory import LEVEL_LABELS

    if not may_record(user):
        raise AccessDenied(_("Only the province and the national level record findings of falsified materials."))
    errors = ErrorCollector()
    mine, application = _target(user, application_id, licence_no, errors)
    reason = str(reason or "").strip()
    if not reason:
        errors.add(_("Give the facts found: what was falsified."), "reason")
    decision_no = str(decision_no or "").strip()
    with errors.on_field("decision_no"):
        if not decision_no:
            raise ValidationFailed(_("Give the decision document's number or title."))
        if len(decision_no) > DECISION_MAX:
            raise ValidationFailed(_("The decision document's number or title is longer than %(max)s characters.",
                                     max=DECISION_MAX))
    day = None
    with errors.on_field("decided_on"):
        day = _parse_date(decided_on)
        if day > clock.today():
            raise ValidationFailed(_("The decision date cannot be in the future."))
        if day.year < 2000:
            raise ValidationFailed(_("Enter the date of the decision as YYYY-MM-DD."))
    errors.raise_if_any()

    attachment = None
    token = None
    try:
        with force_locale(_default_locale()):
            summary = _("Falsified materials found (%(decision)s, %(date)s): %(reason)s", decision=decision_no,
                        date=day.isoformat(), reason=reason)
        finding = FraudFinding(
            mine_id=mine.id, enterprise_id=mine.enterprise_id, region_code=mine.region_code,
            application_id=application.id if application is not None else None, mine_name=mine.name,
            enterprise_name=mine.enterprise.name, reason=reason, decision_no=decision_no, decided_on=day,
            barred_until=add_years(day, bar_years()), recorded_by_id=getattr(user, "id", None),
            recorded_by_name=getattr(user, "username", None))
        db.session.add(finding)
        db.session.flush()
        token = _recording.set(finding)
        if _has_file(document):
            try:
                attachment = uploads.attach("FraudFinding", finding.id, "document", document, user, commit=False)
            except ValidationFailed as exc:
                raise ValidationFailed(str(exc), field="document")
        effects = []
        # The mine's applications that are not final end (the engine's step, its log and messages).
        open_applications = db.session.scalars(select(Application).where(
            Application.mine_id == mine.id, Application.status.in_(OPEN_APPLICATION_STATES))
            .order_by(Application.id)).all()
        for item in open_applications:
            workflow.transition(item, "disqualify", user, summary, within=True)
            with force_locale(_default_locale()):
                effects.append(_("Application %(name)s ended.", name=str(item)))
        # The directory: the entries this authority keeps are removed (their certificates with
        # them); the keepers of the others are told.
        listed = db.session.scalars(select(DirectoryEntry).where(
            DirectoryEntry.mine_id == mine.id, DirectoryEntry.status == "listed").order_by(DirectoryEntry.id)).all()
        for entry in listed:
            with force_locale(_default_locale()):
                level = str(LEVEL_LABELS[entry.level])
                if spotchecks.keeps(user, entry):
                    directory.remove(entry, user, summary, decision_no, within=True)
                    effects.append(_("Removed from the %(level)s directory; its certificate is revoked.",
                                     level=level))
                else:
                    title = _("Removal from the %(level)s directory proposed: “%(name)s”", level=level,
                              name=entry.mine_name)
                    body = summary + " " + _("The %(level)s directory is kept by its own authority: please "
                                             "decide on the removal of this entry.", level=level)
                    notifications.send(db.session, spotchecks.keepers_of(entry), notifications.Message(
                        notifications.STATUS, title, body, "DirectoryEntry", entry.id))
                    effects.append(_("The keepers of the %(level)s directory were asked to remove it.",
                                     level=level))
        with force_locale(_default_locale()):
            effects.append(_("May not apply before %(until)s.", until=finding.barred_until.isoformat()))
            finding.effects = " ".join(effects)
            title = _("Finding of falsified materials: “%(name)s”", name=mine.name)
            body = summary + " " + bar_message(finding)
        notifications.send(db.session, [u for u in notifications.applicants(mine) if u.id != getattr(user, "id", None)],
                           notifications.Message(notifications.STATUS, title, body, "Mine", mine.id))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        if attachment is not None:
            uploads.discard(attachment)
        raise
    finally:
        if token is not None:
            _recording.reset(token)
    return finding


# ---------------------------------------------------------------------------
# For the record pages
# ---------------------------------------------------------------------------
def findings_of_mine(user, mine_id) -> list:
    """The findings against a mine that ``user`` may read, newest first."""
    from app.models import FraudFinding

    if not may_record(user) or mine_id is None:
        return []
    return list(db.session.scalars(select(FraudFinding).where(
        FraudFinding.mine_id == mine_id, scoping.scope_filter(FraudFinding, user))
        .order_by(FraudFinding.decided_on.desc(), FraudFinding.id.desc())))


def documents_of(finding) -> list:
    from app.services import uploads

    return uploads.attachments_of("FraudFinding", finding.id, "document")
