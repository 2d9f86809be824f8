"""Spot checks of listed green mines (双随机一公开, SPEC H1–H6; seed 001 §二, seed 004).

- ``SelfCheck``: a listed mine's yearly self-check record (自查记录表), by a deadline.
- ``ProblemLead``: a reported problem about a mine (问题线索): such mines are checked first.
- ``Inspector``: a person of an authority's pool (核查人员), with the title and rank that decide
  who may lead a team, and the county he may not check.
- ``SpotCheckCampaign``: one year's check by one authority: the recorded, replayable draw of
  mines and of inspectors (app.services.spotchecks).
- ``SpotCheckTeam`` / ``SpotCheckTeamMember``: the drawn teams of 3 to 5.
- ``SpotCheck``: the verification record of one drawn mine (seed 004 附件1) and its result.
- ``SpotCheckConfirmation``: a team member's confirmation of a record, or of the re-check of a
  rectification, from his own account.

Every status change goes through the transition table (workflows ``self_check``,
``problem_lead``, ``spot_check_campaign``, ``spot_check``).
"""
from __future__ import annotations

import datetime
from typing import Any, Optional

from flask_appbuilder import Model
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from app.models.directory import DirectoryEntry
from app.models.enterprise import Enterprise, Mine
from app.models.mixins import TimestampMixin, service_rule, utcnow
from app.models.region import Region
from app.models.states import WorkflowRecord

# The six areas of the green-mine standard, in the order of seed 004 附件1 (labels:
# app.services.spotchecks.AREA_LABELS). Each record has one text column per area.
AREAS = ("environment", "development", "utilization", "energy", "innovation", "management")
AREA_COLUMNS = tuple(f"area_{area}" for area in AREAS)


class _AreaFindings:
    """Problems found in each of the six areas (free text; empty = none found)."""

    area_environment: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    area_development: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    area_utilization: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    area_energy: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    area_innovation: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    area_management: Mapped[Optional[str]] = mapped_column(Text, nullable=True)


class _OwnedByMine:
    """The mine, its enterprise and its county, copied so that the scope rule reads columns."""

    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"), nullable=False, index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), nullable=False, index=True)

    @declared_attr
    def mine(cls) -> Mapped[Mine]:
        return relationship(Mine)

    @declared_attr
    def enterprise(cls) -> Mapped[Enterprise]:
        return relationship(Enterprise)

    @declared_attr
    def region(cls) -> Mapped[Region]:
        return relationship(Region)


class SelfCheck(WorkflowRecord, _AreaFindings, _OwnedByMine, TimestampMixin, Model):
    """A listed mine's self-check of one year (seed 001 §二(二)1), filed by its enterprise."""

    __tablename__ = "self_check"
    __table_args__ = (UniqueConstraint("mine_id", "year", name="uq_self_check_mine_year"),)
    workflow_name = "self_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("directory_entry.id"), nullable=False, index=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft", index=True)
    # 主要成效, 存在问题 (summed up), 整改措施
    achievements: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    problems: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    measures: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    submitted_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    decided_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    decision_comment: Mapped[Optional[str]] = mapped_column(Text, nullable=True)

    entry: Mapped[DirectoryEntry] = relationship(DirectoryEntry)

    is_late = service_rule("selfchecks.is_late", "Filed after the year's deadline")

    def __repr__(self) -> str:
        return f"{self.year} {self.mine.name if self.mine else self.mine_id}"


class ProblemLead(WorkflowRecord, _OwnedByMine, TimestampMixin, Model):
    """A problem reported about a mine (complaint, inspection, media): open leads put the mine
    among the priority mines of the next draw."""

    __tablename__ = "problem_lead"
    workflow_name = "problem_lead"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    source: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open", index=True)
    decided_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    decision_comment: Mapped[Optional[str]] = mapped_column(Text, nullable=True)

    def __repr__(self) -> str:
        return f"{self.received_on} {self.content[:20]}"


