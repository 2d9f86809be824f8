"""The audit trail (SPEC I4) and the rule that what was submitted is never hard-deleted.

Every ORM flush that creates, changes or deletes a record of an audited model writes one
``AuditEntry`` per record in the same transaction: who (the signed-in user, or the CLI
command's name), when, from where, and each changed field with its old and new value. The
status writes of the transition engine, which bypass the ORM's unit of work, are recorded by
``record_update`` from app.services.workflow.

Audited: every model of ``app.models`` (FAB's user included) unless it sets
``__audited__ = False`` (the logs themselves). Not recorded: bookkeeping columns (timestamps,
login counters); password hashes are recorded as changed, never by value.

``check_deletable`` is the keep rule: a workflow record that has ever changed state (it has a
transition log), a record that belongs to one, and a record such a one points to (its mine,
its enterprise) are kept. The views call it to refuse with a message; the flush guard
enforces it for every other code path.
"""
from __future__ import annotations

import contextvars
import datetime
import decimal
import enum
from contextlib import contextmanager
from typing import Any, Iterator, Optional

from flask import g, has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import event, exists, inspect as sa_inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.models.audit import CREATE, DELETE, UPDATE
from app.services.exceptions import ValidationFailed

MASK = "******"
_MASKED_COLUMNS = frozenset({"password"})
# Bookkeeping that changes on its own (timestamps, FAB's login counters, the credentials
# version raised with every password change, which is recorded as such).
_IGNORED_COLUMNS = frozenset({
    "created_at", "updated_at", "created_on", "changed_on", "created_by_fk", "changed_by_fk",
    "last_login", "login_count", "fail_login_count", "credentials_version",
})
# Outside a request: (the command's name, the account it acts for, if any).
_cli_actor: contextvars.ContextVar[tuple[Optional[str], Any]] = contextvars.ContextVar(
    "gm_audit_actor", default=(None, None))


class DeletionRefused(ValidationFailed):
    """The record, or one it belongs to or that depends on it, was submitted once: it is kept."""


# ---------------------------------------------------------------------------
# Who acts
# ---------------------------------------------------------------------------
@contextmanager
def acting_as(name: str, user=None) -> Iterator[None]:
    """Attribute changes made outside a request (a CLI command) to ``name``, or to the account
    ``user`` the command acts for (an import)."""
    token = _cli_actor.set((name, user))
    try:
        yield
    finally:
        _cli_actor.reset(token)


def _actor(user=None) -> dict[str, Any]:
    """Who acts: ``user`` when the caller knows (the transition engine), else the signed-in
    user of the request, else the CLI command."""
    if not has_request_context():
        name, command_user = _cli_actor.get()
        user = user if user is not None else command_user
        if user is not None:
            return {"user_id": user.id, "username": user.username, "source": "cli" if name else "system",
                    "address": None}
        return {"user_id": None, "username": name or "system", "source": "cli" if name else "system",
                "address": None}
    user = getattr(g, "user", None)
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    return {
        "user_id": user.id if signed_in else None,
        "username": user.username if signed_in else "anonymous",
        "source": "api" if request.path.startswith("/api/") else "web",
        "address": request.remote_addr,
    }


# ---------------------------------------------------------------------------
# What changed
# ---------------------------------------------------------------------------
def is_audited(model: type) -> bool:
    return model.__module__.startswith("app.models") and getattr(model, "__audited__", True)


