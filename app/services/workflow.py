"""The transition engine: the one place where any workflow status changes.

``TRANSITIONS`` is the table: (workflow, from state, action, roles, to state, guard, effect).
``available_actions(record, user)`` gives the buttons a user sees; ``transition(record,
action, user, comment)`` performs one step: it locks the row (``SELECT … FOR UPDATE`` on
PostgreSQL), checks state, role, scope, comment and guard, writes the new status with a
compare-and-set UPDATE, and adds a TransitionLog row, all in one transaction.

Nothing else may write a status: ``install_status_guard`` makes the ORM refuse any flush or
UPDATE statement that changes a workflow state column outside ``transition``.
"""
from __future__ import annotations

import datetime
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

from flask_babel import gettext as _
from sqlalchemy import event, inspect as sa_inspect, select, update
from sqlalchemy.orm import Session, lazyload, selectinload

from app.models.states import ACTIONS, STATES
# The labels are data of the models; the services and screens read them from here too.
from app.models.states import action_label  # noqa: F401
from app.models.states import state_label as workflow_state_label  # noqa: F401
from app.services import audit, scoping
from app.services.exceptions import (AccessDenied, CommentMissing, NotFound, StatusWriteForbidden,
                                     TransitionRefused)

Guard = Callable[[Any, Any, Optional[str]], None]
Effect = Callable[[Any, Any, Optional[str]], dict]
_WRITING_FLAG = "gm_transition_in_progress"


@dataclass(frozen=True)
class Workflow:
    name: str
    model_path: str  # "module:Class", resolved lazily (models import this module)
    initial: str
    state_attr: str = "status"
    # The states in which a record's own form may change it (its edit page, a REST PUT) and in
    # which it may be deleted; None: the state does not limit it (the view's rules still may).
    # The list's edit and delete icons, the detail page's buttons, the routes and the services'
    # record rules all read these (app.services.records.change_refusal).
    editable: Optional[frozenset[str]] = None
    deletable: Optional[frozenset[str]] = None

    # The states and actions with their labels are data in app.models.states.
    @property
    def states(self) -> dict[str, Any]:
        return STATES[self.name]

    @property
    def actions(self) -> dict[str, Any]:
        return ACTIONS[self.name]

    @property
    def model(self) -> type:
        module, cls = self.model_path.split(":")
        return getattr(__import__(module, fromlist=[cls]), cls)


@dataclass(frozen=True)
class Transition:
    workflow: str
    source: str
    action: str
    roles: frozenset[str]
    target: str
    comment_required: bool = False
    # The comment is the reviewer's opinion (审查意见, seed 001 二(二): the county and the city
    # 出具意见): required, asked for and refused as an opinion, listed in the record's opinions.
    opinion: bool = False
    # Raises TransitionRefused with a translated reason when the step may not happen now.
    guard: Optional[Guard] = None
    # Extra column values written together with the status (timestamps, decision text).
    effect: Optional[Effect] = None
    # Bootstrap button style for the UI.
    style: str = field(default="primary")
    # The page where the step is taken, when it is not a button on the record's own page (the
    # collective review's decisions, the public notice): the endpoint to link to.
    screen: Optional[str] = None
    # Whether a record in the source state waits for this step (the home page's pending work);
    # False for steps that are possible at any time but expected of nobody (removing a listed
    # mine, releasing one from the anomaly list, withdrawing what one has submitted: a record
    # waiting for the reviewer is not the enterprise's work).
    pending: bool = True


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


# ---------------------------------------------------------------------------
# Guards and effects of the pre-declaration workflow (seed 000 §3.1)
# ---------------------------------------------------------------------------
def _mine_belongs_to_enterprise(record, user, comment) -> None:
    if record.mine is None or record.mine.enterprise_id != record.enterprise_id:
        raise TransitionRefused(_("The mining licence is not one of this enterprise's mines."))


