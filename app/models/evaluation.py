"""Evaluation (SPEC E1-E3): which catalogue version a province applies, the scores of the
enterprise's self-evaluation and of the third-party agency, the agencies' declared conflicts
and the recorded random draw that assigns an agency to an application."""
from __future__ import annotations

import datetime
from typing import Any, Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.models.agency import Agency
from app.models.indicator import IndicatorItem, IndicatorVersion
from app.models.mixins import TimestampMixin, utcnow
from app.models.region import Region

SELF, AGENCY = "self", "agency"


class ProvinceIndicatorAdoption(TimestampMixin, Model):
    """A province evaluates against one catalogue version, optionally with its own pass line
    (seed 001: provinces may adjust the national 800 points)."""

    __tablename__ = "province_indicator_adoption"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    province_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), unique=True, nullable=False)
    version_id: Mapped[int] = mapped_column(ForeignKey("indicator_version.id"), nullable=False)
    # Null: the version's own pass line and area share.
    pass_points: Mapped[Optional[float]] = mapped_column(Float, nullable=True)
    area_min_ratio: Mapped[Optional[float]] = mapped_column(Float, nullable=True)
    adopted_on: Mapped[datetime.date] = mapped_column(Date, nullable=False, default=lambda: clock.today())

    province: Mapped[Region] = relationship(Region)
    version: Mapped[IndicatorVersion] = relationship(IndicatorVersion)

    def __repr__(self) -> str:
        province = self.province.name if self.province else self.province_code
        return f"{province} {self.version.name if self.version else self.version_id}"


class EvaluationScore(Model):
    """One item's score by the enterprise (source "self") or by the assigned agency ("agency")."""

    __tablename__ = "evaluation_score"
    __table_args__ = (UniqueConstraint("application_id", "item_id", "source", name="uq_evaluation_score"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), nullable=False, index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("indicator_item.id"), nullable=False)
    source: Mapped[str] = mapped_column(String(8), nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    note: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    scored_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    scored_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)

    item: Mapped[IndicatorItem] = relationship(IndicatorItem)
    application = relationship("Application")

    def __repr__(self) -> str:
        return f"{self.application} {self.item}"


class AgencyConflict(Model):
    """A declared conflict of interest: the agency is never drawn for the enterprise."""

    __tablename__ = "agency_conflict"
    __table_args__ = (UniqueConstraint("agency_id", "enterprise_id", name="uq_agency_conflict"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False, index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), nullable=False, index=True)
    reason: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    declared_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    declared_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), nullable=True)

    agency: Mapped[Agency] = relationship(Agency)
    enterprise = relationship("Enterprise")

    def __repr__(self) -> str:
        return f"{self.agency} {self.enterprise}"


class AgencyAssignment(Model):
    """The draw that gave an application its agency, recorded so that anyone can replay it:
    the seed, the ordered candidate ids and the algorithm's name (app.services.agencies)."""

    __tablename__ = "agency_assignment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), unique=True, nullable=False)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False, index=True)
    algorithm: Mapped[str] = mapped_column(String(32), nullable=False)
    seed: Mapped[str] = mapped_column(String(64), nullable=False)
    candidate_ids: Mapped[list[Any]] = mapped_column(JSON, nullable=False)
    excluded: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON, nullable=True)  # agency id -> why
    drawn_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    drawn_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), nullable=True)

    agency: Mapped[Agency] = relationship(Agency)
    application = relationship("Application", back_populates="assignment")

    def __repr__(self) -> str:
        return f"{self.application} {self.agency}"
