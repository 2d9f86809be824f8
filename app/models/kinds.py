"""What one record of each kind is called (绿色矿山申请, 预申报, 抽查核查任务 …): one closed list.

The logs store a record's kind as its model's class name (``TransitionLog.record_type``,
``AuditEntry.record_type``) and show it by the label here; the notifications name a record's
kind with it, and the screens' and REST API's default titles ("新增矿山", "矿山列表",
app.web.labels.record_name) too. Every audited model has one (tests/test_logs.py checks), so a
class name never reaches the screen.
"""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

RECORD_KINDS = {
    # The registry and reference data
    "Region": _l("Region"),
    "Mineral": _l("Mineral"),
    "MineSizeThreshold": _l("Mine size threshold"),
    "Enterprise": _l("Enterprise"),
    "Mine": _l("Mine"),
    "ResponsiblePerson": _l("Responsible person"),
    "GreenMineUser": _l("User account"),
    "Notice": _l("Notice"),
    "Attachment": _l("Attachment"),
    # Pre-declaration, application, evaluation and selection
    "PreDeclaration": _l("Pre-declaration"),
    "Application": _l("Green-mine application"),
    "ApplicationWindow": _l("Application window"),
    "IndicatorVersion": _l("Indicator catalogue"),
    "IndicatorItem": _l("Indicator item"),
    "IndicatorEvidence": _l("Indicator evidence"),
    "ProvinceIndicatorAdoption": _l("Adopted indicator catalogue"),
    "EvaluationScore": _l("Evaluation score"),
    "Agency": _l("Assessment agency"),
    "AgencyAssignment": _l("Agency draw"),
    "AgencyConflict": _l("Declared conflict of interest"),
    "ReviewMeeting": _l("Collective review meeting"),
    "ReviewDecision": _l("Collective review decision"),
    "PublicNotice": _l("Public notice"),
    "Objection": _l("Objection"),
    # The directory
    "DirectoryEntry": _l("Directory entry"),
    "Certificate": _l("Certificate"),
    "NationalRecommendation": _l("Recommendation to the national list"),
    "AnomalyEntry": _l("Anomaly-list entry"),
    "FraudFinding": _l("Finding of falsified materials"),
    "DemoZoneApplication": _l("Demonstration zone application"),
    # Spot checks
    "SelfCheck": _l("Self-check record"),
    "ProblemLead": _l("Problem lead"),
    "Inspector": _l("Inspector"),
    "SpotCheckCampaign": _l("Spot-check campaign"),
    "SpotCheckTeam": _l("Spot-check team"),
    "SpotCheckTeamMember": _l("Spot-check team member"),
    "SpotCheck": _l("Green-mine verification record"),
    "SpotCheckConfirmation": _l("Confirmation of a spot-check record"),
    # Certification
    "CertificationBody": _l("Certification body"),
    "CertificationApplication": _l("Green-mine certification application"),
    "CertificationTeamMember": _l("Certification team member"),
    "CertificationPause": _l("Pause of the evaluation clock"),
    "CertificationScore": _l("Certification score"),
    "CertificationCertificate": _l("Green-mine certification certificate"),
    "SurveillanceAudit": _l("Surveillance audit"),
}


def record_kind(record_type: str) -> Any:
    """The kind's label as a lazy string (for titles built once and shown in each user's
    language); None for a kind not in the list."""
    return RECORD_KINDS.get(record_type)


def record_kind_label(record_type: str) -> str:
    """The kind of a logged record in the user's language; a kind missing from the list (a bug
    the test catches) shows as a generic "record", never as a class name."""
    kind = RECORD_KINDS.get(record_type)
    return str(kind) if kind is not None else str(_l("Record"))
