"""Selection after the assessment (seed 001 §一(二)4-5, §一(三); SPEC E4, E5, E7).

- Collective review (会审): the province holds a meeting (date, members) and records a decision
  per assessed application (pass / fail / defer, with reasons). ``decide`` records the decision
  and takes the matching step in the same transaction: pass → ``review_pass``; fail →
  ``review_fail``, or for a new or expanded mine failing for the first time
  ``order_rectification`` (it is re-assessed after rectifying; failing again puts the mine on the
  anomaly list); defer → no step, the application waits for a later meeting.
- Public notice (公示): the province publishes passed applications for a period of at least
  PUBLIC_NOTICE_MIN_DAYS days (default 5); objections received in the period are recorded and
  resolved (upheld / dismissed) through the transition table. An application is listed only
  after the period has ended with no open or upheld objection; an upheld objection ends it
  (``reject_after_notice``).
- New or expanded mines (E7): an application may be submitted only a year after production
  started.
"""
from __future__ import annotations

import datetime
from typing import Iterable, Optional

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models.review import DEFER, FAIL, PASS
from app.services import scoping, workflow
from app.services.exceptions import AccessDenied, NotFound, TransitionRefused, ValidationFailed, on_field

DECISIONS = (PASS, FAIL, DEFER)
DECISION_LABELS = {PASS: _l("Pass"), FAIL: _l("Fail"), DEFER: _l("Defer")}
DEFAULT_NOTICE_MIN_DAYS = 5


def _today() -> datetime.date:
    return clock.today()


def _province_of(region_code: Optional[str]) -> Optional[str]:
    return region_code[:2] + "0000" if region_code else None


def _require_province_user(user) -> str:
    if "province" not in {role.name for role in getattr(user, "roles", ())} or not getattr(user, "region_code", None):
        raise AccessDenied(_("Only a province authority does this."))
    return user.region_code