def _predeclaration_submittable(record, user, comment) -> None:
    """Submit: the mine is the enterprise's, and the photo checklist is complete (SPEC C2)."""
    _mine_belongs_to_enterprise(record, user, comment)
    from app.services import fraud, photo_checklist

    fraud.check_submittable(record, user, comment)
    photo_checklist.check_complete(record, user, comment)


def _stamp_submitted(record, user, comment) -> dict:
    return {"submitted_at": _now()}


def _stamp_withdrawn(record, user, comment) -> dict:
    return {"submitted_at": None}


def _stamp_decision(record, user, comment) -> dict:
    return {"decided_at": _now(), "decision_comment": comment or None}


def _service(path: str):
    """A guard or effect living in a service module ("module:function"), looked up when the step
    is attempted (the services import this module)."""
    module, name = path.split(":")

    def call(record, user, comment):
        return getattr(__import__(f"app.services.{module}", fromlist=[name]), name)(record, user, comment)

    call.__name__ = name
    return call


def _application_guard(name: str) -> Guard:
    return _service(f"applications:{name}")


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------
WORKFLOWS: dict[str, Workflow] = {
    wf.name: wf
    for wf in (
        # Changed and deleted only while 未提交 (C3).
        Workflow(
            name="predeclaration",
            model_path="app.models.predeclaration:PreDeclaration",
            initial="draft",
            editable=frozenset({"draft"}),
            deletable=frozenset({"draft"}),
        ),
        # Seed 000 §3.2-3.6, seed 001 §一(二)1: county initial review → city review and
        # recommendation → province acceptance; any reviewer may return it for revision.
        # D4: changed while 未提交 or returned for revision; deleted only while 未提交 (a returned
        # one carries reviewers' opinions).
        Workflow(
            name="application",
            model_path="app.models.application:Application",
            initial="draft",
            editable=frozenset({"draft", "returned"}),
            deletable=frozenset({"draft"}),
        ),
        # An objection raised during the public notice (SPEC E5).
        # A recorded objection is resolved (upheld or dismissed), never edited.
        Workflow(
            name="objection",
            model_path="app.models.review:Objection",
            initial="open",
            editable=frozenset(),
        ),
        # The directory (SPEC F1): an entry is listed, later perhaps removed (有进有出).
        Workflow(
            name="directory",
            model_path="app.models.directory:DirectoryEntry",
            initial="listed",
        ),
        # A province's recommendation of a provincial entry to the national list (SPEC E6).
        Workflow(
            name="recommendation",
            model_path="app.models.directory:NationalRecommendation",
            initial="recommended",
        ),
        # The anomaly list (SPEC F4).
        # An entry of the anomaly list is released, never edited.
        Workflow(
            name="anomaly",
            model_path="app.models.directory:AnomalyEntry",
            initial="listed",
            editable=frozenset(),
        ),
        # Third-party agencies (SPEC E3): disqualification for fraud is final.
        Workflow(
            name="agency",
            model_path="app.models.agency:Agency",
            initial="active",
        ),
        # Demonstration zones (SPEC E8): county government or large SOE -> city -> province.
        Workflow(
            name="demozone",
            model_path="app.models.demozone:DemoZoneApplication",
            initial="draft",
            editable=frozenset({"draft", "returned"}),
            deletable=frozenset({"draft", "returned"}),
        ),
        # Spot checks (SPEC H1-H6, seed 001 §二, seed 004): the enterprise's yearly self-check,
        # reported problems, the authority's campaign with its draw, and each drawn mine's record.
        Workflow(
            name="self_check",
            model_path="app.models.spotcheck:SelfCheck",
            initial="draft",
            editable=frozenset({"draft", "returned"}),
            deletable=frozenset({"draft", "returned"}),
        ),
        Workflow(
            name="problem_lead",
            model_path="app.models.spotcheck:ProblemLead",
            initial="open",
            editable=frozenset({"open"}),
            deletable=frozenset({"open"}),
        ),
        Workflow(
            name="spot_check_campaign",
            model_path="app.models.spotcheck:SpotCheckCampaign",
            initial="planned",
            editable=frozenset({"planned"}),
            deletable=frozenset({"planned"}),
        ),
        # The team fills in the record before it is submitted, and the re-check while the mine
        # rectifies; a verification record is never deleted.
        Workflow(
            name="spot_check",
            model_path="app.models.spotcheck:SpotCheck",
            initial="assigned",
            editable=frozenset({"assigned", "rectifying"}),
            deletable=frozenset(),
        ),
        # Green-mine certification (SPEC G1-G4, seed 002 §六): the enterprise applies to a
        # certification body, which accepts it (the 20 working days start), may ask for
        # rectification (the clock stops), and certifies with a grade or refuses.
        Workflow(
            name="certification",
            model_path="app.models.certification:CertificationApplication",
            initial="draft",
            editable=frozenset({"draft", "returned"}),
            deletable=frozenset({"draft"}),
        ),
        # The certificate (G3, G4): valid until revoked (expiry is computed from its dates).
        Workflow(
            name="certification_certificate",
            model_path="app.models.certification:CertificationCertificate",
            initial="valid",
        ),
        # A surveillance audit (G4) ends with one outcome, which changes the certificate.
        Workflow(
            name="surveillance",
            model_path="app.models.certification:SurveillanceAudit",
            initial="planned",
            editable=frozenset({"planned"}),
            deletable=frozenset({"planned"}),
        ),
    )
}

