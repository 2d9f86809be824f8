"""Green-mine certification applications (SPEC G1, G2; seed 002): creation for the enterprise's
own mine (and the re-evaluation of a certificate), the form's rules, the conditions of
application (§三) and the materials (§四), the guards and effects of the ``certification``
workflow up to the decision, the evaluation clock (20 working days after acceptance, the
rectification not counted: §六.2) and the project team.

The grades, the certificate and the surveillance audits are app.services.surveillance's; the
scores are app.services.evaluation's. Guards and effects have the signature
``(record, user, comment)`` and never commit (app.services.workflow commits the step).
"""
from __future__ import annotations

import datetime
import re
from typing import Optional

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import lazyload, selectinload

from app import clock as local_clock  # `clock` here is the evaluation clock (G2)
from app.extensions import db
from app.models.application import SITUATION_AREAS
from app.models.certification import (CERTIFICATION_CONDITIONS, INITIAL, RENEWAL, TEAM_AUDITOR, TEAM_EXPERT,
                                      TEAM_LEADER, TEAM_ROLES, CertificationApplication, CertificationBody,
                                      CertificationPause, CertificationTeamMember)
from app.services import applications, codes, records, scoping, uploads
from app.services.exceptions import (AccessDenied, ErrorCollector, NotFound, TransitionRefused, ValidationFailed,
                                     on_field)
from app.services.workflow import WORKFLOWS

# Changed by the enterprise only while not submitted or returned for completion; deleted only
# while not submitted (a returned one carries the body's comment): declared with the workflow.
EDITABLE_STATES = WORKFLOWS["certification"].editable
DELETABLE_STATES = WORKFLOWS["certification"].deletable
# States in which an application is still open (not decided either way).
OPEN_STATES = ("draft", "submitted", "returned", "under_evaluation", "rectifying")
# The evaluation runs (its clock counts or is paused).
EVALUATION_STATES = ("under_evaluation", "rectifying")
# The body forms and changes its project team from the submission to the decision.
TEAM_STATES = ("submitted", "under_evaluation", "rectifying")
# The columns only the service and the workflow set: no form or body may change them.
PROTECTED_FIELDS = ("mine_id", "enterprise_id", "region_code", "body_id", "kind", "previous_certificate_id",
                    "status", "submitted_at", "accepted_on", "finished_on", "indicator_version_id", "score",
                    "score_share", "grade", "decided_at", "decision_comment")
# Seed 002 §四: the materials the enterprise must upload (the application form is the record,
# the self-scoring sheet is app.services.evaluation's).
OWNER_TYPE = "CertificationApplication"
# Its material slots (app.services.uploads), in the order of §四; which of them submission
# requires is configured (CERTIFICATION_REQUIRED_MATERIALS, default all three).
MATERIAL_SLOTS = ("self_evaluation_report", "atlas", "supporting")
RECTIFICATION_SLOT = "rectification"
EVALUATION_OWNER, EVALUATION_REPORT = "CertificationEvaluation", "evaluation_report"
# 国家注册认证审查员 certificate numbers as printed (e.g. 2023-N1QMS-1234567): letters, digits, hyphens.
_REGISTRATION_NO = re.compile(r"^[A-Za-z0-9-]{4,32}$")
NAME_MAX, UNIT_MAX, SPECIALTY_MAX = 64, 128, 64


def _today() -> datetime.date:
    """The day of the service (tests walk the calendar by replacing this function)."""
    return local_clock.today()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _strip(value) -> Optional[str]:
    return value.strip() or None if isinstance(value, str) else value


def _has_role(user, name: str) -> bool:
    return any(role.name == name for role in getattr(user, "roles", ()))


def kind_labels() -> dict[str, str]:
    return {INITIAL: _("Initial certification"), RENEWAL: _("Re-evaluation")}


def kind_label(kind: Optional[str]) -> str:
    return kind_labels().get(kind, kind or "")


def team_role_labels() -> dict[str, str]:
    return {TEAM_LEADER: _("Team leader (registered auditor)"), TEAM_AUDITOR: _("Registered auditor"),
            TEAM_EXPERT: _("Technical expert")}


