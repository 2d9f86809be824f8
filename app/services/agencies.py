"""Third-party assessment agencies and the recorded random draw (SPEC E3).

The draw (algorithm ``sha256-mod-v1``), run by the province through the workflow step
``assign_agency`` (self_evaluated → under_assessment; ``check_drawable`` is its guard,
``draw_for`` its effect, inside the step's transaction):

1. **Candidates**: every agency with status ``active``, minus the agencies with a declared
   conflict of interest (``AgencyConflict``) with the application's enterprise, ordered by id.
   Disqualified agencies and conflicted agencies are recorded in ``excluded`` as
   ``{"<agency id>": "disqualified" | "conflict"}``.
2. **Seed**: ``secrets.token_hex(16)`` (32 hexadecimal characters, from the OS's CSPRNG).
3. **Pick** (``app.services.draws.pick``): ``h = sha256(f"{seed}:{','.join(str(id) for id in candidates)}".encode("utf-8"))``;
   the agency is ``candidates[int(h.hexdigest(), 16) % len(candidates)]``.
4. **Record**: ``AgencyAssignment(application, agency, algorithm, seed, candidate_ids,
   excluded, drawn_at, drawn_by)``.

Anyone can replay a draw from the record alone (``replay(assignment)``, or by hand with any
sha256 tool) and must get the recorded agency; no candidate → the step is refused.

Disqualification (for fraud) is final: it records when, why and by whom, and the agency is
excluded from every later draw (step 1) and can no longer score.
"""
from __future__ import annotations

import datetime
import secrets
from typing import Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.services import codes, scoping
# The agency draw is ``sha256-mod-v1`` of the project's draws (documented there).
from app.services.draws import PICK_ALGORITHM as ALGORITHM, PICK_FORMULA, pick_steps
from app.services.draws import pick  # noqa: F401  (agencies.pick stays)
from app.services.exceptions import AccessDenied, TransitionRefused, ValidationFailed

ACTIVE, DISQUALIFIED = "active", "disqualified"
STATUS_LABELS = {ACTIVE: _l("In good standing"), DISQUALIFIED: _l("Disqualified")}
EXCLUSION_LABELS = {DISQUALIFIED: _l("disqualified"), "conflict": _l("declared conflict of interest"),
                    "inactive": _l("not active")}
REASON_MAX = 2000


def status_label(status: Optional[str]) -> str:
    return str(STATUS_LABELS.get(status or "", status or ""))


def exclusion_label(reason: str) -> str:
    return str(EXCLUSION_LABELS.get(reason, reason))


# ---------------------------------------------------------------------------
# The draw
# ---------------------------------------------------------------------------
def candidates_for(application) -> tuple[list[int], dict[str, str]]:
    """(candidate agency ids in id order, excluded agency id -> reason) for ``application``."""
    from app.models import Agency, AgencyConflict

    conflicted = set(db.session.scalars(
        select(AgencyConflict.agency_id).where(AgencyConflict.enterprise_id == application.enterprise_id)))
    candidates: list[int] = []
    excluded: dict[str, str] = {}
    for agency in db.session.scalars(select(Agency).order_by(Agency.id)):
        if agency.status == DISQUALIFIED:
            excluded[str(agency.id)] = DISQUALIFIED
        elif agency.status != ACTIVE:
            excluded[str(agency.id)] = "inactive"
        elif agency.id in conflicted:
            excluded[str(agency.id)] = "conflict"
        else:
            candidates.append(agency.id)
    return candidates, excluded


def replay(assignment) -> int:
    """Recompute the draw from the stored record only; returns the agency id it gives."""
    if assignment.algorithm != ALGORITHM:
        raise ValueError(f"unknown draw algorithm {assignment.algorithm!r}")
    return pick(assignment.seed, list(assignment.candidate_ids))


def verify(assignment) -> bool:
    """The recorded agency is the one the recorded seed and candidates give."""
    try:
        return replay(assignment) == assignment.agency_id
    except (ValueError, TypeError):
        return False


