"""Statistics of the mine registry (SPEC B6): the screens and the REST API.

Thin: each route hands the request's arguments (the mine list's search arguments,
app.services.mine_search) to app.services.statistics and shows what comes back. Every number
links to ``/mineview/list/?<args>``, the list of exactly the mines it counts.

Permissions: every route maps to ``can_read`` on StatisticsView / StatisticsApi
(app.services.roles grants it to the authorities); the scope rule decides which mines count.
"""
from __future__ import annotations

from typing import Any

from flask import g, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _, lazy_gettext as _l

from app.services import statistics
from app.services.statistics import Breakdown, By, Cell, Summary
from app.web.statistics import READ, list_url

_LEVEL_LABELS = {
    By.PROVINCE: _l("Province"),
    By.CITY: _l("Prefecture"),
    By.COUNTY: _l("County"),
    By.MINERAL_CLASS: _l("Mineral class"),
    By.SUBCLASS: _l("Sub-class"),
    By.MINERAL: _l("Mineral"),
}


def _chart(kind: str, title: str, cells: list[Cell]) -> dict[str, Any]:
    """What the page's Chart.js canvas draws (passed with |tojson)."""
    return {
        "type": kind,
        "title": title,
        "labels": [cell.label for cell in cells],
        "counts": [cell.count for cell in cells],
        "links": [list_url(cell.args) for cell in cells],
    }


class StatisticsView(BaseView):
    """统计: the summary, the region drill-down and the mineral drill-down."""

    route_base = "/statistics"
    default_view = "index"
    method_permission_name = {"index": READ, "region": READ, "mineral": READ}

    def _page(self, template: str, **kwargs):
        applied = kwargs["applied"]
        return self.render_template(
            template,
            title=_("Statistics"),
            scope=statistics.scope_label(g.user),
            criteria=statistics.describe(applied),
            **kwargs,
        )

    @expose("/")
    @has_access
    def index(self):
        """Totals by size, >30 workers per shift, >800 m deep, mineral classes (seed 003 §2.3, §3.1)."""
        result: Summary = statistics.summary(g.user, request.args)
        return self._page(
            "gm/statistics/index.html",
            summary=result,
            applied=result.applied,
            errors=result.errors,
            charts=[
                _chart("doughnut", _("Mines by size"), result.by_size),
                _chart("bar", _("Mines by mineral class"), result.by_mineral_class),
            ],
        )

    @expose("/region/")
    @has_access
    def region(self):
        """Province → city → county (seed 003 §3.1–3.3); at county level the number is the county's list."""
        result: Breakdown = statistics.region_breakdown(g.user, request.args)
        return self._page(
            "gm/statistics/region.html",
            breakdown=result,
            level_label=str(_LEVEL_LABELS[result.by]),
            applied=result.applied,
            errors=result.errors,
            charts=[_chart("bar", _("Mines by region"), result.cells)],
        )

    @expose("/mineral/")
    @has_access
    def mineral(self):
        """Class → sub-class (metals) → mineral, with the regional distribution below (seed 003 §3.4)."""
        result: Breakdown = statistics.mineral_breakdown(g.user, request.args)
        regions: Breakdown = statistics.region_breakdown(g.user, request.args)
        return self._page(
            "gm/statistics/mineral.html",
            breakdown=result,
            regions=regions,
            level_label=str(_LEVEL_LABELS[result.by]),
            region_level_label=str(_LEVEL_LABELS[regions.by]),
            applied=result.applied,
            errors=result.errors,
            charts=[_chart("bar", _("Mines by mineral"), result.cells)],
        )


def register(appbuilder) -> None:
    """Add the statistics screens to ``appbuilder``."""
    appbuilder.add_view(StatisticsView, "Statistics", label=_l("Statistics"), icon="fa-bar-chart",
                        category="Registry")
