"""The directory (绿色矿山名录, SPEC F1, E6), its certificates (F2), the provinces'
recommendations to the national list (E6) and the anomaly list (异常名录, F4).

Every entry and exit is a status change of the transition table (workflows ``directory``,
``recommendation``, ``anomaly``): listing and removal carry their reason, decision and date."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.choices import label
from app.models.enterprise import Enterprise, Mine
from app.models.mixins import TimestampMixin, service_rule
from app.models.region import Region
from app.models.states import WorkflowRecord

# Directory levels, highest first.
NATIONAL, PROVINCIAL, CITY, COUNTY = "national", "province", "city", "county"
LEVELS = (NATIONAL, PROVINCIAL, CITY, COUNTY)
LEVEL_LABELS = {NATIONAL: _l("National"), PROVINCIAL: _l("Provincial"), CITY: _l("City-level"),
                COUNTY: _l("County-level")}
# A directory certificate's status, computed by app.services.certificates.status_of: valid while
# its entry stands, revoked once the entry is removed. A directory listing has no fixed term (the
# seeds give none; three years are the certification certificate's, seed 002), so neither has its
# certificate: it says so where another certificate prints a date.
CERTIFICATE_VALID, CERTIFICATE_REVOKED = "valid", "revoked"
CERTIFICATE_STATUS_LABELS = {CERTIFICATE_VALID: _l("Valid"), CERTIFICATE_REVOKED: _l("Revoked")}
CERTIFICATE_VALIDITY = _l("Valid while the mine stays in the directory")


class DirectoryEntry(WorkflowRecord, TimestampMixin, Model):
    """A mine on the directory of one level from one year: listed, then perhaps removed."""

    __tablename__ = "directory_entry"
    __table_args__ = (Index("ix_directory_entry_level_year", "level", "year", "status"),)
    workflow_name = "directory"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"), nullable=False, index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), nullable=False, index=True)
    level: Mapped[str] = mapped_column(String(8), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    # The state is set only by the transition engine: listed -> removed.
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="listed", index=True)
    # Copied at listing: the public pages show these without reading the registry.
    mine_name: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    enterprise_name: Mapped[str] = mapped_column(String(128), nullable=False)
    mineral_name: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    # Entry: when, why, by which decision (文号); the application it came from, if any.
    listed_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    entry_reason: Mapped[str] = mapped_column(Text, nullable=False)
    entry_decision: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)
    application_id: Mapped[Optional[int]] = mapped_column(ForeignKey("application.id"), nullable=True, index=True)
    # Exit (有进有出): when, why, by which decision.
    removed_on: Mapped[Optional[datetime.date]] = mapped_column(Date, nullable=True)
    exit_reason: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    exit_decision: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)
    decided_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    decision_comment: Mapped[Optional[str]] = mapped_column(Text, nullable=True)

    mine: Mapped[Mine] = relationship(Mine)
    enterprise: Mapped[Enterprise] = relationship(Enterprise)
    region: Mapped[Region] = relationship(Region)

    # Whether the entry is due for its review (DIRECTORY_REVIEW_YEARS, off by default): the
    # staff's note, empty when it is not due (app.services.directory.review_note).
    review_note = service_rule("directory.review_note", "the note of an entry due for review, or ''")

    @property
    def level_label(self) -> str:
        return label(LEVEL_LABELS, self.level)

    def __repr__(self) -> str:
        return f"{self.year} {self.mine_name}"


class Certificate(Model):
    """The certificate of a directory entry. Valid while its entry stands, revoked once the entry
    is removed: app.services.certificates computes which; nothing is stored twice. No expiry date:
    a listing has no fixed term."""

    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Level, province, year, sequence: e.g. GM-P-14-2026-0001 (app.services.certificates).
    number: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    entry_id: Mapped[int] = mapped_column(ForeignKey("directory_entry.id"), unique=True, nullable=False)
    # Copied from the entry: the scope rule reads them.
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), nullable=False, index=True)
    issued_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)

    entry: Mapped[DirectoryEntry] = relationship(DirectoryEntry)
    region: Mapped[Region] = relationship(Region)

    # Read-only views of the computed state and of the entry, for lists and detail pages.
    validity = service_rule("certificates.status_of", "valid while the entry stands, else revoked")

    @property
    def validity_period(self) -> str:
        """The term printed where a certificate would print a date: none but the listing's."""
        return str(CERTIFICATE_VALIDITY)

    @property
    def review_note(self) -> str:
        return self.entry.review_note if self.entry else ""

    @property
    def validity_label(self) -> str:
        return label(CERTIFICATE_STATUS_LABELS, self.validity)

    @property
    def mine_name(self) -> str:
        return self.entry.mine_name if self.entry else ""

    @property
    def enterprise_name(self) -> str:
        return self.entry.enterprise_name if self.entry else ""

    @property
    def level_label(self) -> str:
        return self.entry.level_label if self.entry else ""

    @property
    def year(self) -> int | None:
        return self.entry.year if self.entry else None

    def __repr__(self) -> str:
        return self.number


class NationalRecommendation(WorkflowRecord, TimestampMixin, Model):
    """A province's recommendation of one of its provincial entries to the national list,
    within its quota; the national user accepts (a national entry is made) or declines."""

    __tablename__ = "national_recommendation"
    workflow_name = "recommendation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("directory_entry.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), nullable=False, index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), nullable=False, index=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="recommended", index=True)
    reason: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    national_entry_id: Mapped[Optional[int]] = mapped_column(ForeignKey("directory_entry.id"), nullable=True)
    decided_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    decision_comment: Mapped[Optional[str]] = mapped_column(Text, nullable=True)

    entry: Mapped[DirectoryEntry] = relationship(DirectoryEntry, foreign_keys=[entry_id])

    def __repr__(self) -> str:
        return f"{self.year} {self.entry.mine_name if self.entry else self.entry_id}"


class AnomalyEntry(WorkflowRecord, TimestampMixin, Model):
    """A mine on the anomaly list (异常名录): listed with reason and decision, later released."""

    __tablename__ = "anomaly_entry"
    workflow_name = "anomaly"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"), nullable=False, index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), nullable=False, index=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="listed", index=True)
    listed_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    decision: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)
    application_id: Mapped[Optional[int]] = mapped_column(ForeignKey("application.id"), nullable=True)
    decided_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    decision_comment: Mapped[Optional[str]] = mapped_column(Text, nullable=True)

    mine: Mapped[Mine] = relationship(Mine)

    def __repr__(self) -> str:
        return f"{self.year} {self.mine.name if self.mine else self.mine_id}"
