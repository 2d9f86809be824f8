"""Own profile and password (SPEC A2), password reset by an authority (A4), and the rule that
ends sessions on the server.

Sessions carry the account's ``credentials_version`` from login (``SESSION_KEY``); API tokens
carry it as the ``cv`` claim. Raising the number on the account invalidates both, from any
address: ``end_sessions`` does it, and so does everything that calls it — a password set in any
way (``set_password``: one's own change, a reset, an account created or its password set from
the command line), a logout, and a change of what the account may reach (its roles, its
binding to a region, enterprise, agency or certification body, or its active flag).
"""
from __future__ import annotations

import re
from typing import Optional

from flask_babel import gettext as _
from sqlalchemy import func, inspect, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.services import login_throttle, registry, scoping
from app.services.exceptions import AccessDenied, ValidationFailed, on_field
from app.services.passwords import generate_one_time_password, password_problems, validate_password_complexity

SESSION_KEY = "gm_cv"
TOKEN_CLAIM = "cv"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _log(user, actor, action: str) -> None:
    """An account event (``AccountEvent.action``): password_changed, password_reset,
    password_set (from the command line), account_created, profile_changed, logout,
    access_changed. ``actor`` None: the command line."""
    from app.models import AccountEvent

    # By the relationship: a new account (the admin's form, the user API) has no id before its
    # flush, which also writes the event.
    db.session.add(AccountEvent(user=user, actor_id=getattr(actor, "id", None), action=action))


def credentials_current(user, version) -> bool:
    """Whether a session or token issued with ``version`` is still valid for ``user``."""
    return version is not None and int(version) == int(user.credentials_version or 0)


def end_sessions(user) -> None:
    """Every session and API token issued to ``user`` before now stops working (on its next
    request, whatever address it comes from). Not committed: the caller's transaction."""
    user.credentials_version = int(user.credentials_version or 0) + 1


def check_password_policy(password: Optional[str], field: str = "password") -> None:
    """The password policy (app.services.passwords), as a ValidationFailed on ``field``."""
    if password_problems(password):
        with on_field(field):
            try:
                validate_password_complexity(password)
            except Exception as exc:  # FAB's PasswordComplexityValidationError
                raise ValidationFailed(str(exc)) from exc


def set_password(user, password: str, actor, *, must_change: bool, event: str, field: str = "password") -> None:
    """The one way a password is set, whoever sets it: the policy, the hash, the credentials
    version (every older session and token ends), the forced change at next login
    (``must_change``: whenever someone other than the holder chose or knows it) and the
    account event. Not committed: the caller's transaction."""
    check_password_policy(password, field)
    user.password = generate_password_hash(password)
    end_sessions(user)
    user.must_change_password = must_change
    _log(user, actor, event)


# ---------------------------------------------------------------------------
# Logout, and changes of what an account may reach
# ---------------------------------------------------------------------------
def logout(user) -> None:
    """Signing out ends the session on the server: a copy of its cookie is refused afterwards.
    Sessions are signed cookies without an id of their own, so this ends every session and API
    token of the account (its other browsers and clients too): the intended, simple rule."""
    end_sessions(user)
    _log(user, user, "logout")
    _commit()


# What an account may reach: a change of any of these ends its sessions and tokens.
_ACCESS_COLUMNS = ("active", "region_code", "enterprise_id", "agency_id", "certification_body_id")


def access_changed(user) -> bool:
    """Whether the pending (not yet flushed) changes of a stored account alter its roles, its
    binding or its active flag. A new account has nothing to end."""
    state = inspect(user)
    if not state.persistent:
        return False
    if any(state.attrs[column].history.has_changes() for column in _ACCESS_COLUMNS):
        return True
    roles = state.attrs.roles.history
    kept = list(roles.unchanged or ())
    return ({role.name for role in kept + list(roles.deleted or ())}
            != {role.name for role in kept + list(roles.added or ())})


def end_sessions_if_access_changed(user, actor) -> bool:
    """Called where roles and bindings are set (app.services.users.apply_binding): a role or
    binding change ends the account's sessions and tokens, with an account event. Not committed."""
    if not access_changed(user):
        return False
    end_sessions(user)
    _log(user, actor, "access_changed")
    return True


# ---------------------------------------------------------------------------
# A2: one's own profile and password
# ---------------------------------------------------------------------------
def check_email(email: Optional[str], user=None) -> str:
    """An e-mail address no other account uses (FAB's table keeps them unique); returns it trimmed."""
    from app.models import GreenMineUser

    email = (email or "").strip()
    if not _EMAIL.match(email):
        raise ValidationFailed(_("“%(value)s” is not an e-mail address.", value=email), field="email")
    query = select(func.count()).select_from(GreenMineUser).where(func.lower(GreenMineUser.email) == email.lower())
    if user is not None and user.id is not None:
        query = query.where(GreenMineUser.id != user.id)
    if db.session.scalar(query):
        raise ValidationFailed(_("Another account uses this e-mail address."), field="email")
    return email


def update_profile(user, first_name: str, last_name: str, phone: Optional[str], email: str) -> None:
    """Name, mobile and e-mail: all a user may change of his own account."""
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    if not first_name:
        raise ValidationFailed(_("This field is required."), field="first_name")
    with on_field("phone"):
        phone = registry.normalize_phone(phone)
    email = check_email(email, user)
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
    set_password(user, new, user, must_change=False, event="password_changed", field="new_password")
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


def resettable_users(actor, user_id: Optional[int] = None) -> list:
    """The accounts ``actor`` may reset (the province's enterprise users; everyone for the admin),
    or only the one with ``user_id`` if he may (the admin's user screen links to it)."""
    from app.models import Enterprise, GreenMineUser

    query = select(GreenMineUser).order_by(GreenMineUser.username)
    if user_id is not None:
        query = query.where(GreenMineUser.id == user_id)
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
    set_password(target, password, actor, must_change=True, event="password_reset")
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
