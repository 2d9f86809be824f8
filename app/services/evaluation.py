"""Scoring against the indicator catalogue (SPEC E1, E2, E3; the certification's scores, G1-G3).

Two kinds of record are scored with the same functions, each described once by a
``ScoreSheet`` (``sheet_for(record)``): the green-mine ``Application`` (scores in
``EvaluationScore``) and the ``CertificationApplication`` (scores in ``CertificationScore``).

- **Which catalogue.** A record is scored against one ``IndicatorVersion``, fixed in
  ``record.indicator_version_id`` when scoring starts (the first saved score). An application:
  the version its province adopted (``ProvinceIndicatorAdoption`` of ``region_code[:2] +
  "0000"``), else the active ``national-2020`` version, else the oldest active version. A
  certification (national, no adoption): the active version whose code is the setting
  ``CERTIFICATION_INDICATOR_VERSION``, else the same default.
- **What is scored.** The leaves of the catalogue tree that carry points (the third-level items
  of the national catalogues). Each gets 0 to its points, per source. An application:
  ``"self"`` (the enterprise's self-evaluation, while the application is *accepted*) and
  ``"agency"`` (the drawn agency, while it is *under assessment*). A certification: ``"self"``
  (the enterprise's self-scoring sheet, 自评打分表, part of the materials of seed 002 §四.4,
  while *draft* or *returned*) and ``"certifier"`` (a certifier of the body applied to, while
  *under evaluation*). A sheet is saved whole or not at all.
- **The pass rules.** Total ≥ the pass line, and every first-level area ≥ ``area_min_ratio`` ×
  the area's maximum (2020: 800 of 1000, 75 %). For an application the line and the share are
  the province's adoption's when it sets them for the version in use, else the version's own;
  a certification uses the version's own (its grade, by the share of the maximum, is
  app.services.surveillance's). A version without either (2024: none published) has no pass
  rule, and the result says so.
- **The guards** of the workflow steps ``submit_self_evaluation`` and ``submit_assessment``:
  every item scored and the reports uploaded (app.services.uploads owner types
  ``SelfEvaluation`` and ``AgencyAssignment``); a self-evaluation below the pass rules cannot
  be submitted while ``EVALUATION_SELF_MUST_PASS`` is on (default, the 2020 rule that a mine
  below the line cannot take part). The certification's guards call ``check_sheet_complete``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Mapping, Optional

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import lazyload, selectinload

from app.extensions import db
from app.services import scoping
from app.services.exceptions import AccessDenied, NotFound, TransitionRefused, ValidationFailed

SELF, AGENCY, CERTIFIER = "self", "agency", "certifier"
# The sources of a green-mine application (callers iterate over them); a certification's are
# CERTIFICATION_SOURCES. ``sources_of(record)`` gives either.
SOURCES = (SELF, AGENCY)
CERTIFICATION_SOURCES = (SELF, CERTIFIER)
SOURCE_LABELS = {SELF: _l("Enterprise self-evaluation"), AGENCY: _l("Third-party assessment"),
                 CERTIFIER: _l("Certification body's evaluation")}
# The application state in which each source may change its scores, and the role that scores.
SCORING_STATE = {SELF: "accepted", AGENCY: "under_assessment"}
SCORING_ROLE = {SELF: "enterprise", AGENCY: "agency"}
# A certification's self-scoring sheet is part of the materials (seed 002 §四.4): the enterprise
# fills it in while it prepares or completes the application; the body scores during the
# evaluation, and the enterprise reads the body's scores once the evaluation has ended.
CERTIFICATION_SCORING_STATE = {SELF: ("draft", "returned"), CERTIFIER: ("under_evaluation",)}
CERTIFICATION_FINISHED = ("certified", "not_certified")
DEFAULT_NATIONAL = "national-2020"
NOTE_MAX = 2000
_EPSILON = 1e-9

# Upload owner types and slots (app.services.uploads.POLICIES).
SELF_REPORT = ("SelfEvaluation", "report")
AGENCY_REPORT = ("AgencyAssignment", "report")
AGENCY_ONSITE = ("AgencyAssignment", "onsite_record")


# ---------------------------------------------------------------------------
# The record kinds that are scored: one description each, one set of functions for all
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceRule:
    """Who enters one source's scores on one kind of record, and when."""

    states: tuple[str, ...]
    role: str
    # The EvaluationView / EvaluationApi permission of the routes that save this source.
    permission: str
    # Raises AccessDenied unless ``user`` is this record's scorer for the source.
    check_scorer: Callable[[Any, Any], None]
    label: Any


