"""Accounts: binding a user to the scope his role needs; creating and changing accounts from
the CLI (`flask gm create-user`), the admin's user screen (app.security.GreenMineUserView) and
the user API (app.api.users). Passwords are set by app.services.accounts only."""
from __future__ import annotations

from typing import Any, Iterable, Optional

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from app.extensions import db
from app.services import accounts, codes, registry, search_text
from app.services.exceptions import NotFound, ValidationFailed, on_field
from app.models.region import LEVEL_LABELS
from app.services.passwords import generate_one_time_password
from app.services.roles import ROLES, STAFF_ROLES, role_label



def _find_region(code: str):
    from app.models import Region

    code = codes.validate_region_code_shape(code)
    region = db.session.get(Region, code)
    if region is None:
        raise ValidationFailed(_("There is no region with the code %(code)s.", code=code))
    return region


def _find_enterprise(uscc: str):
    from app.models import Enterprise

    code = codes.normalize_uscc(uscc)
    enterprise = db.session.query(Enterprise).filter_by(uscc=code).one_or_none()
    if enterprise is None:
        raise ValidationFailed(_("There is no enterprise with the credit code %(code)s.", code=code))
    return enterprise


def _find_agency(name: str):
    from app.models import Agency

    agency = db.session.query(Agency).filter_by(name=(name or "").strip()).one_or_none()
    if agency is None:
        raise ValidationFailed(_("There is no assessment agency named %(name)s.", name=name))
    return agency


def _find_certification_body(name: str):
    from app.models import CertificationBody

    body = db.session.query(CertificationBody).filter_by(name=(name or "").strip()).one_or_none()
    if body is None:
        raise ValidationFailed(_("There is no certification body named %(name)s.", name=name))
    return body


def _region_fits(role: str, region) -> bool:
    level = ROLES[role].region_level
    if region.level == level:
        return True
    # A prefecture-level city without counties (东莞市) serves as a county.
    return level == codes.COUNTY and region.is_leaf


def apply_binding(
    user,
    role_names: Iterable[str],
    region_code: Optional[str] = None,
    enterprise_uscc: Optional[str] = None,
    agency=None,
    certification_body=None,
    actor=None,
) -> None:
    """Check that the roles and the bindings agree, then set them on ``user``.

    Staff (province, city, county) need a region of their level; enterprise users an existing
    enterprise; agency users an agency; certifiers a certification body. An account holds one
    kind of binding only. Every path that sets roles calls this after assigning them: when the
    roles, the binding or the active flag of a stored account changed, its sessions and tokens
    end (app.services.accounts; ``actor`` is who changed it, None for the command line).
    """
    roles = [name for name in role_names if name]
    unknown = [name for name in roles if name not in ROLES]
    if unknown:
        raise ValidationFailed(_("Unknown role: %(role)s.", role=", ".join(unknown)))
    if not roles:
        raise ValidationFailed(_("A user needs a role."))
    staff = [name for name in roles if name in STAFF_ROLES]
    if len(staff) > 1:
        raise ValidationFailed(_("An account can hold only one of the roles province, city and county."))
    if staff and ("enterprise" in roles or "agency" in roles):
        raise ValidationFailed(_("An authority account cannot also be an enterprise or agency account."))
    if "enterprise" in roles and "agency" in roles:
        raise ValidationFailed(_("An enterprise account cannot also be an agency account."))
    if "certifier" in roles and (staff or "enterprise" in roles or "agency" in roles):
        raise ValidationFailed(_("A certification body account cannot also be an authority, enterprise or "
                                 "agency account."))

    # The user may not be in the session yet (FAB's add form): no flush half-way through.
    with db.session.no_autoflush:
        _apply_binding(user, roles, staff, region_code, enterprise_uscc, agency, certification_body)
        accounts.end_sessions_if_access_changed(user, actor)


def _apply_binding(user, roles, staff, region_code, enterprise_uscc, agency, certification_body) -> None:
    region = _find_region(region_code) if (region_code or "").strip() else None
    if staff:
        role = staff[0]
        level_name = LEVEL_LABELS[ROLES[role].region_level]
        if region is None:
            raise ValidationFailed(
                _("A %(role)s account needs a region code of %(level)s level.",
                  role=role_label(role), level=level_name)
            )
        if not _region_fits(role, region):
            raise ValidationFailed(
                _(
                    "A %(role)s account needs a region code of %(level)s level; %(code)s %(name)s is not one.",
                    role=role_label(role), level=level_name, code=region.code, name=region.full_name,
                )
            )
    elif region is not None and "inspector" not in roles:
        raise ValidationFailed(_("Only authority and inspector accounts are bound to a region."))

    enterprise = None
    if "enterprise" in roles:
        if not (enterprise_uscc or "").strip():
            raise ValidationFailed(_("An enterprise user needs the credit code of an existing enterprise."))
        enterprise = _find_enterprise(enterprise_uscc)
    elif (enterprise_uscc or "").strip():
        raise ValidationFailed(_("Only enterprise accounts are bound to an enterprise."))

    if "agency" in roles:
        if agency is None:
            raise ValidationFailed(_("An agency user needs an existing assessment agency."))
    elif agency is not None:
        raise ValidationFailed(_("Only agency accounts are bound to an agency."))

    user.region_code = region.code if region is not None else None
    user.region = region
    user.enterprise_id = enterprise.id if enterprise is not None else None
    user.enterprise = enterprise
    if "certifier" in roles:
        if certification_body is None:
            raise ValidationFailed(_("A certification body user needs an existing certification body."))
    elif certification_body is not None:
        raise ValidationFailed(_("Only certification body accounts are bound to a certification body."))

    user.agency_id = agency.id if agency is not None else None
    user.agency = agency
    user.certification_body_id = certification_body.id if certification_body is not None else None
    user.certification_body = certification_body