# The four conditions of application of seed 002 §三, in its words.
CONDITION_LABELS = {
    "cond_valid_licence": _l("Holds the licences and permits for lawful operation"),
    "cond_no_penalty": _l("In the last three years, no administrative penalty by the natural-resources, "
                          "ecology and environment or other authorities, or the penalty has been rectified "
                          "(with a certificate of the authority concerned), and no major safety or "
                          "environmental accident"),
    "cond_not_anomalous": _l("Not on the anomaly list of mining-right holders"),
    "cond_no_protected_area": _l("The mining area does not touch any nature protected area"),
}
# The hints of seed 002 附件 绿色矿山建设情况简介, one per area.
SITUATION_HINTS = {
    "situation_environment": _l("Outline the results and highlights in the mine's appearance, the greening of "
                                "the mining area and the like."),
    "situation_development": _l("Outline the green development methods adopted, the advanced technology and "
                                "equipment applied, the protection of the mining area's ecological environment "
                                "and the like."),
    "situation_utilisation": _l("Outline the use of associated resources, whether the three rates (mining "
                                "recovery, processing recovery, comprehensive utilisation) reach their targets "
                                "and the like."),
    "situation_energy": _l("Outline the main results in energy saving, lower consumption and emission reduction."),
    "situation_innovation": _l("Briefly present the innovation, the smart mine and the information systems."),
    "situation_management": _l("Briefly present the main practices in corporate culture, integrity, harmony "
                               "with the local community and the like."),
}


def condition_labels() -> dict[str, str]:
    return {name: str(text) for name, text in CONDITION_LABELS.items()}


# ---------------------------------------------------------------------------
# G1: creation
# ---------------------------------------------------------------------------
def _as_id(value) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if scoping.is_record_id(value) else None
    raw = str(value or "").strip()
    return int(raw) if raw.isdigit() and scoping.is_record_id(int(raw)) else None


def active_bodies() -> list[CertificationBody]:
    """The certification bodies that take applications, by name (the new application's choice)."""
    return list(db.session.scalars(select(CertificationBody).where(CertificationBody.active.is_(True))
                                   .order_by(CertificationBody.name)))


def certificate_id_of(record: CertificationApplication) -> Optional[int]:
    """The id of the certificate a certified application was issued (None before or without)."""
    from app.models import CertificationCertificate

    if record.status != "certified":
        return None
    return db.session.scalar(select(CertificationCertificate.id)
                             .where(CertificationCertificate.certification_id == record.id))


def _enterprise_of(user) -> int:
    enterprise_id = getattr(user, "enterprise_id", None)
    if not enterprise_id or not _has_role(user, "enterprise"):
        raise AccessDenied(_("Only an enterprise account can apply for certification."))
    return enterprise_id


def _active_body(body_id) -> CertificationBody:
    with on_field("body_id"):
        body = db.session.get(CertificationBody, _as_id(body_id)) if _as_id(body_id) else None
        if body is None or not body.active:
            raise ValidationFailed(_("Choose a certification body that takes applications."))
    return body


def _open_application_of(mine_id: int, exclude_id: Optional[int] = None) -> Optional[int]:
    query = select(CertificationApplication.id).where(CertificationApplication.mine_id == mine_id,
                                                      CertificationApplication.status.in_(OPEN_STATES))
    if exclude_id is not None:
        query = query.where(CertificationApplication.id != exclude_id)
    with db.session.no_autoflush:
        return db.session.execute(query.limit(1)).scalar()


def fill_new(record: CertificationApplication, user) -> None:
    """A new application naming ``mine_id`` and ``body_id``: the enterprise's own mine, an
    active body, no other open application of the mine; copies the registry's values (as the
    green-mine application does) and the applicant's name."""
    from app.models import Mine

    enterprise_id = _enterprise_of(user)
    with on_field("mine_id"):
        mine = db.session.get(Mine, _as_id(record.mine_id)) if _as_id(record.mine_id) else None
        if mine is None or mine.enterprise_id != enterprise_id:
            raise ValidationFailed(_("Choose one of your enterprise's mines."))
        if _open_application_of(mine.id, record.id) is not None:
            raise ValidationFailed(_("This mine already has a certification application in progress."))
    body = _active_body(record.body_id)
    record.mine, record.mine_id = mine, mine.id
    record.enterprise_id = mine.enterprise_id
    record.region_code = mine.region_code
    record.body, record.body_id = body, body.id
    record.kind = record.kind or INITIAL
    for name, value in applications.registry_values(mine).items():
        # The certification form has the shared fields; the rest are the green-mine application's.
        if hasattr(CertificationApplication, name) and getattr(record, name, None) in (None, ""):
            setattr(record, name, value)
    if not record.applicant_name:
        record.applicant_name = mine.enterprise.name


