"""What the home page shows a user (SPEC A1): pending work and a business summary, in scope.

Pending work is the records on which the transition table offers the user an action now
(the same state, role and scope rules as ``workflow.available_actions``), counted per state.
Spot checks add dated items (``spot_check_flags``): an enterprise's self-checks due this year,
the count of listed mines in an authority's scope that have not filed once the deadline has
passed, and the rectifications past their deadline. Certification adds its own
(``certification_flags``): evaluations past their working-day limit, certificates without a yearly
surveillance audit, and the enterprise's certificates due for re-evaluation.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import func, select

from app.extensions import db
from app.services import scoping, selfchecks, workflow


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


# An enterprise has a handful of mines; the home page lists at most this many due self-checks.
MAX_DUE_SELF_CHECKS = 50


@dataclass(frozen=True)
class SpotCheckFlags:
    """The spot-check items of the home page (SPEC H1, H5)."""

    year: int
    deadline: datetime.date
    # Enterprise: its listed mines without a submitted self-check of this year.
    due_self_checks: list[selfchecks.MissingMine] = field(default_factory=list)
    # Authorities, once the deadline has passed: the listed mines in scope that have not filed.
    missing_self_checks: Optional[int] = None
    # Everyone who follows spot checks: mines whose rectification deadline has passed.
    overdue_rectifications: Optional[int] = None

    @property
    def deadline_passed(self) -> bool:
        return selfchecks._today() > self.deadline


def spot_check_flags(user, with_rectifications: bool) -> SpotCheckFlags:
    """``with_rectifications``: whether the user may list spot checks (the view decides)."""
    year = selfchecks._today().year
    deadline = selfchecks.deadline(year)
    roles = _role_names(user)
    due = (selfchecks.missing_self_checks(user, year, limit=MAX_DUE_SELF_CHECKS)
           if "enterprise" in roles else [])
    missing = (selfchecks.count_missing(user, year)
               if selfchecks.is_staff(user) and selfchecks._today() > deadline else None)
    overdue = selfchecks.overdue_rectification_count(user) if with_rectifications else None
    return SpotCheckFlags(year, deadline, due, missing, overdue)


# An enterprise holds a handful of certificates; the home page names at most this many renewals.
MAX_RENEWALS_DUE = 20


@dataclass(frozen=True)
class CertificationFlags:
    """The certification items of the home page (SPEC G2, G4)."""

    overdue_evaluations: int = 0
    missing_audits: int = 0
    renewals_due: list = field(default_factory=list)


def certification_flags(user, with_evaluations: bool, with_certificates: bool) -> CertificationFlags:
    """``with_evaluations`` / ``with_certificates``: whether the user may list those records."""
    from app.models import CertificationCertificate
    from app.services import certification, surveillance

    overdue = certification.overdue_count(user) if with_evaluations else 0
    missing = surveillance.missing_audit_count(user) if with_certificates else 0
    renewals = []
    if with_certificates and "enterprise" in _role_names(user):
        certificates = db.session.scalars(
            select(CertificationCertificate)
            .where(scoping.scope_filter(CertificationCertificate, user), CertificationCertificate.status == "valid")
            .order_by(CertificationCertificate.valid_until).limit(MAX_RENEWALS_DUE)).all()
        renewals = [certificate for certificate in certificates if surveillance.renewal_due(certificate)]
    return CertificationFlags(overdue, missing, renewals)