TRANSITIONS: tuple[Transition, ...] = (
    Transition("predeclaration", "draft", "submit", frozenset({"enterprise"}), "submitted",
               guard=_predeclaration_submittable, effect=_stamp_submitted),
    Transition("predeclaration", "submitted", "withdraw", frozenset({"enterprise"}), "draft",
               effect=_stamp_withdrawn, style="default", pending=False),
    Transition("predeclaration", "submitted", "approve", frozenset({"province"}), "passed",
               effect=_stamp_decision, style="success"),
    Transition("predeclaration", "submitted", "reject", frozenset({"province"}), "rejected",
               comment_required=True, effect=_stamp_decision, style="danger"),
    Transition("predeclaration", "rejected", "revise", frozenset({"enterprise"}), "draft",
               style="default"),
    # The application. Submitting needs an open window (D9) and a complete form; withdrawing is
    # possible only before the county has acted (D5); the province acts only on what the county
    # and the city have passed (D6), which the states themselves guarantee.
    Transition("application", "draft", "submit", frozenset({"enterprise"}), "submitted",
               guard=_application_guard("check_submittable"), effect=_stamp_submitted),
    Transition("application", "returned", "submit", frozenset({"enterprise"}), "submitted",
               guard=_application_guard("check_submittable"), effect=_stamp_submitted),
    Transition("application", "submitted", "withdraw", frozenset({"enterprise"}), "draft",
               effect=_stamp_withdrawn, style="default", pending=False),
    # Every decision of the county's initial review, the city's review and the province's
    # acceptance carries the reviewer's opinion (seed 001 二(二): applications without the county's
    # and the city's opinion are not accepted): passing as much as returning.
    Transition("application", "submitted", "county_pass", frozenset({"county"}), "county_passed",
               comment_required=True, opinion=True, style="success"),
    Transition("application", "submitted", "return", frozenset({"county"}), "returned",
               comment_required=True, opinion=True, style="warning"),
    Transition("application", "county_passed", "city_recommend", frozenset({"city"}), "city_recommended",
               comment_required=True, opinion=True, style="success"),
    Transition("application", "county_passed", "return", frozenset({"city"}), "returned",
               comment_required=True, opinion=True, style="warning"),
    Transition("application", "city_recommended", "province_accept", frozenset({"province"}), "accepted",
               comment_required=True, opinion=True, style="success"),
    Transition("application", "city_recommended", "return", frozenset({"province"}), "returned",
               comment_required=True, opinion=True, style="warning"),
    # Evaluation (E2, E3): the enterprise's self-evaluation, the province's random draw of an
    # agency (recorded for replay), the agency's scores and report.
    Transition("application", "accepted", "submit_self_evaluation", frozenset({"enterprise"}), "self_evaluated",
               guard=_service("evaluation:check_self_evaluation_complete")),
    Transition("application", "self_evaluated", "assign_agency", frozenset({"province"}), "under_assessment",
               guard=_service("agencies:check_drawable"), effect=_service("agencies:draw_for")),
    Transition("application", "under_assessment", "submit_assessment", frozenset({"agency"}), "assessed",
               guard=_service("evaluation:check_assessment_complete")),
    # Collective review (E4): the steps follow the meeting's recorded decision; a new or
    # expanded mine that fails may be given a rectification first (E7).
    Transition("application", "assessed", "review_pass", frozenset({"province"}), "review_passed",
               guard=_service("selection:check_meeting_passed"), style="success", screen="ReviewMeetingView.list"),
    Transition("application", "assessed", "review_fail", frozenset({"province"}), "not_selected",
               comment_required=True, guard=_service("selection:check_meeting_failed"),
               effect=_service("selection:on_review_failed"), style="danger", screen="ReviewMeetingView.list"),
    Transition("application", "assessed", "order_rectification", frozenset({"province"}), "rectifying",
               comment_required=True, guard=_service("selection:check_rectification_allowed"), style="warning",
               screen="ReviewMeetingView.list"),
    Transition("application", "rectifying", "submit_rectification", frozenset({"enterprise"}), "under_assessment"),
    # Public notice (E5) and listing (E6, F1).
    Transition("application", "review_passed", "start_notice", frozenset({"province"}), "in_notice",
               guard=_service("selection:check_in_a_notice"), screen="PublicNoticeView.publish"),
    Transition("application", "in_notice", "list", frozenset({"province"}), "listed",
               guard=_service("selection:check_listable"), effect=_service("directory:list_application"),
               style="success"),
    Transition("application", "in_notice", "reject_after_notice", frozenset({"province"}), "not_selected",
               comment_required=True, guard=_service("selection:check_objection_upheld"), style="danger"),
    # A finding of falsified materials (seed 001 三(三): 取消遴选资格) ends the application in any state
    # that is not final; the step is taken only by recording the finding (app.services.fraud), on
    # its screen, which names the reason and the decision document.
    *(Transition("application", source, "disqualify", frozenset({"national", "province"}), "disqualified",
                 comment_required=True, guard=_service("fraud:check_finding_under_way"), style="danger",
                 screen="FraudFindingView.add", pending=False)
      for source in ("draft", "submitted", "returned", "county_passed", "city_recommended", "accepted",
                     "self_evaluated", "under_assessment", "assessed", "rectifying", "review_passed",
                     "in_notice")),
    Transition("objection", "open", "uphold", frozenset({"province"}), "upheld", comment_required=True,
               effect=_stamp_decision, style="danger"),
    Transition("objection", "open", "dismiss", frozenset({"province"}), "dismissed", comment_required=True,
               effect=_stamp_decision),
    # The directory: removal by the authority that keeps the entry's level (directory.KEEPERS),
    # with reason and decision.
    Transition("directory", "listed", "remove", frozenset({"national", "province", "city", "county"}), "removed",
               comment_required=True, guard=_service("directory:check_removable"),
               effect=_service("directory:stamp_removal"), style="danger", pending=False),
    Transition("recommendation", "recommended", "accept", frozenset({"national"}), "accepted",
               effect=_service("directory:list_nationally"), style="success"),
    Transition("recommendation", "recommended", "decline", frozenset({"national"}), "declined",
               comment_required=True, effect=_stamp_decision, style="danger"),
    Transition("anomaly", "listed", "release", frozenset({"province"}), "released", comment_required=True,
               effect=_stamp_decision, pending=False),
    # An agency found to have cheated leaves every later draw (E3); the comment is the reason.
    Transition("agency", "active", "disqualify", frozenset({"national", "province"}), "disqualified",
               comment_required=True, effect=_service("agencies:stamp_disqualification"), style="danger",
               pending=False),
    # Demonstration zones (E8).
    Transition("demozone", "draft", "submit", frozenset({"county", "enterprise"}), "submitted",
               effect=_stamp_submitted),
    Transition("demozone", "returned", "submit", frozenset({"county", "enterprise"}), "submitted",
               effect=_stamp_submitted),
    Transition("demozone", "submitted", "city_pass", frozenset({"city"}), "city_passed", style="success"),
    Transition("demozone", "submitted", "return", frozenset({"city"}), "returned", comment_required=True,
               style="warning"),
    Transition("demozone", "city_passed", "confirm", frozenset({"province"}), "confirmed",
               effect=_stamp_decision, style="success"),
    Transition("demozone", "city_passed", "return", frozenset({"province"}), "returned", comment_required=True,
               style="warning"),
    # Spot checks (H1-H5). The organiser of a campaign decides its results
    # (spotchecks.check_organiser); a removal takes the entry off the directory in the same
    # transaction, with the campaign as the reason.
    Transition("self_check", "draft", "submit", frozenset({"enterprise"}), "submitted",
               guard=_service("selfchecks:check_self_check_complete"), effect=_stamp_submitted),
    Transition("self_check", "returned", "submit", frozenset({"enterprise"}), "submitted",
               guard=_service("selfchecks:check_self_check_complete"), effect=_stamp_submitted),
    Transition("self_check", "submitted", "return", frozenset({"county", "city", "province"}), "returned",
               comment_required=True, effect=_stamp_decision, style="warning", pending=False),
    Transition("problem_lead", "open", "close", frozenset({"national", "province", "city", "county"}), "closed",
               comment_required=True, effect=_stamp_decision, pending=False),
    Transition("spot_check_campaign", "planned", "draw", frozenset({"national", "province", "city"}), "drawn",
               guard=_service("spotchecks:check_drawable"), effect=_service("spotchecks:draw_campaign")),
    Transition("spot_check_campaign", "drawn", "close", frozenset({"national", "province", "city"}), "closed",
               guard=_service("spotchecks:check_closable"), effect=_stamp_decision, style="default"),
    Transition("spot_check", "assigned", "submit_record", frozenset({"inspector"}), "recorded",
               guard=_service("spotchecks:check_record_submittable"), effect=_service("spotchecks:stamp_recorded")),
    Transition("spot_check", "recorded", "retain", frozenset({"national", "province", "city"}), "retained",
               guard=_service("spotchecks:check_decidable"), effect=_stamp_decision, style="success"),
    Transition("spot_check", "recorded", "order_rectification", frozenset({"national", "province", "city"}),
               "rectifying", comment_required=True, guard=_service("spotchecks:check_rectification_orderable"),
               effect=_service("spotchecks:stamp_rectification_ordered"), style="warning"),
    Transition("spot_check", "recorded", "remove", frozenset({"national", "province", "city"}), "removed",
               comment_required=True, guard=_service("spotchecks:check_decidable"),
               effect=_service("spotchecks:remove_from_directory"), style="danger"),
    # The follow-up of a rectification: the team re-checks the mine, its leader submits the
    # re-check, every member confirms it, then the organiser decides.
    Transition("spot_check", "rectifying", "submit_recheck", frozenset({"inspector"}), "rechecked",
               guard=_service("spotchecks:check_recheck_submittable"), effect=_service("spotchecks:stamp_rechecked")),
    Transition("spot_check", "rechecked", "pass_recheck", frozenset({"national", "province", "city"}), "retained",
               comment_required=True, guard=_service("spotchecks:check_recheck_decidable"), effect=_stamp_decision,
               style="success"),
    Transition("spot_check", "rechecked", "fail_recheck", frozenset({"national", "province", "city"}), "removed",
               comment_required=True, guard=_service("spotchecks:check_recheck_decidable"),
               effect=_service("spotchecks:remove_from_directory"), style="danger"),
    # Certification (G1-G4). The certification body's certifiers act on the applications made to
    # their body (scoping); the guards and effects live in app.services.certification (the
    # application and its clock) and app.services.surveillance (grades, certificates, audits).
    Transition("certification", "draft", "submit", frozenset({"enterprise"}), "submitted",
               guard=_service("certification:check_submittable"), effect=_stamp_submitted),
    Transition("certification", "returned", "submit", frozenset({"enterprise"}), "submitted",
               guard=_service("certification:check_submittable"), effect=_stamp_submitted),
    Transition("certification", "submitted", "withdraw", frozenset({"enterprise"}), "draft",
               effect=_stamp_withdrawn, style="default", pending=False),
    Transition("certification", "submitted", "return", frozenset({"certifier"}), "returned",
               comment_required=True, style="warning"),
    Transition("certification", "submitted", "reject", frozenset({"certifier"}), "rejected",
               comment_required=True, effect=_stamp_decision, style="danger"),
    Transition("certification", "submitted", "accept", frozenset({"certifier"}), "under_evaluation",
               guard=_service("certification:check_acceptable"), effect=_service("certification:stamp_accepted"),
               style="success"),
    Transition("certification", "under_evaluation", "request_rectification", frozenset({"certifier"}),
               "rectifying", comment_required=True, effect=_service("certification:start_pause"), style="warning"),
    Transition("certification", "rectifying", "submit_rectification", frozenset({"enterprise"}),
               "under_evaluation", guard=_service("certification:check_rectification_submittable"),
               effect=_service("certification:end_pause")),
    Transition("certification", "under_evaluation", "certify", frozenset({"certifier"}), "certified",
               guard=_service("surveillance:check_certifiable"), effect=_service("surveillance:certify"),
               style="success"),
    Transition("certification", "under_evaluation", "refuse", frozenset({"certifier"}), "not_certified",
               comment_required=True, guard=_service("certification:check_decidable"),
               effect=_service("certification:stamp_refused"), style="danger"),
    Transition("certification_certificate", "valid", "revoke", frozenset({"certifier"}), "revoked",
               comment_required=True, effect=_service("surveillance:stamp_revoked"), style="danger", pending=False),
    Transition("surveillance", "planned", "maintain", frozenset({"certifier"}), "maintained",
               guard=_service("surveillance:check_maintainable"), effect=_service("surveillance:maintain"),
               style="success"),
    Transition("surveillance", "planned", "upgrade", frozenset({"certifier"}), "upgraded",
               guard=_service("surveillance:check_upgradable"), effect=_service("surveillance:upgrade")),
    Transition("surveillance", "planned", "downgrade", frozenset({"certifier"}), "downgraded",
               comment_required=True, guard=_service("surveillance:check_downgradable"),
               effect=_service("surveillance:downgrade"), style="warning"),
    Transition("surveillance", "planned", "revoke", frozenset({"certifier"}), "revoked",
               comment_required=True, guard=_service("surveillance:check_revocable"),
               effect=_service("surveillance:revoke"), style="danger"),
)

