"""What the home page shows a user (SPEC A1): pending work and a business summary, in scope.

Pending work is the records on which the transition table offers the user an action now
(the same state, role and scope rules as ``workflow.available_actions``), counted per state.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.services import scoping, workflow


@dataclass(frozen=True)
class StateCount:
    workflow: str
    state: str
    label: str
    count: int


def _role_names(user) -> set[str]:
    return {role.name for role in getattr(user, "roles", ())}


def _counts_by_state(wf: workflow.Workflow, user, states=None) -> dict[str, int]:
    model = wf.model
    state_column = getattr(model, wf.state_attr)
    query = select(state_column, func.count()).where(scoping.scope_filter(model, user)).group_by(state_column)
    if states is not None:
        query = query.where(state_column.in_(sorted(states)))
    return {state: count for state, count in db.session.execute(query).all()}


def pending_work(user) -> list[StateCount]:
    """Per workflow state: how many records in scope wait for an action of this user's roles."""
    roles = _role_names(user)
    result = []
    for wf in workflow.WORKFLOWS.values():
        states = {t.source for t in workflow.TRANSITIONS if t.workflow == wf.name and t.roles & roles and t.pending}
        if not states:
            continue
        counts = _counts_by_state(wf, user, states)
        result.extend(
            StateCount(wf.name, state, str(wf.states[state]), counts[state])
            for state in wf.states if counts.get(state)
        )
    return result


def business_summary(user) -> dict[str, list[StateCount]]:
    """Per workflow, the records in the user's scope by state (an enterprise: its own)."""
    summary = {}
    for wf in workflow.WORKFLOWS.values():
        counts = _counts_by_state(wf, user)
        summary[wf.name] = [StateCount(wf.name, state, str(label), counts.get(state, 0))
                            for state, label in wf.states.items()]
    return summary
