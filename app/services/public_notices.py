"""The province's public notice on the public portal, and objections filed there (seed 001 二(五):
"在省厅门户网站公示遴选结果"; issue 19.3).

- What the public sees (``public_notices``, ``public_notice``): the notices whose period has
  started, each with its mines (mine, enterprise, region and mineral by name, as the application
  gives them), the period and the province's contact for objections. A notice whose period has
  ended stays readable. Nothing else: no application data beyond those names, no objection,
  no objector.
- Anyone may file an objection on the public form (``file_objection``) while the notice runs:
  name, a telephone number or an e-mail address, the mine (one of the notice's mines still in
  notice), the facts, and optional evidence (PDF or images, the upload rules of
  app.services.uploads). It lands in the province's objection queue (``Objection``, status
  open, resolved through the transition table) with the objector's name and contact, which only
  the province and the national level see (``may_see_objector``).
- One client address may file PUBLIC_OBJECTION_ADDRESS_LIMIT forms (default 5) within
  PUBLIC_OBJECTION_WINDOW_MINUTES (60); every attempt counts, refused or not (the counter is the
  login lock-out's table, app.services.login_throttle). A refused form leaves neither a row nor
  a file.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.services import login_throttle, scoping, storage, uploads
from app.services.exceptions import DomainError, NotFound, ValidationFailed
from app.services.roles import ALL, PROVINCE, ROLES

DEFAULTS = {
    "PUBLIC_OBJECTION_ADDRESS_LIMIT": 5,
    "PUBLIC_OBJECTION_WINDOW_MINUTES": 60,
    "PUBLIC_OBJECTION_MAX_FILES": 5,
}
NAME_MAX, CONTACT_MAX, FACTS_MAX = 64, 128, 5000
EVIDENCE_SLOT = "evidence"
RUNNING, ENDED = "running", "ended"

_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{5,30}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class ObjectionsThrottled(DomainError):
    """Too many objection forms from one client address."""

    status_code = 429


def _config(key: str) -> int:
    return int(current_app.config.get(key, DEFAULTS[key]))


def _today() -> datetime.date:
    return clock.today()


def is_phone(value: str) -> bool:
    return bool(_PHONE.match(value or "")) and sum(ch.isdigit() for ch in value) >= 6


def is_email(value: str) -> bool:
    return bool(_EMAIL.match(value or ""))


# ---------------------------------------------------------------------------
# What the public sees
# ---------------------------------------------------------------------------
def state_of(notice, today: Optional[datetime.date] = None) -> str:
    return RUNNING if (today or _today()) <= notice.ends_on else ENDED


def _visible(today: datetime.date):
    from app.models import PublicNotice

    return PublicNotice.starts_on <= today


@dataclass
class NoticePage:
    rows: list[dict]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def parse_page(args) -> int:
    """The page asked for, from 1; a malformed or absurd one is the first."""
    try:
        page = int(args.get("page", 1))
    except (TypeError, ValueError):
        return 1
    return page if 1 <= page <= 10_000 else 1


def public_notices(page: int = 1, size: int = 20, today: Optional[datetime.date] = None) -> NoticePage:
    """The notices whose period has started, running ones first, newest first."""
    from app.models import PublicNotice

    today = today or _today()
    total = db.session.scalar(select(func.count(PublicNotice.id)).where(_visible(today))) or 0
    notices = db.session.scalars(select(PublicNotice).where(_visible(today))
                                 .order_by(PublicNotice.ends_on < today, PublicNotice.starts_on.desc(),
                                           PublicNotice.id.desc())
                                 .offset((page - 1) * size).limit(size)).all()
    return NoticePage([notice_dict(notice, today) for notice in notices], total, page, size)


def _visible_notice(notice_id: Any, today: datetime.date):
    from app.models import PublicNotice

    if not scoping.is_record_id(notice_id):
        return None
    notice = db.session.get(PublicNotice, int(notice_id))
    if notice is None or notice.starts_on > today:
        return None
    return notice


def public_notice(notice_id: Any, today: Optional[datetime.date] = None) -> Optional[dict]:
    """One notice as the public sees it; None if it does not exist or has not started."""
    today = today or _today()
    notice = _visible_notice(notice_id, today)
    return notice_dict(notice, today) if notice is not None else None


def _mine_row(application) -> dict:
    region = application.region
    mineral = application.mineral_name or (
        getattr(getattr(application.mine, "mineral", None), "name", None) if application.mine else None)
    return {
        "mine_name": application.mine_name,
        "enterprise_name": application.enterprise_name,
        "region": region.full_name if region is not None else "",
        "mineral": mineral or "",
    }


def notice_dict(notice, today: Optional[datetime.date] = None) -> dict:
    state = state_of(notice, today)
    return {
        "id": notice.id,
        "title": notice.title,
        "province": notice.province.name if notice.province is not None else "",
        "starts_on": notice.starts_on.isoformat(),
        "ends_on": notice.ends_on.isoformat(),
        "state": state,
        "state_label": _("Under notice") if state == RUNNING else _("Notice period ended"),
        "accepts_objections": state == RUNNING,
        "contact": {
            "name": notice.contact_name or "",
            "phone": notice.contact_phone or "",
            "email": notice.contact_email or "",
            "address": notice.contact_address or "",
        },
        "mines": [_mine_row(application) for application in notice.applications],
    }


def objectable_mines(notice_id: Any, today: Optional[datetime.date] = None) -> list[tuple[int, str]]:
    """The choices of the objection form: (value, mine name) of the notice's mines still in
    notice."""
    notice = _visible_notice(notice_id, today or _today())
    if notice is None:
        return []
    return [(application.id, application.mine_name) for application in notice.applications
            if application.status == "in_notice"]


# ---------------------------------------------------------------------------
# The objection form
# ---------------------------------------------------------------------------
def _throttle(address: Optional[str], now: Optional[datetime.datetime] = None) -> None:
    """Count this attempt from ``address``; refuse beyond the limit within the window."""
    minutes = login_throttle.count_attempt(
        "objection:" + (address or "unknown"), _config("PUBLIC_OBJECTION_ADDRESS_LIMIT"),
        _config("PUBLIC_OBJECTION_WINDOW_MINUTES"), now)
    if minutes:
        raise ObjectionsThrottled(_("Too many objections were sent from your network address. Please try again "
                                    "in %(minutes)s minute(s), or write to the contact of the notice.",
                                    minutes=minutes))


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _chosen_files(files: Optional[Iterable]) -> list:
    return [item for item in (files or ()) if item is not None and getattr(item, "filename", None)]


def check_objection(notice, form: dict, files: list, today: datetime.date) -> tuple[Any, dict]:
    """The checks of the public form, in the order a reader fixes them. Returns (the
    application objected to, the cleaned fields)."""
    from app.models import Application

    if today < notice.starts_on or today > notice.ends_on:
        raise ValidationFailed(_("Objections are accepted only during the notice period (%(start)s to %(end)s).",
                                 start=notice.starts_on.isoformat(), end=notice.ends_on.isoformat()))
    name = " ".join(_text(form.get("name")).split())
    if not name:
        raise ValidationFailed(_("Give your name."), field="name")
    if len(name) > NAME_MAX:
        raise ValidationFailed(_("At most %(n)s characters.", n=NAME_MAX), field="name")
    contact = _text(form.get("contact"))
    if not contact:
        raise ValidationFailed(_("Give a telephone number or an e-mail address where the province can reach you."),
                               field="contact")
    if len(contact) > CONTACT_MAX or not (is_phone(contact) or is_email(contact)):
        raise ValidationFailed(_("The contact must be a telephone number or an e-mail address."), field="contact")
    application_id = form.get("mine")
    try:
        application_id = int(_text(application_id))
    except (TypeError, ValueError):
        application_id = None
    application = db.session.get(Application, application_id) if scoping.is_record_id(application_id) else None
    if application is None or application.public_notice_id != notice.id:
        raise ValidationFailed(_("Choose the mine from those in this notice."), field="mine")
    if application.status != "in_notice":
        raise ValidationFailed(_("“%(name)s” is no longer under notice.", name=application.mine_name), field="mine")
    facts = _text(form.get("facts"))
    if not facts:
        raise ValidationFailed(_("Describe the facts of your objection."), field="facts")
    if len(facts) > FACTS_MAX:
        raise ValidationFailed(_("At most %(n)s characters.", n=FACTS_MAX), field="facts")
    if len(files) > _config("PUBLIC_OBJECTION_MAX_FILES"):
        raise ValidationFailed(_("At most %(max)s files may be uploaded here; remove one first.",
                                 max=_config("PUBLIC_OBJECTION_MAX_FILES")), field="files")
    return application, {"objector_name": name, "objector_contact": contact, "content": facts}


def file_objection(notice_id: Any, form: dict, files: Optional[Iterable], address: Optional[str],
                   today: Optional[datetime.date] = None):
    """File an objection from the public form. Raises NotFound (no such notice, or not started),
    ObjectionsThrottled, ValidationFailed; on any refusal nothing is stored. Returns the
    Objection."""
    from app.models import Objection

    today = today or _today()
    _throttle(address)
    notice = _visible_notice(notice_id, today)
    if notice is None:
        raise NotFound(_("The record does not exist."))
    files = _chosen_files(files)
    application, fields = check_objection(notice, form, files, today)
    backend = storage.get_storage()
    stored: list[str] = []
    try:
        checked = []
        for item in files:
            with_field = uploads.store_checked(item, frozenset({uploads.PDF, uploads.IMAGE}), backend,
                                               whole_request=False)
            stored.append(with_field.stored_name)
            checked.append(with_field)
        objection = Objection(application_id=application.id, region_code=application.region_code,
                              received_on=today, status="open", **fields)
        db.session.add(objection)
        db.session.flush()
        for item in checked:
            db.session.add(item.attachment("Objection", objection.id, EVIDENCE_SLOT, None))
        db.session.commit()
    except BaseException as exc:
        db.session.rollback()
        for name in stored:
            try:
                backend.delete(name)
            except Exception:  # keep the original error; the orphan is only storage space
                current_app.logger.exception("could not delete stored file %s after a refused objection", name)
        if isinstance(exc, DomainError) and exc.field == "file":
            exc.field = "files"
        raise
    return objection


# ---------------------------------------------------------------------------
# Who sees the objector
# ---------------------------------------------------------------------------
def may_see_objector(user, objection) -> bool:
    """The objector's name, contact and evidence: the province of the objection (its staff in
    the province's own office) and the national level, nobody else (not the enterprise, nor the
    city or the county)."""
    if objection is None or not scoping.can_access(user, objection, scoping.READ):
        return False
    kinds = {getattr(ROLES.get(role.name), "scope", None) for role in getattr(user, "roles", ())}
    return ALL in kinds or PROVINCE in kinds


def evidence_of(objection) -> list:
    return uploads.attachments_of("Objection", objection.id, EVIDENCE_SLOT)
