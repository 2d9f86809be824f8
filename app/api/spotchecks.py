"""REST for spot checks (SPEC H2-H5, I2), with the screens' scope and rules.

  /api/v1/inspector/                                   the inspector pools in scope
  /api/v1/spotcheckcampaign/                           campaigns (POST plans one for the caller's level)
  GET  /api/v1/spotcheckcampaign/<id>/draw             the draw record, its replay and verification
  POST /api/v1/spotcheckcampaign/<id>/transition       {"action": "draw" | "close", "comment"}
  /api/v1/spotcheck/                                   verification records (PUT: the team fills in the
                                                       record, then the re-check while the mine rectifies)
  POST /api/v1/spotcheck/<id>/transition               {"action", "comment", "rectify_deadline", "note"}
  POST /api/v1/spotcheck/<id>/confirm                  a team member confirms the submitted record (or,
                                                       while it is re-checked, the submitted re-check)
"""
from __future__ import annotations

from flask import g
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.security.decorators import permission_name

from app.models import Inspector, SpotCheck, SpotCheckCampaign
from app.models.spotcheck import AREA_COLUMNS
from app.services import scoping, spotcheck_reports, spotchecks
from app.services.exceptions import DomainError
from app.web.base import ScopedModelRestApi
from app.web.datamodel import ListInterface
from app.web.downloads import spot_check_report_response, spot_check_summary_response


class InspectorApi(ScopedModelRestApi):
    resource_name = "inspector"
    datamodel = ListInterface(Inspector)
    list_columns = show_columns = ["id", "user_id", "pool_region_code", "home_region_code", "name", "unit", "title",
                                   "title_grade", "admin_rank", "active"]
    add_columns = ["user_id", "home_region_code", "name", "unit", "title", "title_grade", "admin_rank", "active"]
    edit_columns = ["home_region_code", "name", "unit", "title", "title_grade", "admin_rank", "active"]
    search_columns = ["name", "user_id", "pool_region_code", "home_region_code", "title_grade", "admin_rank",
                      "active"]
    order_columns = ["name", "id"]
    include_route_methods = {"get", "get_list", "info", "post", "put", "delete"}
    add_required = ("user_id", "home_region_code", "name")
    record_rule = spotchecks.inspector_rule
    change_rule = spotchecks.inspector_change_rule


