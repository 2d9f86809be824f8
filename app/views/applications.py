"""Green-mine applications (SPEC D1-D10) and application windows (D9).

Thin views: the rules are in app.services.applications; status changes go through the
workflow engine (the base class's transition route)."""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.views import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import Optional as OptionalValidator

from app.models import Application, ApplicationWindow
from app.models.choices import ECONOMIC_TYPES, MINE_SIZES, MINING_METHODS, choice_list, label
from app.services import applications, choices, fraud, scoping, uploads, workflow
from app.services.exceptions import DomainError
from app.views.formatting import formatters, region_name, yes_no_answer
from app.views.widgets import region_select_field
from app.web.base import ScopedModelView
from app.web.datamodel import ListInterface
from app.web.labels import APPLICATION_LABELS


BASIC = ["enterprise_name", "mine_name", "mine_address", "licence_no", "uscc", "economic_type", "employees",
         "mineral_name", "mining_method", "production_scale", "area_km2", "issuing_authority", "mine_size"]
CONTACTS = ["legal_representative", "contact_person", "contact_address", "mobile", "phone", "fax", "email",
            "postcode"]
INDICATORS = ["greening_coverage_pct", "land_restoration_pct", "mining_recovery_pct", "processing_recovery_pct",
              "utilisation_pct", "water_treatment_pct", "tailings_produced", "tailings_used",
              "waste_rock_produced", "waste_rock_used", "industrial_output", "utilisation_output",
              "energy_per_unit", "rnd_share_pct"]
SITUATION = ["self_evaluation_unit", "situation_environment", "situation_development", "situation_utilisation",
             "situation_energy", "situation_innovation", "situation_management"]
CONDITIONS = ["cond_valid_licence", "cond_no_penalty", "cond_not_anomalous", "cond_no_protected_area",
              "cond_reserves_three_years", "cond_plan_reviewed", "conditions_note"]

LABELS = APPLICATION_LABELS


def _yes_no(value) -> object:
    if value in (None, "", "None"):
        return None
    return value in (True, 1, "1", "True", "true", "y")


def condition_field(name: str, label=None) -> SelectField:
    """A yes / no / not answered select for a condition (shared with the certification form)."""
    return SelectField(
        label or LABELS[name],
        choices=[("", _l("Not answered")), ("1", _l("Yes")), ("0", _l("No"))],
        coerce=_yes_no,
        validators=[OptionalValidator()],
        widget=Select2Widget(),
    )


# The registry's closed lists copied into the forms (mine_size: the green-mine application only).
CLOSED_LISTS = {"economic_type": ECONOMIC_TYPES, "mining_method": MINING_METHODS, "mine_size": MINE_SIZES}


def closed_list_fields(names=tuple(CLOSED_LISTS)) -> dict:
    """Select boxes for the registry's closed lists copied into the application."""
    return {
        name: SelectField(LABELS[name], choices=[("", "—")] + choice_list(CLOSED_LISTS[name]),
                          validators=[OptionalValidator()], widget=Select2Widget())
        for name in names
    }