def check_drawable(application, user, comment) -> None:
    """Guard of ``assign_agency``: not drawn yet, and at least one candidate."""
    if application.assignment is not None:
        raise TransitionRefused(_("An agency was already drawn for this application."))
    candidates, _excluded = candidates_for(application)
    if not candidates:
        raise TransitionRefused(_("No agency can be drawn: every registered agency is disqualified or has "
                                  "declared a conflict of interest with this enterprise."))


def draw_for(application, user, comment) -> dict:
    """Effect of ``assign_agency``: draw and record, in the step's transaction."""
    from app.models import AgencyAssignment

    check_drawable(application, user, comment)
    candidates, excluded = candidates_for(application)
    seed = secrets.token_hex(16)
    db.session.add(AgencyAssignment(
        application_id=application.id, agency_id=pick(seed, candidates), algorithm=ALGORITHM, seed=seed,
        candidate_ids=candidates, excluded=excluded or None, drawn_by_id=getattr(user, "id", None),
    ))
    return {}


def may_see_draw(user) -> bool:
    """The draw record (seed, candidates, exclusions) is for the authorities: staff in scope,
    the national level and the admin."""
    from app.services.roles import ROLES

    return any(ROLES.get(role.name) is not None and (ROLES[role.name].region_level or ROLES[role.name].scope == "all")
               for role in getattr(user, "roles", ()))


def draw_record(assignment) -> dict:
    """The draw as it can be published and replayed."""
    from app.models import Agency

    names = {a.id: a.name for a in db.session.scalars(select(Agency).where(
        Agency.id.in_([int(i) for i in assignment.candidate_ids] + [int(k) for k in (assignment.excluded or {})])))}
    return {
        "application_id": assignment.application_id,
        "agency_id": assignment.agency_id,
        "agency": assignment.agency.name if assignment.agency else None,
        "algorithm": assignment.algorithm,
        "seed": assignment.seed,
        "candidate_ids": [int(i) for i in assignment.candidate_ids],
        "candidates": [{"id": int(i), "name": names.get(int(i))} for i in assignment.candidate_ids],
        "excluded": [{"id": int(k), "name": names.get(int(k)), "reason": v, "reason_label": exclusion_label(v)}
                     for k, v in sorted((assignment.excluded or {}).items(), key=lambda kv: int(kv[0]))],
        "drawn_at": assignment.drawn_at.isoformat() if assignment.drawn_at else None,
        "replayed_agency_id": _safe_replay(assignment),
        "verified": verify(assignment),
        "formula": PICK_FORMULA,
        # The replay step by step, for the page that shows it to a person (gm/evaluation_draw.html).
        "steps": _safe_steps(assignment),
    }


def _safe_steps(assignment) -> Optional[dict]:
    try:
        return pick_steps(assignment.seed, [int(i) for i in assignment.candidate_ids])
    except (ValueError, TypeError):
        return None


def _safe_replay(assignment) -> Optional[int]:
    try:
        return replay(assignment)
    except (ValueError, TypeError):
        return None


# ---------------------------------------------------------------------------
# Registry, conflicts, disqualification
# ---------------------------------------------------------------------------
def agency_rule(agency, user, action: str) -> None:
    """Name required; credit code checked; the status changes only by ``disqualify``."""
    with db.session.no_autoflush:  # the status change must still be visible in the history
        _agency_rule(agency, user, action)


