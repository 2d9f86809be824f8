"""Four-level responsible persons (包保责任人, seed 003 §6, SPEC B4).

One current person per mine and level (province, city, county, enterprise); replacing one
keeps the old row with the time it was replaced, so the history stays.
"""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.choices import RESPONSIBILITY_LEVELS, label
from app.models.enterprise import Mine
from app.models.mixins import utcnow


class ResponsiblePerson(Model):
    __tablename__ = "responsible_person"
    __table_args__ = (
        # At most one current person per mine and level.
        Index(
            "uq_responsible_person_current",
            "mine_id",
            "level",
            unique=True,
            postgresql_where=text("replaced_at IS NULL"),
            sqlite_where=text("replaced_at IS NULL"),
        ),
        Index("ix_responsible_person_entered_by", "entered_by_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"), nullable=False, index=True)
    level: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    post: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)
    phone: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    entered_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    replaced_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime, nullable=True)

    mine: Mapped[Mine] = relationship(Mine)
    entered_by = relationship("GreenMineUser", lazy="select")

    # The scope rule reads the mine's region and enterprise through these.
    @property
    def region_code(self) -> Optional[str]:
        return self.mine.region_code if self.mine is not None else None

    @property
    def enterprise_id(self) -> Optional[int]:
        return self.mine.enterprise_id if self.mine is not None else None

    @property
    def level_label(self) -> str:
        return label(RESPONSIBILITY_LEVELS, self.level)

    @property
    def is_current(self) -> bool:
        return self.replaced_at is None

    def __repr__(self) -> str:
        return f"{self.name}（{self.post or ''}）"