@dataclass(frozen=True)
class ScoreSheet:
    """How one kind of record is scored: where its scores live, who scores each source in which
    states, which catalogue version applies, its pass rules and who reads which scores."""

    kind: str
    score_model: type
    foreign_key: str
    sources: Mapping[str, SourceRule]
    # record -> the IndicatorVersion it is (or will be) scored against, or None.
    choose_version: Callable[[Any], Any]
    # (record, version) -> (pass points, area share).
    rules: Callable[[Any, Any], tuple[Optional[float], Optional[float]]]
    # (record, user, source) -> bool, once scope and source are known to be right.
    may_read: Callable[[Any, Any, str], bool]
    # The refusal when the record is not in a scoring state of the source (its state's label).
    closed_message: Callable[[str], str]

    def rule(self, source: str) -> SourceRule:
        rule = self.sources.get(source)
        if rule is None:
            raise NotFound(_("The record does not exist."))
        return rule

    def label(self, source: str) -> str:
        return str(self.rule(source).label)


def _applicant_enterprise(record, user) -> None:
    if getattr(user, "enterprise_id", None) != record.enterprise_id:
        raise AccessDenied(_("Only the applicant enterprise scores its self-evaluation."))


def _drawn_agency(application, user) -> None:
    assignment = application.assignment
    if assignment is None or assignment.agency_id != getattr(user, "agency_id", None):
        raise AccessDenied(_("Only the agency drawn for this application scores it."))
    if assignment.agency.status != "active":
        raise AccessDenied(_("Your agency is disqualified and can no longer assess."))


def _body_applied_to(certification, user) -> None:
    body_id = getattr(user, "certification_body_id", None)
    if body_id is None or body_id != certification.body_id:
        raise AccessDenied(_("Only the certification body applied to scores this evaluation."))


def _application_may_read(application, user, source: str) -> bool:
    # The enterprise sees the agency's scores only once the agency has submitted them.
    return not (source == AGENCY and _has_role(user, "enterprise")
                and application.status == SCORING_STATE[AGENCY])


def _certification_may_read(certification, user, source: str) -> bool:
    # The enterprise sees the body's scores only once the body has decided.
    return not (source == CERTIFIER and _has_role(user, "enterprise")
                and certification.status not in CERTIFICATION_FINISHED)


@lru_cache(maxsize=None)
def _sheets() -> dict[type, ScoreSheet]:
    from app.models import Application, CertificationApplication, CertificationScore, EvaluationScore

    return {
        Application: ScoreSheet(
            kind="application", score_model=EvaluationScore, foreign_key="application_id",
            sources={
                SELF: SourceRule((SCORING_STATE[SELF],), SCORING_ROLE[SELF], "can_self_score",
                                 _applicant_enterprise, SOURCE_LABELS[SELF]),
                AGENCY: SourceRule((SCORING_STATE[AGENCY],), SCORING_ROLE[AGENCY], "can_agency_score",
                                   _drawn_agency, SOURCE_LABELS[AGENCY]),
            },
            choose_version=_application_version, rules=_application_rules, may_read=_application_may_read,
            closed_message=lambda state: _("These scores can no longer be changed: the application is “%(state)s”.",
                                           state=state),
        ),
        CertificationApplication: ScoreSheet(
            kind="certification", score_model=CertificationScore, foreign_key="certification_id",
            sources={
                SELF: SourceRule(CERTIFICATION_SCORING_STATE[SELF], "enterprise", "can_self_score",
                                 _applicant_enterprise, _l("Self-scoring sheet")),
                CERTIFIER: SourceRule(CERTIFICATION_SCORING_STATE[CERTIFIER], "certifier", "can_certifier_score",
                                      _body_applied_to, SOURCE_LABELS[CERTIFIER]),
            },
            choose_version=_certification_version, rules=_version_rules, may_read=_certification_may_read,
            closed_message=lambda state: _(
                "These scores cannot be changed while the certification application is “%(state)s”.", state=state),
        ),
    }