class ApplicationView(ScopedModelView):
    datamodel = ListInterface(Application)
    list_title = _l("Green-mine applications")
    show_title = _l("Green-mine application")
    add_title = _l("New green-mine application")
    edit_title = _l("Edit green-mine application")
    show_template = "gm/application_show.html"
    list_columns = ["year", "enterprise_name", "mine_name", "licence_no", "status_label", "region", "submitted_at"]
    edit_columns = BASIC + CONTACTS + INDICATORS + SITUATION + CONDITIONS
    show_columns = ["year", "region", "status_label", "submitted_at"] + edit_columns
    search_columns = ["year", "status", "enterprise_name", "mine_name", "licence_no"]
    order_columns = ["year", "submitted_at"]
    base_order = ("id", "desc")
    label_columns = dict(LABELS)
    edit_fieldsets = [
        (_l("Basic information of the mining enterprise"), {"fields": BASIC}),
        (_l("Contacts of the mining enterprise"), {"fields": CONTACTS}),
        (_l("Green-mine construction indicators"), {"fields": INDICATORS}),
        (_l("Green-mine construction situation"), {"fields": SITUATION}),
        (_l("Eligibility conditions"), {"fields": CONDITIONS}),
    ]
    show_fieldsets = [
        (_l("Application"), {"fields": ["year", "region", "status_label", "submitted_at"]}),
    ] + edit_fieldsets
    edit_form_extra_fields = {name: condition_field(name) for name in CONDITIONS[:-1]}
    edit_form_extra_fields["email"] = StringField(LABELS["email"], validators=[OptionalValidator()],
                                                  widget=BS3TextFieldWidget())
    edit_form_extra_fields.update(closed_list_fields())
    formatters_columns = dict(
        formatters(datetimes=("submitted_at",),
                   optional=tuple(c for c in edit_columns if c not in CONDITIONS[:-1])),
        **{name: yes_no_answer for name in CONDITIONS[:-1]},
        # Closed lists copied from the registry: shown with their labels, not their codes.
        economic_type=lambda value: label(ECONOMIC_TYPES, value),
        mining_method=lambda value: label(MINING_METHODS, value),
        mine_size=lambda value: label(MINE_SIZES, value),
        region=region_name,
    )
    method_permission_name = {
        **ScopedModelView.method_permission_name,
        "new": "add",
        "process": "show",
        "evidence": "show",
        "evidence_save": "evidence",
    }

    record_rule = applications.record_rule

    # --- D1: a new application starts from a passed pre-declaration (fig. 3-8) ------------
    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        return redirect(url_for(f"{self.endpoint}.new"))

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        if request.method == "POST":
            try:
                application = applications.create_for_predeclaration_id(g.user, request.form.get("predeclaration_id"))
            except DomainError as exc:
                flash(str(exc), "danger")
            else:
                flash(_("The application was created from the pre-declaration; fill in its forms."), "success")
                return redirect(url_for(f"{self.endpoint}.edit", pk=application.id))
        return self.render_template("gm/application_new.html", title=self.add_title,
                                    predeclarations=applications.eligible_predeclarations(g.user))

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        item = self.get_scoped_or_404(pk, scoping.READ)
        try:
            applications.check_editable(item)
        except DomainError as exc:
            flash(str(exc), "danger")
            return redirect(url_for(f"{self.endpoint}.show", pk=item.id))
        return super().edit(pk)

    # --- D7: process monitoring (fig. 3-21) ---------------------------------------------
    @expose("/process/<pk>")
    @has_access
    def process(self, pk):
        item = self.get_scoped_or_404(pk, scoping.READ)
        return self.render_template("gm/application_process.html", title=_("Process monitoring"),
                                    application=item, steps=workflow.history(item))

    # --- D10: indicator evidence ---------------------------------------------------------
    def _evidence_page(self, item):
        try:
            applications.check_evidence_editable(item, g.user)
            editable = True
        except DomainError:
            editable = False
        return self.render_template(
            "gm/application_evidence.html", title=_("Indicator materials"), application=item,
            items=applications.indicator_items(item), evidence=applications.evidence_by_item(item),
            editable=editable, frozen=applications.evidence_frozen(item),
        )

    @expose("/evidence/<pk>", methods=["GET"])
    @has_access
    def evidence(self, pk):
        item = self.get_scoped_or_404(pk, scoping.READ)
        # Before submission there is nothing to show yet; once frozen the page is read-only.
        if getattr(g.user, "enterprise_id", None) == item.enterprise_id and not applications.evidence_frozen(item):
            try:
                applications.check_evidence_editable(item, g.user)
            except DomainError as exc:
                flash(str(exc), "warning")
                return redirect(url_for(f"{self.endpoint}.show", pk=item.id))
        return self._evidence_page(item)

    @expose("/evidence/<pk>", methods=["POST"])
    @has_access
    def evidence_save(self, pk):
        item = self.get_scoped_or_404(pk, scoping.ACT)
        try:
            raw = request.form.get("item_id", "")
            applications.save_evidence(item, g.user, int(raw) if raw.isdigit() else None, request.form.get("note"))
        except DomainError as exc:
            flash(str(exc), "danger")
            if exc.status_code == 422 and exc.field != "item_id" and exc.field != "note":
                return redirect(url_for(f"{self.endpoint}.show", pk=item.id))
        else:
            flash(_("The note was saved."), "success")
        return redirect(url_for(f"{self.endpoint}.evidence", pk=item.id))

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            application = self.get_scoped_or_404(kwargs["pk"])
            kwargs["application"] = application
            kwargs["review_opinions"] = workflow.opinions(application)
            kwargs["fraud_findings"] = fraud.findings_of_mine(g.user, application.mine_id)
            # The disqualify step is taken on the findings' form, for this application.
            kwargs["screen_args"] = {"FraudFindingView.add": {"application_id": application.id}}
            kwargs["attachments_editable"] = (self.appbuilder.sm.has_access("can_upload", "AttachmentView")
                                              and uploads.may_upload("Application", application, g.user))
            required = uploads.required_slots("Application")
            kwargs["materials"] = [(slot, rule.label, slot in required)
                                   for slot, rule in uploads.slots_of("Application", application).items()]
        return super().render_template(template, **kwargs)


class ApplicationWindowView(ScopedModelView):
    empty_hint = _l("Application windows are set by the province authority.")
    datamodel = ListInterface(ApplicationWindow)
    list_title = _l("Application windows")
    show_title = _l("Application window")
    add_title = _l("New application window")
    edit_title = _l("Edit application window")
    list_columns = ["province", "year", "opens_on", "deadline"]
    show_columns = ["province", "year", "opens_on", "deadline"]
    add_columns = edit_columns = ["province_code", "year", "opens_on", "deadline"]
    search_columns = ["year"]
    order_columns = ["year", "deadline"]
    base_order = ("year", "desc")
    label_columns = {
        "province": _l("Province"),
        "province_code": _l("Province"),
        "year": _l("Application year"),
        "opens_on": _l("Opens on"),
        "deadline": _l("Deadline"),
    }
    description_columns = {
        "deadline": _l("Submissions after this day are refused (default: 15 October)."),
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "province_code": region_select_field(_l("Province"), "ApplicationWindowView", "province",
                                             validators=[OptionalValidator()]),
    }
    search_choices = {"province": choices.search_provinces}
    formatters_columns = dict(formatters(optional=("opens_on",)), province=region_name)

    record_rule = applications.window_rule


def register(appbuilder) -> None:
    """Add the application views to ``appbuilder``."""
    appbuilder.add_view(ApplicationView, "Applications", label=_l("Green-mine applications"), icon="fa-file-text",
                        category="GreenMine")
    appbuilder.add_view(ApplicationWindowView, "Application windows", label=_l("Application windows"),
                        icon="fa-calendar", category="GreenMine")
