"""Accounts: binding a user to the scope his role needs, creating users from the CLI."""
from __future__ import annotations

from typing import Iterable, Optional

from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_babel import gettext as _
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.services import codes
from app.services.exceptions import ValidationFailed
from app.services.passwords import validate_password_complexity
from app.models.region import LEVEL_LABELS
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
) -> None:
    """Check that the roles and the bindings agree, then set them on ``user``.

    Staff (province, city, county) need a region of their level; enterprise users an existing
    enterprise; agency users an agency; certifiers a certification body. An account holds one
    kind of binding only.
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
):
    """Create the user, or update the one with this username. Commits; refuses bad input whole."""
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
    try:
        validate_password_complexity(password)
    except PasswordComplexityValidationError as exc:
        raise ValidationFailed(str(exc)) from exc
    agency = _find_agency(agency_name) if (agency_name or "").strip() else None
    body = (_find_certification_body(certification_body_name)
            if (certification_body_name or "").strip() else None)

    user = db.session.query(sm.user_model).filter_by(username=username).one_or_none()
    try:
        if user is None:
            user = sm.user_model(username=username, active=True)
            db.session.add(user)
        user.first_name = first_name or user.first_name or username
        user.last_name = last_name or user.last_name or ""
        user.email = email or user.email or f"{username}@users.invalid"
        if phone is not None:
            user.phone = phone
        user.roles = [fab_role]
        apply_binding(user, [role], region_code, enterprise_uscc, agency, body)
        user.password = generate_password_hash(password)
        user.must_change_password = False
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return user
