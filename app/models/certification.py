"""Green-mine certification (绿色矿山认证, SPEC G1–G4; seed 002).

- ``CertificationBody``: a certification body (认证机构); certifier accounts are bound to one.
- ``CertificationApplication``: an enterprise's application for one mine (seed 002 附件 field for
  field, the four conditions of §三, the materials of §四), its acceptance, the evaluation within 20
  working days (§六.2, app.services.workdays), the project team, the scores and the decision.
- ``CertificationTeamMember``: the project team of experts and registered auditors.
- ``CertificationPause``: a rectification period of the enterprise, which the clock does not count.
- ``CertificationScore``: one indicator item's score, by the enterprise (self-scoring sheet) or by
  the certification body.
- ``CertificationCertificate``: the registered certificate with its grade (AAAAA / AAAA), valid
  three years, published for verification.
- ``SurveillanceAudit``: a yearly surveillance audit (监督评审) and its outcome: maintain, upgrade,
  downgrade or revoke.

Every status change goes through the transition table (workflows ``certification``,
``certification_certificate``, ``surveillance``).
"""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.application import ApplicantFormFields
from app.models.choices import label
from app.models.enterprise import Enterprise, Mine
from app.models.mixins import TimestampMixin, service_rule, utcnow
from app.models.region import Region
from app.models.states import WorkflowRecord

# The grades of seed 002 §五, highest first.
GRADE_AAAAA, GRADE_AAAA = "AAAAA", "AAAA"
GRADES = (GRADE_AAAAA, GRADE_AAAA)

# The four conditions of seed 002 §三, each a yes/no.
CERTIFICATION_CONDITIONS = (
    "cond_valid_licence",       # 持有合法经营的相关证照
    "cond_no_penalty",          # 近三年未受行政处罚或已整改到位，且未发生重大安全、环保事故
    "cond_not_anomalous",       # 未列入矿业权人异常名录
    "cond_no_protected_area",   # 矿区范围未涉及各类自然保护地
)

# Kinds of application: the first one, and the re-evaluation (复评) of a certificate near expiry.
INITIAL, RENEWAL = "initial", "renewal"

# The project team's roles (认证评估项目组): its leader and the registered auditors (国家注册认证
# 审查员), and the technical experts (相关专业评审专家).
TEAM_LEADER, TEAM_AUDITOR, TEAM_EXPERT = "leader", "auditor", "expert"
TEAM_ROLES = (TEAM_LEADER, TEAM_AUDITOR, TEAM_EXPERT)
# A certificate's validity, computed by app.services.surveillance.validity.
VALID, NOT_YET_VALID, EXPIRED, REVOKED = "valid", "not_yet_valid", "expired", "revoked"
VALIDITY_LABELS = {
    VALID: _l("Valid"),
    NOT_YET_VALID: _l("Not yet valid"),
    EXPIRED: _l("Expired"),
    REVOKED: _l("Revoked"),
}


class CertificationBody(TimestampMixin, Model):
    """A certification body approved to certify green mines (e.g. by CNCA)."""

    __tablename__ = "certification_body"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    uscc: Mapped[Optional[str]] = mapped_column(String(18), unique=True, nullable=True)
    # 认证机构批准书编号 (CNCA-R-…), as the approval states it.
    approval_no: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    # A body that no longer certifies takes no new applications; its records stay.
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __repr__(self) -> str:
        return self.name


