"""The green-mine application (新设申请, seed 000 §3.2 figs. 3-9 to 3-12; seed 001 §一).

Created from a passed pre-declaration; its four sections are columns here. The registry
values are copied in when the application is created (the applicant may correct them; the
registry itself is not changed). Its status belongs to app.services.workflow.
"""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.enterprise import Enterprise, Mine
from app.models.mixins import TimestampMixin
from app.models.predeclaration import PreDeclaration
from app.models.region import Region
from app.models.states import WorkflowRecord

# The six areas of the construction situation (fig. 3-12) and of the indicators.
SITUATION_AREAS = (
    "situation_environment",       # 矿区环境
    "situation_development",       # 资源开发方式
    "situation_utilisation",       # 资源综合利用
    "situation_energy",            # 节能减排
    "situation_innovation",        # 科技创新与数字化矿山
    "situation_management",        # 企业管理与企业形象
)

# The six eligibility conditions (seed 001 §一(一)), each a yes/no with a note.
ELIGIBILITY_CONDITIONS = (
    "cond_valid_licence",          # 持有效采矿许可证且正常运营
    "cond_no_penalty",             # 近三年无行政处罚或已整改到位
    "cond_not_anomalous",          # 未列入异常名录
    "cond_no_protected_area",      # 矿区不涉及自然保护地
    "cond_reserves_three_years",   # 剩余可采年限不少于三年
    "cond_plan_reviewed",          # 建设实施方案已评审通过
)


class ApplicantFormFields:
    """The enterprise's and mine's fields of an application form: the green-mine application
    (seed 000 figs. 3-9, 3-10, 3-12) and the certification application (seed 002 附件) ask for the
    same ones, copied from the registry when the form is created."""

    # --- 矿山企业基本信息 (fig. 3-9), copied from the registry at creation --------------------
    enterprise_name: Mapped[str] = mapped_column(String(128), nullable=False)
    mine_name: Mapped[str] = mapped_column(String(128), nullable=False)
    mine_address: Mapped[Optional[str]] = mapped_column(String(256), nullable=True)
    licence_no: Mapped[str] = mapped_column(String(32), nullable=False)
    uscc: Mapped[str] = mapped_column(String(18), nullable=False)
    economic_type: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    employees: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    mineral_name: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    mining_method: Mapped[Optional[str]] = mapped_column(String(16), nullable=True)
    production_scale: Mapped[Optional[float]] = mapped_column(Float, nullable=True)
    area_km2: Mapped[Optional[float]] = mapped_column(Float, nullable=True)

    # --- 矿山企业联系方式 (fig. 3-10) ----------------------------------------------------
    legal_representative: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    contact_person: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    contact_address: Mapped[Optional[str]] = mapped_column(String(256), nullable=True)
    mobile: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    phone: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    fax: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    email: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)
    postcode: Mapped[Optional[str]] = mapped_column(String(6), nullable=True)

    # --- 绿色矿山建设情况 (fig. 3-12; seed 002 附件 绿色矿山建设情况简介): one text per area ------------
    situation_environment: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    situation_development: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    situation_utilisation: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    situation_energy: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    situation_innovation: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    situation_management: Mapped[Optional[str]] = mapped_column(Text, nullable=True)