def sheet_for(record) -> ScoreSheet:
    """The description of ``record``'s kind (an Application or a CertificationApplication)."""
    sheet = _sheets().get(type(record))
    if sheet is None:
        raise NotFound(_("The record does not exist."))
    return sheet


def sources_of(record) -> tuple[str, ...]:
    return tuple(sheet_for(record).sources)


def source_label(record, source: str) -> str:
    return sheet_for(record).label(source)


# ---------------------------------------------------------------------------
# The catalogue version and its rules
# ---------------------------------------------------------------------------
def province_code_of(application) -> str:
    return (application.region_code or "")[:2] + "0000"


def adoption_for(application):
    from app.models import ProvinceIndicatorAdoption

    return db.session.scalars(
        select(ProvinceIndicatorAdoption).where(ProvinceIndicatorAdoption.province_code == province_code_of(application))
    ).first()


def default_version():
    """The active national-2020 version, else the oldest active one; None if none is active."""
    from app.models import IndicatorVersion

    active = list(db.session.scalars(
        select(IndicatorVersion).where(IndicatorVersion.is_active.is_(True)).order_by(IndicatorVersion.id)))
    for version in active:
        if version.code == DEFAULT_NATIONAL:
            return version
    return active[0] if active else None


def _fixed_version(record):
    from app.models import IndicatorVersion

    return db.session.get(IndicatorVersion, record.indicator_version_id) if record.indicator_version_id else None


def _application_version(application):
    fixed = _fixed_version(application)
    if fixed is not None:
        return fixed
    adoption = adoption_for(application)
    if adoption is not None and adoption.version is not None and adoption.version.is_active:
        return adoption.version
    return default_version()


def _certification_version(certification):
    """The fixed version, else the active version configured for certification
    (CERTIFICATION_INDICATOR_VERSION), else the default. Certification is national: no
    province adoption applies."""
    from app.models import IndicatorVersion

    fixed = _fixed_version(certification)
    if fixed is not None:
        return fixed
    code = current_app.config.get("CERTIFICATION_INDICATOR_VERSION")
    if code:
        configured = db.session.scalars(select(IndicatorVersion).where(
            IndicatorVersion.code == code, IndicatorVersion.is_active.is_(True))).first()
        if configured is not None:
            return configured
    return default_version()


def version_for(record):
    """The version the record is (or will be) scored against; None if there is none."""
    return sheet_for(record).choose_version(record)


def fix_version(record):
    """Scoring starts: record the version in the record (once). The caller commits."""
    version = version_for(record)
    if version is None:
        raise ValidationFailed(_("No indicator catalogue is active."))
    if record.indicator_version_id is None:
        record.indicator_version_id = version.id
    return version


def _version_rules(record, version) -> tuple[Optional[float], Optional[float]]:
    return version.pass_points, version.area_min_ratio


def _application_rules(application, version) -> tuple[Optional[float], Optional[float]]:
    pass_points, ratio = _version_rules(application, version)
    adoption = adoption_for(application)
    if adoption is not None and adoption.version_id == version.id:
        if adoption.pass_points is not None:
            pass_points = adoption.pass_points
        if adoption.area_min_ratio is not None:
            ratio = adoption.area_min_ratio
    return pass_points, ratio


