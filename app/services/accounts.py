"""Own profile and password (SPEC A2), password reset by an authority (A4), and the rule that
a changed or reset password ends every session and API token issued before.

Sessions carry the account's ``credentials_version`` from login (``SESSION_KEY``); API tokens
carry it as the ``cv`` claim. Raising the number on the account invalidates both.
"""
from __future__ import annotations

import re
from typing import Optional

from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.services import login_throttle, registry, scoping
from app.services.exceptions import AccessDenied, ValidationFailed, on_field
from app.services.passwords import generate_one_time_password, password_problems, validate_password_complexity

SESSION_KEY = "gm_cv"
TOKEN_CLAIM = "cv"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _log(user, actor, action: str) -> None:
    from app.models import AccountEvent

    db.session.add(AccountEvent(user_id=user.id, actor_id=getattr(actor, "id", None), action=action))


def credentials_current(user, version) -> bool:
    """Whether a session or token issued with ``version`` is still valid for ``user``."""
    return version is not None and int(version) == int(user.credentials_version or 0)


def _new_credentials(user, password: str) -> None:
    user.password = generate_password_hash(password)
    user.credentials_version = int(user.credentials_version or 0) + 1


# ---------------------------------------------------------------------------
# A2: one's own profile and password
# ---------------------------------------------------------------------------
def update_profile(user, first_name: str, last_name: str, phone: Optional[str], email: str) -> None:
    """Name, mobile and e-mail: all a user may change of his own account."""
    from app.models import GreenMineUser

    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    if not first_name:
        raise ValidationFailed(_("This field is required."), field="first_name")
    with on_field("phone"):
        phone = registry.normalize_phone(phone)
    email = (email or "").strip()
    if not _EMAIL.match(email):
        raise ValidationFailed(_("“%(value)s” is not an e-mail address.", value=email), field="email")
    taken = db.session.scalar(
        select(func.count()).select_from(GreenMineUser)
        .where(func.lower(GreenMineUser.email) == email.lower(), GreenMineUser.id != user.id)
    )
    if taken:
        raise ValidationFailed(_("Another account uses this e-mail address."), field="email")
    user.first_name, user.last_name, user.phone, user.email = first_name[:64], last_name[:64], phone, email
    _log(user, user, "profile_changed")
    _commit()


def change_password(user, current: str, new: str, confirm: str) -> None:
    """Asks for the current password (FAB's own form does not); ends every other session."""
    if not user.password or not check_password_hash(user.password, current or ""):
        raise ValidationFailed(_("The current password is not correct."), field="current_password")
    if (new or "") != (confirm or ""):
        raise ValidationFailed(_("The two new passwords differ."), field="confirm_password")
    if new == current:
        raise ValidationFailed(_("The new password must differ from the current one."), field="new_password")
    if password_problems(new):
        with on_field("new_password"):
            try:
                validate_password_complexity(new)
            except Exception as exc:  # FAB's PasswordComplexityValidationError
                raise ValidationFailed(str(exc)) from exc
    _new_credentials(user, new)
    user.must_change_password = False
    _log(user, user, "password_changed")
    _commit()


# ---------------------------------------------------------------------------
# A4: reset by an authority
# ---------------------------------------------------------------------------
def may_reset(actor, target) -> bool:
    """The admin resets anyone; a province user resets the enterprise users of its province."""
    roles = {role.name for role in getattr(actor, "roles", ())}
    if "admin" in roles:
        return True
    if "province" not in roles or target is None or target.id == actor.id:
        return False
    target_roles = {role.name for role in target.roles}
    if target_roles != {"enterprise"} or target.enterprise is None:
        return False
    return scoping.can_access(actor, target.enterprise, scoping.EDIT)


def resettable_users(actor) -> list:
    """The accounts ``actor`` may reset (the province's enterprise users; everyone for the admin)."""
    from app.models import Enterprise, GreenMineUser

    query = select(GreenMineUser).order_by(GreenMineUser.username)
    roles = {role.name for role in getattr(actor, "roles", ())}
    if "admin" not in roles:
        if "province" not in roles:
            return []
        query = query.join(Enterprise, Enterprise.id == GreenMineUser.enterprise_id).where(
            scoping.scope_filter(Enterprise, actor)
        )
    return [user for user in db.session.scalars(query) if may_reset(actor, user)]


def reset_password(actor, target_id) -> tuple[object, str]:
    """A random one-time password (never chosen by the resetter), to be changed at next login.
    Returns (user, password): the password is shown once and stored nowhere."""
    from app.models import GreenMineUser

    target = db.session.get(GreenMineUser, int(target_id)) if str(target_id).isdigit() else None
    if target is None or not may_reset(actor, target):
        raise AccessDenied(_("You may not reset this account's password."))
    password = generate_one_time_password()
    _new_credentials(target, password)
    target.must_change_password = True
    _log(target, actor, "password_reset")
    # A locked-out user gets in again with the new password (app.services.login_throttle).
    login_throttle.clear(target.username)
    _commit()
    return target, password


def _commit() -> None:
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
