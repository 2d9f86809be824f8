"""The home page (SPEC A1): account information, pending work, the business summary, common
downloads and the technical-support contact. The numbers come from app.services.home."""
from flask import g, redirect, url_for
from flask_appbuilder import IndexView, expose
from flask_babel import lazy_gettext as _l

from app.services import home
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
}
_EQUAL_FILTER = "_flt_3_status"


def _list_url(workflow_name: str, state: str | None = None) -> str:
    args = {_EQUAL_FILTER: state} if state else {}
    return url_for(_LIST_OF_WORKFLOW[workflow_name], **args)


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
        return self.render_template(
            self.index_template,
            appbuilder=self.appbuilder,
            pending=[(item, _list_url(item.workflow, item.state)) for item in home.pending_work(user)],
            summary=[(_WORKFLOW_TITLES[name], [(item, _list_url(name, item.state)) for item in items])
                     for name, items in home.business_summary(user).items()
                     if sm.has_access("can_list", _LIST_OF_WORKFLOW[name].split(".")[0])],
            downloads=downloads,
            notices=home_notices(user),
        )