def _save_new(record: CertificationApplication, user) -> CertificationApplication:
    try:
        fill_new(record, user)
        scoping.check_access(user, record, scoping.EDIT)
        db.session.add(record)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return record


def create(user, mine_id, body_id) -> CertificationApplication:
    """The draft certification application (kind "initial") of one of the user's enterprise's
    mines to an active body. Commits."""
    return _save_new(CertificationApplication(mine_id=mine_id, body_id=body_id, kind=INITIAL), user)


def check_renewable(user, certificate) -> None:
    """A re-evaluation (复评, seed 002 §六.4) of the enterprise's own certificate that is not
    revoked and has no other re-evaluation open or already certified."""
    from app.models import CertificationCertificate

    if not isinstance(certificate, CertificationCertificate):
        raise NotFound(_("The record does not exist."))
    if certificate.enterprise_id != _enterprise_of(user):
        raise AccessDenied(_("Only the certified enterprise can apply for the re-evaluation of its certificate."))
    if certificate.status == "revoked":
        raise ValidationFailed(_("A revoked certificate cannot be re-evaluated; apply for a new certification."))
    with db.session.no_autoflush:
        taken = db.session.execute(
            select(CertificationApplication.id).where(
                CertificationApplication.previous_certificate_id == certificate.id,
                CertificationApplication.kind == RENEWAL,
                CertificationApplication.status.in_(OPEN_STATES + ("certified",)))
            .limit(1)).scalar()
    if taken is not None:
        raise ValidationFailed(_("This certificate already has a re-evaluation in progress or done."))


def create_renewal(user, certificate) -> CertificationApplication:
    """The draft re-evaluation of ``certificate``: same mine and body, kind "renewal". Commits."""
    check_renewable(user, certificate)
    record = CertificationApplication(mine_id=certificate.mine_id, body_id=certificate.body_id, kind=RENEWAL,
                                      previous_certificate_id=certificate.id)
    return _save_new(record, user)


# ---------------------------------------------------------------------------
# The form's rules
# ---------------------------------------------------------------------------
def check_applicant(record, user, action: str = scoping.EDIT) -> None:
    """Only the applicant enterprise changes or deletes its application (the change rule of the
    application's screens: app.services.records.change_refusal)."""
    if getattr(user, "enterprise_id", None) != record.enterprise_id:
        raise AccessDenied(_("Only the applicant enterprise can change its certification application."))


def check_editable(record, user=None, action: str = scoping.EDIT) -> None:
    """Only the applicant enterprise changes its application, while not submitted or returned;
    it deletes it only while not submitted."""
    if user is not None:
        check_applicant(record, user, action)
    status = records.committed(record, "status")
    if action == scoping.DELETE:
        if status not in DELETABLE_STATES:
            raise ValidationFailed(_("Only a certification application that is not submitted can be deleted."))
        return
    if status not in EDITABLE_STATES:
        raise ValidationFailed(_("Only a certification application that is not submitted or was returned for "
                                 "completion can be changed."))


def validate(record, errors: Optional[ErrorCollector] = None) -> None:
    """The shared form fields (as the green-mine application's: the same validators and
    messages) and the applicant's name; every refusal at once, each on its field."""
    errors = errors if errors is not None else ErrorCollector()
    applications.validate_form_fields(record, errors)
    record.applicant_name = _strip(record.applicant_name)
    if not record.applicant_name:
        errors.add(_("This field is required."), "applicant_name")
    record.conditions_note = _strip(record.conditions_note)
    errors.raise_if_any()


def record_rule(record, user, action: str) -> None:
    """The write rule of the certification screens and API (like applications.record_rule)."""
    # No autoflush while the changes are looked at: loading an expired column would flush them
    # and leave no history to compare.
    with db.session.no_autoflush:
        if record.id is None:
            if action == scoping.EDIT:
                fill_new(record, user)
                validate(record)
            return
        check_editable(record, user, action)
        if action == scoping.EDIT:
            errors = ErrorCollector()
            applications.check_protected(record, PROTECTED_FIELDS, errors)
            validate(record, errors)


