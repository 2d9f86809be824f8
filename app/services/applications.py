"""Green-mine applications (SPEC D1-D10): creation from a passed pre-declaration, the forms'
rules, the application window, and the guards of the application workflow."""
from __future__ import annotations

import datetime
import re
from typing import Optional

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models.application import ELIGIBILITY_CONDITIONS, SITUATION_AREAS
from app.models.choices import ECONOMIC_TYPES, MINE_SIZES, MINING_METHODS
from app.services import codes, records, scoping, uploads
from app.services.exceptions import AccessDenied, ErrorCollector, TransitionRefused, ValidationFailed, on_field
from app.services.workflow import WORKFLOWS
from app.services.registry import closed_choice, normalize_phone

# Default deadline of the yearly window when a province has not set one (seed 001 §一(五)).
DEFAULT_DEADLINE = (10, 15)


def _today() -> datetime.date:
    return clock.today()


def window_for(province_code: str, year: int):
    from app.models import ApplicationWindow

    return db.session.scalars(
        select(ApplicationWindow).where(ApplicationWindow.province_code == province_code,
                                        ApplicationWindow.year == year)
    ).first()


def deadline_for(province_code: str, year: int) -> tuple[Optional[datetime.date], datetime.date]:
    """(opens on, deadline) of the province's window for the year, else the default deadline."""
    window = window_for(province_code, year)
    if window is not None:
        return window.opens_on, window.deadline
    month, day = current_app.config.get("APPLICATION_DEADLINE", DEFAULT_DEADLINE)
    return None, datetime.date(year, month, day)


def check_window(application, today: Optional[datetime.date] = None) -> None:
    """D9: submissions only inside the province's window; late ones are refused with the date."""
    today = today or _today()
    province = application.region_code[:2] + "0000"
    opens_on, deadline = deadline_for(province, application.year)
    if opens_on is not None and today < opens_on:
        raise TransitionRefused(_("Applications for %(year)s open on %(date)s.", year=application.year,
                                  date=opens_on.isoformat()))
    if today > deadline:
        raise TransitionRefused(_("The deadline for %(year)s applications was %(date)s; late submissions are "
                                  "not accepted.", year=application.year, date=deadline.isoformat()))


def check_submittable(application, user, comment) -> None:
    """Guard of the submit step: the window is open, the mine may apply (not on the anomaly
    list; a new or expanded mine a year after production started, E7), the form is complete and
    the required materials are uploaded (APPLICATION_REQUIRED_MATERIALS: by default the
    self-evaluation report). One refusal names everything still missing."""
    from app.services import directory, selection

    from app.services import fraud

    check_window(application)
    directory.check_not_on_anomaly_list(application.mine)
    fraud.check_not_barred(application.mine, refusal=TransitionRefused)
    selection.check_new_mine_ready(application.mine)
    problems = []
    missing = missing_items(application)
    if missing:
        problems.append(_("The application is not complete: %(fields)s.", fields="、".join(missing)))
    materials = uploads.missing_materials("Application", application)
    if materials:
        problems.append(uploads.missing_materials_message(materials))
    if problems:
        raise TransitionRefused(" ".join(problems))


# The fields an application cannot be submitted without (labels for the refusal message).
def required_fields() -> dict[str, str]:
    return {
        "enterprise_name": _("Enterprise name"),
        "mine_name": _("Mine name"),
        "licence_no": _("Mining licence number"),
        "legal_representative": _("Legal representative"),
        "contact_person": _("Contact person"),
        "mobile": _("Mobile"),
        "self_evaluation_unit": _("Self-evaluation report prepared by"),
    }


def missing_fields(application) -> list[str]:
    return [label for name, label in required_fields().items() if not getattr(application, name)]


# ---------------------------------------------------------------------------
# D1: creation from a passed pre-declaration
# ---------------------------------------------------------------------------
# The columns that only the service sets: no form or body may change them.
PROTECTED_FIELDS = ("predeclaration_id", "enterprise_id", "mine_id", "region_code", "year", "status",
                    "submitted_at")