class CertificationApplication(WorkflowRecord, ApplicantFormFields, TimestampMixin, Model):
    """绿色矿山认证申请表 (seed 002 附件) and the evaluation that follows it."""

    __tablename__ = "certification_application"
    workflow_name = "certification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"), nullable=False, index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), nullable=False, index=True)
    # The mine's county: the authorities of its region read the record.
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), nullable=False, index=True)
    # The body the enterprise applies to: its certifiers reach the record.
    body_id: Mapped[int] = mapped_column(ForeignKey("certification_body.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(8), nullable=False, default=INITIAL)
    # A re-evaluation names the certificate it renews.
    previous_certificate_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("certification_certificate.id", use_alter=True,
                   name="fk_certification_application_previous_certificate_id"),
        nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft", index=True)
    submitted_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)

    # 单位名称 (the applicant); 采矿权人 is the shared field enterprise_name.
    applicant_name: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)

    # --- 申请条件 (seed 002 §三) --------------------------------------------------------------
    cond_valid_licence: Mapped[Optional[bool]] = mapped_column(Boolean, nullable=True)
    cond_no_penalty: Mapped[Optional[bool]] = mapped_column(Boolean, nullable=True)
    cond_not_anomalous: Mapped[Optional[bool]] = mapped_column(Boolean, nullable=True)
    cond_no_protected_area: Mapped[Optional[bool]] = mapped_column(Boolean, nullable=True)
    conditions_note: Mapped[Optional[str]] = mapped_column(Text, nullable=True)

    # --- 认证评价 (seed 002 §六.2) -------------------------------------------------------------
    # 正式受理: the day the 20 working days start from (app.services.workdays).
    accepted_on: Mapped[Optional[datetime.date]] = mapped_column(Date, nullable=True)
    # The day the evaluation ended (certified or not): the clock stops there.
    finished_on: Mapped[Optional[datetime.date]] = mapped_column(Date, nullable=True)
    # The catalogue version scored against (fixed at the first saved score).
    indicator_version_id: Mapped[Optional[int]] = mapped_column(ForeignKey("indicator_version.id"), nullable=True)
    # The certification body's total and its share of the catalogue's maximum (per 100), and the
    # grade they gave, recorded at the decision.
    score: Mapped[Optional[float]] = mapped_column(Float, nullable=True)
    score_share: Mapped[Optional[float]] = mapped_column(Float, nullable=True)
    grade: Mapped[Optional[str]] = mapped_column(String(8), nullable=True)
    decided_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    decision_comment: Mapped[Optional[str]] = mapped_column(Text, nullable=True)

    mine: Mapped[Mine] = relationship(Mine)
    enterprise: Mapped[Enterprise] = relationship(Enterprise)
    region: Mapped[Region] = relationship(Region)
    body: Mapped[CertificationBody] = relationship(CertificationBody)
    indicator_version = relationship("IndicatorVersion")
    previous_certificate = relationship("CertificationCertificate", foreign_keys=[previous_certificate_id])
    team_members: Mapped[list["CertificationTeamMember"]] = relationship(
        "CertificationTeamMember", back_populates="certification", order_by="CertificationTeamMember.id")
    pauses: Mapped[list["CertificationPause"]] = relationship(
        "CertificationPause", back_populates="certification", order_by="CertificationPause.id")

    def __repr__(self) -> str:
        return f"{self.mine_name}（{self.licence_no}）"


class CertificationTeamMember(TimestampMixin, Model):
    """A member of the evaluation's project team."""

    __tablename__ = "certification_team_member"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification_application.id"), nullable=False,
                                                  index=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    team_role: Mapped[str] = mapped_column(String(8), nullable=False)
    # 注册证书编号 of a registered auditor; empty for an expert.
    registration_no: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    unit: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)
    specialty: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    # A member taken off the team is kept (the record was submitted: nothing is hard-deleted).
    removed_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)

    certification: Mapped[CertificationApplication] = relationship(
        CertificationApplication, back_populates="team_members")

    def __repr__(self) -> str:
        return self.name


class CertificationPause(Model):
    """The enterprise's rectification (申请方整改): from the day the body asked for it to the day the
    enterprise resubmitted; those working days do not count against the 20."""

    __tablename__ = "certification_pause"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification_application.id"), nullable=False,
                                                  index=True)
    started_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    ended_on: Mapped[Optional[datetime.date]] = mapped_column(Date, nullable=True)
    reason: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    certification: Mapped[CertificationApplication] = relationship(
        CertificationApplication, back_populates="pauses")

    def __repr__(self) -> str:
        return f"{self.certification} {self.started_on}"


