"""The closed lists of the coded columns: which values a column may hold, each with its label.

One table for every screen that shows or asks for such a value by its name:

- a list's search form offers the column as a select box of labels (已提交, 省级, 生产) with
  "equal to" as its first, default operator (``app.web.base.ChoiceSearch``,
  ``app.web.datamodel.EscapedLikeFilterConverter``): nobody types ``submitted`` into a
  "starts with" box;
- the logs show a logged value by its label (``app.views.record_pages``).

A workflow record's state column is listed by its workflow (app.models.states via
app.services.workflow); the other columns are listed below, by model name and column.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from app.models.certification import GRADES
from app.models.choices import (
    DEVELOPMENT_METHODS,
    ECONOMIC_TYPES,
    MINE_SIZES,
    MINING_METHODS,
    PRODUCTION_STATUSES,
    RESPONSIBILITY_LEVELS,
    SUPERVISION_LEVELS,
)
from app.models.directory import LEVEL_LABELS
from app.models.kinds import RECORD_KINDS
from app.models.region import LEVEL_LABELS as REGION_LEVEL_LABELS
from app.models.spotcheck import STAGE_LABELS
from app.services import certification, evaluation, selection, spotchecks, uploads, workflow


def _table() -> dict[tuple[str, str], Any]:
    """(model name, column) -> value -> label, or a function that returns it (labels translated
    when it is called, in the current locale)."""
    applicant_form = {"economic_type": ECONOMIC_TYPES, "mining_method": MINING_METHODS, "mine_size": MINE_SIZES}
    table: dict[tuple[str, str], Any] = {
        (model, column): choices for model in ("Application", "CertificationApplication")
        for column, choices in applicant_form.items()
    }
    grades = {grade: grade for grade in GRADES}  # AAAAA, AAAA: the grade's own name
    table.update({
        ("Enterprise", "economic_type"): ECONOMIC_TYPES,
        ("Mine", "mining_method"): MINING_METHODS,
        ("Mine", "size"): MINE_SIZES,
        ("Mine", "development_method"): DEVELOPMENT_METHODS,
        ("Mine", "production_status"): PRODUCTION_STATUSES,
        ("Mine", "supervision_level"): SUPERVISION_LEVELS,
        ("ResponsiblePerson", "level"): RESPONSIBILITY_LEVELS,
        ("Region", "level"): REGION_LEVEL_LABELS,
        ("DirectoryEntry", "level"): LEVEL_LABELS,
        ("CertificationApplication", "kind"): certification.kind_labels,
        ("CertificationApplication", "grade"): grades,
        ("CertificationCertificate", "grade"): grades,
        ("SurveillanceAudit", "grade_before"): grades,
        ("SurveillanceAudit", "grade_after"): grades,
        ("CertificationTeamMember", "team_role"): certification.team_role_labels,
        ("EvaluationScore", "source"): evaluation.SOURCE_LABELS,
        ("CertificationScore", "source"): evaluation.SOURCE_LABELS,
        ("ReviewDecision", "decision"): selection.DECISION_LABELS,
        ("Attachment", "kind"): uploads.KIND_LABELS,
        ("Attachment", "owner_type"): RECORD_KINDS,
        ("Attachment", "content_type"): {content_type: uploads.KIND_LABELS[kind]
                                         for content_type, (kind, _extensions) in uploads.CONTENT_TYPES.items()},
        ("SpotCheckCampaign", "level"): spotchecks.CAMPAIGN_LEVELS,
        ("SpotCheck", "entry_level"): LEVEL_LABELS,
        ("SpotCheck", "mining_method"): MINING_METHODS,
        ("SpotCheckConfirmation", "stage"): STAGE_LABELS,
        ("Inspector", "title_grade"): spotchecks.TITLE_GRADES,
        ("Inspector", "admin_rank"): spotchecks.ADMIN_RANKS,
        ("TransitionLog", "record_type"): RECORD_KINDS,
        ("AuditEntry", "record_type"): RECORD_KINDS,
    })
    return table


def closed_list(model: Optional[type], column: str) -> Optional[Mapping[Any, Any]]:
    """value -> label of ``model``'s coded ``column``, in the order offered; None when the column
    takes free values (or ``model`` is None)."""
    if model is None:
        return None
    if getattr(model, "workflow_name", None) is not None:
        flow = workflow.workflow_of(model)
        if column == flow.state_attr:
            return flow.states
    choices = _TABLE.get((model.__name__, column))
    return choices() if callable(choices) else choices


def has_closed_list(model: Optional[type], column: str) -> bool:
    """Without building a list (FAB asks it of every column of a list's model per request)."""
    if model is None:
        return False
    if getattr(model, "workflow_name", None) is not None and column == workflow.workflow_of(model).state_attr:
        return True
    return (model.__name__, column) in _TABLE


_TABLE = _table()