# ---------------------------------------------------------------------------
# E7: new or expanded mines
# ---------------------------------------------------------------------------
def one_year_after(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def check_new_mine_ready(mine, today: Optional[datetime.date] = None) -> None:
    """A new or expanded mine is accepted no earlier than one year after production started."""
    if mine is None or not mine.is_new_or_expanded:
        return
    if mine.production_started_on is None:
        raise TransitionRefused(_("This is a new or expanded mine: record the date production started first."))
    ready_on = one_year_after(mine.production_started_on)
    if (today or _today()) < ready_on:
        raise TransitionRefused(_("A new or expanded mine can be accepted one year after production started, "
                                  "that is from %(date)s.", date=ready_on.isoformat()))


# ---------------------------------------------------------------------------
# E4: the collective review meeting
# ---------------------------------------------------------------------------
def meeting_rule(meeting, user, action: str) -> None:
    """A province holds meetings for itself: date and members are required."""
    if action != scoping.EDIT:
        return
    province = _require_province_user(user)
    if meeting.held_on is None:
        raise ValidationFailed(_("This field is required."), field="held_on")
    members = "\n".join(line.strip() for line in (meeting.members or "").splitlines() if line.strip())
    if not members:
        raise ValidationFailed(_("List the members present."), field="members")
    meeting.members = members
    meeting.province_code = province


def _latest_decision(application):
    from app.models import ReviewDecision

    return db.session.scalars(select(ReviewDecision).where(ReviewDecision.application_id == application.id)
                              .order_by(ReviewDecision.id.desc()).limit(1)).first()


def _was_rectified(application) -> bool:
    from app.models import TransitionLog

    return bool(db.session.scalar(select(func.count(TransitionLog.id)).where(
        TransitionLog.record_type == "Application", TransitionLog.record_id == application.id,
        TransitionLog.action == "order_rectification")))


def reviewable_applications(user, meeting) -> list:
    """The assessed applications of the meeting's province that the user reaches."""
    from app.models import Application

    return list(db.session.scalars(select(Application).where(
        Application.status == "assessed", scoping.scope_filter(Application, user),
        scoping.region_condition(Application.region_code, [meeting.province_code[:2]]),
    ).order_by(Application.id)))


def decide(meeting, application, decision: str, reasons: str, user):
    """Record the meeting's decision on ``application`` and take the matching step, in one
    transaction. Returns the ReviewDecision."""
    from app.models import ReviewDecision

    _require_province_user(user)
    scoping.check_access(user, meeting, scoping.EDIT)
    scoping.check_access(user, application, scoping.ACT)
    if decision not in DECISIONS:
        raise ValidationFailed(_("Choose pass, fail or defer."), field="decision")
    reasons = (reasons or "").strip()
    if not reasons:
        raise ValidationFailed(_("Give the reasons of the decision."), field="reasons")
    if _province_of(application.region_code) != meeting.province_code:
        raise ValidationFailed(_("The application belongs to another province."))
    if application.status != "assessed":
        raise ValidationFailed(_("Only an assessed application is decided at the collective review (this one is "
                                 "“%(state)s”).", state=application.status_label))
    if meeting.held_on > _today():
        raise ValidationFailed(_("The meeting has not been held yet."))
    if any(existing.application_id == application.id for existing in meeting.decisions):
        raise ValidationFailed(_("This meeting has already decided on this application; a deferred application "
                                 "is decided at a later meeting."))
    record = ReviewDecision(meeting_id=meeting.id, application_id=application.id, decision=decision,
                            reasons=reasons, decided_by_id=user.id)
    db.session.add(record)
    if decision == DEFER:
        try:
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        return record
    db.session.flush()
    if decision == PASS:
        action = "review_pass"
    elif application.mine.is_new_or_expanded and not _was_rectified(application):
        action = "order_rectification"
    else:
        action = "review_fail"
    # The step commits the decision with it, or rolls both back.
    workflow.transition(application, action, user, reasons)
    return record


def check_meeting_passed(application, user, comment) -> None:
    decision = _latest_decision(application)
    if decision is None or decision.decision != PASS:
        raise TransitionRefused(_("The collective review has not passed this application."))


def check_meeting_failed(application, user, comment) -> None:
    decision = _latest_decision(application)
    if decision is None or decision.decision != FAIL:
        raise TransitionRefused(_("The collective review has not failed this application."))


def check_rectification_allowed(application, user, comment) -> None:
    check_meeting_failed(application, user, comment)
    if not application.mine.is_new_or_expanded:
        raise TransitionRefused(_("Rectification is ordered for new or expanded mines only."))
    if _was_rectified(application):
        raise TransitionRefused(_("The mine has already had its rectification."))


def on_review_failed(application, user, comment) -> dict:
    """A new or expanded mine that fails again after its rectification goes on the anomaly
    list of the year (seed 001 §一(三))."""
    if application.mine.is_new_or_expanded and _was_rectified(application):
        from app.services import directory

        directory.put_on_anomaly_list(application.mine, _("Failed the acceptance again after rectification: %(reasons)s",
                                                          reasons=comment or ""),
                                      application_id=application.id, commit=False)
    return {}


# ---------------------------------------------------------------------------
# E5: the public notice and its objections
# ---------------------------------------------------------------------------
def notice_min_days() -> int:
    return int(current_app.config.get("PUBLIC_NOTICE_MIN_DAYS", DEFAULT_NOTICE_MIN_DAYS))


def publishable_applications(user) -> list:
    from app.models import Application

    return list(db.session.scalars(select(Application).where(
        Application.status == "review_passed", scoping.scope_filter(Application, user)).order_by(Application.id)))


NOTICE_CONTACT_FIELDS = {"contact_name": 128, "contact_phone": 32, "contact_email": 128, "contact_address": 256}


def clean_notice_contact(contact: Optional[dict]) -> dict[str, Optional[str]]:
    """Where the public sends its objections (seed 001 二(五)): the office, and a telephone or an
    e-mail address at least. Returns the cleaned fields; raises ValidationFailed on the field."""
    from app.services import public_notices

    contact = contact if isinstance(contact, dict) else {}
    cleaned: dict[str, Optional[str]] = {}
    for field, length in NOTICE_CONTACT_FIELDS.items():
        value = contact.get(field)
        value = " ".join(str(value).split()) if value is not None else ""
        if len(value) > length:
            raise ValidationFailed(_("At most %(n)s characters.", n=length), field=field)
        cleaned[field] = value or None
    if not cleaned["contact_name"]:
        raise ValidationFailed(_("Name the office that receives objections."), field="contact_name")
    if not (cleaned["contact_phone"] or cleaned["contact_email"]):
        raise ValidationFailed(_("Give a telephone number or an e-mail address for objections."),
                               field="contact_phone")
    if cleaned["contact_phone"] and not public_notices.is_phone(cleaned["contact_phone"]):
        raise ValidationFailed(_("This is not a telephone number."), field="contact_phone")
    if cleaned["contact_email"] and not public_notices.is_email(cleaned["contact_email"]):
        raise ValidationFailed(_("This is not an e-mail address."), field="contact_email")
    return cleaned


def publish_notice(user, title: str, starts_on: Optional[datetime.date], ends_on: Optional[datetime.date],
                   application_ids: Iterable, contact: Optional[dict] = None) -> tuple[object, list[str]]:
    """Publish the passed applications for a period, with the province's contact for objections
    (``contact``: contact_name, contact_phone, contact_email, contact_address; the office and a
    telephone or an e-mail address are required). Returns (the notice, refusals by application,
    normally empty)."""
    from app.models import Application, PublicNotice

    province = _require_province_user(user)
    title = (title or "").strip()
    if not title:
        raise ValidationFailed(_("This field is required."), field="title")
    contact_fields = clean_notice_contact(contact)
    with on_field("starts_on"):
        if starts_on is None:
            raise ValidationFailed(_("This field is required."))
    with on_field("ends_on"):
        if ends_on is None:
            raise ValidationFailed(_("This field is required."))
        if (ends_on - starts_on).days + 1 < notice_min_days():
            raise ValidationFailed(_("The notice period is at least %(days)s days.", days=notice_min_days()))
    try:
        ids = sorted({int(value) for value in application_ids})
    except (TypeError, ValueError):
        raise ValidationFailed(_("Choose the applications."), field="application_ids")
    if not ids:
        raise ValidationFailed(_("Choose the applications."), field="application_ids")
    applications = []
    for application_id in ids:
        application = db.session.get(Application, application_id)
        if application is None or not scoping.can_access(user, application, scoping.ACT):
            raise NotFound(_("The record does not exist."))
        if application.status != "review_passed" or application.public_notice_id is not None:
            raise ValidationFailed(_("“%(name)s” is not waiting for a public notice.", name=application.mine_name))
        applications.append(application)
    notice = PublicNotice(province_code=province, title=title, starts_on=starts_on, ends_on=ends_on,
                          published_by_id=user.id, **contact_fields)
    try:
        db.session.add(notice)
        db.session.flush()
        for application in applications:
            application.public_notice_id = notice.id
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    refusals = []
    for application in applications:
        try:
            workflow.transition(application, "start_notice", user)
        except TransitionRefused as exc:  # changed meanwhile by someone else
            refusals.append(f"{application.mine_name}: {exc}")
    return notice, refusals


def check_in_a_notice(application, user, comment) -> None:
    if application.public_notice_id is None:
        raise TransitionRefused(_("Publish the application in a public notice first."))


def _objections(application, states: tuple[str, ...]) -> int:
    from app.models import Objection

    return db.session.scalar(select(func.count(Objection.id)).where(
        Objection.application_id == application.id, Objection.status.in_(states))) or 0


def check_listable(application, user, comment, today: Optional[datetime.date] = None) -> None:
    notice = application.public_notice
    if notice is None:
        raise TransitionRefused(_("Publish the application in a public notice first."))
    if (today or _today()) <= notice.ends_on:
        raise TransitionRefused(_("The public notice runs until %(date)s; the mine is listed after it ends.",
                                  date=notice.ends_on.isoformat()))
    if _objections(application, ("upheld",)):
        raise TransitionRefused(_("An objection was upheld: the mine cannot be listed."))
    open_count = _objections(application, ("open",))
    if open_count:
        raise TransitionRefused(_("%(n)s objection(s) are not resolved yet.", n=open_count))


def check_objection_upheld(application, user, comment) -> None:
    if not _objections(application, ("upheld",)):
        raise TransitionRefused(_("Only an upheld objection stops the listing."))


def objection_rule(objection, user, action: str) -> None:
    """An objection is recorded by the province against an application in public notice,
    received within the notice period."""
    from app.models import Application

    if action != scoping.EDIT:
        return
    if objection.id is not None:
        raise ValidationFailed(_("A recorded objection is not edited; resolve it instead."))
    _require_province_user(user)
    application = objection.application or (
        db.session.get(Application, objection.application_id) if objection.application_id else None)
    if application is None:
        raise ValidationFailed(_("Choose the application."), field="application")
    scoping.check_access(user, application, scoping.ACT)
    if application.status != "in_notice" or application.public_notice is None:
        raise ValidationFailed(_("Objections are recorded only while the application is in public notice."),
                               field="application")
    notice = application.public_notice
    received = objection.received_on or _today()
    if not notice.starts_on <= received <= notice.ends_on:
        raise ValidationFailed(_("The objection must be received within the notice period (%(start)s to "
                                 "%(end)s).", start=notice.starts_on.isoformat(), end=notice.ends_on.isoformat()),
                               field="received_on")
    if not (objection.content or "").strip():
        raise ValidationFailed(_("This field is required."), field="content")
    objection.received_on = received
    # The relationship too: the scope rule reads the objection's application through it (a REST
    # body names only application_id).
    objection.application, objection.application_id = application, application.id
    objection.region_code = application.region_code


def list_after_notice(notice, user, today: Optional[datetime.date] = None) -> tuple[int, list[str]]:
    """List every application of the notice that may be listed now. Returns (how many were
    listed, why the others were not)."""
    scoping.check_access(user, notice, scoping.ACT)
    listed, refusals = 0, []
    for application in list(notice.applications):
        if application.status != "in_notice":
            continue
        try:
            check_listable(application, user, None, today)
            workflow.transition(application, "list", user)
            listed += 1
        except TransitionRefused as exc:
            refusals.append(f"{application.mine_name}: {exc}")
    return listed, refusals