def create_or_update_user(
    username: str,
    role: str,
    password: str,
    region_code: Optional[str] = None,
    enterprise_uscc: Optional[str] = None,
    agency_name: Optional[str] = None,
    certification_body_name: Optional[str] = None,
    first_name: Optional[str] = None,
    last_name: Optional[str] = None,
    email: Optional[str] = None,
    phone: Optional[str] = None,
    must_change_password: bool = True,
):
    """Create the user, or update the one with this username. Commits; refuses bad input whole.

    The password is set like every other (app.services.accounts.set_password): the policy, the
    end of the account's older sessions and tokens, and by default a change required at the
    first sign-in, since the operator typed it (``must_change_password=False`` for an account
    the operator keeps for himself, automation, and the demo's published logins)."""
    from flask import current_app

    sm = current_app.appbuilder.sm
    username = (username or "").strip()
    if not username:
        raise ValidationFailed(_("A username is required."))
    if role not in ROLES:
        raise ValidationFailed(_("Unknown role: %(role)s.", role=role))
    fab_role = sm.find_role(role)
    if fab_role is None:
        raise ValidationFailed(_("The role %(role)s is not in the database yet: run `flask gm sync-roles`.", role=role))
    accounts.check_password_policy(password)
    agency = _find_agency(agency_name) if (agency_name or "").strip() else None
    body = (_find_certification_body(certification_body_name)
            if (certification_body_name or "").strip() else None)

    user = db.session.query(sm.user_model).filter_by(username=username).one_or_none()
    created = user is None
    try:
        if created:
            user = sm.user_model(username=username, active=True)
            db.session.add(user)
        user.first_name = first_name or user.first_name or username
        user.last_name = last_name or user.last_name or ""
        user.email = email or user.email or f"{username}@users.invalid"
        if phone is not None:
            user.phone = phone
        user.roles = [fab_role]
        apply_binding(user, [role], region_code, enterprise_uscc, agency, body)
        accounts.set_password(user, password, None, must_change=must_change_password,
                              event="account_created" if created else "password_set")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return user


# ---------------------------------------------------------------------------
# The admin's user API (app.api.users)
# ---------------------------------------------------------------------------
_BINDING_KEYS = ("region_code", "enterprise_uscc", "agency", "certification_body")
_PROFILE_KEYS = ("first_name", "last_name", "email", "phone", "active")
ACCOUNT_KEYS = frozenset(("username", "roles") + _BINDING_KEYS + _PROFILE_KEYS)


def _text(data: dict, key: str, max_length: int, required: bool = False) -> Optional[str]:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationFailed(_("This field is required."), field=key)
        return None
    if not isinstance(value, str):
        raise ValidationFailed(_("Must be a text."), field=key)
    value = value.strip()
    if len(value) > max_length:
        raise ValidationFailed(_("At most %(n)s characters.", n=max_length), field=key)
    return value


def _check_keys(data: Any) -> dict:
    """Only the documented keys; a password is never accepted (resets issue one-time ones)."""
    if not isinstance(data, dict):
        raise ValidationFailed(_("The request body must be a JSON object."))
    if "password" in data:
        raise ValidationFailed(_("A password cannot be set here: reset it to issue a one-time password "
                                 "that the user must change at the next login."), field="password")
    unknown = sorted(str(key) for key in data if key not in ACCOUNT_KEYS)
    if unknown:
        raise ValidationFailed(_("Unknown field: %(names)s.", names=", ".join(unknown)), field=unknown[0])
    return data


