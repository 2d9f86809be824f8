"""What a form or body changed on a record, and what the record held before: the record rules
of every service compare the two (a protected column, a state that forbids an edit); and whether
a user may change or delete a record as it stands (``change_refusal``)."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

from flask_babel import gettext as _
from sqlalchemy import inspect as sa_inspect

from app.services.exceptions import AccessDenied, DomainError, ValidationFailed


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


# ---------------------------------------------------------------------------
# May this user edit or delete this record?
# ---------------------------------------------------------------------------
def change_refusal(record, user, action: str, rule: Optional[Callable[[Any, Any, str], None]] = None,
                   in_scope: bool = False) -> Optional[DomainError]:
    """Why ``user`` may not change ``record`` through its form (``scoping.EDIT``) or delete it
    (``scoping.DELETE``), as it is stored; None when he may. The one answer that the list's
    edit and delete icons, the detail page's buttons and the edit and delete routes (screens and
    REST) take; the resource's permission (can_edit, can_delete) is the view's to add.

    - the scope rule (skipped with ``in_scope``: the record was loaded through the scope
      filter, as a list's rows are);
    - for a workflow record, its state: the workflow declares the states in which its records
      are changed and deleted (``app.services.workflow.Workflow.editable`` / ``deletable``);
    - ``rule``: the resource's own condition, a service function (record, user, action) that
      raises DomainError (the view's ``change_rule``). It reads the record and the user only:
      a list asks it for every row, without a query per row.

    The record rules check again what a form or body writes (and what needs a query: a
    catalogue version in use, a mine with records); a refusal there is shown on the form.
    """
    from app.services import scoping, workflow

    if not in_scope and not scoping.can_access(user, record, action):
        return AccessDenied(_("You do not have access to this record."))
    if not workflow.state_allows(record, action):
        state = workflow.state_label(record, committed(record, workflow.workflow_of(record).state_attr))
        if action == scoping.DELETE:
            return ValidationFailed(_("A record that is “%(state)s” cannot be deleted.", state=state))
        return ValidationFailed(_("A record that is “%(state)s” cannot be changed.", state=state))
    if rule is not None:
        try:
            rule(record, user, action)
        except DomainError as exc:
            return exc
    return None


def check_changeable(record, user, action: str, rule: Optional[Callable[[Any, Any, str], None]] = None) -> None:
    """``change_refusal`` as a check: raises its refusal."""
    refusal = change_refusal(record, user, action, rule)
    if refusal is not None:
        raise refusal
