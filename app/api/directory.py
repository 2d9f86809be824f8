"""Directory REST API (SPEC F1, E6, F4): the entries in scope, removal, recommendation to the
national list, the anomaly list. Rules in app.services.directory; the screens are
app/views/directory.py."""
from __future__ import annotations

from flask import g
from flask_appbuilder.api import expose as api_expose, protect, safe

from app.models import AnomalyEntry, DirectoryEntry, NationalRecommendation
from app.services import directory, scoping
from app.services.exceptions import DomainError
from app.web.base import ScopedModelRestApi
from app.web.datamodel import ListInterface


class DirectoryEntryApi(ScopedModelRestApi):
    """The directory in scope. POST …/<id>/remove {"reason", "decision"} removes an entry;
    POST …/<id>/recommend {"reason"} recommends a provincial entry to the national list."""

    resource_name = "directory"
    datamodel = ListInterface(DirectoryEntry)
    list_columns = show_columns = ["id", "mine_id", "enterprise_id", "region_code", "level", "year", "status",
                                   "mine_name", "enterprise_name", "mineral_name", "listed_on", "entry_reason",
                                   "entry_decision", "application_id", "removed_on", "exit_reason", "exit_decision"]
    search_columns = ["level", "year", "status", "region_code", "mine_name", "mine_id", "enterprise_id"]
    order_columns = ["year", "listed_on", "id"]
    include_route_methods = {"get", "get_list", "info", "list_mine", "remove", "recommend"}
    method_permission_name = {"get": "get", "get_list": "get", "info": "info", "list_mine": "post",
                              "remove": "transition", "recommend": "transition"}

    @api_expose("/", methods=["POST"])
    @protect()
    @safe
    def list_mine(self):
        """List a mine on the directory of the user's own level.
        ---
        post:
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    licence_no: {type: string}
                    year: {type: integer}
                    reason: {type: string}
                    decision: {type: string}
          responses:
            201: {description: listed, with its certificate}
            422: {description: refused}
        """
        body = self.json_object()
        try:
            entry = directory.list_mine(g.user, str(body.get("licence_no") or ""), body.get("year"),
                                        str(body.get("reason") or ""), body.get("decision"))
        except DomainError as exc:
            return self.refusal(exc)
        return self.response(201, id=entry.id, level=entry.level, status=entry.status)

    @api_expose("/<int:pk>/remove", methods=["POST"])
    @protect()
    @safe
    def remove(self, pk):
        """Remove an entry from the directory.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    reason: {type: string}
                    decision: {type: string}
          responses:
            200: {description: removed}
            404: {$ref: '#/components/responses/404'}
            409: {description: not possible now}
        """
        def remove(entry, body):
            directory.remove(entry, g.user, str(body.get("reason") or ""), body.get("decision"))
            return self.response(200, id=entry.id, status=entry.status)

        return self.act_on(pk, scoping.ACT, remove)

    @api_expose("/<int:pk>/recommend", methods=["POST"])
    @protect()
    @safe
    def recommend(self, pk):
        """Recommend a provincial entry to the national list (within the quota).
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    reason: {type: string}
          responses:
            201: {description: recommended}
            404: {$ref: '#/components/responses/404'}
            422: {description: refused (level, state, quota)}
        """
        if not self.appbuilder.sm.has_access("can_post", "NationalRecommendationApi"):
            return self.response_403()
        entry = self._scoped_or_none(pk, scoping.ACT)
        if entry is None:
            return self.response_404()
        body = self.json_object()
        try:
            recommendation = directory.recommend(entry, g.user, body.get("reason"))
        except DomainError as exc:
            return self.refusal(exc)
        return self.response(201, id=recommendation.id, status=recommendation.status)


class NationalRecommendationApi(ScopedModelRestApi):
    resource_name = "national_recommendation"
    datamodel = ListInterface(NationalRecommendation)
    list_columns = show_columns = ["id", "entry_id", "region_code", "enterprise_id", "year", "status", "reason",
                                   "national_entry_id", "decided_at", "decision_comment"]
    search_columns = ["year", "status", "region_code"]
    include_route_methods = {"get", "get_list", "info", "transition"}


class AnomalyEntryApi(ScopedModelRestApi):
    resource_name = "anomaly"
    datamodel = ListInterface(AnomalyEntry)
    list_columns = show_columns = ["id", "mine_id", "enterprise_id", "region_code", "year", "status", "listed_on",
                                   "reason", "decision", "application_id", "decided_at", "decision_comment"]
    add_columns = ["mine_id", "reason", "decision"]
    search_columns = ["year", "status", "region_code", "mine_id"]
    include_route_methods = {"get", "get_list", "info", "post", "transition"}
    add_required = ("mine_id", "reason")
    record_rule = directory.anomaly_rule