def rules_for(record, version) -> tuple[Optional[float], Optional[float]]:
    """(pass points, area share) for ``record`` scored against ``version``: an application's
    province adoption may set its own; a certification keeps the version's."""
    return sheet_for(record).rules(record, version)


@dataclass
class Catalogue:
    """One version's tree: every item, the scored leaves, and each leaf's first-level area."""

    version: Any
    items: list
    leaves: list
    area_of: dict[int, Any]

    @property
    def areas(self) -> list:
        return [item for item in self.items if item.parent_id is None]


def catalogue(version) -> Catalogue:
    from app.models import IndicatorItem

    items = list(db.session.scalars(
        select(IndicatorItem).where(IndicatorItem.version_id == version.id).order_by(IndicatorItem.sort_order)))
    by_id = {item.id: item for item in items}
    parents = {item.parent_id for item in items if item.parent_id is not None}
    leaves = [item for item in items if item.id not in parents and item.points is not None]
    area_of = {}
    for leaf in leaves:
        node = leaf
        while node.parent_id is not None and node.parent_id in by_id:
            node = by_id[node.parent_id]
        area_of[leaf.id] = node
    return Catalogue(version, items, leaves, area_of)


# ---------------------------------------------------------------------------
# Scores and their summary
# ---------------------------------------------------------------------------
def scores_of(record, source: str, with_items: bool = False) -> dict[int, Any]:
    """item id -> score row (EvaluationScore / CertificationScore) of one source; ``with_items``
    loads each row's item too (one statement, not one per row)."""
    sheet = sheet_for(record)
    model = sheet.score_model
    query = select(model).where(getattr(model, sheet.foreign_key) == record.id, model.source == source)
    if with_items:
        query = query.options(selectinload(model.item))
    return {row.item_id: row for row in db.session.scalars(query)}


@dataclass
class AreaResult:
    item: Any
    maximum: float
    score: float
    required: Optional[float]
    scored: int
    count: int

    @property
    def reached(self) -> Optional[bool]:
        return None if self.required is None else self.score + _EPSILON >= self.required


@dataclass
class Summary:
    source: str
    version: Any
    areas: list[AreaResult]
    total: float
    maximum: float
    pass_points: Optional[float]
    area_min_ratio: Optional[float]
    scored: int
    count: int
    failures: list[str] = field(default_factory=list)
    # The sheet's name for the source on this kind of record (None: SOURCE_LABELS).
    label: Optional[str] = None

    @property
    def complete(self) -> bool:
        return self.count > 0 and self.scored == self.count

    @property
    def has_rules(self) -> bool:
        return self.pass_points is not None or self.area_min_ratio is not None

    @property
    def passed(self) -> Optional[bool]:
        """True or False once every item is scored and the version has a rule; else None."""
        if not self.complete or not self.has_rules:
            return None
        return not self.failures

    @property
    def share(self) -> Optional[float]:
        """The total as a share of the catalogue's maximum, per 100 (what certification grades
        compare with their thresholds); None for an empty catalogue."""
        return _round(self.total * 100.0 / self.maximum) if self.maximum else None

    @property
    def source_label(self) -> str:
        return self.label if self.label is not None else str(SOURCE_LABELS[self.source])

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "version": self.version.code if self.version is not None else None,
            "total": self.total,
            "maximum": self.maximum,
            "share": self.share,
            "pass_points": self.pass_points,
            "area_min_ratio": self.area_min_ratio,
            "scored": self.scored,
            "count": self.count,
            "complete": self.complete,
            "passed": self.passed,
            "failures": list(self.failures),
            "areas": [
                {"code": a.item.code, "name": a.item.name, "score": a.score, "maximum": a.maximum,
                 "required": a.required, "reached": a.reached, "scored": a.scored, "count": a.count}
                for a in self.areas
            ],
        }


def _round(value: float) -> float:
    return round(value + 0.0, 2)


