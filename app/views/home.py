"""The home page (SPEC A1): account information, pending work, the business summary, common
downloads and the technical-support contact. The numbers come from app.services.home."""
from flask import current_app, g, redirect, url_for
from flask_appbuilder import IndexView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.services import home, roles
from app.services.notices import latest_for as home_notices

# Where each workflow's records are listed; a state is selected with FAB's "equal" filter.
_LIST_OF_WORKFLOW = {
    "predeclaration": "PreDeclarationView.list",
    "application": "ApplicationView.list",
    "objection": "ObjectionView.list",
    "directory": "DirectoryEntryView.list",
    "recommendation": "NationalRecommendationView.list",
    "anomaly": "AnomalyEntryView.list",
    "demozone": "DemoZoneApplicationView.list",
    "agency": "AgencyView.list",
    "self_check": "SelfCheckView.list",
    "problem_lead": "ProblemLeadView.list",
    "spot_check_campaign": "SpotCheckCampaignView.list",
    "spot_check": "SpotCheckView.list",
    "certification": "CertificationApplicationView.list",
    "certification_certificate": "CertificationCertificateView.list",
    "surveillance": "SurveillanceAuditView.list",
}
_WORKFLOW_TITLES = {
    "predeclaration": _l("Pre-declarations"),
    "application": _l("Green-mine applications"),
    "objection": _l("Objections"),
    "directory": _l("Green-mine directory"),
    "recommendation": _l("Recommendations to the national list"),
    "anomaly": _l("Anomaly list"),
    "demozone": _l("Demonstration zones"),
    "agency": _l("Third-party agencies"),
    "self_check": _l("Self-checks"),
    "problem_lead": _l("Problem leads"),
    "spot_check_campaign": _l("Spot-check campaigns"),
    "spot_check": _l("Spot-check records"),
    "certification": _l("Certification applications"),
    "certification_certificate": _l("Certification certificates"),
    "surveillance": _l("Surveillance audits"),
}
# A list filtered to one state: "equal to" is the first filter of a state column
# (app.web.datamodel.EscapedLikeFilterConverter).
_EQUAL_FILTER = "_flt_0_status"


def _record_title(workflow_name: str) -> str:
    """What one record of the workflow is called (预申报, 绿色矿山申请 …): the title of the detail
    page of the view that lists them, as the notifications name it."""
    view_name = _LIST_OF_WORKFLOW.get(workflow_name, "").split(".")[0]
    for view in current_app.appbuilder.baseviews:
        if view.__class__.__name__ == view_name and getattr(view, "show_title", None):
            return str(view.show_title)
    return str(_WORKFLOW_TITLES.get(workflow_name, ""))


def _list_url(workflow_name: str, state: str | None = None) -> str | None:
    """The list of the workflow's records (in ``state``); None while no view serves it."""
    endpoint = _LIST_OF_WORKFLOW.get(workflow_name)
    if endpoint is None or endpoint not in current_app.view_functions:
        return None
    args = {_EQUAL_FILTER: state} if state else {}
    return url_for(endpoint, **args)


def _may_list(sm, user, view_name: str) -> bool:
    """Whether ``user`` may list ``view_name``'s records: FAB's permission once the view is
    registered, else the role declarations (app.services.roles)."""
    if f"{view_name}.list" in current_app.view_functions:
        return sm.has_access("can_list", view_name)
    for role in getattr(user, "roles", ()):
        definition = roles.ROLES.get(role.name)
        if definition is not None and (definition.all_permissions
                                       or ("can_list", view_name) in roles.declared_permissions(definition)):
            return True
    return False


