"""REST for self-checks and problem leads (SPEC H1, I2), with the screens' scope and rules.

  /api/v1/selfcheck/                 the self-checks in scope; the enterprise files (POST) and
                                     edits (PUT) its own; ``year`` defaults to the current year
  GET /api/v1/selfcheck/missing?year=YYYY&page=1&page_size=100
                                     the listed mines in scope without a submitted self-check
  /api/v1/problemlead/               problem leads; ``received_on`` defaults to today
Status changes (submit, return; close) are POST …/<id>/transition {"action", "comment"}.
"""
from __future__ import annotations

from flask import g, request
from flask_appbuilder.api import expose as api_expose, protect, safe
from flask_babel import gettext as _

from app.models.spotcheck import AREA_COLUMNS, ProblemLead, SelfCheck
from app.services import selfchecks
from app.services.exceptions import DomainError, ValidationFailed
from app.web.base import ScopedModelRestApi
from app.web.datamodel import ListInterface

MISSING_PAGE_SIZE = 100
MISSING_MAX_PAGE_SIZE = 500
MAX_PAGE = 100_000


class SelfCheckApi(ScopedModelRestApi):
    resource_name = "selfcheck"
    datamodel = ListInterface(SelfCheck)
    list_columns = ["id", "year", "mine_id", "enterprise_id", "region_code", "entry_id", "status", "submitted_at",
                    "is_late"]
    show_columns = ["id", "year", "mine_id", "enterprise_id", "region_code", "entry_id", *AREA_COLUMNS,
                    "achievements", "problems", "measures", "status", "submitted_at", "is_late", "decided_at",
                    "decision_comment"]
    add_columns = ["mine_id", "year", *selfchecks.TEXT_COLUMNS]
    edit_columns = list(selfchecks.TEXT_COLUMNS)
    search_columns = ["year", "status", "mine_id", "enterprise_id", "region_code"]
    order_columns = ["id", "year", "submitted_at"]
    # The year defaults to this one.
    add_required = ("mine_id",)
    record_rule = selfchecks.self_check_rule
    method_permission_name = dict(ScopedModelRestApi.method_permission_name or {}, missing="get")

    @api_expose("/missing", methods=["GET"])
    @protect()
    @safe
    def missing(self):
        """The listed mines in scope that have not submitted the year's self-check.
        ---
        get:
          parameters:
          - {in: query, name: year, schema: {type: integer}, description: the year (default the current one)}
          - {in: query, name: page, schema: {type: integer, minimum: 1}}
          - {in: query, name: page_size, schema: {type: integer, minimum: 1, maximum: 500}}
          responses:
            200:
              description: the deadline and one row per mine (its highest-level listed entry)
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      year: {type: integer}
                      deadline: {type: string, format: date}
                      deadline_passed: {type: boolean}
                      count: {type: integer}
                      page: {type: integer}
                      page_size: {type: integer}
                      result:
                        type: array
                        items:
                          type: object
                          properties:
                            entry_id: {type: integer}
                            level: {type: string}
                            mine_id: {type: integer}
                            mine_name: {type: string}
                            licence_no: {type: string}
                            enterprise_id: {type: integer}
                            enterprise_name: {type: string}
                            region_code: {type: string}
                            region_name: {type: string}
                            self_check_id: {type: integer, nullable: true}
                            self_check_status: {type: string, nullable: true}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
        """
        today = selfchecks._today()
        try:
            year = selfchecks.parse_year(request.args.get("year") or today.year)
            page = _bounded(request.args.get("page"), 1, 1, MAX_PAGE, "page")
            size = _bounded(request.args.get("page_size"), MISSING_PAGE_SIZE, 1, MISSING_MAX_PAGE_SIZE,
                            "page_size")
        except DomainError as exc:
            return self.response_400(message=str(exc))
        deadline = selfchecks.deadline(year)
        rows = selfchecks.missing_self_checks(g.user, year, limit=size, offset=(page - 1) * size)
        return self.response(
            200, year=year, deadline=deadline.isoformat(), deadline_passed=today > deadline,
            count=selfchecks.count_missing(g.user, year), page=page, page_size=size,
            result=[{
                "entry_id": row.entry_id, "level": row.level, "mine_id": row.mine_id, "mine_name": row.mine_name,
                "licence_no": row.licence_no, "enterprise_id": row.enterprise_id,
                "enterprise_name": row.enterprise_name, "region_code": row.region_code,
                "region_name": row.region_name, "self_check_id": row.self_check_id,
                "self_check_status": row.self_check_status,
            } for row in rows],
        )


def _bounded(value, default: int, low: int, high: int, name: str) -> int:
    if value in (None, ""):
        return default
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9 or not low <= int(text) <= high:
        raise ValidationFailed(_("%(name)s must be a whole number from %(low)s to %(high)s.", name=name, low=low,
                                 high=high), field=name)
    return int(text)


class ProblemLeadApi(ScopedModelRestApi):
    resource_name = "problemlead"
    datamodel = ListInterface(ProblemLead)
    list_columns = show_columns = ["id", "mine_id", "enterprise_id", "region_code", "received_on", "source",
                                   "content", "status", "decided_at", "decision_comment"]
    add_columns = edit_columns = ["mine_id", "received_on", "source", "content"]
    search_columns = ["mine_id", "enterprise_id", "region_code", "received_on", "status", "source"]
    order_columns = ["id", "received_on"]
    include_route_methods = {"get", "get_list", "info", "post", "put", "transition"}
    # Received today unless the body says otherwise.
    add_required = ("mine_id", "content")
    record_rule = selfchecks.problem_lead_rule
