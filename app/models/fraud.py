"""Findings of falsified materials (弄虚作假认定, seed 001 三(三): "对存在弄虚作假、徇私舞弊等严重违规行为的
矿山……取消绿色矿山遴选资格").

A province (or the national level) records a finding against a mine, or against one of its
applications, with the reason and the decision document; the finding is kept as recorded (never
edited or deleted). Its effects (the mine's open applications end, its directory entries are
removed, the mine may not apply again until ``barred_until``) are app.services.fraud's."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.enterprise import Enterprise, Mine
from app.models.mixins import TimestampMixin
from app.models.region import Region


class FraudFinding(TimestampMixin, Model):
    __tablename__ = "fraud_finding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"), nullable=False, index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), nullable=False, index=True)
    # The mine's region: the province (and the national level) reach the finding through it.
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), nullable=False, index=True)
    # The application the finding was recorded against, if any (else: the listed mine).
    application_id: Mapped[Optional[int]] = mapped_column(ForeignKey("application.id"), nullable=True, index=True)
    # Copied when recorded: what the mine and its enterprise were called at the decision.
    mine_name: Mapped[str] = mapped_column(String(128), nullable=False)
    enterprise_name: Mapped[str] = mapped_column(String(128), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    # The decision document's number or title (e.g. 晋自然资函〔2026〕15号).
    decision_no: Mapped[str] = mapped_column(String(128), nullable=False)
    decided_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    # The mine may not apply (pre-declaration, application) before this day (FRAUD_BAR_YEARS).
    barred_until: Mapped[datetime.date] = mapped_column(Date, nullable=False, index=True)
    recorded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    recorded_by_name: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    # What the recording did, as text (the applications ended, the entries removed).
    effects: Mapped[Optional[str]] = mapped_column(Text, nullable=True)

    mine: Mapped[Mine] = relationship(Mine)
    enterprise: Mapped[Enterprise] = relationship(Enterprise)
    region: Mapped[Region] = relationship(Region)
    application = relationship("Application")

    def __repr__(self) -> str:
        return f"{self.decided_on} {self.mine_name} {self.decision_no}"
