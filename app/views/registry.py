"""Enterprises and mines: one scoped view each, for every role (SPEC B1-B7)."""
from __future__ import annotations

from flask import abort, flash, g, has_request_context, redirect, request, url_for
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.views import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired
from wtforms.validators import Optional as OptionalValidator

from app.extensions import db
from app.models import Enterprise, Mine, Mineral
from app.models.choices import (
    DEVELOPMENT_METHODS,
    ECONOMIC_TYPES,
    MINE_SIZES,
    MINING_METHODS,
    PRODUCTION_STATUSES,
    RESPONSIBILITY_LEVELS,
    SUPERVISION_LEVELS,
    choice_list,
)
from app.services import choices, fraud, mine_search, registry, responsibility, scoping
from app.services.exceptions import DomainError
from app.views.formatting import formatters
from app.views.widgets import SearchSelectField, region_select_field
from app.web.base import SCOPE_BASE_FILTERS, ScopedModelView
from app.web.datamodel import ListInterface
from app.web.labels import ENTERPRISE_LABELS, MINE_LABELS


def _choice_field(label, options):
    return SelectField(label, choices=[("", "—")] + choice_list(options), validators=[OptionalValidator()],
                       widget=Select2Widget())


def _code_field(label) -> StringField:
    """A registry code (credit code, licence number) typed as text. Not FAB's generated field:
    FAB gives a unique column its Unique validator, which looks the code up outside the user's
    scope and answers "Already exists." before the rule of app.services.registry, which answers
    without saying where a record outside the scope lies."""
    return StringField(label, validators=[DataRequired()], widget=BS3TextFieldWidget())


def _region_field(view_endpoint: str, label=_l("Region (county level)")):
    return region_select_field(label, view_endpoint)


class EnterpriseView(ScopedModelView):
    datamodel = ListInterface(Enterprise)
    list_title = _l("Enterprises")
    show_title = _l("Enterprise")
    add_title = _l("Add enterprise")
    edit_title = _l("Edit enterprise")
    list_columns = ["name", "uscc", "region", "contact_person", "mobile"]
    show_columns = ["name", "uscc", "economic_type_label", "legal_representative", "contact_person",
                    "address", "mobile", "phone", "fax", "email", "postcode", "region"]
    add_columns = edit_columns = ["name", "uscc", "economic_type", "legal_representative", "contact_person",
                                  "address", "mobile", "phone", "fax", "email", "postcode", "region_code"]
    search_columns = ["name", "uscc"]
    order_columns = ["name", "uscc"]
    base_order = ("id", "desc")
    label_columns = dict(ENTERPRISE_LABELS)
    add_form_extra_fields = edit_form_extra_fields = {
        "uscc": _code_field(ENTERPRISE_LABELS["uscc"]),
        "economic_type": _choice_field(_l("Economic type"), ECONOMIC_TYPES),
        "region_code": _region_field("EnterpriseView"),
    }
    search_choices = {"region": choices.search_leaf_regions}
    record_rule = registry.enterprise_rule


class MineCriteriaFilter(BaseFilter):
    """The mine list's search criteria from the URL (app.services.mine_search), on list pages."""

    name = "criteria"

    def apply(self, query, value):
        if not has_request_context() or not (request.endpoint or "").endswith(".list"):
            return query
        criteria = mine_search.parse(request.args)
        return query.filter(*criteria.conditions) if criteria.conditions else query