# The states in which the application is changed and deleted: declared with its workflow.
EDITABLE_STATES = WORKFLOWS["application"].editable
DELETABLE_STATES = WORKFLOWS["application"].deletable
# The indicator evidence is "作为第三方评估过程中的佐证材料" (seed 000 §3.3): the applicant adds and
# replaces it from submission until the drawn agency submits its assessment (D10), and again while
# it rectifies for a second assessment; afterwards it is kept as it was and stays readable.
EVIDENCE_STATES = ("submitted", "returned", "county_passed", "city_recommended", "accepted", "self_evaluated",
                   "under_assessment", "rectifying")


def registry_values(mine) -> dict:
    """The basic-information and contact fields, from the registry's enterprise and mine (the
    green-mine application and the certification application copy them at creation; the
    certification takes the ones its form has)."""
    enterprise = mine.enterprise
    return {
        "enterprise_name": enterprise.name,
        "uscc": enterprise.uscc,
        "economic_type": enterprise.economic_type,
        "legal_representative": enterprise.legal_representative,
        "contact_person": enterprise.contact_person,
        "contact_address": enterprise.address,
        "mobile": enterprise.mobile,
        "phone": enterprise.phone,
        "fax": enterprise.fax,
        "email": enterprise.email,
        "postcode": enterprise.postcode,
        "mine_name": mine.name,
        "mine_address": mine.address,
        "licence_no": mine.licence_no,
        "employees": mine.employees,
        "mineral_name": mine.mineral.name if mine.mineral is not None else None,
        "mining_method": mine.mining_method,
        "production_scale": mine.production_scale,
        "area_km2": mine.area_km2,
        "issuing_authority": mine.issuing_authority,
        "mine_size": mine.size,
    }


def eligible_predeclarations(user) -> list:
    """Seed 000 fig. 3-8: the enterprise's passed pre-declarations that have no application yet."""
    from app.models import Application, PreDeclaration

    enterprise_id = getattr(user, "enterprise_id", None)
    if not enterprise_id:
        return []
    taken = select(Application.predeclaration_id)
    return list(db.session.scalars(
        select(PreDeclaration)
        .where(PreDeclaration.enterprise_id == enterprise_id, PreDeclaration.status == "passed",
               PreDeclaration.id.not_in(taken))
        .order_by(PreDeclaration.year.desc(), PreDeclaration.id)
    ).unique())


def fill_from_predeclaration(application, user) -> None:
    """D1 on a new application naming ``predeclaration_id``: the user's enterprise's own passed
    pre-declaration, not used before; copies region, year and the registry values."""
    from app.models import Application, PreDeclaration

    enterprise_id = getattr(user, "enterprise_id", None)
    if not enterprise_id:
        raise AccessDenied(_("Only an enterprise account can apply."))
    with on_field("predeclaration_id"):
        predeclaration = (db.session.get(PreDeclaration, int(application.predeclaration_id))
                          if application.predeclaration_id else None)
        if predeclaration is None or predeclaration.enterprise_id != enterprise_id:
            raise ValidationFailed(_("Choose one of your enterprise's pre-declarations."))
        if predeclaration.status != "passed":
            raise ValidationFailed(_("Only a passed pre-declaration can become an application."))
        # A mine found to have falsified its materials may not apply (seed 001 三(三)).
        from app.services import fraud

        fraud.check_not_barred(predeclaration.mine)
        with db.session.no_autoflush:
            taken = db.session.execute(
                select(Application.id).where(Application.predeclaration_id == predeclaration.id)
            ).first()
        if taken is not None:
            raise ValidationFailed(_("There is already an application for this pre-declaration."))
    application.predeclaration = predeclaration
    application.predeclaration_id = predeclaration.id
    application.enterprise_id = predeclaration.enterprise_id
    application.mine_id = predeclaration.mine_id
    application.region_code = predeclaration.region_code
    application.year = predeclaration.year
    for name, value in registry_values(predeclaration.mine).items():
        if getattr(application, name, None) in (None, ""):
            setattr(application, name, value)


def create_for_predeclaration_id(user, predeclaration_id):
    """The screen's way in: the id as sent (checked by fill_from_predeclaration like any other)."""
    raw = str(predeclaration_id or "").strip()
    return _create(user, int(raw) if raw.isdigit() else None)