_BY_KEY: dict[tuple[str, str, str], Transition] = {
    (t.workflow, t.source, t.action): t for t in TRANSITIONS
}


def _check_table() -> None:
    """The table must only name declared workflows, states and actions (checked at import)."""
    for wf in WORKFLOWS.values():
        for states in (wf.editable, wf.deletable):
            assert states is None or states <= set(wf.states), wf
    for t in TRANSITIONS:
        wf = WORKFLOWS[t.workflow]
        assert t.source in wf.states and t.target in wf.states, t
        assert t.action in wf.actions, t
        assert t.comment_required or not t.opinion, t  # an opinion is always required
    assert len(_BY_KEY) == len(TRANSITIONS), "duplicate (workflow, state, action) in TRANSITIONS"


_check_table()


# ---------------------------------------------------------------------------
# Lookups and labels
# ---------------------------------------------------------------------------
def workflow_of(record_or_model) -> Workflow:
    model = record_or_model if isinstance(record_or_model, type) else type(record_or_model)
    name = getattr(model, "workflow_name", None)
    if name not in WORKFLOWS:
        raise LookupError(f"{model.__name__} has no workflow")
    return WORKFLOWS[name]


def workflow_models() -> dict[type, Workflow]:
    return {wf.model: wf for wf in WORKFLOWS.values()}


