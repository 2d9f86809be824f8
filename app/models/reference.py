"""The mineral catalogue and the mine-size thresholds, loaded from app/data/."""
from __future__ import annotations

from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship


class Mineral(Model):
    __tablename__ = "mineral"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    # 能源 / 金属 / 非金属 / 水气
    mineral_class: Mapped[str] = mapped_column(String(8), nullable=False, index=True)
    # Metals only: 黑色金属 / 有色金属 / 贵金属 / 稀有金属 / 稀土金属 / 分散元素金属
    subclass: Mapped[Optional[str]] = mapped_column(String(16), nullable=True)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The catalogue's industrial uses (、-separated) or a remark on the name.
    note: Mapped[Optional[str]] = mapped_column(String(512), nullable=True)
    added: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)

    def __repr__(self) -> str:
        return self.name


class MineSizeThreshold(Model):
    """One row of the 矿山生产建设规模分类一览表: output ≥ large_min is 大型, ≥ medium_min 中型."""

    __tablename__ = "mine_size_threshold"
    __table_args__ = (UniqueConstraint("mineral_key", "use", "mining_method"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A mineral name, or "类:金属" style catch-all for a whole class.
    mineral_key: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    mineral_id: Mapped[Optional[int]] = mapped_column(ForeignKey("mineral.id"), nullable=True)
    use: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    mining_method: Mapped[str] = mapped_column(String(16), nullable=False, default="")
    unit: Mapped[str] = mapped_column(String(32), nullable=False)
    large_min: Mapped[float] = mapped_column(Float, nullable=False)
    medium_min: Mapped[float] = mapped_column(Float, nullable=False)
    # What every user reads beside the row (in Chinese): the table's own wording, its notes.
    remark: Mapped[Optional[str]] = mapped_column(String(256), nullable=True)
    # The figures are inferred rather than read in the official text (mine_size_thresholds.
    # SOURCE.md), and how: shown to the authorities' staff only (推定值), never to enterprises.
    inferred: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    source_note: Mapped[Optional[str]] = mapped_column(String(512), nullable=True)

    mineral: Mapped[Optional[Mineral]] = relationship(Mineral)

    @property
    def provenance(self) -> tuple[bool, Optional[str]]:
        """(inferred, source note): how the row's figures are known."""
        return self.inferred, self.source_note

    def __repr__(self) -> str:
        return " ".join(part for part in (self.mineral_key, self.use, self.mining_method) if part)
