"""Third-party assessment agencies (第三方评估机构). The evaluation issue adds the draw,
conflicts and disqualification; agency users are bound to one of these rows."""
from __future__ import annotations

from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.mixins import TimestampMixin


class Agency(TimestampMixin, Model):
    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    uscc: Mapped[Optional[str]] = mapped_column(String(18), unique=True, nullable=True)
    # active / disqualified
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")

    def __repr__(self) -> str:
        return self.name