def _spot_check_items(sm, user) -> list[dict]:
    """The home page's spot-check items: the enterprise's due self-checks, the authority's
    count of mines that have not filed after the deadline, the overdue rectifications."""
    flags = home.spot_check_flags(user, with_rectifications=_may_list(sm, user, "SpotCheckView"))
    items = []
    deadline = flags.deadline.isoformat()
    may_add = sm.has_access("can_add", "SelfCheckView")
    for row in flags.due_self_checks:
        if row.self_check_id is not None:
            url = url_for("SelfCheckView.show", pk=row.self_check_id)
        else:
            url = url_for("SelfCheckView.add", mine=row.mine_id) if may_add else None
        items.append(dict(key=f"self_check_due:{row.mine_id}", style="danger" if flags.deadline_passed else "warning",
                          url=url, count=None,
                          label=_("Self-check of “%(mine)s” due by %(date)s", mine=row.mine_name, date=deadline)))
    if flags.missing_self_checks:
        items.append(dict(key="self_checks_missing", style="warning", count=flags.missing_self_checks,
                          url=url_for("SelfCheckView.missing", year=flags.year),
                          label=_("Listed mines without a self-check of %(year)s (due by %(date)s)", year=flags.year,
                                  date=deadline)))
    if flags.overdue_rectifications:
        url = (url_for("SpotCheckView.list", **{_EQUAL_FILTER: "rectifying"})
               if "SpotCheckView.list" in current_app.view_functions else None)
        items.append(dict(key="overdue_rectifications", style="danger", count=flags.overdue_rectifications, url=url,
                          label=_("Rectifications past their deadline")))
    return items


def _certification_items(sm, user) -> list[dict]:
    """The home page's certification items (SPEC G2, G4): evaluations past their 20 working days,
    certificates with a missing yearly surveillance audit, the enterprise's re-evaluations due."""
    items = []
    flags = home.certification_flags(user, with_evaluations=_may_list(sm, user, "CertificationApplicationView"),
                                     with_certificates=_may_list(sm, user, "CertificationCertificateView"))
    if flags.overdue_evaluations:
        items.append(dict(key="certification_overdue", style="danger", count=flags.overdue_evaluations,
                          url=_list_url("certification", "under_evaluation"),
                          label=_("Certification evaluations past their working-day limit")))
    if flags.missing_audits:
        items.append(dict(key="surveillance_missing", style="danger", count=flags.missing_audits,
                          url=_list_url("certification_certificate", "valid"),
                          label=_("Certificates without the yearly surveillance audit")))
    for certificate in flags.renewals_due:
        items.append(dict(key=f"renewal_due:{certificate.id}", style="warning", count=None,
                          url=url_for("CertificationCertificateView.show", pk=certificate.id),
                          label=_("Re-evaluation of certificate %(number)s due before %(date)s",
                                  number=certificate.number, date=certificate.valid_until.isoformat())))
    return items


def support_contact(config) -> list[tuple[str, str]]:
    """(label, value) of the technical-support contact the deployment configured (config.py:
    SUPPORT_CONTACT, SUPPORT_PHONE, SUPPORT_EMAIL, SUPPORT_HOURS); the empty ones are left out."""
    rows = [(_("Contact"), config.get("SUPPORT_CONTACT")), (_("Phone"), config.get("SUPPORT_PHONE")),
            (_("E-mail"), config.get("SUPPORT_EMAIL")), (_("Service hours"), config.get("SUPPORT_HOURS"))]
    return [(label, str(value).strip()) for label, value in rows if value and str(value).strip()]


class HomeView(IndexView):
    index_template = "gm/index.html"

    @expose("/")
    def index(self):
        user = g.user
        if user is None or not user.is_authenticated:
            return redirect(url_for(self.appbuilder.sm.auth_view.__class__.__name__ + ".login"))
        sm = self.appbuilder.sm
        downloads = []
        if sm.has_access("can_export", "MineExcelView"):
            downloads.append((_l("Mine import template (Excel)"), url_for("MineExcelView.download_template")))
        summary = [(_WORKFLOW_TITLES[name], [(item, _list_url(name, item.state)) for item in items],
                    any(item.count for item in items))
                   for name, items in home.business_summary(user).items()
                   if name in _LIST_OF_WORKFLOW and _list_url(name) is not None
                   and sm.has_access("can_list", _LIST_OF_WORKFLOW[name].split(".")[0])]
        return self.render_template(
            self.index_template,
            appbuilder=self.appbuilder,
            # Each pending item names its kind of record: 预申报·未提交 1, 绿色矿山认证申请表·已提交 1.
            pending=[(item, _list_url(item.workflow, item.state), _record_title(item.workflow))
                     for item in home.pending_work(user)],
            # The blocks with a record first; those that are all zero behind one link.
            summary=[block[:2] for block in summary if block[2]],
            empty_summary=[block[:2] for block in summary if not block[2]],
            flags=_spot_check_items(sm, user) + _certification_items(sm, user),
            downloads=downloads,
            notices=home_notices(user),
            support=support_contact(current_app.config),
        )