def _agency_rule(agency, user, action: str) -> None:
    from sqlalchemy import inspect as sa_inspect

    if action == scoping.DELETE:
        from app.models import AgencyAssignment, AgencyConflict

        for model in (AgencyAssignment, AgencyConflict):
            if db.session.scalar(select(model.id).where(model.agency_id == agency.id).limit(1)) is not None:
                raise ValidationFailed(_("This agency has assignments or declared conflicts and cannot be deleted; "
                                         "disqualify it instead."))
        return
    agency.name = (agency.name or "").strip()
    if not agency.name:
        raise ValidationFailed(_("This field is required."), field="name")
    from app.models import Agency

    same_name = select(Agency.id).where(Agency.name == agency.name)
    if agency.id:
        same_name = same_name.where(Agency.id != agency.id)
    if db.session.scalar(same_name) is not None:
        raise ValidationFailed(_("Another agency has this name."), field="name")
    if agency.uscc is not None and str(agency.uscc).strip():
        try:
            agency.uscc = codes.validate_uscc(agency.uscc)
        except ValidationFailed as exc:
            exc.field = "uscc"
            raise
        from app.models import Agency

        other = db.session.scalar(select(Agency.id).where(Agency.uscc == agency.uscc, Agency.id != agency.id)
                                  if agency.id else select(Agency.id).where(Agency.uscc == agency.uscc))
        if other is not None:
            raise ValidationFailed(_("Another agency has this credit code."), field="uscc")
    else:
        agency.uscc = None
    agency.qualification = (agency.qualification or "").strip() or None
    state = sa_inspect(agency)
    # A new agency is registered active (the column's default); afterwards only ``disqualify``
    # changes its status.
    keys = ("status", "disqualified_at", "disqualification_reason", "disqualified_by_id")
    if not state.persistent:
        if agency.status not in (None, ACTIVE) or any(getattr(agency, key) is not None for key in keys[1:]):
            raise ValidationFailed(_("An agency's status changes only by disqualification."), field="status")
    elif any(state.attrs[key].history.has_changes() for key in keys):
        raise ValidationFailed(_("An agency's status changes only by disqualification."), field="status")


def disqualify(agency, user, reason: Optional[str]):
    """Disqualify ``agency`` for fraud (final), through the transition table (the ``agency``
    workflow's ``disqualify`` step, whose effect records when, why and by whom)."""
    from app.services import workflow

    reason = (reason or "").strip()
    if not any(role.name in ("province", "national") for role in getattr(user, "roles", ())):
        raise AccessDenied(_("Your role may not disqualify agencies."))
    if agency.status == DISQUALIFIED:
        raise ValidationFailed(_("The agency is already disqualified."))
    if not reason:
        raise ValidationFailed(_("Give the reason for the disqualification."), field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationFailed(_("The reason is too long."), field="reason")
    try:
        workflow.transition(agency, "disqualify", user, reason)
    except TransitionRefused:
        # Another authority was quicker: the state is no longer "active".
        raise ValidationFailed(_("The agency is already disqualified."))
    return agency


def stamp_disqualification(agency, user, comment) -> dict:
    """Effect of ``disqualify``: when, why and by whom."""
    return {"disqualified_at": datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None),
            "disqualification_reason": comment, "disqualified_by_id": user.id}


def conflict_rule(conflict, user, action: str) -> None:
    """A declared conflict names an agency and an enterprise (once); who declared it is kept."""
    from app.models import AgencyConflict

    if action == scoping.DELETE:
        return
    from app.models import Agency, Enterprise
    from app.services.evaluation import related_row

    with db.session.no_autoflush:
        agency = related_row(conflict, "agency", "agency_id", Agency, "id")
        enterprise = related_row(conflict, "enterprise", "enterprise_id", Enterprise, "id")
    if agency is None:
        raise ValidationFailed(_("This field is required."), field="agency")
    if enterprise is None:
        raise ValidationFailed(_("This field is required."), field="enterprise")
    # The relationships name the rows the ids name: the scope rule reads the enterprise.
    conflict.agency, conflict.enterprise = agency, enterprise
    agency_id, enterprise_id = agency.id, enterprise.id
    query = select(AgencyConflict.id).where(AgencyConflict.agency_id == agency_id,
                                            AgencyConflict.enterprise_id == enterprise_id)
    if conflict.id:
        query = query.where(AgencyConflict.id != conflict.id)
    if db.session.scalar(query) is not None:
        raise ValidationFailed(_("This conflict is already declared."), field="enterprise")
    conflict.reason = (conflict.reason or "").strip() or None
    if conflict.declared_by_id is None:
        conflict.declared_by_id = getattr(user, "id", None)
