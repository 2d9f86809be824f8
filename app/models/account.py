"""What happened to an account (SPEC A2, A4): passwords set, changed and reset, profile changes,
logouts and changes of what the account may reach (app.services.accounts)."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.mixins import utcnow


class AccountEvent(Model):
    __tablename__ = "account_event"
    # A log itself: the audit trail does not record it again.
    __audited__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The account concerned, and who acted (the same for one's own changes).
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False, index=True)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    # account_created / password_set / password_changed / password_reset / profile_changed /
    # logout / access_changed
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    # So that the event of a new account can be written before the account has its id.
    user = relationship("GreenMineUser", foreign_keys=[user_id])


class LoginThrottle(Model):
    """Failed logins per account name and per client address (app.services.login_throttle).
    In the database so that every app server sees the same counts."""

    __tablename__ = "login_throttle"
    __audited__ = False

    # "user:<login name, lower case>" or "addr:<client address>"; a name that has no account
    # is counted like one that has, so the lock says nothing about which names exist.
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    window_started_at: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    locked_until: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
