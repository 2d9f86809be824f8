"""Selection after the assessment (SPEC E4, E5): the province's collective review meeting (会审)
with a decision per application, and the public notice (公示) with its objections."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.mixins import TimestampMixin, utcnow
from app.models.region import Region
from app.models.states import WorkflowRecord

PASS, FAIL, DEFER = "pass", "fail", "defer"


class ReviewMeeting(TimestampMixin, Model):
    __tablename__ = "review_meeting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    province_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), nullable=False, index=True)
    held_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    # The members present, one per line (names and functions as the minutes give them).
    members: Mapped[str] = mapped_column(Text, nullable=False)
    note: Mapped[Optional[str]] = mapped_column(Text, nullable=True)

    province: Mapped[Region] = relationship(Region)
    decisions: Mapped[list["ReviewDecision"]] = relationship("ReviewDecision", back_populates="meeting",
                                                             order_by="ReviewDecision.id")

    def __repr__(self) -> str:
        return f"{self.held_on} {self.province.name if self.province else self.province_code}"


class ReviewDecision(Model):
    __tablename__ = "review_decision"
    __table_args__ = (UniqueConstraint("meeting_id", "application_id", name="uq_review_decision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("review_meeting.id"), nullable=False, index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), nullable=False, index=True)
    decision: Mapped[str] = mapped_column(String(8), nullable=False)  # pass / fail / defer
    reasons: Mapped[str] = mapped_column(Text, nullable=False)
    decided_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), nullable=True)

    meeting: Mapped[ReviewMeeting] = relationship(ReviewMeeting, back_populates="decisions")
    application = relationship("Application")

    def __repr__(self) -> str:
        return f"{self.meeting} {self.application}"


class PublicNotice(TimestampMixin, Model):
    """The province's publication of its selection results for a period (公示期)."""

    __tablename__ = "public_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    province_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    starts_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    published_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    # Where the public sends its objections (shown on the public portal with the notice): the
    # office, and a telephone or an e-mail address at least (app.services.selection.publish_notice).
    contact_name: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)
    contact_phone: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    contact_email: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)
    contact_address: Mapped[Optional[str]] = mapped_column(String(256), nullable=True)

    province: Mapped[Region] = relationship(Region)
    applications = relationship("Application", back_populates="public_notice", order_by="Application.id")

    def __repr__(self) -> str:
        return self.title


class Objection(WorkflowRecord, TimestampMixin, Model):
    """An objection raised during the notice period against one application; resolved through
    the transition table (upheld / dismissed) with the reason."""

    __tablename__ = "objection"
    workflow_name = "objection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), nullable=False, index=True)
    # Copied from the application: the scope rule reads it.
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), nullable=False, index=True)
    received_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    # What was objected to.
    content: Mapped[str] = mapped_column(Text, nullable=False)
    # Who objected, when filed on the public form (app.services.public_notices): seen by the
    # province and the national level only, never by the enterprise nor on a public page.
    objector_name: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    objector_contact: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open", index=True)
    decided_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    decision_comment: Mapped[Optional[str]] = mapped_column(Text, nullable=True)

    application = relationship("Application")

    def __repr__(self) -> str:
        return f"{self.received_on} {self.content[:20]}"
