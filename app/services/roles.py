"""The roles, declared once: who they are, what binds them to a scope, what they may do.

``flask gm sync-roles`` writes exactly these permissions into FAB's tables (adding what is
missing and removing what is not declared), so roles are never clicked together by hand.
Which *records* a role sees is decided by app.services.scoping from ``ROLES[...].scope``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from app.models.user import ROLE_LABELS, role_label  # noqa: F401  (the labels are data of the models)

# Scope kinds (see app.services.scoping)
ALL, PROVINCE, CITY, COUNTY, ENTERPRISE, AGENCY, INSPECTOR, CERTIFIER, NONE = (
    "all", "province", "city", "county", "enterprise", "agency", "inspector", "certifier", "none",
)

# Permission groups of FAB's generated views (HTML) and APIs (REST).
READ = ("can_list", "can_show", "can_get", "can_info")
WRITE = ("can_add", "can_edit", "can_post", "can_put")
DELETE = ("can_delete",)
TRANSITION = ("can_transition",)

# Resources: the FAB view and API class names that serve one kind of record.
REFERENCE = ("RegionView", "RegionApi", "MineralView", "MineralApi", "MineSizeThresholdView")
REGISTRY = ("EnterpriseView", "EnterpriseApi", "MineView", "MineApi")
PREDECLARATION = ("PreDeclarationView", "PreDeclarationApi")
APPLICATION = ("ApplicationView", "ApplicationApi")
APPLICATION_WINDOW = ("ApplicationWindowView",)
# Attachments: one scoped route set for every owner record (pre-declaration photos, application
# files, indicator evidence); can_upload covers removal too.
ATTACHMENTS = ("AttachmentView", "AttachmentApi")
UPLOAD = ("can_upload", "can_download")
DOWNLOAD = ("can_download",)
# The applicant's indicator-evidence page (D10) on the application view.
EVIDENCE = ("can_evidence",)
RESPONSIBLE_PERSONS = ("ResponsiblePersonApi",)
# The mine's self-service routes: its position, and the responsible person of one's level.
MINE_SELF_SERVICE = ("MineView", "MineApi")
SELF_SERVICE = ("can_location", "can_responsible")
# Statistics and the Excel screens map all their routes onto a few permission names
# (FAB's method_permission_name): can_read; can_export (template, export) and can_import.
STATISTICS = ("StatisticsView", "StatisticsApi")
MINE_EXCEL = ("MineExcelView",)
STATISTICS_READ = ("can_read",)
EXCEL_EXPORT = ("can_export",)
EXCEL_IMPORT = ("can_import",)
# The whole log is for the national level (and the admin); everybody else sees each record's
# own history on its detail page, through the record's scope.
PROCESS_LOG = ("TransitionLogView",)
# Every signed-in user may see and change his own account (app/views/account.py) and read his
# own messages (app/views/notifications.py, app/api/notifications.py).
OWN_ACCOUNT = (("can_userinfo", "GreenMineUserView"), ("can_profile", "AccountView"),
               ("can_read", "NotificationView"), ("can_read", "NotificationApi"))
# Password resets by an authority (SPEC A4): the province, for its enterprises' users.
PASSWORD_RESET = ("AccountView",)
# The user API (app/api/users.py, SPEC A3-A5): accounts, their roles and bindings, one-time
# passwords. Granted to no role below: only the admin holds it (all_permissions), as FAB's
# security API it replaces.
USER_ADMINISTRATION = ("UserApi",)
USER_ADMINISTRATION_PERMISSIONS = ("can_get", "can_post", "can_put", "can_reset_password")
# Notices (SPEC A6): authorities publish to their region; everyone reads them on the home page.
NOTICES = ("NoticeView",)
RESET = ("can_reset",)
# Evaluation, selection, directory (SPEC E1-E8, F1-F4). Resource names are the view and API
# classes of app/views and app/api that serve them.
INDICATORS = ("IndicatorVersionView", "IndicatorVersionApi", "IndicatorItemView", "IndicatorItemApi")
INDICATOR_ADOPTION = ("ProvinceIndicatorAdoptionView", "ProvinceIndicatorAdoptionApi")
# A catalogue version as an Excel file (issue 19.7): a province imports its own and exports any
# (the file carries each row's 推定值 flag and source); the admin, national ones (all_permissions).
CATALOGUE_EXCEL = ("IndicatorCatalogueExcelView",)
AGENCIES = ("AgencyView", "AgencyApi")
DISQUALIFY = ("can_disqualify",)
AGENCY_CONFLICTS = ("AgencyConflictView", "AgencyConflictApi")
# Scores: can_read for everyone who reaches the application; the enterprise scores its own
# self-evaluation, the drawn agency its assessment.
EVALUATION = ("EvaluationView", "EvaluationApi")
SCORES_READ = ("can_read",)
SELF_SCORE = ("can_self_score",)
AGENCY_SCORE = ("can_agency_score",)
REVIEW_MEETINGS = ("ReviewMeetingView", "ReviewMeetingApi")
PUBLIC_NOTICES = ("PublicNoticeView", "PublicNoticeApi")
OBJECTIONS = ("ObjectionView", "ObjectionApi")
DIRECTORY = ("DirectoryEntryView", "DirectoryEntryApi")
RECOMMENDATIONS = ("NationalRecommendationView", "NationalRecommendationApi")
ANOMALIES = ("AnomalyEntryView", "AnomalyEntryApi")
# Findings of falsified materials (seed 001 三(三)): recorded by the province and the national
# level, kept as recorded (no edit, no delete).
FRAUD_FINDINGS = ("FraudFindingView", "FraudFindingApi")
CERTIFICATES = ("CertificateView", "CertificateApi")
CERTIFICATE_DOWNLOAD = ("can_download",)
DEMO_ZONES = ("DemoZoneApplicationView", "DemoZoneApplicationApi")
# Spot checks (SPEC H1-H6).
SELF_CHECKS = ("SelfCheckView", "SelfCheckApi")
PROBLEM_LEADS = ("ProblemLeadView", "ProblemLeadApi")
INSPECTORS = ("InspectorView", "InspectorApi")
CAMPAIGNS = ("SpotCheckCampaignView", "SpotCheckCampaignApi")
# The province summary table (xlsx) and the report (PDF) of a campaign, on the screens and REST.
CAMPAIGN_REPORTS = ("SpotCheckReportView", "SpotCheckCampaignApi")
REPORT_DOWNLOADS = ("can_summary", "can_report")
SPOT_CHECKS = ("SpotCheckView", "SpotCheckApi")
# A team member confirms a verification record from his own account.
CONFIRM = ("can_confirm",)
# Certification (SPEC G1-G4): the bodies' registry, the applications with their project team
# (can_team), the certificates and the surveillance audits; the certifier scores on the
# evaluation screens (can_certifier_score).
CERTIFICATION_BODIES = ("CertificationBodyView", "CertificationBodyApi")
CERTIFICATIONS = ("CertificationApplicationView", "CertificationApplicationApi")
CERTIFICATION_TEAM = ("can_team",)
CERTIFIED_CERTIFICATES = ("CertificationCertificateView", "CertificationCertificateApi")
SURVEILLANCE = ("SurveillanceAuditView", "SurveillanceAuditApi")
CERTIFIER_SCORE = ("can_certifier_score",)
# Menu links without a view of their own: the permission of the page each opens.
MENU_LINKS = {
    "Change password": ("can_profile", "AccountView"),
    "Reset passwords": ("can_reset", "AccountView"),
}


@dataclass(frozen=True)
class Grant:
    resources: tuple[str, ...]
    permissions: tuple[str, ...]


@dataclass(frozen=True)
class RoleDefinition:
    name: str
    scope: str
    # The region level a staff account must be bound to (1 province, 2 city, 3 county).
    region_level: int | None = None
    grants: tuple[Grant, ...] = field(default_factory=tuple)
    # Everything FAB registers (the info-centre administrator).
    all_permissions: bool = False
    # Menu items not shown although the role may open their page: a page it reaches only for
    # another purpose (the certifier reads EvaluationView for its certification score sheets,
    # not for the agencies' assignments that the menu item opens).
    hidden_menus: tuple[str, ...] = ()
    # Whether the role sees the reference data's working notes: which thresholds and indicator
    # items are inferred rather than read in the official text, and why (app.services.reference).
    working_notes: bool = True

    @property
    def label(self) -> str:
        return ROLE_LABELS[self.name]


def _staff(name: str, scope: str, level: int, registry_delete: bool, import_excel: bool = False,
           resets_passwords: bool = False) -> RoleDefinition:
    registry = READ + WRITE + (DELETE if registry_delete else ())
    return RoleDefinition(
        name=name,
        scope=scope,
        region_level=level,
        grants=(
            Grant(REFERENCE, READ),
            Grant(REGISTRY, registry),
            Grant(MINE_SELF_SERVICE, SELF_SERVICE),
            Grant(RESPONSIBLE_PERSONS, READ),
            Grant(STATISTICS, STATISTICS_READ),
            Grant(MINE_EXCEL, EXCEL_EXPORT + (EXCEL_IMPORT if import_excel else ())),
            Grant(PREDECLARATION, READ + TRANSITION),
            Grant(APPLICATION, READ + TRANSITION),
            Grant(APPLICATION_WINDOW, READ + (WRITE if level == 1 else ())),
            # Uploads on their notices only (app.services.uploads.POLICIES[...].uploader_roles).
            Grant(ATTACHMENTS, UPLOAD),
            Grant(NOTICES, READ + WRITE + DELETE),
            *((Grant(PASSWORD_RESET, RESET),) if resets_passwords else ()),
            Grant(INDICATORS, READ),
            *((Grant(CATALOGUE_EXCEL, EXCEL_EXPORT + EXCEL_IMPORT),) if level == 1 else ()),
            Grant(INDICATOR_ADOPTION, READ + (WRITE if level == 1 else ())),
            Grant(AGENCIES, READ + ((WRITE + DISQUALIFY) if level == 1 else ())),
            Grant(AGENCY_CONFLICTS, READ + ((WRITE + DELETE) if level == 1 else ())),
            Grant(EVALUATION, SCORES_READ),
            Grant(REVIEW_MEETINGS, READ + (WRITE if level == 1 else ())),
            Grant(PUBLIC_NOTICES, READ + (WRITE if level == 1 else ())),
            Grant(OBJECTIONS, READ + ((WRITE + TRANSITION) if level == 1 else ())),
            # Each level keeps its own directory: it lists and removes there.
            Grant(DIRECTORY, READ + WRITE + TRANSITION),
            Grant(RECOMMENDATIONS, READ + (WRITE if level == 1 else ())),
            Grant(ANOMALIES, READ + ((WRITE + TRANSITION) if level == 1 else ())),
            *((Grant(FRAUD_FINDINGS, READ + ("can_add", "can_post")),) if level == 1 else ()),
            Grant(CERTIFICATES, READ + CERTIFICATE_DOWNLOAD),
            # A county government applies for a demonstration zone; the city and the province
            # review it.
            Grant(DEMO_ZONES, READ + TRANSITION + (WRITE if level == 3 else ())),
            # Spot checks: the county, city and province follow their mines' self-checks and
            # may return one; the province and the city organise campaigns with their own
            # inspector pool and decide the results.
            Grant(SELF_CHECKS, READ + TRANSITION),
            Grant(PROBLEM_LEADS, READ + WRITE + TRANSITION),
            Grant(INSPECTORS, READ + ((WRITE + DELETE) if level <= 2 else ())),
            Grant(CAMPAIGNS, READ + ((WRITE + DELETE + TRANSITION) if level <= 2 else ())),
            Grant(CAMPAIGN_REPORTS, REPORT_DOWNLOADS),
            Grant(SPOT_CHECKS, READ + (TRANSITION if level <= 2 else ())),
            # Certification is the bodies' work; the authorities follow it in their region.
            Grant(CERTIFICATION_BODIES, READ),
            Grant(CERTIFICATIONS, READ),
            Grant(CERTIFIED_CERTIFICATES, READ + CERTIFICATE_DOWNLOAD),
            Grant(SURVEILLANCE, READ),
        ),
    )


ROLES: dict[str, RoleDefinition] = {
    role.name: role
    for role in (
        RoleDefinition("admin", ALL, all_permissions=True),
        RoleDefinition(
            "national",
            ALL,
            grants=(
                Grant(REFERENCE, READ),
                Grant(REGISTRY, READ),
                Grant(RESPONSIBLE_PERSONS, READ),
                Grant(STATISTICS, STATISTICS_READ),
                Grant(MINE_EXCEL, EXCEL_EXPORT),
                Grant(PREDECLARATION, READ),
                Grant(APPLICATION, READ),
                Grant(APPLICATION_WINDOW, READ),
                Grant(ATTACHMENTS, UPLOAD),
                Grant(NOTICES, READ + WRITE + DELETE),
                Grant(PROCESS_LOG, READ),
                Grant(INDICATORS, READ),
                Grant(INDICATOR_ADOPTION, READ),
                Grant(AGENCIES, READ + WRITE + DISQUALIFY),
                Grant(AGENCY_CONFLICTS, READ),
                Grant(EVALUATION, SCORES_READ),
                Grant(REVIEW_MEETINGS, READ),
                Grant(PUBLIC_NOTICES, READ),
                Grant(OBJECTIONS, READ),
                Grant(DIRECTORY, READ + WRITE + TRANSITION),
                Grant(RECOMMENDATIONS, READ + TRANSITION),
                Grant(ANOMALIES, READ),
                Grant(FRAUD_FINDINGS, READ + ("can_add", "can_post")),
                Grant(CERTIFICATES, READ + CERTIFICATE_DOWNLOAD),
                Grant(DEMO_ZONES, READ),
                # The national level may run its own spot check of national mines.
                Grant(SELF_CHECKS, READ),
                Grant(PROBLEM_LEADS, READ + WRITE + TRANSITION),
                Grant(INSPECTORS, READ + WRITE + DELETE),
                Grant(CAMPAIGNS, READ + WRITE + DELETE + TRANSITION),
                Grant(CAMPAIGN_REPORTS, REPORT_DOWNLOADS),
                Grant(SPOT_CHECKS, READ + TRANSITION),
                Grant(CERTIFICATION_BODIES, READ),
                Grant(CERTIFICATIONS, READ),
                Grant(CERTIFIED_CERTIFICATES, READ + CERTIFICATE_DOWNLOAD),
                Grant(SURVEILLANCE, READ),
            ),
        ),
        _staff("province", PROVINCE, 1, registry_delete=True, import_excel=True,
               resets_passwords=True),
        _staff("city", CITY, 2, registry_delete=True),
        _staff("county", COUNTY, 3, registry_delete=True),
        RoleDefinition(
            "enterprise",
            ENTERPRISE,
            grants=(
                Grant(REFERENCE, READ),
                # Read-only until the registry issue limits an enterprise's edits to the
                # location and its own responsible person (SPEC B5).
                Grant(REGISTRY, READ),
                Grant(MINE_SELF_SERVICE, SELF_SERVICE),
                Grant(RESPONSIBLE_PERSONS, READ),
                Grant(PREDECLARATION, READ + WRITE + DELETE + TRANSITION),
                Grant(APPLICATION, READ + WRITE + DELETE + TRANSITION + EVIDENCE),
                Grant(ATTACHMENTS, UPLOAD),
                Grant(INDICATORS, READ),
                Grant(EVALUATION, SCORES_READ + SELF_SCORE),
                Grant(OBJECTIONS, READ),
                Grant(DIRECTORY, READ),
                Grant(ANOMALIES, READ),
                Grant(CERTIFICATES, READ + CERTIFICATE_DOWNLOAD),
                # A large local state enterprise applies for a demonstration zone.
                Grant(DEMO_ZONES, READ + WRITE + TRANSITION),
                # The yearly self-check of each listed mine, and the results of checks of its mines.
                Grant(SELF_CHECKS, READ + WRITE + TRANSITION),
                Grant(SPOT_CHECKS, READ),
                # Certification of its mines (G1-G4): it applies, scores itself, rectifies and
                # downloads its certificates.
                Grant(CERTIFICATION_BODIES, READ),
                Grant(CERTIFICATIONS, READ + WRITE + DELETE + TRANSITION),
                Grant(CERTIFIED_CERTIFICATES, READ + CERTIFICATE_DOWNLOAD),
                Grant(SURVEILLANCE, READ),
            ),
            # An enterprise reads the reference tables as published, without the working notes.
            working_notes=False,
        ),
        # The agency sees the applications it was drawn for, scores them and uploads its report
        # and on-site record (app.services.uploads: the agency's owner types).
        RoleDefinition("agency", AGENCY, grants=(
            Grant(REFERENCE, READ),
            Grant(APPLICATION, READ + TRANSITION),
            Grant(ATTACHMENTS, UPLOAD),
            Grant(INDICATORS, READ),
            Grant(EVALUATION, SCORES_READ + AGENCY_SCORE),
        )),
        # An inspector reaches the campaigns and records of his teams: he fills in the record
        # (his team's leader submits it), uploads photos and video, and confirms it.
        RoleDefinition("inspector", INSPECTOR, grants=(
            Grant(REFERENCE, READ),
            Grant(INSPECTORS, READ),
            Grant(CAMPAIGNS, READ),
            Grant(SPOT_CHECKS, READ + ("can_edit", "can_put") + TRANSITION + CONFIRM),
            Grant(ATTACHMENTS, UPLOAD),
        )),
        # A certification body's staff work only on the certification records of their body: they
        # accept, form the project team, score, certify, audit and revoke.
        RoleDefinition("certifier", CERTIFIER, grants=(
            Grant(REFERENCE, READ),
            Grant(INDICATORS, READ),
            Grant(CERTIFICATION_BODIES, READ),
            Grant(CERTIFICATIONS, READ + TRANSITION + CERTIFICATION_TEAM),
            Grant(CERTIFIED_CERTIFICATES, READ + CERTIFICATE_DOWNLOAD + TRANSITION),
            Grant(SURVEILLANCE, READ + WRITE + TRANSITION),
            Grant(EVALUATION, SCORES_READ + CERTIFIER_SCORE),
            Grant(ATTACHMENTS, UPLOAD),
        ), hidden_menus=("Third-party assessments",)),
    )
}

STAFF_ROLES = frozenset(name for name, role in ROLES.items() if role.region_level)
# The natural-resources authorities of every level: the staff bound to a region and the national user.
AUTHORITY_ROLES = STAFF_ROLES | {"national"}
# Every declared role has its label (app.models.user.ROLE_LABELS) and every label its role.
assert set(ROLE_LABELS) == set(ROLES), "app.models.user.ROLE_LABELS and ROLES name different roles"


def declared_permissions(role: RoleDefinition) -> set[tuple[str, str]]:
    """The (permission, view) pairs a role is declared to have, before menu access."""
    pairs = set(OWN_ACCOUNT)
    for grant in role.grants:
        pairs.update((perm, resource) for resource in grant.resources for perm in grant.permissions)
    return pairs


def sync_roles(appbuilder) -> dict[str, int]:
    """Make FAB's roles exactly what ROLES declares. Returns permissions per role.

    Registers every view's permissions first (FAB_UPDATE_PERMS is off at start-up because
    Alembic, not FAB, creates the tables), then grants menu access for the menu items whose
    view the role may list.
    """
    sm = appbuilder.sm
    # Roles first: FAB's add_permissions_view grants each new permission to the admin role
    # and fails half-way when that role does not exist yet.
    for name in ROLES:
        if sm.find_role(name) is None:
            sm.add_role(name)
    appbuilder.add_permissions(update_perms=True)
    existing = {
        (pv.permission.name, pv.view_menu.name): pv for pv in sm.session.query(sm.permissionview_model).all()
    }
    menu_of_view = _menu_names_by_view(appbuilder)
    landing_permission = {view.__class__.__name__: _landing_permission(view) for view in appbuilder.baseviews}
    counts: dict[str, int] = {}
    for role in ROLES.values():
        fab_role = sm.find_role(role.name)
        if role.all_permissions:
            wanted = set(existing)
        else:
            wanted = {pair for pair in declared_permissions(role) if pair in existing}
            # A menu item is shown to a role that may open the page it leads to.
            for view, menu_names in menu_of_view.items():
                if (landing_permission.get(view), view) in wanted and not menu_names & set(role.hidden_menus):
                    wanted.update(("menu_access", name) for name in menu_names if ("menu_access", name) in existing)
            for link, permission in MENU_LINKS.items():
                if permission in wanted and ("menu_access", link) in existing:
                    wanted.add(("menu_access", link))
        fab_role.permissions = [existing[pair] for pair in sorted(wanted)]
        counts[role.name] = len(wanted)
    sm.session.commit()
    return counts


def _landing_permission(view) -> str | None:
    """The permission of the page a view's menu item opens (its default route), if protected."""
    method = getattr(view, getattr(view, "default_view", "") or "", None)
    if method is None:
        return None
    mapped = (getattr(view, "method_permission_name", None) or {}).get(method.__name__)
    name = mapped or getattr(method, "_permission_name", None)
    return f"can_{name}" if name else None


def _menu_names_by_view(appbuilder) -> dict[str, set[str]]:
    """view class name -> the menu item and category names that lead to it."""
    result: dict[str, set[str]] = {}

    def walk(items, category=None):
        for item in items:
            if item.childs:
                walk(item.childs, item.name)
            elif item.baseview is not None:
                names = result.setdefault(item.baseview.__class__.__name__, set())
                names.add(item.name)
                if category:
                    names.add(category)

    walk(appbuilder.menu.get_list())
    return result

