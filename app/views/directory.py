"""Directory screens and REST (SPEC F1, E6, F4): entries by level and year with their entry and
exit, removal with reason and decision, recommendation to the national list within the quota,
the anomaly list. Rules in app.services.directory."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder.api import expose as api_expose, protect, safe
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.views import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.models import AnomalyEntry, DirectoryEntry, NationalRecommendation
from app.services import directory, scoping
from app.services.exceptions import DomainError
from app.views.base import ScopedModelRestApi, ScopedModelView
from app.views.datamodel import ListInterface
from app.views.formatting import formatters

_LABELS = {
    "year": _l("Year"),
    "level_label": _l("Level"),
    "level": _l("Level"),
    "mine_name": _l("Mine"),
    "mine": _l("Mine"),
    "enterprise_name": _l("Enterprise"),
    "mineral_name": _l("Mineral"),
    "region": _l("Region"),
    "status": _l("Status"),
    "status_label": _l("Status"),
    "listed_on": _l("Listed on"),
    "entry_reason": _l("Reason for listing"),
    "entry_decision": _l("Listing decision"),
    "removed_on": _l("Removed on"),
    "exit_reason": _l("Reason for removal"),
    "exit_decision": _l("Removal decision"),
    "reason": _l("Reason"),
    "decision": _l("Decision"),
    "decision_comment": _l("Comment"),
    "entry": _l("Provincial entry"),
}


class DirectoryEntryView(ScopedModelView):
    datamodel = ListInterface(DirectoryEntry)
    list_title = show_title = _l("Green-mine directory")
    list_columns = ["year", "level_label", "mine_name", "enterprise_name", "region", "status_label", "listed_on",
                    "removed_on"]
    show_columns = ["year", "level_label", "mine_name", "enterprise_name", "mineral_name", "region", "status_label",
                    "listed_on", "entry_reason", "entry_decision", "removed_on", "exit_reason", "exit_decision"]
    search_columns = ["year", "level", "status", "mine_name", "listed_on"]
    order_columns = ["year", "listed_on", "mine_name"]
    base_order = ("listed_on", "desc")
    base_permissions = ["can_list", "can_show", "can_add", "can_transition"]
    label_columns = _LABELS
    formatters_columns = formatters(optional=("removed_on", "exit_reason", "exit_decision", "entry_decision",
                                              "mineral_name"))
    show_template = "gm/directory_entry_show.html"
    method_permission_name = {"choices": "list", "remove": "transition", "recommend": "transition", "add": "add"}

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        """List a mine by hand on the directory of the user's level (directory.list_mine)."""
        error = None
        if request.method == "POST":
            try:
                entry = directory.list_mine(g.user, request.form.get("licence_no", ""), request.form.get("year"),
                                            request.form.get("reason", ""), request.form.get("decision"))
            except DomainError as exc:
                error = exc
            else:
                flash(_("“%(name)s” is listed on the %(level)s directory.", name=entry.mine_name,
                        level=entry.level_label), "success")
                return redirect(url_for("DirectoryEntryView.show", pk=entry.id))
        return self.render_template("gm/directory_entry_add.html", title=_("List a mine on the directory"),
                                    error=error, form=request.form)

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            entry = self.get_scoped_or_404(kwargs["pk"])
            sm = self.appbuilder.sm
            quota = directory.recommendation_quota(entry.region_code) if entry.level == "province" else None
            kwargs.update(entry=entry, quota=quota,
                          may_remove=sm.has_access("can_transition", "DirectoryEntryView") and entry.status == "listed",
                          may_recommend=sm.has_access("can_add", "NationalRecommendationView")
                          and entry.level == "province" and entry.status == "listed")
        return super().render_template(template, **kwargs)

    @expose("/remove/<int:pk>", methods=["POST"])
    @has_access
    def remove(self, pk):
        entry = self.get_scoped_or_404(pk, scoping.ACT)
        try:
            directory.remove(entry, g.user, request.form.get("reason", ""), request.form.get("decision"))
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("“%(name)s” was removed from the directory.", name=entry.mine_name), "success")
        return redirect(url_for("DirectoryEntryView.show", pk=pk))

    @expose("/recommend/<int:pk>", methods=["POST"])
    @has_access
    def recommend(self, pk):
        if not self.appbuilder.sm.has_access("can_add", "NationalRecommendationView"):
            abort(403)
        entry = self.get_scoped_or_404(pk, scoping.ACT)
        try:
            directory.recommend(entry, g.user, request.form.get("reason"))
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("“%(name)s” was recommended to the national list.", name=entry.mine_name), "success")
        return redirect(url_for("DirectoryEntryView.show", pk=pk))


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