def create_from_predeclaration(user, predeclaration):
    """Create the draft application (未提交) of ``predeclaration``. Commits."""
    return _create(user, getattr(predeclaration, "id", None))


def _create(user, predeclaration_id: Optional[int]):
    from app.models import Application

    application = Application(predeclaration_id=predeclaration_id)
    try:
        fill_from_predeclaration(application, user)
        scoping.check_access(user, application, scoping.EDIT)
        db.session.add(application)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return application


# ---------------------------------------------------------------------------
# D2: the forms' rules
# ---------------------------------------------------------------------------
PERCENT_FIELDS = ("greening_coverage_pct", "land_restoration_pct", "mining_recovery_pct",
                  "processing_recovery_pct", "utilisation_pct", "water_treatment_pct", "rnd_share_pct")
# The non-negative numbers of the shared form fields (ApplicantFormFields) and of the
# green-mine application's own indicators.
FORM_NON_NEGATIVE_FIELDS = ("production_scale", "area_km2", "employees")
NON_NEGATIVE_FIELDS = ("tailings_produced", "tailings_used", "waste_rock_produced", "waste_rock_used",
                       "industrial_output", "utilisation_output", "energy_per_unit") + FORM_NON_NEGATIVE_FIELDS
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_POSTCODE = re.compile(r"^[0-9]{6}$")


def _strip(value):
    return value.strip() or None if isinstance(value, str) else value


def _check_non_negative(record, names, errors: ErrorCollector) -> None:
    for name in names:
        value = getattr(record, name)
        if value is not None and float(value) < 0:
            errors.add(_("The value cannot be negative."), name)


def _required(record, name: str) -> Optional[str]:
    """The stripped text of a required field, or a refusal on that field."""
    value = _strip(getattr(record, name))
    if not value:
        raise ValidationFailed(_("This field is required."), field=name)
    return value


def validate_form_fields(record, errors: ErrorCollector) -> None:
    """The rules of the shared enterprise, mine and contact fields (ApplicantFormFields), for the
    green-mine application and the certification application alike: the licence number and the
    credit code by the registry's own validators (app.services.codes: the same messages as the
    mine and enterprise forms), non-negative numbers, telephone numbers, e-mail, postcode, the
    required names, the closed lists. Every refusal names its field, and all of them are kept in
    ``errors`` (one save shows them all)."""
    _check_non_negative(record, FORM_NON_NEGATIVE_FIELDS, errors)
    for name in ("enterprise_name", "mine_name"):
        with errors.on_field(name):
            setattr(record, name, _required(record, name))
    with errors.on_field("licence_no"):
        record.licence_no = codes.validate_licence_no(_required(record, "licence_no"))
    with errors.on_field("uscc"):
        record.uscc = codes.validate_uscc(_required(record, "uscc"))
    for name in ("mobile", "phone", "fax"):
        with errors.on_field(name):
            setattr(record, name, normalize_phone(getattr(record, name)))
    with errors.on_field("email"):
        record.email = _strip(record.email)
        if record.email and not _EMAIL.match(record.email):
            raise ValidationFailed(_("“%(value)s” is not an e-mail address.", value=record.email))
    with errors.on_field("postcode"):
        record.postcode = _strip(record.postcode)
        if record.postcode and not _POSTCODE.match(record.postcode):
            raise ValidationFailed(_("A postcode has 6 digits."))
    for name, choices, label in (("economic_type", ECONOMIC_TYPES, _("Economic type")),
                                 ("mining_method", MINING_METHODS, _("Mining method"))):
        with errors.on_field(name):
            setattr(record, name, closed_choice(getattr(record, name), choices, label))


def check_protected(record, names, errors: ErrorCollector) -> None:
    """The columns only the service sets are as they were (a form or body cannot change them)."""
    for name in names:
        if records.changed(record, name):
            errors.add(_("This field cannot be changed."), name)


