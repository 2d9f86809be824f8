"""Enterprises and mines: one scoped view each, for every role."""
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l

from flask import has_request_context, request
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.filters import BaseFilter
from wtforms import SelectField
from wtforms.validators import Optional as OptionalValidator

from app.models import Enterprise, Mine
from app.models.choices import ECONOMIC_TYPES, MINING_METHODS, choice_list
from app.services import mine_search, registry
from app.views.base import SCOPE_BASE_FILTERS, ScopedModelView


def _choice_field(label, choices):
    return SelectField(label, choices=[("", "—")] + choice_list(choices), validators=[OptionalValidator()],
                       widget=Select2Widget())

ENTERPRISE_LABELS = {
    "name": _l("Enterprise name"),
    "uscc": _l("Unified social credit code"),
    "economic_type": _l("Economic type"),
    "economic_type_label": _l("Economic type"),
    "legal_representative": _l("Legal representative"),
    "contact_person": _l("Contact person"),
    "address": _l("Address"),
    "mobile": _l("Mobile"),
    "phone": _l("Telephone"),
    "fax": _l("Fax"),
    "email": _l("Email"),
    "postcode": _l("Postcode"),
    "region": _l("Region"),
    "region_code": _l("Region code"),
}

MINE_LABELS = {
    "name": _l("Mine name"),
    "address": _l("Mine address"),
    "licence_no": _l("Mining licence number"),
    "enterprise": _l("Licence holder"),
    "employees": _l("Employees"),
    "mineral": _l("Main mineral"),
    "mining_method": _l("Mining method"),
    "mining_method_label": _l("Mining method"),
    "production_scale": _l("Production scale (10,000 t/year)"),
    "area_km2": _l("Mining area (km²)"),
    "issuing_authority": _l("Issuing authority"),
    "size": _l("Mine size"),
    "size_label": _l("Mine size"),
    "region": _l("Region"),
    "region_code": _l("Region code"),
    "licence_valid_from": _l("Licence valid from"),
    "licence_valid_to": _l("Licence valid to"),
}


class EnterpriseView(ScopedModelView):
    datamodel = SQLAInterface(Enterprise)
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
    label_columns = ENTERPRISE_LABELS
    add_form_extra_fields = edit_form_extra_fields = {
        "economic_type": _choice_field(_l("Economic type"), ECONOMIC_TYPES),
    }

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
    datamodel = SQLAInterface(Mine)
    base_filters = SCOPE_BASE_FILTERS + [["id", MineCriteriaFilter, lambda: None]]
    list_title = _l("Mines")
    show_title = _l("Mine")
    add_title = _l("Add mine")
    edit_title = _l("Edit mine")
    list_columns = ["name", "licence_no", "enterprise", "mineral", "size_label", "region"]
    show_columns = ["name", "address", "licence_no", "enterprise", "employees", "mineral",
                    "mining_method_label", "production_scale", "area_km2", "issuing_authority",
                    "size_label", "region", "licence_valid_from", "licence_valid_to"]
    add_columns = edit_columns = ["name", "address", "licence_no", "enterprise", "employees", "mineral",
                                  "mining_method", "production_scale", "area_km2", "issuing_authority",
                                  "region_code", "licence_valid_from", "licence_valid_to"]
    search_columns = ["name", "licence_no"]
    order_columns = ["name", "licence_no"]
    label_columns = MINE_LABELS
    add_form_extra_fields = edit_form_extra_fields = {
        "mining_method": _choice_field(_l("Mining method"), MINING_METHODS),
    }
    # Only enterprises the user may reach are offered (and checked again on save).
    add_form_query_rel_fields = edit_form_query_rel_fields = {"enterprise": SCOPE_BASE_FILTERS}

    record_rule = registry.mine_rule
