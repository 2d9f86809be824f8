"""Third-party assessment agencies (SPEC E3): the registry, disqualification for fraud, and the
declared conflicts of interest that keep an agency out of an enterprise's draws."""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.views import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.models import Agency, AgencyConflict, Enterprise
from app.services import agencies, choices, scoping
from app.services.exceptions import DomainError
from app.views.formatting import formatters, local_datetime
from app.views.widgets import SearchSelectField
from app.web.base import ScopedModelView
from app.web.datamodel import ListInterface
from app.web.labels import AGENCY_LABELS



class AgencyView(ScopedModelView):
    datamodel = ListInterface(Agency)
    list_title = _l("Assessment agencies")
    show_title = _l("Assessment agency")
    add_title = _l("Register an assessment agency")
    edit_title = _l("Edit assessment agency")
    show_template = "gm/agency_show.html"
    list_columns = ["name", "uscc", "qualification", "status"]
    show_columns = ["name", "uscc", "qualification", "status", "disqualified_at", "disqualification_reason"]
    add_columns = edit_columns = ["name", "uscc", "qualification"]
    search_columns = ["name", "uscc", "status"]
    order_columns = ["name"]
    base_order = ("name", "asc")
    label_columns = dict(AGENCY_LABELS)
    formatters_columns = dict(
        formatters(optional=("uscc", "qualification", "disqualification_reason")),
        status=agencies.status_label, disqualified_at=local_datetime,
    )
    method_permission_name = {**ScopedModelView.method_permission_name, "disqualify": "disqualify"}
    record_rule = agencies.agency_rule

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            agency = self.get_scoped_or_404(kwargs["pk"])
            kwargs.update(agency=agency, may_disqualify=agency.status == agencies.ACTIVE and self.appbuilder.sm
                          .has_access("can_disqualify", self.class_permission_name))
        return super().render_template(template, **kwargs)

    @expose("/disqualify/<int:pk>", methods=["POST"])
    @has_access
    def disqualify(self, pk):
        agency = self.get_scoped_or_404(pk, scoping.EDIT)
        try:
            agencies.disqualify(agency, g.user, request.form.get("reason"))
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("The agency was disqualified; it takes part in no further draw."), "success")
        return redirect(url_for(f"{self.endpoint}.show", pk=pk))


class AgencyConflictView(ScopedModelView):
    """Declared conflicts of interest: the province records them for its enterprises."""

    datamodel = ListInterface(AgencyConflict)
    list_title = _l("Declared conflicts of interest")
    show_title = _l("Declared conflict of interest")
    add_title = _l("Declare a conflict of interest")
    edit_title = _l("Edit the declared conflict of interest")
    list_columns = ["agency", "enterprise", "reason", "declared_at"]
    show_columns = list_columns
    add_columns = edit_columns = ["agency", "enterprise", "reason"]
    search_columns = ["agency", "reason"]
    order_columns = ["declared_at"]
    base_order = ("declared_at", "desc")
    label_columns = dict(AGENCY_LABELS)
    formatters_columns = dict(formatters(optional=("reason",)), declared_at=local_datetime)
    add_form_extra_fields = edit_form_extra_fields = {
        "enterprise": SearchSelectField(
            _l("Enterprise"), model=Enterprise,
            endpoint=lambda: url_for("AgencyConflictView.choices", field="enterprise"),
            labeler=lambda enterprise: f"{enterprise.name}（{enterprise.uscc}）",
        ),
    }
    search_choices = {"enterprise": choices.search_enterprises}
    record_rule = agencies.conflict_rule


def register(appbuilder) -> None:
    appbuilder.add_view(AgencyView, "Assessment agencies", label=_l("Assessment agencies"), icon="fa-university",
                        category="GreenMine")
    appbuilder.add_view(AgencyConflictView, "Declared conflicts of interest",
                        label=_l("Declared conflicts of interest"), icon="fa-ban", category="GreenMine")