def body_rule(body, user, action: str) -> None:
    """The certification bodies' registry (the administrator keeps it): a name, a valid USCC;
    a body with applications is kept (marked inactive instead)."""
    if action == scoping.DELETE:
        with db.session.no_autoflush:
            used = db.session.execute(select(CertificationApplication.id)
                                      .where(CertificationApplication.body_id == body.id).limit(1)).scalar()
        if used is not None:
            raise ValidationFailed(_("A certification body with applications cannot be deleted; mark it as no "
                                     "longer active instead."))
        return
    body.name = _strip(body.name)
    if not body.name:
        raise ValidationFailed(_("This field is required."), field="name")
    body.uscc = _strip(body.uscc)
    if body.uscc:
        with on_field("uscc"):
            body.uscc = codes.validate_uscc(body.uscc)
    body.approval_no = _strip(body.approval_no)
    if body.active is None:
        body.active = True
    for column, value, message in (("name", body.name, _("A certification body of this name exists already.")),
                                   ("uscc", body.uscc, _("A certification body with this code exists already."))):
        if value is None:
            continue
        query = select(CertificationBody.id).where(getattr(CertificationBody, column) == value)
        if body.id is not None:
            query = query.where(CertificationBody.id != body.id)
        with db.session.no_autoflush:
            if db.session.execute(query.limit(1)).first() is not None:
                raise ValidationFailed(message, field=column)


# ---------------------------------------------------------------------------
# Guards and effects of the workflow (app.services.workflow TRANSITIONS "certification:*")
# ---------------------------------------------------------------------------
def missing_items(record) -> list[str]:
    """What the form still lacks (labels): the applicant, the licence holder and its code, the
    licence, the legal representative, a contact with a telephone, and a brief for each of the
    six areas (seed 002 附件 asks for all six)."""
    labels = {
        "applicant_name": _("Applicant (unit name)"),
        "enterprise_name": _("Mining-right holder"),
        "licence_no": _("Mining licence number"),
        "uscc": _("Unified social credit code"),
        "legal_representative": _("Legal representative"),
        "contact_person": _("Contact person"),
    }
    missing = [label for name, label in labels.items() if not _strip(getattr(record, name))]
    if not (_strip(record.mobile) or _strip(record.phone)):
        missing.append(_("a mobile or landline number"))
    areas = area_labels()
    missing.extend(areas[name] for name in SITUATION_AREAS if not _strip(getattr(record, name)))
    return missing


def area_labels() -> dict[str, str]:
    """The six areas of the brief on green-mine construction (seed 002 附件)."""
    return {
        "situation_environment": _("Mining-area environment"),
        "situation_development": _("Resource development"),
        "situation_utilisation": _("Comprehensive resource utilisation"),
        "situation_energy": _("Energy saving and emission reduction"),
        "situation_innovation": _("Innovation and smart mine"),
        "situation_management": _("Enterprise management and image"),
    }


def check_conditions(record) -> None:
    """Seed 002 §三: the four conditions are conditions of application, not declarations: each
    must be answered, and answered yes."""
    labels = condition_labels()
    unanswered = [labels[name] for name in CERTIFICATION_CONDITIONS if getattr(record, name) is None]
    if unanswered:
        raise TransitionRefused(_("Answer the conditions of application: %(conditions)s.",
                                  conditions="；".join(unanswered)))
    unmet = [labels[name] for name in CERTIFICATION_CONDITIONS if getattr(record, name) is False]
    if unmet:
        raise TransitionRefused(_("The mine does not meet these conditions of application: %(conditions)s.",
                                  conditions="；".join(unmet)))


def missing_materials(record) -> list[str]:
    """The required material slots (labels) without a file: seed 002 §四's self-evaluation
    report, work atlas and supporting documents by default (CERTIFICATION_REQUIRED_MATERIALS;
    the application form is the record, the self-scoring sheet is checked on its own)."""
    return uploads.missing_materials(OWNER_TYPE, record)


def check_submittable(record, user, comment) -> None:
    """Guard of submit: the mine is the enterprise's and not on the anomaly list (whatever the
    form says), the body takes applications; then the form is complete, the four conditions are
    met and the required materials are uploaded (one refusal names all that is missing); and the
    self-scoring sheet is complete."""
    from app.services import directory, evaluation

    if record.mine is None or record.mine.enterprise_id != record.enterprise_id:
        raise TransitionRefused(_("The mining licence is not one of this enterprise's mines."))
    directory.check_not_on_anomaly_list(record.mine)
    if record.body is None or not record.body.active:
        raise TransitionRefused(_("The certification body no longer takes applications."))
    problems = []
    missing = missing_items(record)
    if missing:
        problems.append(_("The application is not complete: %(fields)s.", fields="、".join(missing)))
    try:
        check_conditions(record)
    except TransitionRefused as exc:
        problems.append(str(exc))
    materials = missing_materials(record)
    if materials:
        problems.append(uploads.missing_materials_message(materials))
    if problems:
        raise TransitionRefused(" ".join(problems))
    evaluation.check_sheet_complete(record, "self")


