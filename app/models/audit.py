"""The audit trail (SPEC I4): one row per create, update and delete of a domain record, with
who, when, from where, and the fields with their old and new values. Written by
app.services.audit inside the same transaction as the change; never edited."""
from __future__ import annotations

import datetime
from typing import Any, Optional

from flask_appbuilder import Model
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from app.models.choices import label
from app.models.kinds import record_kind_label
from app.models.mixins import utcnow
from app.models.user import GreenMineUser, acting_person

CREATE, UPDATE, DELETE = "create", "update", "delete"
ACTION_LABELS = {CREATE: _l("Created"), UPDATE: _l("Changed"), DELETE: _l("Deleted")}
SOURCE_LABELS = {"web": _l("Web page"), "api": _l("REST API"), "cli": _l("Command line"), "system": _l("System")}


class AuditEntry(Model):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_record", "record_type", "record_id", "id"),)
    __audited__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    # Copied at the time of the change (no foreign key: the trail outlives accounts).
    user_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True, index=True)
    username: Mapped[str] = mapped_column(String(128), nullable=False)
    # web / api / cli / system, and the client's address for requests.
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    address: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(8), nullable=False)  # create / update / delete
    record_type: Mapped[str] = mapped_column(String(64), nullable=False)
    record_id: Mapped[str] = mapped_column(String(64), nullable=False)
    # What the record was called then (a mine's name, an account's login).
    record_label: Mapped[Optional[str]] = mapped_column(String(255), nullable=True)
    # {field: [old, new]}; old is null on create, new is null on delete.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)

    # The account, to show its holder's name; read only, and no foreign key (see user_id).
    user = relationship(GreenMineUser, primaryjoin=lambda: foreign(AuditEntry.user_id) == GreenMineUser.id,
                        viewonly=True)

    @property
    def record_kind(self) -> str:
        return record_kind_label(self.record_type)

    @property
    def operator_name(self) -> str:
        """The person, or the command that acted without one (系统命令：flask gm demo)."""
        if self.user_id is None:
            if self.source == "cli":
                return _("System command: %(command)s", command=self.username)
            if self.source == "system":
                return label(SOURCE_LABELS, "system")
            return _("Anonymous visitor")
        return acting_person(self.user, self.username)

    @property
    def action_label(self) -> str:
        return label(ACTION_LABELS, self.action)

    @property
    def source_label(self) -> str:
        return label(SOURCE_LABELS, self.source)
