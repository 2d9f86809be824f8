"""Four-level responsible persons (包保责任人, SPEC B4) and the enterprise's self-service (B5).

Each level is filled by that level's accounts, in scope: the province level by a province
user, the city level by a city user, the county level by a county user, the enterprise level
by the mine's own enterprise. Replacing a person keeps the old row (history).
"""
from __future__ import annotations

import datetime
from typing import Optional

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.choices import RESPONSIBILITY_LEVELS
from app.services import registry, scoping
from app.services.exceptions import AccessDenied, TransitionRefused, ValidationFailed, on_field

# The role whose accounts fill each level.
ROLE_OF_LEVEL = {"province": "province", "city": "city", "county": "county", "enterprise": "enterprise"}


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def editable_levels(user, mine) -> list[str]:
    """The levels ``user`` may fill for ``mine`` (its roles, and the mine in its scope)."""
    if not scoping.can_access(user, mine, scoping.EDIT):
        return []
    roles = {role.name for role in getattr(user, "roles", ())}
    return [level for level, role in ROLE_OF_LEVEL.items() if role in roles]


def current_persons(mine) -> dict[str, object]:
    """level -> the current person (levels without one are absent)."""
    from app.models import ResponsiblePerson

    rows = db.session.scalars(
        select(ResponsiblePerson).where(ResponsiblePerson.mine_id == mine.id, ResponsiblePerson.replaced_at.is_(None))
    )
    return {row.level: row for row in rows}


def history(mine) -> list:
    """Every person ever entered for the mine, newest first."""
    from app.models import ResponsiblePerson

    return list(
        db.session.scalars(
            select(ResponsiblePerson)
            .where(ResponsiblePerson.mine_id == mine.id)
            .order_by(ResponsiblePerson.created_at.desc(), ResponsiblePerson.id.desc())
        )
    )


def quick_fill_choices(user, limit: int = 20) -> list[dict[str, Optional[str]]]:
    """The distinct persons this user entered before, most recent first (seed 003 fig. 6-2)."""
    from app.models import ResponsiblePerson

    rows = db.session.execute(
        select(ResponsiblePerson.name, ResponsiblePerson.post, ResponsiblePerson.phone)
        .where(ResponsiblePerson.entered_by_id == user.id)
        .order_by(ResponsiblePerson.created_at.desc(), ResponsiblePerson.id.desc())
        .limit(limit * 5)
    ).all()
    seen: set[tuple] = set()
    choices = []
    for name, post, phone in rows:
        if (name, post, phone) in seen:
            continue
        seen.add((name, post, phone))
        choices.append({"name": name, "post": post, "phone": phone})
        if len(choices) == limit:
            break
    return choices


def set_person(mine, level: str, user, name: str, post: Optional[str] = None, phone: Optional[str] = None):
    """Make this person the current one of ``level`` for ``mine``. Commits; refuses whole."""
    from app.models import ResponsiblePerson

    if level not in RESPONSIBILITY_LEVELS:
        raise ValidationFailed(_("Unknown responsibility level: %(level)s.", level=level), field="level")
    if level not in editable_levels(user, mine):
        raise AccessDenied(
            _("Only %(role)s accounts responsible for this mine may fill in the %(level)s.",
              role=_role_label(level), level=RESPONSIBILITY_LEVELS[level])
        )
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("The responsible person's name is required."), field="name")
    with on_field("phone"):
        phone = registry.normalize_phone(phone)
    post = (post or "").strip() or None
    try:
        current = current_persons(mine).get(level)
        if current is not None and (current.name, current.post, current.phone) == (name, post, phone):
            return current
        if current is not None:
            current.replaced_at = _now()
            db.session.flush()
        person = ResponsiblePerson(mine_id=mine.id, level=level, name=name, post=post, phone=phone,
                                   entered_by_id=user.id)
        db.session.add(person)
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        # Two people replaced the same level at once: the partial unique index let one win.
        raise TransitionRefused(_("The record was changed by someone else in the meantime; please reload it.")) from exc
    except Exception:
        db.session.rollback()
        raise
    return person


def set_location(mine, user, latitude, longitude) -> None:
    """B5: the enterprise (and staff in scope) may set the mine's position, nothing else."""
    scoping.check_access(user, mine, scoping.EDIT)
    try:
        latitude = None if latitude in (None, "") else float(latitude)
        longitude = None if longitude in (None, "") else float(longitude)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(_("Latitude and longitude are numbers in degrees."), field="latitude") from exc
    registry.check_location(latitude, longitude)
    mine.latitude, mine.longitude = latitude, longitude
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def _role_label(level: str) -> str:
    from app.services.roles import role_label

    return role_label(ROLE_OF_LEVEL[level])