def _plain(value: Any) -> Any:
    """A JSON value for the trail."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return str(value)


def _shown(key: str, value: Any) -> Any:
    return MASK if key in _MASKED_COLUMNS and value is not None else _plain(value)


def _load_parents(record, pending: dict) -> None:
    """A record just inserted is still pending while the flush runs, and SQLAlchemy loads none of
    its relations then: one created with ``certification_id=…`` would be called "None None".
    Give it the parents its foreign keys name, as if read with it: from the identity map, from
    the records inserted by the same flush (``pending``: loading those would put a second copy in
    the identity map), else from the database."""
    state = sa_inspect(record)
    session = state.session
    if session is None or not state.pending:
        return
    for relationship in state.mapper.relationships:
        if relationship.direction.name != "MANYTOONE" or relationship.key in state.dict:
            continue
        keys = [state.dict.get(column.key) for column in relationship.local_columns]
        if len(keys) != 1 or keys[0] is None:
            continue
        model = relationship.mapper.class_
        parent = session.identity_map.get(relationship.mapper.identity_key_from_primary_key(keys))
        if parent is None:
            parent = pending.get((relationship.mapper.base_mapper, str(keys[0])))
        if parent is None:
            with session.no_autoflush:
                parent = session.get(model, keys[0])
        set_committed_value(record, relationship.key, parent)


def record_label(record, pending: Optional[dict] = None) -> Optional[str]:
    """What a record is called, as the logs keep it (its display name, at most 255 characters).
    ``pending``: the records the current flush inserts, by (base mapper, key as text)."""
    try:
        _load_parents(record, pending or {})
        return str(record)[:255]
    except Exception:  # a __repr__ that needs what cannot be loaded: no name rather than none
        return None


def _record_id(record) -> str:
    # From the attributes, not the identity key: a new record gets its key only after the flush.
    identity = sa_inspect(type(record)).primary_key_from_instance(record)
    return ",".join("" if part is None else str(part) for part in identity)


def _column_attributes(record):
    mapper = sa_inspect(type(record))
    return [attr for attr in mapper.column_attrs if attr.key not in _IGNORED_COLUMNS]


def _collection_names(values) -> list[str]:
    return sorted(str(value) for value in values)


def _changes(record, action: str) -> dict[str, list[Any]]:
    state = sa_inspect(record)
    changes: dict[str, list[Any]] = {}
    for attr in _column_attributes(record):
        key = attr.key
        if action == CREATE:
            value = getattr(record, key, None)
            if value is not None:
                changes[key] = [None, _shown(key, value)]
        elif action == DELETE:
            value = state.dict.get(key)
            if value is not None:
                changes[key] = [_shown(key, value), None]
        else:
            history = state.attrs[key].history
            if not history.has_changes():
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old != new:
                changes[key] = [_shown(key, old), _shown(key, new)]
    if action == UPDATE:
        # Many-to-many collections (an account's roles) by the names of their members.
        for relationship in sa_inspect(type(record)).relationships:
            if relationship.secondary is None:
                continue
            history = state.attrs[relationship.key].history
            if history.added or history.deleted:
                kept = list(history.unchanged or ())
                changes[relationship.key] = [_collection_names(kept + list(history.deleted)),
                                             _collection_names(kept + list(history.added))]
    return changes


def _entry(action: str, record_type: str, record_id: str, label: Optional[str], changes: dict,
           user=None) -> dict:
    return dict(_actor(user), created_at=datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None),
                action=action, record_type=record_type, record_id=record_id, record_label=label,
                changes=changes)


def _write(session: Session, entries: list[dict]) -> None:
    if entries:
        from app.models.audit import AuditEntry

        session.connection().execute(AuditEntry.__table__.insert(), entries)


def record_update(session: Session, record, changes: dict[str, tuple[Any, Any]], user=None) -> None:
    """Record a change written with an UPDATE statement (the transition engine's status write,
    made by ``user``)."""
    if not is_audited(type(record)):
        return
    shown = {key: [_shown(key, old), _shown(key, new)] for key, (old, new) in changes.items()
             if key not in _IGNORED_COLUMNS and old != new}
    if shown:
        _write(session, [_entry(UPDATE, type(record).__name__, _record_id(record), record_label(record), shown, user)])


# ---------------------------------------------------------------------------
# What is kept
# ---------------------------------------------------------------------------
def has_history(session: Session, model: type, record_id) -> bool:
    """The workflow record has changed state at least once (it was submitted)."""
    from app.models.log import TransitionLog

    if record_id is None:
        return False
    return bool(session.scalar(select(exists().where(
        TransitionLog.record_type == model.__name__, TransitionLog.record_id == record_id))))


def _workflow_models() -> list[type]:
    from app.services.workflow import workflow_models

    return list(workflow_models())


def _kept_reason(session: Session, record) -> Optional[str]:
    model = type(record)
    workflow_models = _workflow_models()
    record_id = sa_inspect(record).identity[0] if sa_inspect(record).identity else None
    if model in workflow_models:
        # Its own history decides (a draft application citing a passed pre-declaration may go).
        if has_history(session, model, record_id):
            return _("This record was submitted once and is kept: it cannot be deleted.")
        return None
    # It belongs to a submitted record (an application's evidence) ...
    for relationship in sa_inspect(model).relationships:
        parent_model = relationship.mapper.class_
        if relationship.direction.name == "MANYTOONE" and parent_model in workflow_models:
            parent_ids = [getattr(record, column.key, None) for column in relationship.local_columns]
            if parent_ids and has_history(session, parent_model, parent_ids[0]):
                return _("This record belongs to a submitted record and is kept: it cannot be deleted.")
    # (attachments name their owner by type and id)
    owner_model = {m.__name__: m for m in workflow_models}.get(getattr(record, "owner_type", None))
    if owner_model is not None and has_history(session, owner_model, getattr(record, "owner_id", None)):
        return _("This record belongs to a submitted record and is kept: it cannot be deleted.")
    # ... or a submitted record points to it (its mine, its enterprise).
    from app.models.log import TransitionLog

    for workflow_model in workflow_models:
        for foreign_key in workflow_model.__table__.foreign_keys:
            if foreign_key.column.table is not model.__table__ or record_id is None:
                continue
            column = foreign_key.parent
            submitted = select(exists().where(
                column == getattr(record, foreign_key.column.key),
                TransitionLog.record_type == workflow_model.__name__,
                TransitionLog.record_id == workflow_model.id,
            ))
            if session.scalar(submitted):
                return _("A submitted record refers to this record, so it is kept: it cannot be deleted.")
    return None


def is_kept(session: Session, record) -> bool:
    return _kept_reason(session, record) is not None


def check_deletable(record, session: Optional[Session] = None) -> None:
    """Raise DeletionRefused if ``record`` must be kept (see the module's doc)."""
    from app.extensions import db

    reason = _kept_reason(session or db.session, record)
    if reason:
        raise DeletionRefused(reason)


# ---------------------------------------------------------------------------
# The session hooks
# ---------------------------------------------------------------------------
_PENDING = "gm_audit_pending"


def install(session_class: type) -> None:
    """Record every flush of audited models, and refuse deleting what must be kept."""
    if getattr(session_class, "_gm_audit", False):
        return
    session_class._gm_audit = True

    @event.listens_for(session_class, "before_flush")
    def _collect(session, flush_context, instances):
        pending = []
        for record in session.deleted:
            if is_audited(type(record)):
                check_deletable(record, session)
                pending.append((DELETE, record, _changes(record, DELETE), _record_id(record), record_label(record)))
        for record in session.dirty:
            if is_audited(type(record)) and session.is_modified(record, include_collections=True):
                changes = _changes(record, UPDATE)
                if changes:
                    pending.append((UPDATE, record, changes, _record_id(record), record_label(record)))
        session.info.setdefault(_PENDING, []).extend(pending)

    @event.listens_for(session_class, "after_flush")
    def _write_entries(session, flush_context):
        entries = []
        for action, record, changes, record_id, label in session.info.pop(_PENDING, []):
            entries.append(_entry(action, type(record).__name__, record_id, label, changes))
        # New records have their ids only now.
        pending = {(sa_inspect(record).mapper.base_mapper, _record_id(record)): record for record in session.new}
        for record in (record for record in session.new if is_audited(type(record))):
            entries.append(_entry(CREATE, type(record).__name__, _record_id(record), record_label(record, pending),
                                  _changes(record, CREATE)))
        _write(session, entries)

    @event.listens_for(session_class, "after_rollback")
    def _forget(session):
        session.info.pop(_PENDING, None)