class ApplicationWindow(Model):
    """When a province takes applications for a year (SPEC D9): late submissions are refused."""

    __tablename__ = "application_window"
    __table_args__ = (UniqueConstraint("province_code", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    province_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    opens_on: Mapped[Optional[datetime.date]] = mapped_column(Date, nullable=True)
    deadline: Mapped[datetime.date] = mapped_column(Date, nullable=False)

    province: Mapped[Region] = relationship(Region)

    def __repr__(self) -> str:
        return f"{self.province.name if self.province else self.province_code} {self.year}"


class Application(WorkflowRecord, ApplicantFormFields, TimestampMixin, Model):
    __tablename__ = "application"
    # Lists are scoped by region and ordered newest first: (region_code, id) serves both.
    __table_args__ = (UniqueConstraint("predeclaration_id", name="uq_application_predeclaration"),
                      Index("ix_application_region_code_id", "region_code", "id"))
    workflow_name = "application"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    predeclaration_id: Mapped[int] = mapped_column(ForeignKey("predeclaration.id"), nullable=False)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), nullable=False, index=True)
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"), nullable=False, index=True)
    # County level: the county and city authorities of this region review it.
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft", index=True)
    submitted_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)

    # --- Basic information beyond the shared form fields (fig. 3-9) --------------------------
    issuing_authority: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)
    mine_size: Mapped[Optional[str]] = mapped_column(String(8), nullable=True)

    # --- 绿色矿山建设指标 (fig. 3-11) -------------------------------------------------------
    greening_coverage_pct: Mapped[Optional[float]] = mapped_column(Float, nullable=True)   # 矿区绿化覆盖率
    land_restoration_pct: Mapped[Optional[float]] = mapped_column(Float, nullable=True)    # 占用和损毁土地治理率
    mining_recovery_pct: Mapped[Optional[float]] = mapped_column(Float, nullable=True)     # 开采回采率
    processing_recovery_pct: Mapped[Optional[float]] = mapped_column(Float, nullable=True)  # 选矿回收率
    utilisation_pct: Mapped[Optional[float]] = mapped_column(Float, nullable=True)         # 综合利用率
    water_treatment_pct: Mapped[Optional[float]] = mapped_column(Float, nullable=True)     # 矿井水、选矿废水处理率
    tailings_produced: Mapped[Optional[float]] = mapped_column(Float, nullable=True)       # 尾矿当年产生量 (万吨)
    tailings_used: Mapped[Optional[float]] = mapped_column(Float, nullable=True)           # 尾矿当年利用量 (万吨)
    waste_rock_produced: Mapped[Optional[float]] = mapped_column(Float, nullable=True)     # 废(矸)石当年产生量 (万吨)
    waste_rock_used: Mapped[Optional[float]] = mapped_column(Float, nullable=True)         # 废(矸)石当年利用量 (万吨)
    industrial_output: Mapped[Optional[float]] = mapped_column(Float, nullable=True)       # 工业总产值 (万元)
    utilisation_output: Mapped[Optional[float]] = mapped_column(Float, nullable=True)      # 综合利用产值 (万元)
    energy_per_unit: Mapped[Optional[float]] = mapped_column(Float, nullable=True)         # 单位产品能耗 kgce/t
    rnd_share_pct: Mapped[Optional[float]] = mapped_column(Float, nullable=True)           # 科技创新投入占比

    # --- 绿色矿山建设情况 (fig. 3-12): who wrote the self-evaluation report; the six areas are
    # the shared form fields ---------------------------------------------------------------
    self_evaluation_unit: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)

    # --- 遴选条件 (seed 001 §一(一)), shown to reviewers ----------------------------------
    cond_valid_licence: Mapped[Optional[bool]] = mapped_column(Boolean, nullable=True)
    cond_no_penalty: Mapped[Optional[bool]] = mapped_column(Boolean, nullable=True)
    cond_not_anomalous: Mapped[Optional[bool]] = mapped_column(Boolean, nullable=True)
    cond_no_protected_area: Mapped[Optional[bool]] = mapped_column(Boolean, nullable=True)
    cond_reserves_three_years: Mapped[Optional[bool]] = mapped_column(Boolean, nullable=True)
    cond_plan_reviewed: Mapped[Optional[bool]] = mapped_column(Boolean, nullable=True)
    conditions_note: Mapped[Optional[str]] = mapped_column(Text, nullable=True)

    # --- Evaluation and selection (SPEC E1-E5) ----------------------------------------------
    # The catalogue version the application is scored against (fixed when scoring starts).
    indicator_version_id: Mapped[Optional[int]] = mapped_column(ForeignKey("indicator_version.id"), nullable=True)
    public_notice_id: Mapped[Optional[int]] = mapped_column(ForeignKey("public_notice.id"), nullable=True,
                                                            index=True)

    predeclaration: Mapped[PreDeclaration] = relationship(PreDeclaration)
    enterprise: Mapped[Enterprise] = relationship(Enterprise)
    mine: Mapped[Mine] = relationship(Mine)
    region: Mapped[Region] = relationship(Region)
    indicator_version = relationship("IndicatorVersion")
    assignment = relationship("AgencyAssignment", back_populates="application", uselist=False)
    public_notice = relationship("PublicNotice", back_populates="applications")

    def __repr__(self) -> str:
        return f"{self.year} {self.mine_name}（{self.licence_no}）"
