"""Uploaded files (SPEC C2, D3, D10): the bytes live in storage under a generated name; the
row keeps the original name (Chinese included), the checked type, size and digest, and what the
file belongs to. Access always goes through the owner record's scope (app.services.uploads)."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.mixins import utcnow


class Attachment(Model):
    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_owner", "owner_type", "owner_id", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The record the file belongs to: ("PreDeclaration", 12), ("Application", 7) ...
    owner_type: Mapped[str] = mapped_column(String(32), nullable=False)
    owner_id: Mapped[int] = mapped_column(Integer, nullable=False)
    # Where on the owner it belongs: a photo-checklist item ("5.1"), "document", "video",
    # an indicator item code for evidence ...
    slot: Mapped[str] = mapped_column(String(32), nullable=False)
    # image / pdf / video: the kind found by content, which decides the size and count limits.
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    original_name: Mapped[str] = mapped_column(String(255), nullable=False)
    # Generated; never derived from the user's file name.
    stored_name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    content_type: Mapped[str] = mapped_column(String(64), nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    # A file removed from a record that was once submitted is kept (SPEC I4), only hidden.
    removed_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)
    removed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), nullable=True)

    def __repr__(self) -> str:
        return self.original_name