def check_acceptable(record, user, comment) -> None:
    """Guard of accept: the body still takes applications."""
    if record.body is None or not record.body.active:
        raise TransitionRefused(_("The certification body no longer takes applications."))


def stamp_accepted(record, user, comment) -> dict:
    """正式受理: the 20 working days start (the day itself not counted)."""
    return {"accepted_on": _today(), "finished_on": None}


def start_pause(record, user, comment) -> dict:
    """The body asks for rectification: the clock stops from the day after today."""
    db.session.add(CertificationPause(certification_id=record.id, started_on=_today(), reason=comment))
    return {}


def check_rectification_submittable(record, user, comment) -> None:
    """Guard of submit_rectification: evidence of this rectification is uploaded (a file left
    from an earlier rectification does not answer a new request)."""
    from app.models import Attachment

    pause = _open_pause(record)
    query = select(Attachment.id).where(Attachment.owner_type == "CertificationApplication",
                                        Attachment.owner_id == record.id, Attachment.slot == RECTIFICATION_SLOT,
                                        Attachment.removed_at.is_(None))
    if pause is not None:
        query = query.where(Attachment.created_at >= pause.created_at)
    if db.session.execute(query.limit(1)).first() is None:
        raise TransitionRefused(_("Upload the evidence of this rectification first."))


def _open_pause(record) -> Optional[CertificationPause]:
    return db.session.execute(
        select(CertificationPause).where(CertificationPause.certification_id == record.id,
                                         CertificationPause.ended_on.is_(None))
        .order_by(CertificationPause.id.desc()).limit(1)).scalar()


def end_pause(record, user, comment) -> dict:
    """The enterprise resubmits: counting resumes the day after today."""
    pause = _open_pause(record)
    if pause is not None:
        pause.ended_on = max(_today(), pause.started_on)
    return {}


def check_decidable(record, user, comment) -> None:
    """Guard of refuse: the body's evaluation report is uploaded (the decision rests on it)."""
    if not uploads.file_counts(EVALUATION_OWNER, record.id).get(EVALUATION_REPORT):
        raise TransitionRefused(_("Upload the certification evaluation report first."))


def stamp_refused(record, user, comment) -> dict:
    return {"finished_on": _today(), "decided_at": _now(), "decision_comment": comment or None}


# ---------------------------------------------------------------------------
# G2: the clock
# ---------------------------------------------------------------------------
def limit() -> int:
    return int(current_app.config.get("CERTIFICATION_EVALUATION_WORKING_DAYS", 20))


def clock(certification, today: Optional[datetime.date] = None):
    """The evaluation clock (app.services.workdays.EvaluationClock), None before acceptance."""
    from app.services import workdays

    if certification is None or certification.accepted_on is None:
        return None
    pauses = [(pause.started_on, pause.ended_on) for pause in certification.pauses]
    return workdays.evaluation_clock(certification.accepted_on, pauses, limit(), today or _today(),
                                     certification.finished_on)


def overdue(user, today: Optional[datetime.date] = None) -> list[CertificationApplication]:
    """The evaluations in the user's scope past their deadline and not finished. Computed in
    Python over the open evaluations in scope (a working-day calendar is not SQL); they are
    few: a body evaluates tens at a time."""
    query = (select(CertificationApplication)
             .where(scoping.scope_filter(CertificationApplication, user),
                    CertificationApplication.status.in_(EVALUATION_STATES),
                    CertificationApplication.accepted_on.is_not(None),
                    CertificationApplication.finished_on.is_(None))
             .options(lazyload("*"), selectinload(CertificationApplication.pauses))
             .order_by(CertificationApplication.id))
    today = today or _today()
    result = []
    for record in db.session.scalars(query):
        state = clock(record, today)
        if state is not None and state.overdue and state.finished_on is None:
            result.append(record)
    return result


def overdue_count(user) -> int:
    return len(overdue(user))


# ---------------------------------------------------------------------------
# G2: the project team
# ---------------------------------------------------------------------------
def may_change_team(record, user) -> bool:
    try:
        check_team_editable(record, user)
    except (AccessDenied, ValidationFailed):
        return False
    return True


