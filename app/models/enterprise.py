"""Enterprises (矿业权人) and their mines. The registry issue adds the underground details,
responsible persons and statistics; this module holds what every other domain keys on."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.choices import (
    DEVELOPMENT_METHODS,
    ECONOMIC_TYPES,
    MINE_SIZES,
    MINING_METHODS,
    PRODUCTION_STATUSES,
    SUPERVISION_LEVELS,
    label,
)
from app.models.mixins import TimestampMixin
from app.models.reference import Mineral
from app.models.region import Region


class Enterprise(TimestampMixin, Model):
    __tablename__ = "enterprise"
    # Lists are scoped by region and ordered newest first: (region_code, id) serves both.
    __table_args__ = (Index("ix_enterprise_region_code_id", "region_code", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True, nullable=False)
    economic_type: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    legal_representative: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    contact_person: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    address: Mapped[Optional[str]] = mapped_column(String(256), nullable=True)
    mobile: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    phone: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    fax: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    email: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)
    postcode: Mapped[Optional[str]] = mapped_column(String(6), nullable=True)
    # Where the enterprise is registered (county level): decides which authorities see it.
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), nullable=False)

    region: Mapped[Region] = relationship(Region)
    mines: Mapped[list["Mine"]] = relationship("Mine", back_populates="enterprise")

    @property
    def economic_type_label(self) -> str:
        return label(ECONOMIC_TYPES, self.economic_type)

    def __repr__(self) -> str:
        return self.name


class Mine(TimestampMixin, Model):
    __tablename__ = "mine"
    # Lists are scoped by region and ordered newest first: (region_code, id) serves both.
    __table_args__ = (Index("ix_mine_region_code_id", "region_code", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    address: Mapped[Optional[str]] = mapped_column(String(256), nullable=True)
    # 采矿许可证号: the key of every application.
    licence_no: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), nullable=False, index=True)
    employees: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    mineral_id: Mapped[Optional[int]] = mapped_column(ForeignKey("mineral.id"), nullable=True, index=True)
    mining_method: Mapped[Optional[str]] = mapped_column(String(16), nullable=True)
    # 生产规模, 万吨/年 (or the threshold table's unit for the mineral).
    production_scale: Mapped[Optional[float]] = mapped_column(Float, nullable=True)
    area_km2: Mapped[Optional[float]] = mapped_column(Float, nullable=True)
    issuing_authority: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)
    size: Mapped[Optional[str]] = mapped_column(String(8), nullable=True)
    # County-level region: the scope rule reads this column.
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), nullable=False)
    licence_valid_from: Mapped[Optional[datetime.date]] = mapped_column(Date, nullable=True)
    licence_valid_to: Mapped[Optional[datetime.date]] = mapped_column(Date, nullable=True)
    # New or expanded mines (新建/改扩建, SPEC E7): accepted no earlier than one year after
    # production starts.
    is_new_or_expanded: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                     server_default=false())
    production_started_on: Mapped[Optional[datetime.date]] = mapped_column(Date, nullable=True)

    # --- Underground details (seed 003: 非煤地下矿山基本信息) ---------------------------
    # 设计生产能力, 万吨/年
    design_capacity: Mapped[Optional[float]] = mapped_column(Float, nullable=True, index=True)
    development_method: Mapped[Optional[str]] = mapped_column(String(16), nullable=True, index=True)
    # 最大开采深度, m
    max_depth_m: Mapped[Optional[float]] = mapped_column(Float, nullable=True, index=True)
    # 单班下井作业人数
    workers_per_shift: Mapped[Optional[int]] = mapped_column(Integer, nullable=True, index=True)
    production_status: Mapped[Optional[str]] = mapped_column(String(16), nullable=True, index=True)
    # 日常安全监管主体 (level of the supervising authority)
    supervision_level: Mapped[Optional[str]] = mapped_column(String(16), nullable=True, index=True)
    latitude: Mapped[Optional[float]] = mapped_column(Float, nullable=True)
    longitude: Mapped[Optional[float]] = mapped_column(Float, nullable=True)
    # 主要负责人 and phone
    principal_name: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    principal_phone: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)

    enterprise: Mapped[Enterprise] = relationship(Enterprise, back_populates="mines")
    mineral: Mapped[Optional[Mineral]] = relationship(Mineral)
    region: Mapped[Region] = relationship(Region)

    @property
    def mining_method_label(self) -> str:
        return label(MINING_METHODS, self.mining_method)

    @property
    def development_method_label(self) -> str:
        return label(DEVELOPMENT_METHODS, self.development_method)

    @property
    def production_status_label(self) -> str:
        return label(PRODUCTION_STATUSES, self.production_status)

    @property
    def supervision_level_label(self) -> str:
        return label(SUPERVISION_LEVELS, self.supervision_level)

    @property
    def size_label(self) -> str:
        return label(MINE_SIZES, self.size)

    def __repr__(self) -> str:
        return f"{self.name}（{self.licence_no}）"