class MineView(ScopedModelView):
    datamodel = ListInterface(Mine)
    base_filters = SCOPE_BASE_FILTERS + [["id", MineCriteriaFilter, lambda: None]]
    list_template = "gm/mine_list.html"
    show_template = "gm/mine_show.html"
    list_title = _l("Mines")
    show_title = _l("Mine")
    add_title = _l("Add mine")
    edit_title = _l("Edit mine")
    list_columns = ["name", "licence_no", "enterprise", "mineral", "size_label", "production_status_label", "region"]
    show_fieldsets = [
        (_l("Basic information"), {"fields": [
            "name", "address", "licence_no", "enterprise", "employees", "mineral", "mining_method_label",
            "production_scale", "area_km2", "issuing_authority", "size_label", "region",
            "licence_valid_from", "licence_valid_to", "is_new_or_expanded", "production_started_on"]}),
        (_l("Underground details"), {"fields": [
            "design_capacity", "development_method_label", "max_depth_m", "workers_per_shift",
            "production_status_label", "supervision_level_label"]}),
    ]
    _form_fields = [
        "name", "address", "licence_no", "enterprise", "employees", "mineral", "mining_method",
        "production_scale", "area_km2", "issuing_authority", "size", "region_code",
        "licence_valid_from", "licence_valid_to", "is_new_or_expanded", "production_started_on",
        "design_capacity", "development_method", "max_depth_m", "workers_per_shift",
        "production_status", "supervision_level", "latitude", "longitude", "principal_name", "principal_phone",
    ]
    add_columns = edit_columns = _form_fields
    search_columns = ["name", "licence_no"]
    order_columns = ["name", "licence_no"]
    # A stable order: without one, PostgreSQL may return a row on two pages and skip another.
    base_order = ("id", "desc")
    label_columns = dict(MINE_LABELS)
    description_columns = {
        "size": _l("Leave empty to derive it from the mineral and the production scale "
                   "(national thresholds); a size given by hand must agree with them."),
        "production_started_on": _l("New or expanded mines: the selection accepts them one year after this day."),
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "licence_no": _code_field(MINE_LABELS["licence_no"]),
        "mining_method": _choice_field(_l("Mining method"), MINING_METHODS),
        "size": _choice_field(_l("Mine size"), MINE_SIZES),
        "development_method": _choice_field(_l("Development method"), DEVELOPMENT_METHODS),
        "production_status": _choice_field(_l("Production status"), PRODUCTION_STATUSES),
        "supervision_level": _choice_field(_l("Daily supervision"), SUPERVISION_LEVELS),
        # Not null in the table, but unticked is a valid answer (FAB would make it required).
        "is_new_or_expanded": BooleanField(_l("New or expanded mine")),
        "region_code": _region_field("MineView"),
        "enterprise": SearchSelectField(
            _l("Licence holder"), model=Enterprise,
            endpoint=lambda: url_for("MineView.choices", field="enterprise"),
            labeler=lambda enterprise: f"{enterprise.name}（{enterprise.uscc}）",
        ),
    }
    search_choices = {"region": choices.search_leaf_regions, "enterprise": choices.search_enterprises}
    record_rule = registry.mine_rule
    formatters_columns = formatters(optional=(
        "address", "employees", "production_scale", "area_km2", "issuing_authority", "licence_valid_from",
        "licence_valid_to", "design_capacity", "max_depth_m", "workers_per_shift", "production_started_on"))

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            criteria = mine_search.parse(request.args)
            for error in criteria.errors:
                flash(error, "warning")
            kwargs.update(
                criteria=criteria.applied,
                label_columns=self.label_columns,
                minerals=db.session.query(Mineral).order_by(Mineral.sort_order).all(),
                mineral_classes=mine_search.MINERAL_CLASSES,
                filter_choices={
                    "size": choice_list(MINE_SIZES),
                    "production_status": choice_list(PRODUCTION_STATUSES),
                    "development_method": choice_list(DEVELOPMENT_METHODS),
                    "supervision_level": choice_list(SUPERVISION_LEVELS),
                },
            )
        if template == self.show_template and "pk" in kwargs:
            mine = self.get_scoped_or_404(kwargs["pk"])
            kwargs.update(
                mine=mine,
                fraud_findings=fraud.findings_of_mine(g.user, mine.id),
                responsible_now=responsibility.current_persons(mine),
                responsible_history=responsibility.history(mine),
                responsible_editable=responsibility.editable_levels(g.user, mine),
                responsibility_levels=RESPONSIBILITY_LEVELS,
                may_set_location=self.appbuilder.sm.has_access("can_location", self.class_permission_name)
                and scoping.can_access(g.user, mine, scoping.EDIT),
            )
        return super().render_template(template, **kwargs)

    # --- Self-service routes (SPEC B4, B5) -------------------------------------------------
    @expose("/location/<pk>", methods=["GET", "POST"])
    @has_access
    def location(self, pk):
        """Set the mine's position: all an enterprise may change of its mine besides its
        enterprise-level responsible person."""
        mine = self.get_scoped_or_404(pk, scoping.EDIT)
        if request.method == "POST":
            try:
                responsibility.set_location(mine, g.user, request.form.get("latitude"), request.form.get("longitude"))
            except DomainError as exc:
                flash(str(exc), "danger")
            else:
                flash(_("The mine's position was saved."), "success")
                return redirect(url_for(f"{self.endpoint}.show", pk=mine.id))
        return self.render_template("gm/mine_location.html", mine=mine, title=_("Mine position"),
                                    form_values=request.form if request.method == "POST" else None)

    @expose("/responsible/<pk>/<level>", methods=["GET", "POST"])
    @has_access
    def responsible(self, pk, level):
        """Fill in or replace the responsible person of one level (包保责任人)."""
        mine = self.get_scoped_or_404(pk, scoping.EDIT)
        if level not in RESPONSIBILITY_LEVELS:
            abort(404)
        if level not in responsibility.editable_levels(g.user, mine):
            abort(403)
        if request.method == "POST":
            try:
                responsibility.set_person(mine, level, g.user, request.form.get("name"),
                                          request.form.get("post"), request.form.get("phone"))
            except DomainError as exc:
                flash(str(exc), "danger")
            else:
                flash(_("The responsible person was saved."), "success")
                return redirect(url_for(f"{self.endpoint}.show", pk=mine.id))
        return self.render_template(
            "gm/responsible_person.html", mine=mine, level=level, level_label=RESPONSIBILITY_LEVELS[level],
            title=RESPONSIBILITY_LEVELS[level], current=responsibility.current_persons(mine).get(level),
            quick_fill=responsibility.quick_fill_choices(g.user),
            form_values=request.form if request.method == "POST" else None,
        )