class Inspector(TimestampMixin, Model):
    """A member of an authority's inspector pool; he signs in with his own account."""

    __tablename__ = "inspector"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), unique=True, nullable=False)
    # The authority whose pool he is in: a province or a city; NULL is the national pool.
    pool_region_code: Mapped[Optional[str]] = mapped_column(
        String(6), ForeignKey("region.code"), nullable=True, index=True)
    # The county he lives or works in: he never checks a mine there.
    home_region_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    unit: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)
    # 技术职称 (its grade decides who may lead: senior and above) and 行政职级 (division level
    # and above may lead too).
    title: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    title_grade: Mapped[str] = mapped_column(String(16), nullable=False, default="none")
    admin_rank: Mapped[str] = mapped_column(String(16), nullable=False, default="none")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    user = relationship("GreenMineUser")
    pool_region: Mapped[Optional[Region]] = relationship(Region, foreign_keys=[pool_region_code])
    home_region: Mapped[Region] = relationship(Region, foreign_keys=[home_region_code])

    def __repr__(self) -> str:
        return self.name


class SpotCheckCampaign(WorkflowRecord, TimestampMixin, Model):
    """One authority's spot check of one year, with its draw recorded for replay."""

    __tablename__ = "spot_check_campaign"
    workflow_name = "spot_check_campaign"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    # Who organises it: "national", "province" or "city"; the organiser's region (NULL for the
    # national level). Which directory levels it covers follows from the level
    # (app.services.spotchecks.COVERED_LEVELS).
    level: Mapped[str] = mapped_column(String(8), nullable=False)
    region_code: Mapped[Optional[str]] = mapped_column(String(6), ForeignKey("region.code"), nullable=True, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    ratio: Mapped[float] = mapped_column(Float, nullable=False)
    team_size: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    team_count: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    report_deadline: Mapped[Optional[datetime.date]] = mapped_column(Date, nullable=True)
    # One campaign per organiser and year; another one of the same year is a declared
    # supplementary round (补充抽查) with its reason (app.services.spotchecks.campaign_rule).
    is_supplementary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                   server_default=false())
    supplementary_reason: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="planned", index=True)
    # The draw (set once, by the "draw" step): algorithm, seed, the ordered candidates
    # (directory entry ids, priority ones first) with why each is a priority, the sample size,
    # and the ordered inspector candidates.
    algorithm: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    seed: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    candidate_entry_ids: Mapped[Optional[list[Any]]] = mapped_column(JSON, nullable=True)
    priority: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON, nullable=True)
    sample_size: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    inspector_candidate_ids: Mapped[Optional[list[Any]]] = mapped_column(JSON, nullable=True)
    drawn_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    drawn_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    decided_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    decision_comment: Mapped[Optional[str]] = mapped_column(Text, nullable=True)

    region: Mapped[Optional[Region]] = relationship(Region)
    teams: Mapped[list["SpotCheckTeam"]] = relationship(
        "SpotCheckTeam", back_populates="campaign", order_by="SpotCheckTeam.number")
    checks: Mapped[list["SpotCheck"]] = relationship(
        "SpotCheck", back_populates="campaign", order_by="SpotCheck.position")

    deadline_passed_at_creation = service_rule(
        "spotchecks.deadline_passed_at_creation",
        "The report deadline had already passed on the day the campaign was created")

    def __repr__(self) -> str:
        return self.title


class SpotCheckTeam(Model):
    __tablename__ = "spot_check_team"
    __table_args__ = (UniqueConstraint("campaign_id", "number", name="uq_spot_check_team_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("spot_check_campaign.id"), nullable=False, index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    leader_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"), nullable=False)

    campaign: Mapped[SpotCheckCampaign] = relationship(SpotCheckCampaign, back_populates="teams")
    leader: Mapped[Inspector] = relationship(Inspector)
    members: Mapped[list["SpotCheckTeamMember"]] = relationship(
        "SpotCheckTeamMember", back_populates="team", order_by="SpotCheckTeamMember.position")

    def __repr__(self) -> str:
        campaign = self.campaign.title if self.campaign else self.campaign_id
        return f"{campaign} {gettext('Team %(number)s', number=self.number)}"


class SpotCheckTeamMember(Model):
    __tablename__ = "spot_check_team_member"
    __table_args__ = (UniqueConstraint("team_id", "inspector_id", name="uq_spot_check_team_member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("spot_check_team.id"), nullable=False, index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"), nullable=False, index=True)
    # 0 is the leader; the others in the order they were drawn.
    position: Mapped[int] = mapped_column(Integer, nullable=False)

    team: Mapped[SpotCheckTeam] = relationship(SpotCheckTeam, back_populates="members")
    inspector: Mapped[Inspector] = relationship(Inspector)

    def __repr__(self) -> str:
        return f"{self.team} {self.inspector}"


