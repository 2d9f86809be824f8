"""Notices (通知公告, SPEC A6): an authority publishes to its region's subtree; everyone in that
subtree (staff and enterprises) reads it on the home page from the publish date on."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.mixins import TimestampMixin
from app.models.region import Region


class Notice(TimestampMixin, Model):
    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    # The audience: this region and every region below it; empty for the whole country.
    region_code: Mapped[Optional[str]] = mapped_column(String(6), ForeignKey("region.code"), nullable=True,
                                                       index=True)
    publish_date: Mapped[datetime.date] = mapped_column(Date, nullable=False, index=True)
    author_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), nullable=True)

    region: Mapped[Optional[Region]] = relationship(Region)

    def __repr__(self) -> str:
        return self.title
