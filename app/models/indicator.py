"""The evaluation indicator catalogue as versioned data (SPEC E1), and the evidence an
enterprise uploads against each item after submitting its application (D10).

The national catalogues are seeded from app/data; further catalogues (a province's own, an
official table replacing inferred rows) come in as Excel files (app.services.catalogue_excel)."""
from __future__ import annotations

from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy import select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from app.models.region import Region


class IndicatorVersion(Model):
    __tablename__ = "indicator_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)  # e.g. national-2020
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    total_points: Mapped[float] = mapped_column(Float, nullable=False)
    pass_points: Mapped[Optional[float]] = mapped_column(Float, nullable=True)
    # Each first-level area must reach this share of its maximum (2020: 0.75).
    area_min_ratio: Mapped[Optional[float]] = mapped_column(Float, nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # The official text the catalogue follows, for every reader.
    source: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    # What of it is inferred rather than read in that text: for the authorities' staff only.
    source_note: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    # A province's own catalogue (imported by the province, adopted by it); null: a national one.
    province_code: Mapped[Optional[str]] = mapped_column(String(6), ForeignKey("region.code"), nullable=True,
                                                         index=True)

    items: Mapped[list["IndicatorItem"]] = relationship("IndicatorItem", back_populates="version",
                                                        order_by="IndicatorItem.sort_order")
    # The province's name read in the version's own statement (the catalogue list shows it for
    # every row without loading the region).
    province_name: Mapped[Optional[str]] = column_property(
        select(Region.name).where(Region.code == province_code).correlate_except(Region).scalar_subquery())

    def __repr__(self) -> str:
        return self.name


class IndicatorItem(Model):
    """One node of the catalogue: level 1 area, level 2 sub-area, level 3 item with points."""

    __tablename__ = "indicator_item"
    __table_args__ = (UniqueConstraint("version_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("indicator_version.id"), nullable=False, index=True)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("indicator_item.id"), nullable=True, index=True)
    code: Mapped[str] = mapped_column(String(16), nullable=False)  # "1", "1.2", "1.2.3"
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(512), nullable=False)
    points: Mapped[Optional[float]] = mapped_column(Float, nullable=True)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The name or the points are inferred rather than read in the official text (the data
    # file's SOURCE note), and how: shown to the authorities' staff only (推定值).
    inferred: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    source_note: Mapped[Optional[str]] = mapped_column(String(512), nullable=True)
    # How the item is scored (评分说明), as the catalogue's text gives it.
    scoring_note: Mapped[Optional[str]] = mapped_column(Text, nullable=True)

    version: Mapped[IndicatorVersion] = relationship(IndicatorVersion, back_populates="items")
    parent: Mapped[Optional["IndicatorItem"]] = relationship("IndicatorItem", remote_side=[id])

    @property
    def provenance(self) -> tuple[bool, Optional[str]]:
        """(inferred, source note): how the item's name and points are known."""
        return self.inferred, self.source_note

    def __repr__(self) -> str:
        return f"{self.code} {self.name}"


class IndicatorEvidence(Model):
    """An application's evidence note for one indicator item; its files are Attachments with
    owner ("IndicatorEvidence", id)."""

    __tablename__ = "indicator_evidence"
    __table_args__ = (UniqueConstraint("application_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), nullable=False, index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("indicator_item.id"), nullable=False)
    note: Mapped[Optional[str]] = mapped_column(Text, nullable=True)

    item: Mapped[IndicatorItem] = relationship(IndicatorItem)
    application = relationship("Application")

    def __repr__(self) -> str:
        return f"{self.application} {self.item}"
