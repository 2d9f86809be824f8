"""In-app notifications (SPEC I3): a message to one user about a record that changed status or a
deadline that approaches. Written by app.services.notifications; the recipient marks it read."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.choices import label
from app.models.mixins import utcnow

STATUS, DEADLINE = "status", "deadline"
KIND_LABELS = {STATUS: _l("Status change"), DEADLINE: _l("Deadline reminder")}


class Notification(Model):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_inbox", "user_id", "read_at", "id"),)
    # Messages about changes, not changes of a record: the audit trail skips them.
    __audited__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    read_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)  # status / deadline
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    body: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    # The record concerned and the page that shows it.
    record_type: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    record_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    link: Mapped[Optional[str]] = mapped_column(String(255), nullable=True)
    # Reminders carry a key so that running `flask gm remind` twice sends each one once.
    dedupe_key: Mapped[Optional[str]] = mapped_column(String(160), nullable=True, unique=True)

    @property
    def kind_label(self) -> str:
        return label(KIND_LABELS, self.kind)