def summarize(record, source: str, tree: Optional[Catalogue] = None) -> Optional[Summary]:
    """Totals per first-level area and overall, and the pass rules applied (SPEC E1, E2), of an
    Application or a CertificationApplication; None when no catalogue is active."""
    sheet = sheet_for(record)
    label = sheet.label(source)
    if tree is None:
        version = version_for(record)
        if version is None:
            return None
        tree = catalogue(version)
    scores = scores_of(record, source)
    pass_points, ratio = rules_for(record, tree.version)
    areas: dict[int, AreaResult] = {}
    for area in tree.areas:
        areas[area.id] = AreaResult(area, 0.0, 0.0, None, 0, 0)
    for leaf in tree.leaves:
        result = areas[tree.area_of[leaf.id].id]
        result.maximum += leaf.points or 0.0
        result.count += 1
        if leaf.id in scores:
            result.score += scores[leaf.id].score
            result.scored += 1
    failures: list[str] = []
    for result in areas.values():
        result.maximum, result.score = _round(result.maximum), _round(result.score)
        if ratio is not None:
            result.required = _round(ratio * result.maximum)
            if not result.reached:
                failures.append(_("%(area)s: %(score)s of %(maximum)s points, below the required %(required)s.",
                                  area=result.item.name, score=_number(result.score),
                                  maximum=_number(result.maximum), required=_number(result.required)))
    total = _round(sum(a.score for a in areas.values()))
    if pass_points is not None and total + _EPSILON < pass_points:
        failures.insert(0, _("Total %(total)s points, below the pass line of %(line)s.",
                             total=_number(total), line=_number(pass_points)))
    return Summary(
        source=source, version=tree.version, areas=list(areas.values()), total=total,
        maximum=_round(sum(a.maximum for a in areas.values())), pass_points=pass_points, area_min_ratio=ratio,
        scored=sum(a.scored for a in areas.values()), count=len(tree.leaves), failures=failures, label=label,
    )


def _number(value: Optional[float]) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# ---------------------------------------------------------------------------
# Who may score
# ---------------------------------------------------------------------------
def _has_role(user, name: str) -> bool:
    return any(role.name == name for role in getattr(user, "roles", ()))


def check_may_score(record, user, source: str) -> None:
    """The scorer of this source, in the state in which it scores. Out of scope: NotFound."""
    sheet = sheet_for(record)
    rule = sheet.rule(source)
    if not scoping.can_access(user, record, scoping.EDIT):
        raise NotFound(_("The record does not exist."))
    if not _has_role(user, rule.role):
        raise AccessDenied(_("Your role may not enter these scores."))
    rule.check_scorer(record, user)
    if record.status not in rule.states:
        from app.services.workflow import state_label

        raise ValidationFailed(sheet.closed_message(state_label(record, record.status)))


def may_score(record, user, source: str) -> bool:
    try:
        check_may_score(record, user, source)
    except (AccessDenied, NotFound, ValidationFailed):
        return False
    return True


def may_read_scores(record, user, source: str) -> bool:
    """Everyone who reaches the record reads its scores, except that the enterprise sees the
    agency's scores only once the agency has submitted its assessment, and the certification
    body's only once the body has decided (certified or not)."""
    sheet = _sheets().get(type(record))
    if sheet is None or source not in sheet.sources or not scoping.can_access(user, record, scoping.READ):
        return False
    return sheet.may_read(record, user, source)


class ScoreErrors(ValidationFailed):
    """Refused scores: ``errors`` maps item id -> translated message (the first is the message)."""

    def __init__(self, errors: dict[int, str]) -> None:
        first = next(iter(errors))
        super().__init__(errors[first], field=f"score_{first}")
        self.errors = errors