class CertificationScore(Model):
    """One item's score by the enterprise (source "self", its self-scoring sheet) or by the
    certification body ("certifier")."""

    __tablename__ = "certification_score"
    __table_args__ = (UniqueConstraint("certification_id", "item_id", "source", name="uq_certification_score"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification_application.id"), nullable=False,
                                                  index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("indicator_item.id"), nullable=False)
    source: Mapped[str] = mapped_column(String(10), nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    note: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    scored_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    scored_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)

    item = relationship("IndicatorItem")
    certification: Mapped[CertificationApplication] = relationship(CertificationApplication)

    def __repr__(self) -> str:
        return f"{self.certification} {self.item}"


class CertificationCertificate(WorkflowRecord, TimestampMixin, Model):
    """The registered certificate (注册签发认证证书): number, grade, validity. Valid or revoked is
    its status; expired is computed from ``valid_until``; the grade moves with surveillance."""

    __tablename__ = "certification_certificate"
    workflow_name = "certification_certificate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification_application.id"), unique=True,
                                                  nullable=False)
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"), nullable=False, index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), nullable=False, index=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("certification_body.id"), nullable=False, index=True)
    grade: Mapped[str] = mapped_column(String(8), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="valid", index=True)
    # Copied at issue: the public pages show these without reading the registry.
    mine_name: Mapped[str] = mapped_column(String(128), nullable=False)
    enterprise_name: Mapped[str] = mapped_column(String(128), nullable=False)
    mineral_name: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    issued_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    # A renewal issued before the old certificate ends takes over the day after it.
    valid_from: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    revoked_on: Mapped[Optional[datetime.date]] = mapped_column(Date, nullable=True)
    decided_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    decision_comment: Mapped[Optional[str]] = mapped_column(Text, nullable=True)

    certification: Mapped[CertificationApplication] = relationship(
        CertificationApplication, foreign_keys=[certification_id])
    mine: Mapped[Mine] = relationship(Mine)
    region: Mapped[Region] = relationship(Region)
    body: Mapped[CertificationBody] = relationship(CertificationBody)
    audits: Mapped[list["SurveillanceAudit"]] = relationship(
        "SurveillanceAudit", back_populates="certificate", order_by="SurveillanceAudit.id")

    # Computed from the row's own columns and today's date (app.services.surveillance.validity):
    # lists show them without a query per row.
    validity = service_rule("surveillance.validity", "valid, not yet valid, expired or revoked, as of today")

    @property
    def validity_label(self) -> str:
        return label(VALIDITY_LABELS, self.validity)

    def __repr__(self) -> str:
        return self.number


class SurveillanceAudit(WorkflowRecord, TimestampMixin, Model):
    """A surveillance audit (现场监督评审) of a valid certificate and its outcome."""

    __tablename__ = "surveillance_audit"
    workflow_name = "surveillance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certification_certificate.id"), nullable=False,
                                                index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="planned", index=True)
    planned_on: Mapped[Optional[datetime.date]] = mapped_column(Date, nullable=True)
    # The on-site audit: when, who, what was found, and the score's share of the maximum (per 100).
    audit_on: Mapped[Optional[datetime.date]] = mapped_column(Date, nullable=True)
    team: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    findings: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    score_share: Mapped[Optional[float]] = mapped_column(Float, nullable=True)
    # The certificate's grade before and after the outcome.
    grade_before: Mapped[Optional[str]] = mapped_column(String(8), nullable=True)
    grade_after: Mapped[Optional[str]] = mapped_column(String(8), nullable=True)
    decided_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    decision_comment: Mapped[Optional[str]] = mapped_column(Text, nullable=True)

    certificate: Mapped[CertificationCertificate] = relationship(CertificationCertificate, back_populates="audits")

    def __repr__(self) -> str:
        return f"{self.certificate.number if self.certificate else self.certificate_id} {self.audit_on or ''}"
