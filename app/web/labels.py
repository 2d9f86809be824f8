"""The labels of the records' columns, in one place for the screens (app/views) and the REST API
(app/api): a column is called the same on a page and in ``/api/v1/<resource>/_info``.

Each dict is read-only (``MappingProxyType``): FAB writes a title-cased column name ("Uscc") into
a view's ``label_columns`` for every column it finds no label for, and a view that held one of
these dicts itself would write that into every other user of it. A view takes a copy
(``label_columns = dict(ENTERPRISE_LABELS)``); the REST API asks ``label_of(model, column)``.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import inspect as sa_inspect

from app.models import (
    Agency,
    AgencyAssignment,
    AgencyConflict,
    AnomalyEntry,
    Application,
    Attachment,
    Certificate,
    CertificationApplication,
    CertificationBody,
    CertificationCertificate,
    CertificationPause,
    CertificationScore,
    CertificationTeamMember,
    DemoZoneApplication,
    DirectoryEntry,
    Enterprise,
    EvaluationScore,
    FraudFinding,
    IndicatorEvidence,
    IndicatorItem,
    IndicatorVersion,
    Inspector,
    Mine,
    Mineral,
    NationalRecommendation,
    Objection,
    PreDeclaration,
    ProblemLead,
    ProvinceIndicatorAdoption,
    PublicNotice,
    Region,
    ResponsiblePerson,
    ReviewDecision,
    ReviewMeeting,
    SelfCheck,
    SpotCheck,
    SpotCheckCampaign,
    SpotCheckConfirmation,
    SpotCheckTeam,
    SpotCheckTeamMember,
    SurveillanceAudit,
)
from app.models.kinds import record_kind
from app.services import certification, selfchecks, spotchecks

Labels = Mapping[str, Any]


def _frozen(*parts: Labels, **more: Any) -> Labels:
    merged: dict[str, Any] = {}
    for part in parts:
        merged.update(part)
    merged.update(more)
    return MappingProxyType(merged)


# Columns that many records have, with one meaning each: the last resort of ``label_of``.
COMMON_LABELS = _frozen({
    "id": _l("Record ID"),
    "created_at": _l("Created at"),
    "updated_at": _l("Updated at"),
    "status": _l("Status"),
    "year": _l("Year"),
    "region": _l("Region"),
    "province": _l("Province"),
    "enterprise": _l("Enterprise"),
    "mine": _l("Mine"),
    "application": _l("Application"),
    "submitted_at": _l("Submitted at"),
    "decided_at": _l("Decided at"),
    "decision_comment": _l("Comment"),
})

# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------
REGION_LABELS = _frozen({
    "code": _l("Code"),
    "name": _l("Name"),
    "display_name": _l("Name"),
    "full_name": _l("Full name"),
    "level": _l("Level"),
    "level_label": _l("Level"),
    "parent": _l("Parent region"),
    "is_leaf": _l("County level"),
})

MINERAL_LABELS = _frozen({
    "name": _l("Mineral"),
    "mineral_class": _l("Class"),
    "subclass": _l("Sub-class"),
    "note": _l("Uses and remarks"),
    "added": _l("Added to the catalogue"),
    "sort_order": _l("Order"),
})

ENTERPRISE_LABELS = _frozen({
    "name": _l("Enterprise name"),
    "uscc": _l("Unified social credit code"),
    "economic_type": _l("Economic type"),
    "economic_type_label": _l("Economic type"),
    "legal_representative": _l("Legal representative"),
    "contact_person": _l("Contact person"),
    "address": _l("Address"),
    "mobile": _l("Mobile"),
    "phone": _l("Telephone"),
    "fax": _l("Fax"),
    "email": _l("Email"),
    "postcode": _l("Postcode"),
    "region": _l("Region"),
    "region_code": _l("Region (county level)"),
})

MINE_LABELS = _frozen({
    "name": _l("Mine name"),
    "address": _l("Mine address"),
    "licence_no": _l("Mining licence number"),
    "enterprise": _l("Licence holder"),
    "employees": _l("Employees"),
    "mineral": _l("Main mineral"),
    "mining_method": _l("Mining method"),
    "mining_method_label": _l("Mining method"),
    "production_scale": _l("Production scale (10,000 t/year)"),
    "area_km2": _l("Mining area (km²)"),
    "issuing_authority": _l("Issuing authority"),
    "size": _l("Mine size"),
    "size_label": _l("Mine size"),
    "region": _l("Region"),
    "region_code": _l("Region (county level)"),
    "licence_valid_from": _l("Licence valid from"),
    "licence_valid_to": _l("Licence valid to"),
    "is_new_or_expanded": _l("New or expanded mine"),
    "production_started_on": _l("Production started on"),
    "design_capacity": _l("Design capacity (10,000 t/year)"),
    "development_method": _l("Development method"),
    "development_method_label": _l("Development method"),
    "max_depth_m": _l("Maximum mining depth (m)"),
    "workers_per_shift": _l("Workers underground per shift"),
    "production_status": _l("Production status"),
    "production_status_label": _l("Production status"),
    "supervision_level": _l("Daily supervision"),
    "supervision_level_label": _l("Daily supervision"),
    "latitude": _l("Latitude (°N)"),
    "longitude": _l("Longitude (°E)"),
    "principal_name": _l("Principal"),
    "principal_phone": _l("Principal's phone"),
})

# As the mine's page shows them (gm/mine_show.html).
RESPONSIBLE_PERSON_LABELS = _frozen({
    "mine": _l("Mine"),
    "level": _l("Level"),
    "name": _l("Name"),
    "post": _l("Post"),
    "phone": _l("Phone"),
    "created_at": _l("Entered"),
    "replaced_at": _l("Replaced"),
    "entered_by": _l("Entered by"),
})

# ---------------------------------------------------------------------------
# The green-mine process
# ---------------------------------------------------------------------------
PREDECLARATION_LABELS = _frozen({
    "enterprise": _l("Enterprise"),
    "mine": _l("Mine"),
    "licence_no": _l("Mining licence number"),
    "region": _l("Region"),
    "region_code": _l("Region (county level)"),
    "year": _l("Application year"),
    "status": _l("Status"),
    "status_label": _l("Status"),
    "submitted_at": _l("Submitted at"),
    "decided_at": _l("Decided at"),
    "decision_comment": _l("Review comment"),
})

APPLICATION_LABELS = _frozen({
    "predeclaration": _l("Pre-declaration"),
    "indicator_version": _l("Indicator catalogue"),
    "public_notice": _l("Public notice"),
    "enterprise": _l("Enterprise"),
    "mine": _l("Mine"),
    "region": _l("Region"),
    "year": _l("Application year"),
    "status_label": _l("Status"),
    # The search form's filter on the state itself.
    "status": _l("Status"),
    "submitted_at": _l("Submitted at"),
    # 矿山企业基本信息 (fig. 3-9)
    "enterprise_name": _l("Mining-right holder"),
    "mine_name": _l("Mine name / oil or gas field name"),
    "mine_address": _l("Mine address"),
    "licence_no": _l("Mining licence number"),
    "uscc": _l("Unified social credit code"),
    "economic_type": _l("Economic type"),
    "employees": _l("Employees"),
    "mineral_name": _l("Main mineral mined"),
    "mining_method": _l("Mining method"),
    "production_scale": _l("Production scale (10,000 t/year)"),
    "area_km2": _l("Mining area (km²)"),
    "issuing_authority": _l("Issuing authority"),
    "mine_size": _l("Mine size"),
    # 矿山企业联系方式 (fig. 3-10)
    "legal_representative": _l("Legal representative"),
    "contact_person": _l("Contact person"),
    "contact_address": _l("Postal address"),
    "mobile": _l("Mobile"),
    "phone": _l("Landline"),
    "fax": _l("Fax"),
    "email": _l("E-mail"),
    "postcode": _l("Postcode"),
    # 绿色矿山建设指标 (fig. 3-11)
    "greening_coverage_pct": _l("Greening coverage of the mining area, share of the greenable area (%)"),
    "land_restoration_pct": _l("Restoration rate of occupied and damaged land (%)"),
    "mining_recovery_pct": _l("Mining recovery rate (%)"),
    "processing_recovery_pct": _l("Processing recovery rate (%)"),
    "utilisation_pct": _l("Comprehensive utilisation rate (%)"),
    "water_treatment_pct": _l("Treatment rate of mine water and processing waste water (%)"),
    "tailings_produced": _l("Tailings produced this year (10,000 t)"),
    "tailings_used": _l("Tailings used this year (10,000 t)"),
    "waste_rock_produced": _l("Waste rock (gangue) produced this year (10,000 t)"),
    "waste_rock_used": _l("Waste rock (gangue) used this year (10,000 t)"),
    "industrial_output": _l("Gross industrial output (10,000 yuan)"),
    "utilisation_output": _l("Output of comprehensive utilisation (10,000 yuan)"),
    "energy_per_unit": _l("Energy consumption per unit product (kg standard coal/t)"),
    "rnd_share_pct": _l("Innovation spending, share of last year's main business income (%)"),
    # 绿色矿山建设情况 (fig. 3-12)
    "self_evaluation_unit": _l("Self-evaluation report prepared by"),
    "situation_environment": _l("Mining-area environment"),
    "situation_development": _l("Resource development"),
    "situation_utilisation": _l("Comprehensive resource utilisation"),
    "situation_energy": _l("Energy saving and emission reduction"),
    "situation_innovation": _l("Innovation and digital mine"),
    "situation_management": _l("Enterprise management and image"),
    # 遴选条件 (seed 001 §一(一))
    "cond_valid_licence": _l("Holds a valid mining licence and operates normally"),
    "cond_no_penalty": _l("No administrative penalty in three years, or rectified"),
    "cond_not_anomalous": _l("Not on the anomaly list"),
    "cond_no_protected_area": _l("Not in a nature protected area (no-mining zone)"),
    "cond_reserves_three_years": _l("Remaining reserves for at least three years"),
    "cond_plan_reviewed": _l("Implementation plan prepared and reviewed"),
    "conditions_note": _l("Notes on the conditions"),
})

# ---------------------------------------------------------------------------
# Evaluation: the indicator catalogue, the provinces' adoptions, the agencies
# ---------------------------------------------------------------------------
INDICATOR_LABELS = _frozen({
    "code": _l("Code"),
    "name": _l("Name"),
    "total_points": _l("Total points"),
    "pass_points": _l("Pass line (points)"),
    "area_min_ratio": _l("Minimum share of each area"),
    "is_active": _l("Enabled for new evaluations"),
    "source": _l("Source"),
    "source_note": _l("Source note"),
    "inferred": _l("Inferred value"),
    "provenance": _l("Source of the figures"),
    "version": _l("Catalogue version"),
    "parent": _l("Parent item"),
    "level": _l("Level"),
    "points": _l("Points"),
    "scoring_note": _l("Scoring note"),
    "sort_order": _l("Order"),
    "province": _l("Province"),
    "adopted_on": _l("Adopted on"),
})

AGENCY_LABELS = _frozen({
    "name": _l("Agency name"),
    "uscc": _l("Unified social credit code"),
    "qualification": _l("Qualification"),
    "status": _l("Status"),
    "disqualified_at": _l("Disqualified at"),
    "disqualification_reason": _l("Reason for the disqualification"),
    "agency": _l("Agency"),
    "enterprise": _l("Enterprise"),
    "reason": _l("Reason"),
    "declared_at": _l("Declared at"),
    "declared_by": _l("Declared by"),
    "disqualified_by": _l("Disqualified by"),
})

# ---------------------------------------------------------------------------
# Selection: review meetings, public notices, objections, demonstration zones
# ---------------------------------------------------------------------------
SELECTION_LABELS = _frozen({
    "province": _l("Province"),
    "province_code": _l("Province"),
    "created_at": _l("Created at"),
    "status": _l("Status"),
    "status_label": _l("Status"),
    "region": _l("Region"),
    "region_code": _l("Region"),
    "year": _l("Year"),
})
REVIEW_MEETING_LABELS = _frozen(SELECTION_LABELS, held_on=_l("Date"), members=_l("Members present"),
                                note=_l("Note"))
PUBLIC_NOTICE_LABELS = _frozen(SELECTION_LABELS, title=_l("Title"),
                               starts_on=lazy_pgettext("public notice period", "From"),
                               ends_on=lazy_pgettext("public notice period", "Until"),
                               applications=_l("Applications in the notice"), published_by=_l("Published by"),
                               contact_name=_l("Office receiving objections"),
                               contact_phone=_l("Telephone for objections"),
                               contact_email=_l("E-mail for objections"),
                               contact_address=_l("Address for objections"))
OBJECTION_LABELS = _frozen(SELECTION_LABELS, received_on=_l("Received on"), application=_l("Application"),
                           content=_l("Content"), decision_comment=_l("Resolution"),
                           objector_name=_l("Objector"), objector_contact=_l("Telephone or e-mail"))
DEMO_ZONE_LABELS = _frozen(SELECTION_LABELS, name=_l("Zone name"), applicant_kind=_l("Applicant"),
                           applicant_kind_label=_l("Applicant"), enterprise=_l("Enterprise"),
                           plan_summary=_l("Construction plan (summary)"), submitted_at=_l("Submitted at"),
                           decision_comment=_l("Decision"), created_by=_l("Created by"))

# ---------------------------------------------------------------------------
# The directory, the national recommendations, the anomaly list, the certificates
# ---------------------------------------------------------------------------
DIRECTORY_LABELS = _frozen({
    "year": _l("Year"),
    "level_label": _l("Level"),
    "level": _l("Level"),
    "mine_name": _l("Mine"),
    "mine": _l("Mine"),
    "enterprise_name": _l("Enterprise"),
    "mineral_name": _l("Mineral"),
    "region": _l("Region"),
    "status": _l("Status"),
    "status_label": _l("Status"),
    "listed_on": _l("Listed on"),
    "entry_reason": _l("Reason for listing"),
    "entry_decision": _l("Listing decision"),
    "removed_on": _l("Removed on"),
    "exit_reason": _l("Reason for removal"),
    "exit_decision": _l("Removal decision"),
    "reason": _l("Reason"),
    "decision": _l("Decision"),
    "decision_comment": _l("Comment"),
    "entry": _l("Provincial entry"),
    "national_entry": _l("National entry"),
    "review_note": _l("Review note"),
})
NATIONAL_RECOMMENDATION_LABELS = _frozen(DIRECTORY_LABELS, region=_l("Region"), decided_at=_l("Decided at"))
ANOMALY_LABELS = _frozen(DIRECTORY_LABELS, decision_comment=_l("Comment on the release"))

# Findings of falsified materials (弄虚作假认定, seed 001 三(三)).
FRAUD_FINDING_LABELS = _frozen({
    "mine": _l("Mine"),
    "mine_name": _l("Mine"),
    "enterprise": _l("Mining enterprise"),
    "enterprise_name": _l("Mining enterprise"),
    "region": _l("Region"),
    "application": _l("Application"),
    "licence_no": _l("Mining licence number"),
    "reason": _l("Facts found"),
    "decision_no": _l("Decision document"),
    "decided_on": _l("Decided on"),
    "barred_until": _l("May not apply before"),
    "recorded_by": _l("Recorded by"),
    "recorded_by_name": _l("Recorded by"),
    "effects": _l("Effects"),
    "document": _l("Decision document (PDF)"),
    "created_at": _l("Recorded at"),
})

CERTIFICATE_LABELS = _frozen({
    "number": _l("Certificate number"),
    "mine_name": _l("Mine"),
    "enterprise_name": _l("Mining enterprise"),
    "level_label": _l("Directory level"),
    "year": _l("Directory year"),
    "issued_on": _l("Issued on"),
    "validity_period": _l("Validity"),
    "validity": _l("Certificate status code"),
    "validity_label": _l("Certificate status"),
    "region": _l("Region"),
    "entry": _l("Directory entry"),
    "review_note": _l("Review note"),
})

# ---------------------------------------------------------------------------
# Spot checks: self-checks, problem leads, inspectors, campaigns, verification records
# ---------------------------------------------------------------------------
SELF_CHECK_LABELS = _frozen(
    selfchecks.SELF_CHECK_AREA_LABELS,
    year=_l("Year"),
    mine=_l("Mine"),
    enterprise=_l("Enterprise"),
    region=_l("Region"),
    status=_l("Status"),
    status_label=_l("Status"),
    submitted_at=_l("Submitted at"),
    is_late=_l("Filed late"),
    achievements=_l("Main achievements"),
    problems=_l("Problems"),
    measures=_l("Rectification measures"),
    decision_comment=_l("Comment on return"),
    received_on=_l("Received on"),
    source=_l("Source"),
    content=_l("Content"),
    decided_at=_l("Closed at"),
    entry=_l("Directory entry"),
    **{"entry.level_label": _l("Directory level")},
)
PROBLEM_LEAD_LABELS = _frozen(SELF_CHECK_LABELS, decision_comment=_l("Resolution"))

SPOT_CHECK_LABELS = _frozen({
    # inspectors
    "name": _l("Inspector's name"),
    "user": _l("Account"),
    "pool_region": _l("Pool"),
    "pool_region_code": _l("Pool"),
    "home_region": _l("Home county"),
    "home_region_code": _l("Home county"),
    "unit": _l("Unit"),
    "title": _l("Professional title"),
    "title_grade": _l("Title grade"),
    "admin_rank": _l("Administrative rank"),
    "active": _l("Active"),
    # campaigns
    "year": _l("Year"),
    "level": _l("Organiser level"),
    "region": _l("Region"),
    "ratio": _l("Sampling ratio"),
    "team_size": _l("Team size"),
    "team_count": _l("Number of teams"),
    "report_deadline": _l("Report deadline"),
    "is_supplementary": _l("Supplementary round"),
    "supplementary_reason": _l("Reason for the supplementary round"),
    "deadline_passed_at_creation": _l("Report deadline passed when created"),
    "status": _l("Status"),
    "status_label": _l("Status"),
    "algorithm": _l("Draw algorithm"),
    "seed": _l("Draw seed"),
    "sample_size": _l("Mines drawn"),
    "drawn_at": _l("Drawn at"),
    "drawn_by": _l("Drawn by"),
    "decided_at": _l("Decided at"),
    "decision_comment": _l("Comment"),
    # checks
    "campaign": _l("Campaign"),
    "entry": _l("Directory entry"),
    "position": _l("No."),
    "entry_level": _l("Directory level"),
    "mine_name": _l("Mine name"),
    "licence_no": _l("Mining licence number"),
    "mineral_name": _l("Mineral"),
    "mining_method": _l("Mining method"),
    "production_scale": _l("Production scale (10,000 t/year)"),
    "priority_reasons": _l("Priority"),
    "team": _l("Team"),
    "confirmations": _l("Confirmations by the team"),
    "checked_on": _l("Date of the check"),
    "opinions": _l("Opinions and suggestions"),
    "conforms": _l("Meets the green-mine standard"),
    "recorded_at": _l("Submitted at"),
    "rectify_deadline": _l("Rectification deadline"),
    "note": _l("Note"),
    # the re-check of a rectification
    "recheck_on": _l("Date of the re-check"),
    "recheck_findings": _l("Findings of the re-check"),
    "recheck_conforms": _l("Rectified: meets the green-mine standard"),
    "rechecked_at": _l("Re-check submitted at"),
    **{f"area_{area}": label for area, label in spotchecks.AREA_LABELS.items()},
})
SPOT_CHECK_CAMPAIGN_LABELS = _frozen(SPOT_CHECK_LABELS, title=_l("Title"), candidate_entry_ids=_l("Candidate mines"),
                                     priority=_l("Priority mines"),
                                     inspector_candidate_ids=_l("Candidate inspectors"))

# ---------------------------------------------------------------------------
# Certification: bodies, applications, certificates, surveillance audits
# ---------------------------------------------------------------------------
CERTIFICATION_BODY_LABELS = _frozen({
    "name": _l("Name"),
    "uscc": _l("Unified social credit code"),
    "approval_no": _l("Approval number"),
    "active": _l("Takes applications"),
})

# The green-mine application's labels, where seed 002 says the same; its own words where not.
CERTIFICATION_LABELS = _frozen(
    APPLICATION_LABELS,
    applicant_name=_l("Applicant (unit name)"),
    contact_address=_l("Correspondence address"),
    situation_innovation=_l("Innovation and smart mine"),
    conditions_note=_l("Notes on the conditions of application"),
    **certification.CONDITION_LABELS,
    body=_l("Certification body"),
    body_id=_l("Certification body"),
    mine_id=_l("Mine"),
    kind=_l("Kind"),
    previous_certificate=_l("Certificate renewed"),
    accepted_on=_l("Accepted on"),
    finished_on=_l("Evaluation finished on"),
    score=_l("Score"),
    score_share=_l("Score (share of the maximum, per hundred)"),
    grade=_l("Grade"),
    decided_at=_l("Decided at"),
    decision_comment=_l("Decision comment"),
)

SURVEILLANCE_LABELS = _frozen({
    "number": _l("Certificate number"),
    "certification": _l("Certification application"),
    "mine_name": _l("Mine"),
    "enterprise_name": _l("Mining enterprise"),
    "mineral_name": _l("Mineral"),
    "grade": _l("Grade"),
    "body": _l("Certification body"),
    "region": _l("Region"),
    "issued_on": _l("Issued on"),
    "valid_from": _l("Valid from"),
    "valid_until": _l("Valid until"),
    "validity": _l("Certificate status code"),
    "validity_label": _l("Certificate status"),
    "status_label": _l("Status"),
    "status": _l("Status"),
    "revoked_on": _l("Revoked on"),
    "decided_at": _l("Decided at"),
    "decision_comment": _l("Comment"),
    "audits": _l("Surveillance audits"),
    # audits
    "certificate": _l("Certificate"),
    "planned_on": _l("Planned for"),
    "audit_on": _l("Day of the audit"),
    "team": _l("Audit team"),
    "findings": _l("Findings"),
    "score_share": _l("Score (share of the maximum, per hundred)"),
    "grade_before": _l("Grade before"),
    "grade_after": _l("Grade after"),
})

# ---------------------------------------------------------------------------
# Records shown inside their parent's page (a table of its template), and files: the audit
# trail names their fields
# ---------------------------------------------------------------------------
ATTACHMENT_LABELS = _frozen({
    "owner_type": _l("Kind of record it belongs to"), "owner_id": _l("Belongs to"), "slot": _l("Material"), "kind": _l("Type"),
    "original_name": _l("File"), "stored_name": _l("Stored file"), "content_type": _l("File type"),
    "size_bytes": _l("Size"), "sha256": _l("Checksum"), "uploaded_by": _l("Uploaded by"),
    "removed_at": _l("Removed at"), "removed_by": _l("Removed by"),
})
SCORE_LABELS = _frozen({
    "application": _l("Application"), "certification": _l("Certification application"),
    "item": _l("Indicator item"), "source": _l("Scored by whom"), "score": _l("Score"), "note": _l("Note"),
    "scored_by": _l("Scored by"), "scored_at": _l("Scored at"),
})
AGENCY_ASSIGNMENT_LABELS = _frozen({
    "application": _l("Application"), "agency": _l("Drawn agency"), "algorithm": _l("Algorithm"),
    "seed": _l("Seed"), "candidate_ids": _l("Candidates (in order)"), "excluded": _l("Excluded"),
    "drawn_at": _l("Drawn at"), "drawn_by": _l("Drawn by"),
})
REVIEW_DECISION_LABELS = _frozen({
    "meeting": _l("Collective review meeting"), "application": _l("Application"), "decision": _l("Decision"),
    "reasons": _l("Reasons"), "decided_at": _l("Decided at"), "decided_by": _l("Decided by"),
})
SPOT_CHECK_TEAM_LABELS = _frozen({
    "campaign": _l("Spot-check campaign"), "number": _l("Team"), "leader": _l("Team leader"),
    "team": _l("Team"), "inspector": _l("Inspector"), "position": _l("Order"),
})
SPOT_CHECK_CONFIRMATION_LABELS = _frozen({
    "check": _l("Spot-check record"), "inspector": _l("Inspector"), "stage": _l("Stage"), "user": _l("Account"),
    "confirmed_at": _l("Confirmed at"),
})
CERTIFICATION_TEAM_LABELS = _frozen({
    "certification": _l("Certification application"), "name": lazy_pgettext("person", "Name"),
    "team_role": _l("Role in the team"), "registration_no": _l("Registration number"), "unit": _l("Unit"),
    "specialty": _l("Specialty"), "removed_at": _l("Removed at"),
})
CERTIFICATION_PAUSE_LABELS = _frozen({
    "certification": _l("Certification application"), "started_on": _l("Rectification requested on"),
    "ended_on": _l("Rectification submitted on"), "reason": _l("Reason"),
})
INDICATOR_EVIDENCE_LABELS = _frozen({"application": _l("Application"), "item": _l("Indicator item"),
                                     "note": _l("Note")})

# ---------------------------------------------------------------------------
# By model
# ---------------------------------------------------------------------------
MODEL_LABELS: Mapping[type, Labels] = MappingProxyType({
    Region: REGION_LABELS,
    Mineral: MINERAL_LABELS,
    Enterprise: ENTERPRISE_LABELS,
    Mine: MINE_LABELS,
    ResponsiblePerson: RESPONSIBLE_PERSON_LABELS,
    PreDeclaration: PREDECLARATION_LABELS,
    Application: APPLICATION_LABELS,
    IndicatorVersion: INDICATOR_LABELS,
    IndicatorItem: INDICATOR_LABELS,
    ProvinceIndicatorAdoption: INDICATOR_LABELS,
    Agency: AGENCY_LABELS,
    AgencyConflict: AGENCY_LABELS,
    ReviewMeeting: REVIEW_MEETING_LABELS,
    PublicNotice: PUBLIC_NOTICE_LABELS,
    Objection: OBJECTION_LABELS,
    DemoZoneApplication: DEMO_ZONE_LABELS,
    DirectoryEntry: DIRECTORY_LABELS,
    NationalRecommendation: NATIONAL_RECOMMENDATION_LABELS,
    AnomalyEntry: ANOMALY_LABELS,
    FraudFinding: FRAUD_FINDING_LABELS,
    Certificate: CERTIFICATE_LABELS,
    SelfCheck: SELF_CHECK_LABELS,
    ProblemLead: PROBLEM_LEAD_LABELS,
    Inspector: SPOT_CHECK_LABELS,
    SpotCheckCampaign: SPOT_CHECK_CAMPAIGN_LABELS,
    SpotCheck: SPOT_CHECK_LABELS,
    CertificationBody: CERTIFICATION_BODY_LABELS,
    CertificationApplication: CERTIFICATION_LABELS,
    CertificationCertificate: SURVEILLANCE_LABELS,
    SurveillanceAudit: SURVEILLANCE_LABELS,
    Attachment: ATTACHMENT_LABELS,
    EvaluationScore: SCORE_LABELS,
    CertificationScore: SCORE_LABELS,
    AgencyAssignment: AGENCY_ASSIGNMENT_LABELS,
    ReviewDecision: REVIEW_DECISION_LABELS,
    SpotCheckTeam: SPOT_CHECK_TEAM_LABELS,
    SpotCheckTeamMember: SPOT_CHECK_TEAM_LABELS,
    SpotCheckConfirmation: SPOT_CHECK_CONFIRMATION_LABELS,
    CertificationTeamMember: CERTIFICATION_TEAM_LABELS,
    CertificationPause: CERTIFICATION_PAUSE_LABELS,
    IndicatorEvidence: INDICATOR_EVIDENCE_LABELS,
})

# A column named after a relationship (``mine_id``, ``region_code``) or a value (``status_label``)
# is called what the relationship or the value is called.
_DERIVED_SUFFIXES = ("_id", "_code", "_label")


def _related_model(model: type, relationship: str) -> type | None:
    relation = sa_inspect(model).relationships.get(relationship)
    return relation.mapper.class_ if relation is not None else None


def label_of(model: type, column: str) -> Any:
    """The label of ``column`` of ``model``: its own, the one of the relationship or value it
    names, the label every record uses for it, in that order; ``entry.mine_name`` is labelled
    as the related record labels ``mine_name``. A column with none of these is returned as its
    own name (never title-cased: "Uscc" reads like a word, and gettext would "translate"
    "Number" as 数量); tests/test_api_info.py fails on it."""
    if "." in column:
        relationship, rest = column.split(".", 1)
        related = _related_model(model, relationship)
        return label_of(related, rest) if related is not None else column
    for labels in (MODEL_LABELS.get(model, {}), COMMON_LABELS):
        if column in labels:
            return labels[column]
        for suffix in _DERIVED_SUFFIXES:
            if column.endswith(suffix) and column[: -len(suffix)] in labels:
                return labels[column[: -len(suffix)]]
    return column


def record_name(model: type) -> Any:
    """What one record of ``model`` is called (app.models.kinds, the list the logs and the
    notifications use too); its class name only for a model not listed."""
    return record_kind(model.__name__) or model.__name__
