"""Notices (SPEC A6). Who publishes: an authority, to its own region's subtree (the national
level and the admin to the whole country). Who reads: everyone whose region lies in that subtree
(an enterprise by its registered region), from the publish date on."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_babel import gettext as _
from sqlalchemy import or_, select

from app import clock
from app.extensions import db
from app.services import codes, scoping
from app.services.exceptions import ValidationFailed


def _user_region_code(user) -> Optional[str]:
    if getattr(user, "region_code", None):
        return user.region_code
    enterprise = getattr(user, "enterprise", None)
    return enterprise.region_code if enterprise is not None else None


def visible_condition(user):
    """Notices for the whole country, or for a region at or above the user's."""
    from app.models import Notice

    if scoping.user_scope(user).everything:
        return Notice.region_code.is_not(None) | Notice.region_code.is_(None)
    return or_(Notice.region_code.is_(None), Notice.region_code.in_(codes.ancestor_codes(_user_region_code(user))))


def is_visible(notice, user, today: Optional[datetime.date] = None) -> bool:
    """``visible_condition`` for one loaded notice: published, and addressed to the whole
    country or to a region at or above the user's (its managers see it in any case)."""
    if notice is None or not getattr(user, "is_authenticated", False):
        return False
    if scoping.can_access(user, notice, scoping.EDIT):
        return True
    if notice.publish_date > (today or clock.today()):
        return False
    return notice.region_code is None or notice.region_code in codes.ancestor_codes(_user_region_code(user))


def latest_for(user, limit: int = 10, today: Optional[datetime.date] = None) -> list:
    from app.models import Notice

    today = today or clock.today()
    query = (select(Notice).where(visible_condition(user), Notice.publish_date <= today)
             .order_by(Notice.publish_date.desc(), Notice.id.desc()).limit(limit))
    return list(db.session.scalars(query))


def record_rule(notice, user, action: str) -> None:
    """An authority publishes to its own region (the subtree below it); the national level and
    the admin publish to the whole country or to any region."""
    if action != scoping.EDIT:
        return
    notice.title = (notice.title or "").strip()
    if not notice.title:
        raise ValidationFailed(_("This field is required."), field="title")
    if not (notice.body or "").strip():
        raise ValidationFailed(_("This field is required."), field="body")
    if notice.publish_date is None:
        notice.publish_date = clock.today()
    if notice.author_id is None:
        notice.author_id = user.id
    if scoping.user_scope(user).everything:
        return
    # Staff: the audience is their own region; the scope check then holds by construction.
    notice.region = getattr(user, "region", None)
    notice.region_code = getattr(user, "region_code", None)
