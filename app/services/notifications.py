"""In-app notifications (SPEC I3).

Two sources:
- ``on_transition``, called by the transition engine inside the step's transaction: the
  applicant (the enterprise's users) and the next reviewers (the users whose role and scope let
  them take a step from the new state) are told; the person who acted is not.
- ``remind`` (``flask gm remind``, meant for a daily cron): the enterprise users of every
  application still 未提交 or returned for revision are reminded of the province's deadline
  ``REMIND_DAYS_BEFORE`` days before it (default 7 and 1). Certification adds three
  (``_certification_reminders``): a body's certifiers, when an evaluation has that many working days
  left; a body's certifiers, ``CERTIFICATION_AUDIT_NOTICE_DAYS`` before a certificate year ends
  without its surveillance audit; the enterprise, when a certificate comes due for re-evaluation.
  Each reminder carries a key, so a second run on the same day, or a run on each of several
  servers, sends nothing new.

Messages are stored as text in the default language (zh), like an e-mail; the page that shows
the record is resolved when the message is listed. A user reads only his own messages.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Iterable, Optional

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from app import clock
from app.extensions import db
from app.models.kinds import record_kind_label
from app.models.notification import DEADLINE, STATUS
from app.models.user import acting_person
from app.services import codes, scoping
from app.services.exceptions import NotFound

DEFAULT_REMIND_DAYS_BEFORE = (7, 1)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _record_kind(record) -> str:
    return record_kind_label(type(record).__name__)


def _record_name(record) -> str:
    mine = getattr(record, "mine", None)
    return getattr(mine, "name", None) or getattr(record, "mine_name", None) or str(record)


# ---------------------------------------------------------------------------
# Who is told
# ---------------------------------------------------------------------------
def _active_users(condition) -> list:
    from app.models import GreenMineUser

    return list(db.session.scalars(select(GreenMineUser).where(GreenMineUser.active.is_(True), condition)))


def _owner(record):
    """The record that carries the enterprise and region of ``record``: itself, or the parent
    its scope comes from (a surveillance audit's certificate)."""
    path = scoping.scope_path(type(record))
    if path is not None and path.parent is not None and not hasattr(record, "enterprise_id"):
        parent = getattr(record, path.parent[1], None)
        return _owner(parent) if parent is not None else record
    return record


def applicants(record) -> list:
    from app.models import GreenMineUser

    enterprise_id = getattr(_owner(record), "enterprise_id", None)
    if enterprise_id is None:
        return []
    return [user for user in _active_users(GreenMineUser.enterprise_id == enterprise_id)
            if "enterprise" in user.role_names]


def next_reviewers(record, state: str) -> list:
    """The staff who can take a step on ``record`` in ``state``: their role is in the table for
    that state, and the record lies in their scope."""
    from flask_appbuilder.security.sqla.models import Role

    from app.models import GreenMineUser
    from app.services.workflow import TRANSITIONS, workflow_of

    workflow_name = workflow_of(record).name
    roles = {role for step in TRANSITIONS if step.workflow == workflow_name and step.source == state and step.pending
             for role in step.roles} - {"enterprise"}
    region_code = getattr(_owner(record), "region_code", None)
    if not roles or not region_code:
        return []
    # Staff of the record's region and the regions above it, agency and certification-body users
    # (their scope is their assignments, their body's records); the scope rule then decides exactly.
    candidates = _active_users((GreenMineUser.region_code.in_(codes.ancestor_codes(region_code))
                                | GreenMineUser.agency_id.is_not(None)
                                | GreenMineUser.certification_body_id.is_not(None))
                               & GreenMineUser.roles.any(Role.name.in_(roles)))
    return [user for user in candidates if scoping.can_access(user, record, scoping.ACT)]


# ---------------------------------------------------------------------------
# Writing messages
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Message:
    kind: str
    title: str
    body: str
    record_type: Optional[str] = None
    record_id: Optional[int] = None
    dedupe_key: Optional[str] = None


def _default_locale() -> str:
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")


def send(session: Session, users: Iterable, message: Message) -> int:
    """Add one message per user (once per user). Returns how many were written."""
    from app.models import Notification

    rows, seen = [], set()
    for user in users:
        if user.id in seen:
            continue
        seen.add(user.id)
        rows.append(dict(user_id=user.id, created_at=_now(), kind=message.kind, title=message.title[:255],
                         body=message.body, record_type=message.record_type, record_id=message.record_id,
                         dedupe_key=f"{message.dedupe_key}:{user.id}" if message.dedupe_key else None))
    if rows:
        session.execute(Notification.__table__.insert(), rows)
    return len(rows)


def on_transition(session: Session, record, log, actor) -> int:
    """Tell the applicant and the next reviewers about the step ``log`` (same transaction)."""
    from app.services.workflow import action_label, workflow_state_label

    with force_locale(_default_locale()):
        state = workflow_state_label(log.workflow, log.to_state)
        title = _("%(kind)s “%(name)s”: %(state)s", kind=_record_kind(record), name=_record_name(record),
                  state=state)
        # The person by name and login, as the logs name them (not the bare login).
        body = _("%(user)s: %(action)s.", user=acting_person(actor, log.username),
                 action=action_label(log.workflow, log.action))
        if log.comment:
            body += " " + _("Comment: %(comment)s", comment=log.comment)
    recipients = [user for user in applicants(record) + next_reviewers(record, log.to_state) if user.id != actor.id]
    return send(session, recipients, Message(STATUS, title, body, type(record).__name__, record.id))


# ---------------------------------------------------------------------------
# Deadline reminders
# ---------------------------------------------------------------------------
def remind(today: Optional[datetime.date] = None) -> int:
    """Send the reminders due ``today``; return how many messages were written. Idempotent."""
    from app.models import Application, Notification
    from app.services import applications

    today = today or clock.today()
    days_before = sorted(current_app.config.get("REMIND_DAYS_BEFORE", DEFAULT_REMIND_DAYS_BEFORE))
    open_states = ("draft", "returned")
    pending = db.session.scalars(
        select(Application).where(Application.status.in_(open_states), Application.year >= today.year - 1)
    ).all()
    planned: list[tuple[list, Message]] = []
    with force_locale(_default_locale()):
        for application in pending:
            _opens, deadline = applications.deadline_for(application.region_code[:2] + "0000", application.year)
            days_left = (deadline - today).days
            # The nearest reminder day not yet passed: 7 days out, then 1 day out.
            due = next((days for days in days_before if days_left <= days), None)
            if due is None or days_left < 0:
                continue
            title = _("Deadline in %(days)s day(s): %(kind)s “%(name)s”", days=days_left,
                      kind=_record_kind(application), name=_record_name(application))
            body = _("Applications for %(year)s must be submitted by %(date)s; this one is “%(state)s”.",
                     year=application.year, date=deadline.isoformat(), state=application.status_label)
            key = f"deadline:Application:{application.id}:{deadline.isoformat()}:{due}"
            planned.append((applicants(application),
                            Message(DEADLINE, title, body, "Application", application.id, key)))
        planned.extend(_certification_reminders(today, days_before))
    keys = [f"{message.dedupe_key}:{user.id}" for users, message in planned for user in users]
    sent_before = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        sent_before.update(db.session.scalars(select(Notification.dedupe_key)
                                              .where(Notification.dedupe_key.in_(chunk))))
    written = 0
    try:
        for users, message in planned:
            fresh = [user for user in users if f"{message.dedupe_key}:{user.id}" not in sent_before]
            written += send(db.session, fresh, message)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return written


def _certifiers_of(body_id: int) -> list:
    from flask_appbuilder.security.sqla.models import Role

    from app.models import GreenMineUser

    return _active_users((GreenMineUser.certification_body_id == body_id)
                         & GreenMineUser.roles.any(Role.name == "certifier"))


def _certification_reminders(today: datetime.date, days_before: list[int]) -> list[tuple[list, Message]]:
    """The certification reminders due ``today`` (see the module); called in the default locale."""
    from app.models import CertificationApplication, CertificationCertificate
    from app.services import certification, surveillance

    planned: list[tuple[list, Message]] = []
    running = db.session.scalars(select(CertificationApplication)
                                 .where(CertificationApplication.status == "under_evaluation")).all()
    for record in running:
        clock = certification.clock(record, today)
        if clock is None or clock.deadline is None or clock.remaining < 0:
            continue
        due = next((days for days in days_before if clock.remaining <= days), None)
        if due is None:
            continue
        title = _("%(days)s working day(s) left: %(kind)s “%(name)s”", days=clock.remaining,
                  kind=_record_kind(record), name=_record_name(record))
        body = _("The evaluation must be finished by %(date)s (%(limit)s working days after acceptance, "
                 "rectification not counted).", date=clock.deadline.isoformat(), limit=clock.limit)
        key = f"deadline:CertificationApplication:{record.id}:{clock.deadline.isoformat()}:{due}"
        planned.append((_certifiers_of(record.body_id),
                        Message(DEADLINE, title, body, "CertificationApplication", record.id, key)))
    notice = int(current_app.config.get("CERTIFICATION_AUDIT_NOTICE_DAYS", 30))
    valid = db.session.scalars(select(CertificationCertificate).where(
        CertificationCertificate.status == "valid", CertificationCertificate.valid_from <= today,
        CertificationCertificate.valid_until >= today).options(selectinload(CertificationCertificate.audits))).all()
    for certificate in valid:
        year = surveillance.audit_due(certificate, today)
        if year is not None and (year.end - today).days <= notice:
            title = _("Surveillance audit due by %(date)s: certificate %(number)s", date=year.end.isoformat(),
                      number=certificate.number)
            body = _("Year %(year)s of the certificate of “%(name)s” ends on %(date)s without a surveillance "
                     "audit.", year=year.year, name=certificate.mine_name, date=year.end.isoformat())
            key = f"surveillance:{certificate.id}:{year.year}"
            planned.append((_certifiers_of(certificate.body_id),
                            Message(DEADLINE, title, body, "CertificationCertificate", certificate.id, key)))
        if surveillance.renewal_due(certificate, today):
            title = _("Re-evaluation due: certificate %(number)s ends on %(date)s", number=certificate.number,
                      date=certificate.valid_until.isoformat())
            body = _("Apply for the re-evaluation of “%(name)s” before its certificate ends.",
                     name=certificate.mine_name)
            key = f"renewal:{certificate.id}:{certificate.valid_until.isoformat()}"
            planned.append((applicants(certificate),
                            Message(DEADLINE, title, body, "CertificationCertificate", certificate.id, key)))
    return planned


# ---------------------------------------------------------------------------
# Reading one's own messages
# ---------------------------------------------------------------------------
def unread_count(user) -> int:
    from app.models import Notification

    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def inbox(user, page: int = 0, page_size: int = 20, unread_only: bool = False) -> tuple[list, int]:
    """(this page of the user's messages, newest first; the total)."""
    from app.models import Notification

    page = min(max(page, 0), 100_000)  # beyond that there is nothing, and no overflow
    condition = Notification.user_id == user.id
    if unread_only:
        condition = condition & Notification.read_at.is_(None)
    total = db.session.scalar(select(func.count(Notification.id)).where(condition)) or 0
    rows = db.session.scalars(select(Notification).where(condition).order_by(Notification.id.desc())
                              .offset(max(page, 0) * page_size).limit(page_size)).all()
    return list(rows), total


def own_message(notification_id, user):
    """The message, if it is ``user``'s; NotFound otherwise (another's is indistinguishable)."""
    from app.models import Notification

    try:
        message = db.session.get(Notification, int(notification_id))
    except (TypeError, ValueError):
        message = None
    if message is None or message.user_id != getattr(user, "id", None):
        raise NotFound(_("The message does not exist."))
    return message


def mark_read(notification_id, user):
    message = own_message(notification_id, user)
    if message.read_at is None:
        message.read_at = _now()
        db.session.commit()
    return message


def mark_all_read(user) -> int:
    from app.models import Notification

    result = db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)).values(read_at=_now()))
    db.session.commit()
    return result.rowcount or 0
