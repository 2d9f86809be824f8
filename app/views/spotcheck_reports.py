"""A campaign's summary table (xlsx) and report (PDF) (SPEC H6; seed 004 附表 and 附件2).

Two downloads, no menu item (the campaign's page links to them); their REST twins are
``GET /api/v1/spotcheckcampaign/<id>/summary.xlsx`` and ``…/report.pdf`` (app/api/spotchecks.py). Both routes are FAB routes of
our own, which skip FAB's base filters: each loads the campaign through the scope rule (404 when
absent or out of scope) and then asks the service whether it has a table yet (a planned campaign
has none: 409 with the reason). Permissions: can_summary and can_report on SpotCheckReportView
(app.services.roles: the authorities).
"""
from __future__ import annotations

from flask import abort, g
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from app.extensions import db
from app.models.spotcheck import SpotCheckCampaign
from app.services import scoping, spotcheck_reports
from app.services.exceptions import DomainError
from app.web.downloads import spot_check_report_response, spot_check_summary_response


class SpotCheckReportView(BaseView):
    route_base = "/spotcheckreport"
    default_view = "summary"
    method_permission_name = {"summary": "summary", "report": "report"}

    def _campaign(self, pk: int) -> SpotCheckCampaign:
        campaign = db.session.get(SpotCheckCampaign, pk)
        if campaign is None or not scoping.can_access(g.user, campaign, scoping.DOWNLOAD):
            abort(404)
        try:
            spotcheck_reports.check_reportable(campaign)
        except DomainError as exc:
            abort(exc.status_code, description=str(exc))
        return campaign

    @expose("/<int:pk>/summary.xlsx")
    @has_access
    def summary(self, pk):
        """The province's summary table (绿色矿山抽查核查结果汇总表) as .xlsx."""
        campaign = self._campaign(pk)
        return spot_check_summary_response(campaign)

    @expose("/<int:pk>/report.pdf")
    @has_access
    def report(self, pk):
        """The report (绿色矿山核查报告) prefilled with the campaign's figures, as PDF."""
        campaign = self._campaign(pk)
        return spot_check_report_response(campaign)


def register(appbuilder) -> None:
    appbuilder.add_view_no_menu(SpotCheckReportView)
