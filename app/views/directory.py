"""Directory screens and REST (SPEC F1, E6, F4): entries by level and year with their entry and
exit, removal with reason and decision, recommendation to the national list within the quota,
the anomaly list. Rules in app.services.directory."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.views import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.models import AnomalyEntry, DirectoryEntry, NationalRecommendation
from app.services import directory, scoping
from app.services.exceptions import DomainError
from app.views.formatting import for_staff, formatters
from app.web.base import ScopedModelView
from app.web.datamodel import ListInterface
from app.web.labels import ANOMALY_LABELS, DIRECTORY_LABELS, NATIONAL_RECOMMENDATION_LABELS



class DirectoryEntryView(ScopedModelView):
    datamodel = ListInterface(DirectoryEntry)
    list_title = show_title = _l("Green-mine directory")
    list_columns = ["year", "level_label", "mine_name", "enterprise_name", "region", "status_label", "listed_on",
                    "removed_on", "review_note"]
    show_columns = ["year", "level_label", "mine_name", "enterprise_name", "mineral_name", "region", "status_label",
                    "listed_on", "review_note", "entry_reason", "entry_decision", "removed_on", "exit_reason",
                    "exit_decision"]
    search_columns = ["year", "level", "status", "mine_name", "listed_on"]
    order_columns = ["year", "listed_on", "mine_name"]
    base_order = ("listed_on", "desc")
    base_permissions = ["can_list", "can_show", "can_add", "can_transition"]
    label_columns = dict(DIRECTORY_LABELS)
    formatters_columns = dict(formatters(optional=("removed_on", "exit_reason", "exit_decision", "entry_decision",
                                                   "mineral_name")), review_note=for_staff)
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
            # The removal is the workflow's step with a decision of its own: its form is the
            # page's (gm/directory_entry_show.html), not the generic step button.
            kwargs.update(entry=entry, quota=quota, workflow_actions=[], workflow_screens=[],
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


class NationalRecommendationView(ScopedModelView):
    datamodel = ListInterface(NationalRecommendation)
    list_title = show_title = _l("Recommendations to the national list")
    list_columns = ["year", "entry", "region", "status_label", "decided_at"]
    show_columns = ["year", "entry", "reason", "status_label", "decision_comment"]
    search_columns = ["year", "status"]
    base_order = ("id", "desc")
    # Recommending is done from the directory entry (the quota is checked there).
    base_permissions = ["can_list", "can_show", "can_add", "can_transition"]
    label_columns = dict(NATIONAL_RECOMMENDATION_LABELS)
    formatters_columns = formatters(datetimes=("decided_at",), optional=("reason", "decision_comment", "decided_at"))

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        flash(_("Recommend a mine from its page in the provincial directory."), "info")
        return redirect(url_for("DirectoryEntryView.list", _flt_0_level="province"))


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
    label_columns = dict(ANOMALY_LABELS)
    formatters_columns = formatters(optional=("decision", "decision_comment"))
    record_rule = directory.anomaly_rule


def register(appbuilder) -> None:
    # One menu with the selection (app.views.selection, registered before): the bar stays one line.
    appbuilder.add_separator("Selection")
    appbuilder.add_view(DirectoryEntryView, "Green-mine directory", label=_l("Green-mine directory"),
                        icon="fa-list-alt", category="Selection")
    appbuilder.add_view(NationalRecommendationView, "National recommendations",
                        label=_l("Recommendations to the national list"), icon="fa-arrow-up", category="Selection")
    appbuilder.add_view(AnomalyEntryView, "Anomaly list", label=_l("Anomaly list"), icon="fa-warning",
                        category="Selection")