_BY_MODEL: dict[type, Workflow] = {}


def workflows_by_model() -> dict[type, Workflow]:
    """``workflow_models()``, built once (the lists ask it for every row)."""
    if not _BY_MODEL:
        _BY_MODEL.update(workflow_models())
    return _BY_MODEL


def state_label(record, state: str) -> str:
    return workflow_state_label(workflow_of(record).name, state)


def state_allows(record, action: str) -> bool:
    """Whether the workflow lets ``record``, in its stored state, be changed through its form
    (``scoping.EDIT``) or deleted (``scoping.DELETE``); a record without a workflow: yes."""
    from app.services import records

    wf = workflows_by_model().get(type(record))
    if wf is None:
        return True
    states = wf.deletable if action == scoping.DELETE else wf.editable
    return states is None or records.committed(record, wf.state_attr) in states


def _user_role_names(user) -> list[str]:
    return [role.name for role in getattr(user, "roles", ())]


def _acting_role(user, transition: Transition) -> Optional[str]:
    for name in _user_role_names(user):
        if name in transition.roles:
            return name
    return None


def available_actions(record, user) -> list[Transition]:
    """The steps ``user`` may take on ``record`` now: state, role and scope allow them.

    Guards are evaluated when the step is attempted, so that the refusal can say what is
    missing (a button is shown; pressing it explains why not yet).
    """
    wf = workflow_of(record)
    state = getattr(record, wf.state_attr)
    if not scoping.can_access(user, record, scoping.ACT):
        return []
    return [
        t
        for t in TRANSITIONS
        if t.workflow == wf.name and t.source == state and _acting_role(user, t) is not None
    ]


