"""What happened to an account (SPEC A2, A4): password changes and resets, profile changes."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.mixins import utcnow


class AccountEvent(Model):
    __tablename__ = "account_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The account concerned, and who acted (the same for one's own changes).
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False, index=True)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    # password_changed / password_reset / profile_changed
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