def parse_score(raw: Any, item) -> Optional[float]:
    """A score for ``item``: None when blank; ValidationFailed when not a number in 0..points."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise ValidationFailed(_("Enter a number."))
    try:
        value = float(str(raw).strip().replace(",", ".")) if isinstance(raw, str) else float(raw)
    except (TypeError, ValueError):
        raise ValidationFailed(_("Enter a number."))
    if math.isnan(value) or math.isinf(value):
        raise ValidationFailed(_("Enter a number."))
    maximum = item.points or 0.0
    if value < 0 or value > maximum + _EPSILON:
        raise ValidationFailed(_("%(code)s: the score must lie between 0 and %(maximum)s.", code=item.code,
                                 maximum=_number(maximum)))
    return _round(value)


def _lock(record):
    """The record's row, locked on PostgreSQL (a submission or a decision may be under way)."""
    model = type(record)
    query = select(model).filter_by(id=record.id).execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.options(lazyload("*")).with_for_update(of=model)
    locked = db.session.execute(query).scalar_one_or_none()
    if locked is None:
        raise NotFound(_("The record does not exist."))
    return locked


def save_scores(record, user, source: str, scores: Mapping[Any, Any],
                notes: Optional[Mapping[Any, Any]] = None) -> Summary:
    """Save the scores of ``source`` on ``record`` (an Application or a CertificationApplication):
    ``scores`` maps an item (id or code of the record's catalogue) to a score. All or nothing;
    commits.

    A blank leaves an unscored item unscored; a saved score can be changed but not removed
    (the record was submitted: its records are kept, SPEC I4).

    Raises NotFound (out of scope), AccessDenied (not this source's scorer), ValidationFailed
    (wrong state), ScoreErrors (unknown items, values out of 0..points)."""
    notes = notes or {}
    try:
        sheet = sheet_for(record)
        check_may_score(record, user, source)
        record = _lock(record)
        check_may_score(record, user, source)
        version = fix_version(record)
        tree = catalogue(version)
        by_id = {leaf.id: leaf for leaf in tree.leaves}
        by_code = {leaf.code: leaf for leaf in tree.leaves}
        errors: dict[Any, str] = {}
        parsed: dict[int, Optional[float]] = {}
        for key, raw in scores.items():
            item = _item(key, by_id, by_code)
            if item is None:
                errors[key] = _("“%(item)s” is not a scored item of this catalogue.", item=key)
                continue
            try:
                parsed[item.id] = parse_score(raw, item)
            except ValidationFailed as exc:
                errors[item.id] = str(exc)
        clean_notes: dict[int, Optional[str]] = {}
        for key, raw in notes.items():
            item = _item(key, by_id, by_code)
            if item is None:
                errors[key] = _("“%(item)s” is not a scored item of this catalogue.", item=key)
                continue
            text = (str(raw) if raw is not None else "").strip() or None
            if text and len(text) > NOTE_MAX:
                errors[item.id] = _("The note is too long.")
            clean_notes[item.id] = text
        if errors:
            raise ScoreErrors(errors)
        existing = scores_of(record, source)
        for item_id, value in parsed.items():
            if value is None and item_id in existing:
                errors[item_id] = _("A saved score can be changed but not removed.")
        if errors:
            raise ScoreErrors(errors)
        for item_id, value in parsed.items():
            row = existing.get(item_id)
            if value is None:
                continue
            if row is None:
                row = sheet.score_model(item_id=item_id, source=source, score=value,
                                        **{sheet.foreign_key: record.id})
                db.session.add(row)
            row.score = value
            row.scored_by_id = user.id
            if item_id in clean_notes:
                row.note = clean_notes[item_id]
        for item_id, text in clean_notes.items():
            if item_id not in parsed and item_id in existing:
                existing[item_id].note = text
        db.session.flush()
        summary = summarize(record, source, tree)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return summary


def _item(key: Any, by_id: dict, by_code: dict):
    if isinstance(key, int) and not isinstance(key, bool):
        return by_id.get(key)
    text = str(key).strip()
    if text.isdigit() and int(text) in by_id and text not in by_code:
        return by_id[int(text)]
    return by_code.get(text)


# ---------------------------------------------------------------------------
# The workflow guards
# ---------------------------------------------------------------------------
def _attached(owner_type: str, owner_id: int, slot: str) -> bool:
    from app.services import uploads

    return bool(uploads.attachments_of(owner_type, owner_id, slot))