# ---------------------------------------------------------------------------
# The one writer
# ---------------------------------------------------------------------------
@contextmanager
def _status_writes_allowed(session: Session) -> Iterator[None]:
    session.info[_WRITING_FLAG] = True
    try:
        yield
    finally:
        session.info.pop(_WRITING_FLAG, None)


def transition(record, action: str, user, comment: Optional[str] = None, session: Optional[Session] = None,
               within: bool = False):
    """Perform ``action`` on ``record`` as ``user``. Returns the TransitionLog row.

    Raises TransitionRefused, AccessDenied or NotFound with a translated message; on any
    refusal nothing is written.

    ``within``: the step is part of the caller's transaction (the effect of another step: a spot
    check's removal takes the entry off the directory); it is flushed, and the caller commits or
    rolls back everything together.
    """
    from app.extensions import db
    from app.models.log import TransitionLog

    session = session or db.session
    wf = workflow_of(record)
    model = type(record)
    pk = sa_inspect(record).identity
    if pk is None:
        raise NotFound(_("The record does not exist."))
    comment = (comment or "").strip() or None
    try:
        # Lock only the record's own row: no eager joins (FOR UPDATE cannot apply to outer joins).
        query = (
            select(model).filter_by(id=pk[0]).options(lazyload("*")).execution_options(populate_existing=True)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(of=model)
        locked = session.execute(query).scalar_one_or_none()
        if locked is None:
            raise NotFound(_("The record does not exist."))
        current = getattr(locked, wf.state_attr)
        step = _BY_KEY.get((wf.name, current, action))
        if step is None:
            raise TransitionRefused(
                _(
                    "“%(action)s” is not possible while the record is “%(state)s”.",
                    action=action_label(wf.name, action),
                    state=workflow_state_label(wf.name, current),
                )
            )
        role = _acting_role(user, step)
        if role is None:
            raise AccessDenied(
                _("Your role may not “%(action)s” this record.", action=action_label(wf.name, action))
            )
        scoping.check_access(user, locked, scoping.ACT)
        if step.comment_required and not comment:
            raise CommentMissing(step)
        if step.guard is not None:
            step.guard(locked, user, comment)
        values: dict[str, Any] = {wf.state_attr: step.target}
        if hasattr(model, "updated_at"):
            values["updated_at"] = _now()
        if step.effect is not None:
            values.update(step.effect(locked, user, comment))
        state_column = getattr(model, wf.state_attr)
        with _status_writes_allowed(session):
            result = session.execute(
                update(model)
                .where(model.id == pk[0], state_column == current)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        if result.rowcount != 1:
            raise TransitionRefused(_("The record was changed by someone else in the meantime; please reload it."))
        audit.record_update(session, locked, {key: (getattr(locked, key), value) for key, value in values.items()},
                            user)
        log = TransitionLog(
            workflow=wf.name,
            record_type=model.__name__,
            record_id=pk[0],
            record_label=audit.record_label(locked),
            action=action,
            from_state=current,
            to_state=step.target,
            user_id=user.id,
            username=user.username,
            role=role,
            region_code=getattr(user, "region_code", None),
            comment=comment,
        )
        session.add(log)
        # The applicant and the next reviewers are told, in the same transaction (SPEC I3).
        from app.services import notifications

        notifications.on_transition(session, locked, log, user)
        if within:
            session.flush()
        else:
            session.commit()
    except Exception:
        if not within:
            session.rollback()
        raise
    session.refresh(record)
    return log


def history(record) -> list:
    """The record's steps, oldest first (process monitoring)."""
    from app.extensions import db
    from app.models.log import TransitionLog

    return (
        db.session.query(TransitionLog)
        .filter(TransitionLog.record_type == type(record).__name__, TransitionLog.record_id == record.id)
        .options(selectinload(TransitionLog.user))  # the operators' names, in one statement
        .order_by(TransitionLog.id)
        .all()
    )


def is_opinion(log) -> bool:
    """Whether the logged step ``log`` was a review decision whose comment is the reviewer's
    opinion (a table row with ``opinion``)."""
    step = _BY_KEY.get((log.workflow, log.from_state, log.action))
    return step is not None and step.opinion


def opinions(record) -> list:
    """The reviewers' opinions on ``record`` (审查意见), oldest first: the logged review decisions
    (passing, returning) of every level and every round, each with its operator, role and time."""
    return [log for log in history(record) if is_opinion(log)]


# ---------------------------------------------------------------------------
# The guard that keeps every other code path from writing a status
# ---------------------------------------------------------------------------
def install_status_guard(session_class: type) -> None:
    """Refuse ORM flushes and UPDATE statements that write a workflow state elsewhere."""
    if getattr(session_class, "_gm_status_guard", False):
        return
    session_class._gm_status_guard = True

    @event.listens_for(session_class, "before_flush")
    def _refuse_status_writes(session, flush_context, instances):
        if session.info.get(_WRITING_FLAG):
            return
        models = workflow_models()
        for obj in session.new:
            wf = models.get(type(obj))
            if wf is not None:
                value = getattr(obj, wf.state_attr)
                if value is None:
                    setattr(obj, wf.state_attr, wf.initial)
                elif value != wf.initial:
                    raise StatusWriteForbidden(
                        f"{type(obj).__name__} must be created in state {wf.initial!r}, not {value!r}"
                    )
        for obj in session.dirty:
            wf = models.get(type(obj))
            if wf is not None and sa_inspect(obj).attrs[wf.state_attr].history.has_changes():
                raise StatusWriteForbidden(
                    f"{type(obj).__name__}.{wf.state_attr} may only change through workflow.transition()"
                )

    @event.listens_for(session_class, "do_orm_execute")
    def _refuse_status_updates(orm_execute_state):
        if not orm_execute_state.is_update or orm_execute_state.session.info.get(_WRITING_FLAG):
            return
        statement = orm_execute_state.statement
        table = getattr(statement, "table", None)
        for model, wf in workflow_models().items():
            if table is not None and table.name == model.__table__.name:
                keys = {getattr(k, "key", k) for k in (getattr(statement, "_values", None) or {})}
                if wf.state_attr in keys:
                    raise StatusWriteForbidden(
                        f"{model.__name__}.{wf.state_attr} may only change through workflow.transition()"
                    )
