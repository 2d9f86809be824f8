"""Green-mining demonstration zones (绿色矿业发展示范区, SPEC E8, seed 001 §一(四)): a county
government or a large local state enterprise applies with its construction plan; the city
reviews; the province confirms."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.models.choices import label
from app.models.mixins import TimestampMixin
from app.models.region import Region
from app.models.states import WorkflowRecord

COUNTY_GOVERNMENT, STATE_ENTERPRISE = "county_government", "state_enterprise"
APPLICANT_KINDS = {COUNTY_GOVERNMENT: _l("County government"), STATE_ENTERPRISE: _l("Large local state enterprise")}


class DemoZoneApplication(WorkflowRecord, TimestampMixin, Model):
    __tablename__ = "demo_zone_application"
    workflow_name = "demozone"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    applicant_kind: Mapped[str] = mapped_column(String(20), nullable=False)
    # The county the zone lies in (the scope rule reads it); the enterprise for an SOE applicant.
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), nullable=False, index=True)
    enterprise_id: Mapped[Optional[int]] = mapped_column(ForeignKey("enterprise.id"), nullable=True, index=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False, default=lambda: clock.today().year)
    plan_summary: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft", index=True)
    submitted_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    decided_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    decision_comment: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), nullable=True)

    region: Mapped[Region] = relationship(Region)
    enterprise = relationship("Enterprise")

    @property
    def applicant_kind_label(self) -> str:
        return label(APPLICANT_KINDS, self.applicant_kind)

    def __repr__(self) -> str:
        return self.name
