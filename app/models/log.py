"""The transition log: one row per status change, written by app.services.workflow only.
Process monitoring (流程监控) reads it."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from app.models.mixins import utcnow
from app.models.region import Region
from app.models.states import action_label, state_label
from app.models.kinds import record_kind_label
from app.models.user import acting_person, role_label


class TransitionLog(Model):
    __tablename__ = "transition_log"
    __table_args__ = (Index("ix_transition_log_record", "record_type", "record_id", "id"),)
    # A log itself: the audit trail does not record it again.
    __audited__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workflow: Mapped[str] = mapped_column(String(32), nullable=False)
    record_type: Mapped[str] = mapped_column(String(32), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    # What the record was called at the step (a mine's name and licence number, a campaign's
    # title), like AuditEntry.record_label: the log names records without loading them.
    record_label: Mapped[Optional[str]] = mapped_column(String(255), nullable=True)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    from_state: Mapped[str] = mapped_column(String(16), nullable=False)
    to_state: Mapped[str] = mapped_column(String(16), nullable=False)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), nullable=True, index=True)
    # Copied at the time of the step: later changes to the account do not rewrite history.
    username: Mapped[str] = mapped_column(String(128), nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    region_code: Mapped[Optional[str]] = mapped_column(String(6), nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    comment: Mapped[Optional[str]] = mapped_column(Text, nullable=True)

    user = relationship("GreenMineUser")
    # The operator's region then, by its name (reference data; the code is kept as copied).
    region = relationship(Region, primaryjoin=lambda: foreign(TransitionLog.region_code) == Region.code,
                          viewonly=True)

    @property
    def operator_region(self) -> str:
        return self.region.full_name if self.region is not None else ""

    @property
    def record_kind(self) -> str:
        return record_kind_label(self.record_type)

    @property
    def operator_name(self) -> str:
        return acting_person(self.user, self.username)

    @property
    def action_label(self) -> str:
        return action_label(self.workflow, self.action)

    @property
    def from_state_label(self) -> str:
        return state_label(self.workflow, self.from_state)

    @property
    def to_state_label(self) -> str:
        return state_label(self.workflow, self.to_state)

    @property
    def role_label(self) -> str:
        return role_label(self.role)
