"""What a form or body changed on a record, and what the record held before: the record rules
of every service compare the two (a protected column, a state that forbids an edit)."""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import inspect as sa_inspect


def committed(record, key: str) -> Any:
    """The value of ``key`` as stored (before this request's changes)."""
    history = sa_inspect(record).attrs[key].history
    return history.deleted[0] if history.deleted else getattr(record, key)


def changed(record, key: str) -> bool:
    """Whether this request changed ``key`` on a stored record (a new record changes nothing)."""
    state = sa_inspect(record)
    if state.transient or state.pending:
        return False
    return state.attrs[key].history.has_changes()


def set_keys(record, keys: Iterable[str]) -> list[str]:
    """The ``keys`` this request sets: changed on a stored record, given a value on a new one."""
    state = sa_inspect(record)
    if not state.persistent:
        return [key for key in keys if getattr(record, key, None) not in (None, [], {})]
    return [key for key in keys if state.attrs[key].history.has_changes()]