class SpotCheckCampaignApi(ScopedModelRestApi):
    resource_name = "spotcheckcampaign"
    datamodel = ListInterface(SpotCheckCampaign)
    list_columns = ["id", "year", "level", "region_code", "title", "is_supplementary", "supplementary_reason",
                    "ratio", "team_size", "team_count", "report_deadline", "status", "algorithm", "seed",
                    "sample_size", "drawn_at", "drawn_by_id", "decided_at", "decision_comment"]
    # One campaign: whether its report deadline had passed when it was created (a warning).
    show_columns = list_columns + ["created_at", "deadline_passed_at_creation"]
    add_columns = edit_columns = ["title", "year", "is_supplementary", "supplementary_reason", "ratio", "team_size",
                                  "team_count", "report_deadline"]
    search_columns = ["year", "level", "region_code", "status", "title"]
    order_columns = ["year", "id", "drawn_at"]
    # The year and the ratio have defaults (this year, SPOT_CHECK_RATIO): the rule fills them.
    add_required = ("title",)
    record_rule = spotchecks.campaign_rule
    change_rule = spotchecks.campaign_change_rule

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        for name in ("year", "ratio", "is_supplementary"):
            self.edit_model_schema.fields[name].required = False
        for schema in (self.add_model_schema, self.edit_model_schema):
            schema.fields["is_supplementary"].required = False

    def response_422(self, message=None):
        """A sampling ratio that is not a number is refused with the rule's words (what the
        ratio is, and its minimum), not the schema's bare "Not a valid number."."""
        if isinstance(message, dict) and "ratio" in message:
            message = dict(message, ratio=[str(spotchecks.ratio_refusal("number"))])
        return super().response_422(message)

    def _report_download(self, pk, respond):
        """A report file of the campaign: through the scope rule (404), once it has a table (409)."""
        def step(campaign, _body):
            spotcheck_reports.check_reportable(campaign)
            return respond(campaign)

        return self.act_on(pk, scoping.DOWNLOAD, step)

    @expose("/<int:pk>/summary.xlsx", methods=["GET"])
    @protect()
    @safe
    @permission_name("summary")
    def summary_xlsx(self, pk):
        """The province's summary table (seed 004 附表) as .xlsx (SPEC H6).
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200:
              description: the table
              content:
                application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: {}
            404: {$ref: '#/components/responses/404'}
            409: {description: no table yet (the mines have not been drawn)}
        """
        return self._report_download(pk, spot_check_summary_response)

    @expose("/<int:pk>/report.pdf", methods=["GET"])
    @protect()
    @safe
    @permission_name("report")
    def report_pdf(self, pk):
        """The report (seed 004 附件2) prefilled with the campaign's figures, as PDF (SPEC H6).
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200:
              description: the report
              content:
                application/pdf: {}
            404: {$ref: '#/components/responses/404'}
            409: {description: no report yet (the mines have not been drawn)}
        """
        return self._report_download(pk, spot_check_report_response)

    @expose("/<int:pk>/draw", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def draw(self, pk):
        """The campaign's draw: algorithm, seed, candidates with their priority, the sample in
        order, the inspector candidates, the teams, and whether the replay gives the record.
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200:
              description: the draw record (``algorithm`` null while the campaign is planned)
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      algorithm: {type: string, nullable: true}
                      seed: {type: string, nullable: true}
                      formula: {type: string}
                      candidate_entry_ids: {type: array, items: {type: integer}}
                      priority: {type: object}
                      sample_size: {type: integer, nullable: true}
                      inspector_candidate_ids: {type: array, items: {type: integer}}
                      candidates: {type: array, items: {type: object}}
                      sample: {type: array, items: {type: object}}
                      inspectors: {type: array, items: {type: object}}
                      teams: {type: array, items: {type: object}}
                      verified: {type: boolean, nullable: true}
            404:
              $ref: '#/components/responses/404'
        """
        campaign = self._scoped_or_none(pk, scoping.READ)
        if campaign is None:
            return self.response_404()
        return self.response(200, **spotchecks.draw_record(campaign))


class SpotCheckApi(ScopedModelRestApi):
    resource_name = "spotcheck"
    datamodel = ListInterface(SpotCheck)
    _RECORD = ["checked_on", *AREA_COLUMNS, "opinions", "conforms"]
    _RECHECK = ["recheck_on", "recheck_findings", "recheck_conforms"]
    list_columns = ["id", "campaign_id", "entry_id", "team_id", "position", "entry_level", "mine_id", "enterprise_id",
                    "region_code", "mine_name", "licence_no", "status", "conforms", "rectify_deadline",
                    "recheck_on", "recheck_conforms"]
    show_columns = ["id", "campaign_id", "entry_id", "team_id", "position", "priority_reasons", "entry_level",
                    "mine_id", "enterprise_id", "region_code", "mine_name", "licence_no", "mineral_name",
                    "mining_method", "production_scale", *_RECORD, "status", "recorded_at", "rectify_deadline",
                    "decided_at", "decision_comment", "note", *_RECHECK, "rechecked_at"]
    edit_columns = [*_RECORD, *_RECHECK, "rectify_deadline", "note"]
    search_columns = ["campaign_id", "status", "entry_level", "mine_id", "region_code", "licence_no", "mine_name",
                      "rectify_deadline"]
    order_columns = ["position", "id", "rectify_deadline"]
    include_route_methods = {"get", "get_list", "info", "put", "transition", "confirm"}
    record_rule = spotchecks.check_rule

    def check_write(self, item, action: str) -> None:
        """As SpotCheckView.check_write: the record's references are the draw's, never the body's."""
        try:
            scoping.check_reference_types(item)
            self.check_rules(item, action)
            scoping.check_access(g.user, item, action)
        except DomainError as exc:
            self._refuse(exc)

    @expose("/<pk>/transition", methods=["POST"])
    @protect()
    @safe
    def transition(self, pk):
        """One step of the record's workflow: body ``{"action": "...", "comment": "...",
        "rectify_deadline": "2026-12-31", "note": "..."}`` (the deadline for
        ``order_rectification``; the note with any result).
        ---
        post:
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    action: {type: string}
                    comment: {type: string}
                    rectify_deadline: {type: string, format: date}
                    note: {type: string}
          responses:
            200:
              description: the new status
            404:
              $ref: '#/components/responses/404'
            409:
              description: the step is not possible now
        """
        def step(check, body):
            comment = body.get("comment")
            log = spotchecks.decide(check, str(body.get("action", "")), g.user,
                                    comment if isinstance(comment, str) else None,
                                    body.get("rectify_deadline"), body.get("note"))
            return self.response(200, id=check.id, status=log.to_state, from_status=log.from_state)

        return self.act_on(pk, scoping.ACT, step)

    @expose("/<int:pk>/confirm", methods=["POST"])
    @protect()
    @safe
    def confirm(self, pk):
        """A member of the check's team confirms the submitted record, or the submitted re-check,
        from his own account (签字); confirming again changes nothing.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200:
              description: confirmed; who has confirmed, who has not yet
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      stage: {type: string, enum: [record, recheck]}
                      confirmed_at: {type: string}
                      confirmations: {type: array, items: {type: object}}
                      waiting_for: {type: array, items: {type: object}}
            403: {description: not a member of the team}
            404:
              $ref: '#/components/responses/404'
            409: {description: the record is not submitted, or its result is decided}
        """
        def sign(check, _body):
            confirmation = spotchecks.confirm(check, g.user)
            stage = confirmation.stage
            return self.response(
                200, id=check.id, stage=stage, confirmed_at=confirmation.confirmed_at.isoformat(),
                confirmations=[{"inspector_id": row.inspector_id, "name": row.inspector.name,
                                "confirmed_at": row.confirmed_at.isoformat()}
                               for row in spotchecks.confirmations_of(check, stage)],
                waiting_for=[{"inspector_id": inspector.id, "name": inspector.name}
                             for inspector in spotchecks.unconfirmed_members(check, stage)])

        return self.act_on(pk, scoping.ACT, sign)
