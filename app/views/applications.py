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
from app.services import applications, scoping, uploads, workflow
from app.services.exceptions import DomainError
from app.views.formatting import formatters
from app.web.base import ScopedModelView
from app.web.datamodel import ListInterface


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

LABELS = {
    "enterprise": _l("Enterprise"),
    "mine": _l("Mine"),
    "region": _l("Region"),
    "year": _l("Application year"),
    "status_label": _l("Status"),
    # The search form's filter on the state itself.
    "status": _l("Status"),
    "submitted_at": _l("Submitted at"),
    "predeclaration": _l("Pre-declaration"),
    "indicator_version": _l("Indicator catalogue"),
    "public_notice": _l("Public notice"),
    # 矿山企业基本信息 (fig. 3-9)
    "enterprise_name": _l("Mining-right holder"),
    "mine_name": _l("Mine name / oil or gas field name"),
    "mine_address": _l("Mine address"),
    "licence_no": _l("Mining licence number"),
    "uscc": _l("Unified social credit code"),
    "economic_type": _l("Economic type"),
    "employees": _l("Employees"),
    "mineral_name": _l("Main mineral mined"),
    "mining_method": _l("Mining method"),
    "production_scale": _l("Production scale (10,000 t/year)"),
    "area_km2": _l("Mining area (km²)"),
    "issuing_authority": _l("Issuing authority"),
    "mine_size": _l("Mine size"),
    # 矿山企业联系方式 (fig. 3-10)
    "legal_representative": _l("Legal representative"),
    "contact_person": _l("Contact person"),
    "contact_address": _l("Postal address"),
    "mobile": _l("Mobile"),
    "phone": _l("Landline"),
    "fax": _l("Fax"),
    "email": _l("E-mail"),
    "postcode": _l("Postcode"),
    # 绿色矿山建设指标 (fig. 3-11)
    "greening_coverage_pct": _l("Greening coverage of the mining area, share of the greenable area (%)"),
    "land_restoration_pct": _l("Restoration rate of occupied and damaged land (%)"),
    "mining_recovery_pct": _l("Mining recovery rate (%)"),
    "processing_recovery_pct": _l("Processing recovery rate (%)"),
    "utilisation_pct": _l("Comprehensive utilisation rate (%)"),
    "water_treatment_pct": _l("Treatment rate of mine water and processing waste water (%)"),
    "tailings_produced": _l("Tailings produced this year (10,000 t)"),
    "tailings_used": _l("Tailings used this year (10,000 t)"),
    "waste_rock_produced": _l("Waste rock (gangue) produced this year (10,000 t)"),
    "waste_rock_used": _l("Waste rock (gangue) used this year (10,000 t)"),
    "industrial_output": _l("Gross industrial output (10,000 yuan)"),
    "utilisation_output": _l("Output of comprehensive utilisation (10,000 yuan)"),
    "energy_per_unit": _l("Energy consumption per unit product (kg standard coal/t)"),
    "rnd_share_pct": _l("Innovation spending, share of last year's main business income (%)"),
    # 绿色矿山建设情况 (fig. 3-12)
    "self_evaluation_unit": _l("Self-evaluation report prepared by"),
    "situation_environment": _l("Mining-area environment"),
    "situation_development": _l("Resource development"),
    "situation_utilisation": _l("Comprehensive resource utilisation"),
    "situation_energy": _l("Energy saving and emission reduction"),
    "situation_innovation": _l("Innovation and digital mine"),
    "situation_management": _l("Enterprise management and image"),
    # 遴选条件 (seed 001 §一(一))
    "cond_valid_licence": _l("Holds a valid mining licence and operates normally"),
    "cond_no_penalty": _l("No administrative penalty in three years, or rectified"),
    "cond_not_anomalous": _l("Not on the anomaly list"),
    "cond_no_protected_area": _l("Not in a nature protected area (no-mining zone)"),
    "cond_reserves_three_years": _l("Remaining reserves for at least three years"),
    "cond_plan_reviewed": _l("Implementation plan prepared and reviewed"),
    "conditions_note": _l("Notes on the conditions"),
}


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


def yes_no_label(value) -> str:
    if value is None:
        return _("Not answered")
    return _("Yes") if value else _("No")


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
    label_columns = LABELS
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
        **{name: yes_no_label for name in CONDITIONS[:-1]},
        # Closed lists copied from the registry: shown with their labels, not their codes.
        economic_type=lambda value: label(ECONOMIC_TYPES, value),
        mining_method=lambda value: label(MINING_METHODS, value),
        mine_size=lambda value: label(MINE_SIZES, value),
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
            editable=editable,
        )

    @expose("/evidence/<pk>", methods=["GET"])
    @has_access
    def evidence(self, pk):
        item = self.get_scoped_or_404(pk, scoping.READ)
        if getattr(g.user, "enterprise_id", None) == item.enterprise_id:
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
            kwargs["attachments_editable"] = (self.appbuilder.sm.has_access("can_upload", "AttachmentView")
                                              and uploads.may_upload("Application", application, g.user))
        return super().render_template(template, **kwargs)


class ApplicationWindowView(ScopedModelView):
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
        "province_code": _l("Province code"),
        "year": _l("Application year"),
        "opens_on": _l("Opens on"),
        "deadline": _l("Deadline"),
    }
    description_columns = {
        "deadline": _l("Submissions after this day are refused (default: 15 October)."),
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "province_code": StringField(_l("Province code"), validators=[OptionalValidator()],
                                     widget=BS3TextFieldWidget()),
    }
    formatters_columns = formatters(optional=("opens_on",))

    record_rule = applications.window_rule


def register(appbuilder) -> None:
    """Add the application views to ``appbuilder``."""
    appbuilder.add_view(ApplicationView, "Applications", label=_l("Green-mine applications"), icon="fa-file-text",
                        category="GreenMine")
    appbuilder.add_view(ApplicationWindowView, "Application windows", label=_l("Application windows"),
                        icon="fa-calendar", category="GreenMine")