class NationalRecommendationView(ScopedModelView):
    datamodel = ListInterface(NationalRecommendation)
    list_title = show_title = _l("Recommendations to the national list")
    list_columns = ["year", "entry", "region", "status_label", "decided_at"]
    show_columns = ["year", "entry", "reason", "status_label", "decision_comment"]
    search_columns = ["year", "status"]
    base_order = ("id", "desc")
    # Recommending is done from the directory entry (the quota is checked there).
    base_permissions = ["can_list", "can_show", "can_add", "can_transition"]
    label_columns = dict(_LABELS, region=_l("Region"), decided_at=_l("Decided at"))
    formatters_columns = formatters(datetimes=("decided_at",), optional=("reason", "decision_comment", "decided_at"))

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        flash(_("Recommend a mine from its page in the provincial directory."), "info")
        return redirect(url_for("DirectoryEntryView.list", _flt_0_level="province"))


class NationalRecommendationApi(ScopedModelRestApi):
    resource_name = "national_recommendation"
    datamodel = ListInterface(NationalRecommendation)
    list_columns = show_columns = ["id", "entry_id", "region_code", "enterprise_id", "year", "status", "reason",
                                   "national_entry_id", "decided_at", "decision_comment"]
    search_columns = ["year", "status", "region_code"]
    include_route_methods = {"get", "get_list", "info", "transition"}


class AnomalyEntryView(ScopedModelView):
    datamodel = ListInterface(AnomalyEntry)
    list_title = show_title = _l("Anomaly list")
    add_title = _l("Put a mine on the anomaly list")
    list_columns = ["year", "mine", "status_label", "listed_on", "reason"]
    show_columns = ["year", "mine", "status_label", "listed_on", "reason", "decision", "decision_comment"]
    add_columns = ["mine", "reason", "decision"]
    search_columns = ["year", "status", "listed_on"]
    base_order = ("listed_on", "desc")
    base_permissions = ["can_list", "can_show", "can_add", "can_transition"]
    label_columns = dict(_LABELS, decision_comment=_l("Release"))
    formatters_columns = formatters(optional=("decision", "decision_comment"))
    record_rule = directory.anomaly_rule


class AnomalyEntryApi(ScopedModelRestApi):
    resource_name = "anomaly"
    datamodel = ListInterface(AnomalyEntry)
    list_columns = show_columns = ["id", "mine_id", "enterprise_id", "region_code", "year", "status", "listed_on",
                                   "reason", "decision", "application_id", "decided_at", "decision_comment"]
    add_columns = ["mine_id", "reason", "decision"]
    search_columns = ["year", "status", "region_code", "mine_id"]
    include_route_methods = {"get", "get_list", "info", "post", "transition"}
    record_rule = directory.anomaly_rule


def register(appbuilder) -> None:
    label = _l("Directory")
    appbuilder.add_view(DirectoryEntryView, "Green-mine directory", label=_l("Green-mine directory"),
                        icon="fa-list-alt", category="Directory", category_label=label, category_icon="fa-trophy")
    appbuilder.add_view(NationalRecommendationView, "National recommendations",
                        label=_l("Recommendations to the national list"), icon="fa-arrow-up", category="Directory")
    appbuilder.add_view(AnomalyEntryView, "Anomaly list", label=_l("Anomaly list"), icon="fa-warning",
                        category="Directory")
    for api in (DirectoryEntryApi, NationalRecommendationApi, AnomalyEntryApi):
        appbuilder.add_api(api)
