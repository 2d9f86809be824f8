"""Statistics of the mine registry as JSON (SPEC B6): the numbers of app/views/statistics.py, each
with the mine-list arguments that show its mines. Permission: ``can_read`` on StatisticsApi."""
from __future__ import annotations

from typing import Any

from flask import g, request
from flask_appbuilder.api import BaseApi, expose as api_expose, protect, safe

from app.services import statistics
from app.services.statistics import Breakdown
from app.web.statistics import READ, cell_json


class StatisticsApi(BaseApi):
    """The same numbers as JSON, with the mine-list arguments of each (``args``, ``list_url``).

    Query arguments: those of the mine list (app.services.mine_search), e.g. ``region=14``,
    ``size=large``, ``mineral_class=金属``, ``workers_over=30``.
    """

    resource_name = "statistics"
    method_permission_name = {"summary": READ, "region": READ, "mineral": READ}
    openapi_spec_tag = "Statistics"

    def _common(self, applied: dict[str, str], errors: list[str]) -> dict[str, Any]:
        return {"scope": statistics.scope_label(g.user), "criteria": applied, "errors": errors}

    def _breakdown_json(self, result: Breakdown) -> dict[str, Any]:
        return dict(
            self._common(result.applied, result.errors),
            level=result.by.value,
            total=cell_json(result.total),
            rows=[cell_json(cell) for cell in result.cells],
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
            total=cell_json(result.total),
            by_size=[cell_json(cell) for cell in result.by_size],
            workers_over=cell_json(result.workers_over),
            depth_over=cell_json(result.depth_over),
            by_mineral_class=[cell_json(cell) for cell in result.by_mineral_class],
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