def _role_names(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ValidationFailed(_("A list of role names is expected."), field="roles")
    return [name.strip() for name in value]


def _assign(user, data: dict, actor, roles_given: bool) -> None:
    """Profile fields, then the roles and the binding through apply_binding (with the rules of
    `create-user`). When ``roles`` is sent, a binding that is not sent is cleared with them;
    otherwise an unsent binding stays as it is."""
    # The account may be new, its roles half-assigned: nothing is flushed before it is whole.
    with db.session.no_autoflush:
        _assign_fields(user, data, actor, roles_given)


def _assign_fields(user, data: dict, actor, roles_given: bool) -> None:
    from flask import current_app

    if "first_name" in data or user.id is None:
        user.first_name = _text(data, "first_name", 64, required=True)
    if "last_name" in data:
        user.last_name = _text(data, "last_name", 64) or ""
    if "email" in data or user.id is None:
        user.email = accounts.check_email(_text(data, "email", 320, required=True), user)
    if "phone" in data:
        with on_field("phone"):
            user.phone = registry.normalize_phone(_text(data, "phone", 32))
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise ValidationFailed(_("Must be true or false."), field="active")
        user.active = data["active"]
    if not roles_given and not any(key in data for key in _BINDING_KEYS):
        accounts.end_sessions_if_access_changed(user, actor)
        return
    if roles_given:
        names = _role_names(data.get("roles"))
        sm = current_app.appbuilder.sm
        # Unknown names are refused by apply_binding; a declared role not synced yet here.
        for name in names:
            if name in ROLES and sm.find_role(name) is None:
                raise ValidationFailed(_("The role %(role)s is not in the database yet: run `flask gm "
                                         "sync-roles`.", role=name), field="roles")
        user.roles = [sm.find_role(name) for name in names if name in ROLES]
        current = dict.fromkeys(_BINDING_KEYS)
    else:
        names = [role.name for role in user.roles]
        current = {
            "region_code": user.region_code,
            "enterprise_uscc": user.enterprise.uscc if user.enterprise is not None else None,
            "agency": user.agency.name if user.agency is not None else None,
            "certification_body": user.certification_body.name if user.certification_body is not None else None,
        }
    binding = {key: (_text(data, key, 200) if key in data else current[key]) for key in _BINDING_KEYS}
    with on_field("agency"):
        agency = _find_agency(binding["agency"]) if binding["agency"] else None
    with on_field("certification_body"):
        body = _find_certification_body(binding["certification_body"]) if binding["certification_body"] else None
    apply_binding(user, names, binding["region_code"], binding["enterprise_uscc"], agency, body, actor=actor)


def create_account(actor, data: Any) -> tuple[Any, str]:
    """A new account, bound like `create-user`, with a random one-time password that must be
    changed at the first sign-in (never one chosen by the admin). Returns (user, password): the
    password is answered once and stored nowhere. Commits; refuses bad input whole."""
    from flask import current_app

    data = _check_keys(data)
    sm = current_app.appbuilder.sm
    try:
        username = _text(data, "username", 128, required=True)
        taken = db.session.scalar(select(func.count()).select_from(sm.user_model)
                                  .where(func.lower(sm.user_model.username) == username.lower()))
        if taken:
            raise ValidationFailed(_("Another account uses this username."), field="username")
        user = sm.user_model(username=username, active=True, last_name="")
        if "roles" not in data:
            raise ValidationFailed(_("A user needs a role."), field="roles")
        _assign(user, data, actor, roles_given=True)
        password = generate_one_time_password()
        accounts.set_password(user, password, actor, must_change=True, event="account_created")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return user, password


def update_account(actor, user_id: Any, data: Any):
    """Change an account's profile, active flag, roles or binding (never its password). A change
    of roles, binding or active flag ends its sessions and tokens. Commits; refuses bad input whole."""
    data = _check_keys(data)
    if "username" in data:
        raise ValidationFailed(_("The username cannot be changed."), field="username")
    user = get_account(user_id)
    try:
        _assign(user, data, actor, roles_given="roles" in data)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return user


def get_account(user_id: Any):
    from app.models import GreenMineUser

    user = db.session.get(GreenMineUser, int(user_id)) if str(user_id).isdigit() and len(str(user_id)) < 10 else None
    if user is None:
        raise NotFound(_("No such account."))
    return user


def list_accounts(search: Optional[str] = None, role: Optional[str] = None, page: int = 0,
                  page_size: int = 20) -> tuple[list, int]:
    """Accounts by username: those whose username, name or e-mail contains ``search`` and that
    hold ``role``, one page of them, and how many there are."""
    from flask_appbuilder.security.sqla.models import Role

    from app.models import GreenMineUser

    query = select(GreenMineUser)
    if search:
        query = query.where(or_(*(search_text.contains(column, search.strip()) for column in (
            GreenMineUser.username, GreenMineUser.first_name, GreenMineUser.last_name, GreenMineUser.email))))
    if role:
        query = query.where(GreenMineUser.roles.any(Role.name == role))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(GreenMineUser.username, GreenMineUser.id)
                              .offset(page * page_size).limit(page_size)).unique().all()
    return list(rows), int(total or 0)