def _check_complete(summary: Optional[Summary]) -> None:
    if summary is None:
        raise TransitionRefused(_("No indicator catalogue is active."))
    if not summary.complete:
        raise TransitionRefused(_("%(missing)s of %(count)s indicator items have no score yet.",
                                  missing=summary.count - summary.scored, count=summary.count))


def check_sheet_complete(record, source: str) -> None:
    """For a workflow guard: every item of the record's catalogue scored by ``source``; else
    TransitionRefused naming the sheet and what is missing."""
    sheet = sheet_for(record)
    label = sheet.label(source)
    try:
        if not record.indicator_version_id:  # nothing saved yet: the version is fixed by the first score
            raise TransitionRefused(_("No indicator item has been scored yet."))
        _check_complete(summarize(record, source))
    except TransitionRefused as exc:
        raise TransitionRefused(_("%(sheet)s: %(reason)s", sheet=label, reason=str(exc))) from None


def check_self_evaluation_complete(application, user, comment) -> None:
    """Submit the self-evaluation: every item scored, the report uploaded and, while
    EVALUATION_SELF_MUST_PASS is on, the pass rules reached."""
    summary = summarize(application, SELF) if application.indicator_version_id else None
    if summary is None:
        raise TransitionRefused(_("Score the indicator items before submitting the self-evaluation."))
    _check_complete(summary)
    if not _attached(SELF_REPORT[0], application.id, SELF_REPORT[1]):
        raise TransitionRefused(_("Upload the self-evaluation report before submitting."))
    if summary.passed is False and current_app.config.get("EVALUATION_SELF_MUST_PASS", True):
        raise TransitionRefused(_("The self-evaluation does not reach the pass rules: %(reasons)s",
                                  reasons=" ".join(summary.failures)))


def check_assessment_complete(application, user, comment) -> None:
    """Submit the assessment: every item scored by the agency, its report and on-site record
    uploaded."""
    assignment = application.assignment
    if assignment is None:
        raise TransitionRefused(_("No agency is assigned to this application."))
    summary = summarize(application, AGENCY) if application.indicator_version_id else None
    if summary is None:
        raise TransitionRefused(_("Score the indicator items before submitting the assessment."))
    _check_complete(summary)
    if not _attached(AGENCY_REPORT[0], assignment.id, AGENCY_REPORT[1]):
        raise TransitionRefused(_("Upload the assessment report before submitting."))
    if not _attached(AGENCY_ONSITE[0], assignment.id, AGENCY_ONSITE[1]):
        raise TransitionRefused(_("Upload the on-site assessment record before submitting."))


# ---------------------------------------------------------------------------
# Record rules of the catalogue screens (admin) and of the provinces' adoptions
# ---------------------------------------------------------------------------
def version_rule(version, user, action: str) -> None:
    if action == scoping.DELETE:
        if _version_in_use(version.id):
            raise ValidationFailed(_("This catalogue version is in use by applications and cannot be deleted."))
        return
    version.code = (version.code or "").strip()
    version.name = (version.name or "").strip()
    if not version.code:
        raise ValidationFailed(_("This field is required."), field="code")
    if not version.name:
        raise ValidationFailed(_("This field is required."), field="name")
    if version.total_points is None or version.total_points <= 0:
        raise ValidationFailed(_("The total must be a positive number of points."), field="total_points")
    _check_line(version.pass_points, version.total_points)
    _check_ratio(version.area_min_ratio)


def _check_line(pass_points: Optional[float], total: float) -> None:
    if pass_points is not None and not (0 <= pass_points <= total):
        raise ValidationFailed(_("The pass line must lie between 0 and %(total)s points.", total=_number(total)),
                               field="pass_points")


def _check_ratio(ratio: Optional[float]) -> None:
    if ratio is not None and not (0 < ratio <= 1):
        raise ValidationFailed(_("The share of each area's maximum must lie between 0 and 1 (e.g. 0.75)."),
                               field="area_min_ratio")