def validate(application, errors: Optional[ErrorCollector] = None) -> None:
    """Ranges and shapes of the form's values; every refusal names its field, and every one of
    them is reported at once (FieldErrors when there are several)."""
    errors = errors if errors is not None else ErrorCollector()
    for name in PERCENT_FIELDS:
        value = getattr(application, name)
        if value is not None and not 0 <= float(value) <= 100:
            errors.add(_("A percentage lies between 0 and 100."), name)
    # Used may exceed produced (stock from earlier years is used too): that is not a rule.
    _check_non_negative(application, [name for name in NON_NEGATIVE_FIELDS if name not in FORM_NON_NEGATIVE_FIELDS],
                        errors)
    validate_form_fields(application, errors)
    with errors.on_field("mine_size"):
        application.mine_size = closed_choice(application.mine_size, MINE_SIZES, _("Mine size"))
    errors.raise_if_any()


def check_editable(application, action: str = scoping.EDIT) -> None:
    """D4: changed only while 未提交 or returned for revision; deleted only while 未提交
    (nothing that was ever submitted is hard-deleted: a withdrawn one has its log, but a
    returned one has reviewers' opinions)."""
    status = records.committed(application, "status")
    if action == scoping.DELETE:
        if status not in DELETABLE_STATES:
            raise ValidationFailed(_("Only an application that is not submitted can be deleted."))
        return
    if status not in EDITABLE_STATES:
        raise ValidationFailed(_("Only an application that is not submitted or was returned for revision "
                                 "can be changed."))


def record_rule(application, user, action: str) -> None:
    """The write rule of the application screens and API (like predeclarations.record_rule)."""
    if application.id is None:
        if action == scoping.EDIT:
            fill_from_predeclaration(application, user)
            validate(application)
        return
    check_editable(application, action)
    if action == scoping.EDIT:
        errors = ErrorCollector()
        check_protected(application, PROTECTED_FIELDS, errors)
        validate(application, errors)


# ---------------------------------------------------------------------------
# D8 and completeness
# ---------------------------------------------------------------------------
def condition_labels() -> dict[str, str]:
    """The six eligibility conditions of seed 001 §一(一)."""
    return {
        "cond_valid_licence": _("Holds a valid mining licence and operates normally"),
        "cond_no_penalty": _("No administrative penalty by the natural-resources, environment or emergency "
                             "authorities in the last three years, or the penalty has been rectified"),
        "cond_not_anomalous": _("Not on the anomaly list of the mining-right holders' public information system"),
        "cond_no_protected_area": _("The mining area does not touch any nature protected area (no-mining zone)"),
        "cond_reserves_three_years": _("Remaining reserves allow at least three years of mining"),
        "cond_plan_reviewed": _("The green-mine construction implementation plan has been prepared and "
                                "passed its review"),
    }


def missing_items(application) -> list[str]:
    """What the application still lacks before it can be submitted (labels)."""
    missing = missing_fields(application)
    unanswered = [label for name, label in condition_labels().items() if getattr(application, name) is None]
    if unanswered:
        missing.append(_("the eligibility conditions (%(count)s unanswered)", count=len(unanswered)))
    elif any(getattr(application, name) is False for name in ELIGIBILITY_CONDITIONS) and not _strip(
        application.conditions_note
    ):
        missing.append(_("an explanation of the conditions answered “no”"))
    if not any(_strip(getattr(application, name)) for name in SITUATION_AREAS):
        missing.append(_("the construction situation (at least one area)"))
    return missing