class SpotCheck(WorkflowRecord, _AreaFindings, _OwnedByMine, TimestampMixin, Model):
    """The verification record of one drawn mine (seed 004 附件1) and what became of it."""

    __tablename__ = "spot_check"
    __table_args__ = (UniqueConstraint("campaign_id", "entry_id", name="uq_spot_check_campaign_entry"),)
    workflow_name = "spot_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("spot_check_campaign.id"), nullable=False, index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("directory_entry.id"), nullable=False, index=True)
    team_id: Mapped[Optional[int]] = mapped_column(ForeignKey("spot_check_team.id"), nullable=True, index=True)
    # Place in the drawn sample (1-based), and why the mine was a priority (empty: drawn at random).
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    priority_reasons: Mapped[Optional[list[Any]]] = mapped_column(JSON, nullable=True)
    # As the licence reads at the draw (the summary table's columns, seed 004 附表).
    entry_level: Mapped[str] = mapped_column(String(8), nullable=False)
    mine_name: Mapped[str] = mapped_column(String(128), nullable=False)
    licence_no: Mapped[str] = mapped_column(String(32), nullable=False)
    mineral_name: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    mining_method: Mapped[Optional[str]] = mapped_column(String(16), nullable=True)
    production_scale: Mapped[Optional[float]] = mapped_column(Float, nullable=True)
    # The record: when, the opinions, the team's conclusion (meets the standard: yes / no).
    checked_on: Mapped[Optional[datetime.date]] = mapped_column(Date, nullable=True)
    opinions: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    conforms: Mapped[Optional[bool]] = mapped_column(Boolean, nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="assigned", index=True)
    recorded_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    # The result (H5): retained / rectifying with a deadline / removed.
    rectify_deadline: Mapped[Optional[datetime.date]] = mapped_column(Date, nullable=True)
    decided_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    decision_comment: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    note: Mapped[Optional[str]] = mapped_column(Text, nullable=True)  # 备注
    # The follow-up re-check of a rectification, by the same team: when, what it found, whether
    # the mine now meets the standard; submitted by the leader (stamp), confirmed by each member.
    recheck_on: Mapped[Optional[datetime.date]] = mapped_column(Date, nullable=True)
    recheck_findings: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    recheck_conforms: Mapped[Optional[bool]] = mapped_column(Boolean, nullable=True)
    rechecked_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)

    campaign: Mapped[SpotCheckCampaign] = relationship(SpotCheckCampaign, back_populates="checks")
    entry: Mapped[DirectoryEntry] = relationship(DirectoryEntry)
    team: Mapped[Optional[SpotCheckTeam]] = relationship(SpotCheckTeam)
    confirmations: Mapped[list["SpotCheckConfirmation"]] = relationship(
        "SpotCheckConfirmation", back_populates="check", order_by="SpotCheckConfirmation.id")

    def __repr__(self) -> str:
        return f"{self.mine_name}（{self.licence_no}）"


# What a confirmation signs (SpotCheckConfirmation.stage): the verification record, or the
# re-check of a rectification.
RECORD_STAGE, RECHECK_STAGE = "record", "recheck"
STAGE_LABELS = {RECORD_STAGE: _l("Green-mine verification record"),
                RECHECK_STAGE: _l("Re-check of the rectification")}


class SpotCheckConfirmation(Model):
    """A team member's confirmation (签字), from his own account, of a verification record or of
    its re-check: once per member and stage."""

    __tablename__ = "spot_check_confirmation"
    __table_args__ = (UniqueConstraint("check_id", "inspector_id", "stage", name="uq_spot_check_confirmation_stage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("spot_check.id"), nullable=False, index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"), nullable=False)
    stage: Mapped[str] = mapped_column(String(8), nullable=False, default=RECORD_STAGE, server_default=RECORD_STAGE)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False)
    confirmed_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    check: Mapped[SpotCheck] = relationship(SpotCheck, back_populates="confirmations")
    inspector: Mapped[Inspector] = relationship(Inspector)

    def __repr__(self) -> str:
        return f"{self.check} {self.inspector}"