def _version_in_use(version_id: int) -> bool:
    """Scores of an application or a certification refer to the version's items."""
    from app.models import Application, CertificationApplication

    return any(db.session.scalar(select(model.id).where(model.indicator_version_id == version_id).limit(1))
               is not None for model in (Application, CertificationApplication))


def item_rule(item, user, action: str) -> None:
    """Catalogue items: the admin edits them, but not those of a version already used for
    scoring (the scores would silently change meaning)."""
    with db.session.no_autoflush:  # the change must still be visible in the item's history
        _item_rule(item, user, action)


def _item_rule(item, user, action: str) -> None:
    from sqlalchemy import inspect as sa_inspect

    version_id = item.version_id if item.version_id is not None else getattr(item.version, "id", None)
    if action == scoping.DELETE:
        if version_id is not None and _version_in_use(version_id):
            raise ValidationFailed(_("The items of a catalogue version in use by applications cannot be changed."))
        return
    state = sa_inspect(item)
    if state.persistent and version_id is not None and _version_in_use(version_id):
        changed = [attr.key for attr in state.attrs if attr.key in ("points", "parent_id", "version_id", "code",
                                                                  "level", "parent", "version")
                   and attr.history.has_changes()]
        if changed:
            raise ValidationFailed(_("The items of a catalogue version in use by applications cannot be changed."))
    item.code = (item.code or "").strip()
    item.name = (item.name or "").strip()
    if not item.code:
        raise ValidationFailed(_("This field is required."), field="code")
    if not item.name:
        raise ValidationFailed(_("This field is required."), field="name")
    if item.level not in (1, 2, 3):
        raise ValidationFailed(_("The level is 1 (area), 2 or 3 (item)."), field="level")
    if item.points is not None and (math.isnan(item.points) or item.points < 0):
        raise ValidationFailed(_("Points cannot be negative."), field="points")
    parent = item.parent
    if parent is None and item.parent_id is not None:
        from app.models import IndicatorItem

        parent = db.session.get(IndicatorItem, item.parent_id)
    if parent is not None and (parent.version_id != version_id or parent.level != item.level - 1):
        raise ValidationFailed(_("The parent must be an item one level up in the same catalogue version."),
                               field="parent")
    if parent is None and item.level != 1:
        raise ValidationFailed(_("The parent must be an item one level up in the same catalogue version."),
                               field="parent")


def adoption_rule(adoption, user, action: str) -> None:
    """A province adopts one active version, optionally with its own pass line and share."""
    from app.models import IndicatorVersion, Region

    if action == scoping.DELETE:
        return
    region = related_row(adoption, "province", "province_code", Region, "code")
    if region is None or region.level != 1:
        raise ValidationFailed(_("Choose a province."), field="province")
    adoption.province_code = region.code
    version = related_row(adoption, "version", "version_id", IndicatorVersion, "id")
    if version is None or not version.is_active:
        raise ValidationFailed(_("Choose an active catalogue version."), field="version")
    if version.province_code is not None and version.province_code != region.code:
        raise ValidationFailed(_("This catalogue is another province's own: choose a national one or your "
                                 "province's."), field="version")
    _check_line(adoption.pass_points, version.total_points)
    _check_ratio(adoption.area_min_ratio)


def related_row(record, relationship: str, column: str, model: type, key: str):
    """The row ``record`` points to, whether a form set the relationship (HTML) or a body set
    the foreign-key column (REST)."""
    from sqlalchemy import inspect as sa_inspect

    related = getattr(record, relationship)
    value = getattr(record, column)
    if sa_inspect(record).attrs[relationship].history.has_changes() or value is None:
        return related
    if related is None or getattr(related, key) != value:
        return db.session.get(model, value)
    return related


def malformed_scores_message() -> str:
    return _('Send {"scores": [{"item": "<code or id>", "score": <number>, "note": "<text>"}]}.')
