"""Pre-declaration (预申报, seed 000 §3.1): one per mining licence and year.

Its status belongs to app.services.workflow: nothing else writes it.
"""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.enterprise import Enterprise, Mine
from app.models.mixins import TimestampMixin
from app.models.region import Region
from app.models.states import WorkflowRecord


class PreDeclaration(WorkflowRecord, TimestampMixin, Model):
    __tablename__ = "predeclaration"
    # Lists are scoped by region and ordered newest first: (region_code, id) serves both.
    __table_args__ = (UniqueConstraint("mine_id", "year", name="uq_predeclaration_mine_year"),
                      Index("ix_predeclaration_region_code_id", "region_code", "id"))
    workflow_name = "predeclaration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), nullable=False, index=True)
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"), nullable=False, index=True)
    # The county-level region chosen in the prerequisites: the authorities of this region see it.
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft", index=True)
    submitted_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    decided_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    decision_comment: Mapped[Optional[str]] = mapped_column(String(1000), nullable=True)

    enterprise: Mapped[Enterprise] = relationship(Enterprise)
    mine: Mapped[Mine] = relationship(Mine)
    region: Mapped[Region] = relationship(Region)

    @property
    def licence_no(self) -> str:
        return self.mine.licence_no if self.mine else ""

    def __repr__(self) -> str:
        if self.mine is None:
            return f"{self.year} {self.licence_no}"
        return f"{self.year} {self.mine.name}（{self.mine.licence_no}）"