def check_team_editable(record, user) -> None:
    """A certifier of the record's body, from the submission to the decision."""
    if not _has_role(user, "certifier") or getattr(user, "certification_body_id", None) != record.body_id:
        raise AccessDenied(_("Only a certifier of the certification body can change the project team."))
    if record.status not in TEAM_STATES:
        raise ValidationFailed(_("The project team can be changed while the application is submitted, under "
                                 "evaluation or in rectification."))


def _lock(record) -> CertificationApplication:
    """The record's row, locked on PostgreSQL (two certifiers naming a leader at once)."""
    query = select(CertificationApplication).filter_by(id=record.id).execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.options(lazyload("*")).with_for_update(of=CertificationApplication)
    locked = db.session.execute(query).scalar_one_or_none()
    if locked is None:
        raise NotFound(_("The record does not exist."))
    return locked


def _text(value, name: str, maximum: int, required: bool = False) -> Optional[str]:
    value = _strip(value) if isinstance(value, str) or value is None else None
    if value is None and required:
        raise ValidationFailed(_("This field is required."), field=name)
    if value is not None and len(value) > maximum:
        raise ValidationFailed(_("At most %(count)s characters.", count=maximum), field=name)
    return value


def add_member(record, user, name, team_role, registration_no=None, unit=None,
               specialty=None) -> CertificationTeamMember:
    """Add a member to the project team (认证评估项目组): the leader and the auditors are
    registered auditors (their registration number), an expert may have none; one leader.
    Commits, or rolls back everything."""
    try:
        scoping.check_access(user, record, scoping.ACT)
        locked = _lock(record)
        check_team_editable(locked, user)
        name = _text(name, "name", NAME_MAX, required=True)
        if team_role not in TEAM_ROLES:
            raise ValidationFailed(_("Choose the member's role in the team."), field="team_role")
        registration_no = _text(registration_no, "registration_no", 32)
        if registration_no is not None and not _REGISTRATION_NO.match(registration_no):
            raise ValidationFailed(_("A registration number has 4 to 32 letters, digits or hyphens."),
                                   field="registration_no")
        if team_role in (TEAM_LEADER, TEAM_AUDITOR) and registration_no is None:
            raise ValidationFailed(_("The team leader and the auditors are registered auditors: give the "
                                     "registration number."), field="registration_no")
        unit = _text(unit, "unit", UNIT_MAX)
        specialty = _text(specialty, "specialty", SPECIALTY_MAX)
        members = db.session.scalars(_members_query(locked.id)).all()
        if team_role == TEAM_LEADER and any(member.team_role == TEAM_LEADER for member in members):
            raise ValidationFailed(_("The team has a leader already."), field="team_role")
        member = CertificationTeamMember(certification_id=locked.id, name=name, team_role=team_role,
                                         registration_no=registration_no, unit=unit, specialty=specialty)
        db.session.add(member)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return member


def remove_member(record, user, member_id) -> None:
    """Take a member off the project team. Commits, or rolls back everything."""
    try:
        scoping.check_access(user, record, scoping.ACT)
        locked = _lock(record)
        check_team_editable(locked, user)
        member = db.session.get(CertificationTeamMember, _as_id(member_id)) if _as_id(member_id) else None
        if member is None or member.certification_id != locked.id or _removed(member):
            raise NotFound(_("The record does not exist."))
        # The record was submitted: its team's history is kept (SPEC I4), the member hidden.
        member.removed_at = _now()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def _removed(member) -> bool:
    return member.removed_at is not None


def _members_query(certification_id: int):
    return (select(CertificationTeamMember)
            .where(CertificationTeamMember.certification_id == certification_id,
                   CertificationTeamMember.removed_at.is_(None))
            .order_by(CertificationTeamMember.id))


def team_of(record) -> list[CertificationTeamMember]:
    """The team, leader first, then auditors, then experts, each in the order added."""
    order = {role: n for n, role in enumerate(TEAM_ROLES)}
    members = db.session.scalars(_members_query(record.id)).all()
    return sorted(members, key=lambda member: order.get(member.team_role, len(order)))


def check_team_complete(certification) -> None:
    """Seed 002 §六.2: the project team of technical experts and registered auditors has a
    leader who is a registered auditor and at least one technical expert."""
    members = team_of(certification)
    missing = []
    if not any(member.team_role == TEAM_LEADER and member.registration_no for member in members):
        missing.append(_("a leader who is a registered auditor"))
    if not any(member.team_role == TEAM_EXPERT for member in members):
        missing.append(_("at least one technical expert"))
    if missing:
        raise TransitionRefused(_("The project team is not complete: it needs %(missing)s.",
                                  missing="、".join(missing)))
