"""Statistics of the mine registry (SPEC B6): the screens and the REST API.

Thin: each route hands the request's arguments (the mine list's search arguments,
app.services.mine_search) to app.services.statistics and shows what comes back. Every number
links to ``/mineview/list/?<args>``, the list of exactly the mines it counts.

Permissions: every route maps to ``can_read`` on StatisticsView / StatisticsApi
(app.services.roles grants it to the authorities); the scope rule decides which mines count.
"""
from __future__ import annotations

from typing import Any, Optional

from flask import g, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import BaseApi, expose as api_expose, protect, safe
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _, lazy_gettext as _l

from app.services import statistics
from app.services.statistics import Breakdown, By, Cell, Summary

_READ = "read"
_LEVEL_LABELS = {
    By.PROVINCE: _l("Province"),
    By.CITY: _l("Prefecture"),
    By.COUNTY: _l("County"),
    By.MINERAL_CLASS: _l("Mineral class"),
    By.SUBCLASS: _l("Sub-class"),
    By.MINERAL: _l("Mineral"),
}


def list_url(args: Optional[dict[str, str]]) -> Optional[str]:
    """The mine list of exactly the mines a cell counts (None: no list selects them)."""
    return url_for("MineView.list", **args) if args is not None else None


def _cell_json(cell: Cell) -> dict[str, Any]:
    return dict(cell.as_dict(), list_url=list_url(cell.args))


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
    method_permission_name = {"index": _READ, "region": _READ, "mineral": _READ}

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


class StatisticsApi(BaseApi):
    """The same numbers as JSON, with the mine-list arguments of each (``args``, ``list_url``).

    Query arguments: those of the mine list (app.services.mine_search), e.g. ``region=14``,
    ``size=large``, ``mineral_class=金属``, ``workers_over=30``.
    """

    resource_name = "statistics"
    method_permission_name = {"summary": _READ, "region": _READ, "mineral": _READ}
    openapi_spec_tag = "Statistics"

    def _common(self, applied: dict[str, str], errors: list[str]) -> dict[str, Any]:
        return {"scope": statistics.scope_label(g.user), "criteria": applied, "errors": errors}

    def _breakdown_json(self, result: Breakdown) -> dict[str, Any]:
        return dict(
            self._common(result.applied, result.errors),
            level=result.by.value,
            total=_cell_json(result.total),
            rows=[_cell_json(cell) for cell in result.cells],
            path=[{"label": label, "args": args} for label, args in result.path],
        )

    @api_expose("/", methods=["GET"])
    @protect()
    @safe
    def summary(self):
        """Totals by size, more than 30 workers per shift, deeper than 800 m, by mineral class.
        ---
        get:
          description: >-
            Counts of the mines the caller may see that match the query arguments.
          responses:
            200:
              description: the counts, each with the mine-list arguments that show its mines
            401:
              $ref: '#/components/responses/401'
        """
        result = statistics.summary(g.user, request.args)
        return self.response(
            200,
            **self._common(result.applied, result.errors),
            total=_cell_json(result.total),
            by_size=[_cell_json(cell) for cell in result.by_size],
            workers_over=_cell_json(result.workers_over),
            depth_over=_cell_json(result.depth_over),
            by_mineral_class=[_cell_json(cell) for cell in result.by_mineral_class],
        )

    @api_expose("/region", methods=["GET"])
    @protect()
    @safe
    def region(self):
        """Mines by region one level below the ``region`` argument (provinces when absent).
        ---
        get:
          responses:
            200:
              description: level (province, city or county), total and one row per region
            401:
              $ref: '#/components/responses/401'
        """
        return self.response(200, **self._breakdown_json(statistics.region_breakdown(g.user, request.args)))

    @api_expose("/mineral", methods=["GET"])
    @protect()
    @safe
    def mineral(self):
        """Mines by mineral class, metal sub-class or mineral, one level below the arguments.
        ---
        get:
          responses:
            200:
              description: level (mineral_class, subclass or mineral), total and one row per group
            401:
              $ref: '#/components/responses/401'
        """
        return self.response(200, **self._breakdown_json(statistics.mineral_breakdown(g.user, request.args)))


def register(appbuilder) -> None:
    """Add the statistics views and API to ``appbuilder``."""
    appbuilder.add_view(StatisticsView, "Statistics", label=_l("Statistics"), icon="fa-bar-chart",
                        category="Registry")
    appbuilder.add_api(StatisticsApi)
