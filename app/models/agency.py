"""Third-party assessment agencies (第三方评估机构). The evaluation issue adds the draw,
conflicts and disqualification; agency users are bound to one of these rows."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.mixins import TimestampMixin


class Agency(TimestampMixin, Model):
    __tablename__ = "agency"
    # The status changes through the transition table only (disqualification, SPEC E3).
    workflow_name = "agency"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    uscc: Mapped[Optional[str]] = mapped_column(String(18), unique=True, nullable=True)
    # 资质: the qualification the agency holds, as its certificate states it.
    qualification: Mapped[Optional[str]] = mapped_column(String(256), nullable=True)
    # active / disqualified. Disqualification (for fraud) is final and takes the agency out of
    # every later draw; when, why and by whom are recorded.
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    disqualified_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    disqualification_reason: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    # use_alter: agency and ab_user point at each other (an agency's users; who disqualified it).
    disqualified_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", use_alter=True, name="fk_agency_disqualified_by_id"), nullable=True)

    def __repr__(self) -> str:
        return self.name
