"""Findings of falsified materials (弄虚作假认定, seed 001 三(三)), REST twin of app/views/fraud.py:
the findings in scope, and POST to record one (JSON, or multipart/form-data with the decision
document as ``document``). Rules and effects in app.services.fraud."""
from __future__ import annotations

from flask import g, request
from flask_appbuilder.api import expose as api_expose, protect, safe

from app.models import FraudFinding
from app.services import fraud
from app.services.exceptions import DomainError
from app.web.base import ScopedModelRestApi
from app.web.datamodel import ListInterface


class FraudFindingApi(ScopedModelRestApi):
    resource_name = "fraud_finding"
    datamodel = ListInterface(FraudFinding)
    list_columns = show_columns = ["id", "mine_id", "enterprise_id", "region_code", "application_id", "mine_name",
                                   "enterprise_name", "reason", "decision_no", "decided_on", "barred_until",
                                   "effects", "recorded_by_name", "created_at"]
    search_columns = ["mine_id", "enterprise_id", "region_code", "application_id", "decided_on", "barred_until",
                      "decision_no"]
    order_columns = ["decided_on", "barred_until", "id"]
    base_order = ("decided_on", "desc")
    include_route_methods = {"get", "get_list", "info", "record"}
    method_permission_name = {"get": "get", "get_list": "get", "info": "info", "record": "post"}

    @api_expose("/", methods=["POST"])
    @protect()
    @safe
    def record(self):
        """Record a finding of falsified materials against a mine or an application.
        ---
        post:
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    licence_no: {type: string}
                    application_id: {type: integer}
                    reason: {type: string}
                    decision_no: {type: string}
                    decided_on: {type: string, format: date}
              multipart/form-data:
                schema:
                  type: object
                  properties:
                    licence_no: {type: string}
                    application_id: {type: integer}
                    reason: {type: string}
                    decision_no: {type: string}
                    decided_on: {type: string, format: date}
                    document: {type: string, format: binary}
          responses:
            201: {description: recorded, with its effects}
            403: {$ref: '#/components/responses/403'}
            422: {description: refused (each field at fault)}
        """
        body = self.json_object() if request.is_json else request.form
        try:
            finding = fraud.record(g.user, reason=body.get("reason"), decision_no=body.get("decision_no"),
                                   decided_on=body.get("decided_on"), licence_no=body.get("licence_no"),
                                   application_id=body.get("application_id"),
                                   document=None if request.is_json else request.files.get("document"))
        except DomainError as exc:
            return self.refusal(exc)
        return self.response(201, id=finding.id, mine_id=finding.mine_id, barred_until=finding.barred_until.isoformat(),
                             effects=finding.effects)