# ---------------------------------------------------------------------------
# D9: application windows
# ---------------------------------------------------------------------------
def window_rule(window, user, action: str) -> None:
    """A window belongs to a province in the user's scope; the deadline is not before the opening.
    Every input error at once, each on its field."""
    from app.models import ApplicationWindow, Region

    if action == scoping.DELETE:
        return
    errors = ErrorCollector()
    with errors.on_field("province_code"):
        code = (window.province_code or "").strip()
        region = db.session.get(Region, code) if code else None
        if region is None or region.level != 1:
            raise ValidationFailed(_("Choose a province."))
        window.province_code = region.code
        window.province = region
        scoping.check_access(user, window, scoping.EDIT)
    with errors.on_field("year"):
        if not window.year or not 2000 <= int(window.year) <= 2100:
            raise ValidationFailed(_("The application year is not valid."))
    with errors.on_field("deadline"):
        if window.deadline is None:
            raise ValidationFailed(_("This field is required."))
        if window.opens_on is not None and window.deadline < window.opens_on:
            raise ValidationFailed(_("The deadline cannot be before the opening date."))
    if not errors.has("province_code") and not errors.has("year"):
        query = select(ApplicationWindow.id).where(ApplicationWindow.province_code == window.province_code,
                                                   ApplicationWindow.year == window.year)
        if window.id is not None:
            query = query.where(ApplicationWindow.id != window.id)
        with db.session.no_autoflush:
            if db.session.execute(query).first() is not None:
                errors.add(_("This province already has a window for %(year)s.", year=window.year), "year")
    errors.raise_if_any()


# ---------------------------------------------------------------------------
# D10: indicator evidence
# ---------------------------------------------------------------------------
def indicator_items(application) -> list:
    """The items of the catalogue the application is evaluated against (the province's adopted
    version, else the national one: app.services.evaluation.version_for)."""
    from app.models import IndicatorItem
    from app.services import evaluation

    version = evaluation.version_for(application)
    if version is None:
        return []
    return list(db.session.scalars(
        select(IndicatorItem).where(IndicatorItem.version_id == version.id).order_by(IndicatorItem.sort_order)
    ))


def evidence_by_item(application) -> dict[int, object]:
    from app.models import IndicatorEvidence

    rows = db.session.scalars(select(IndicatorEvidence).where(IndicatorEvidence.application_id == application.id))
    return {row.item_id: row for row in rows.unique()}


def evidence_open(application) -> bool:
    """Whether the application's indicator evidence may change now (EVIDENCE_STATES)."""
    return application is not None and application.status in EVIDENCE_STATES


def evidence_frozen(application) -> bool:
    """The assessment is in: the evidence is kept as it was, readable, no longer changed."""
    return application.status not in EVIDENCE_STATES and application.status != "draft"


def evidence_closed_message() -> str:
    return _("Indicator evidence can be added and replaced from the application's submission until the agency "
             "submits its assessment; after that it is kept as it was.")


def check_evidence_editable(application, user) -> None:
    """D10: only the applicant, while the evidence is open (EVIDENCE_STATES)."""
    if getattr(user, "enterprise_id", None) != application.enterprise_id:
        raise AccessDenied(_("Only the applicant enterprise can add indicator evidence."))
    if not evidence_open(application):
        raise ValidationFailed(evidence_closed_message())


def evidence_files(application) -> dict[int, list]:
    """item id -> the files of its evidence, oldest first: one statement for the whole sheet."""
    from app.models import Attachment, IndicatorEvidence

    rows = db.session.execute(
        select(IndicatorEvidence.item_id, Attachment)
        .join(Attachment, (Attachment.owner_type == "IndicatorEvidence") & (Attachment.owner_id == IndicatorEvidence.id))
        .where(IndicatorEvidence.application_id == application.id, Attachment.removed_at.is_(None),
               Attachment.slot == "evidence")
        .order_by(Attachment.id))
    files: dict[int, list] = {}
    for item_id, attachment in rows:
        files.setdefault(item_id, []).append(attachment)
    return files


def save_evidence(application, user, item_id: int, note: Optional[str]):
    """Create or update the evidence note of one catalogue item. Commits."""
    from app.models import IndicatorEvidence, IndicatorItem

    check_evidence_editable(application, user)
    item = db.session.get(IndicatorItem, int(item_id)) if item_id else None
    if item is None or item.id not in {i.id for i in indicator_items(application)}:
        raise ValidationFailed(_("Choose an item of the indicator catalogue."), field="item_id")
    note = _strip(note)
    if note and len(note) > 4000:
        raise ValidationFailed(_("The note is too long."), field="note")
    evidence = evidence_by_item(application).get(item.id)
    try:
        if evidence is None:
            evidence = IndicatorEvidence(application_id=application.id, item_id=item.id, note=note)
            db.session.add(evidence)
        else:
            evidence.note = note
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return evidence
