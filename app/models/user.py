"""FAB's user, extended with what binds an account to its scope.

Single-table extension of ``ab_user`` (FAB's documented way): FAB's own screens and security
manager keep working, and the extra columns live in the same row.
"""
from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, false
from sqlalchemy.orm import relationship

# The roles that app.services.roles declares (what each may do), by name, with the labels users
# see wherever a role is named.
ROLE_LABELS = {
    "admin": _l("Info-centre administrator"),
    "national": _l("National authority"),
    "province": _l("Province authority"),
    "city": _l("City authority"),
    "county": _l("County authority"),
    "enterprise": _l("Enterprise"),
    "agency": _l("Assessment agency"),
    "inspector": _l("Inspector"),
    "certifier": _l("Certification body"),
}


def role_label(name: str) -> str:
    """A role's label; a role not declared in code shows by its name."""
    return str(ROLE_LABELS.get(name, name))


def acting_person(user, username: str) -> str:
    """Who acted, for a log row that copied the login ``username`` at the time: the account's
    name and login while it is the same account (its name may have been corrected since), else
    the login as copied (the account was deleted, or its id now belongs to another login)."""
    if user is not None and user.username == username:
        return str(user)
    return username


class GreenMineUser(User):
    __tablename__ = "ab_user"
    __table_args__ = {"extend_existing": True}

    # Staff: the administrative region the account is bound to (GB/T 2260 code).
    region_code = Column(String(6), ForeignKey("region.code"), nullable=True, index=True)
    # Enterprise users: the enterprise they act for.
    enterprise_id = Column(Integer, ForeignKey("enterprise.id"), nullable=True, index=True)
    # Agency users: the assessment agency they work for.
    agency_id = Column(Integer, ForeignKey("agency.id"), nullable=True, index=True)
    # Certifier users: the certification body they work for.
    certification_body_id = Column(Integer, ForeignKey("certification_body.id"), nullable=True, index=True)
    phone = Column(String(32), nullable=True)
    # Set by an authority's password reset: the user must choose a new password first.
    must_change_password = Column(Boolean, nullable=False, default=False, server_default=false())
    # Raised whenever the password changes or is reset: sessions and API tokens issued before
    # carry the old number and stop working (app.services.accounts).
    credentials_version = Column(Integer, nullable=False, default=0, server_default="0")

    region = relationship("Region", lazy="joined")
    enterprise = relationship("Enterprise", lazy="joined")
    agency = relationship("Agency", foreign_keys=[agency_id], lazy="joined")
    certification_body = relationship("CertificationBody", foreign_keys=[certification_body_id], lazy="joined")

    @property
    def enterprise_uscc(self) -> str:
        """The enterprise's USCC, as typed in the admin's user form."""
        return self.enterprise.uscc if self.enterprise is not None else ""

    @enterprise_uscc.setter
    def enterprise_uscc(self, value: str) -> None:
        # Resolved and validated by app.services.users.apply_binding().
        self.pending_enterprise_uscc = value

    @property
    def role_names(self) -> set[str]:
        return {role.name for role in self.roles}

    def get_full_name(self) -> str:
        """The person's name as Chinese writes it: family name, then given name, no space (FAB's
        own is "first last", which the navigation bar showed as "xiaodian 演示"); the login
        where no name is given."""
        return f"{self.last_name or ''}{self.first_name or ''}".strip() or str(self.username)

    def __repr__(self) -> str:
        full = f"{self.last_name or ''}{self.first_name or ''}".strip()
        return f"{full}（{self.username}）" if full else str(self.username)

