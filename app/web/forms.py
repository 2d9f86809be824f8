"""Field lists, input parsing and search-form fields that the screens and the REST API share."""
from __future__ import annotations

import datetime
import functools

from app.models.application import SITUATION_AREAS
from app.models.certification import CERTIFICATION_CONDITIONS

# The certification application form (seed 002 附件), section by section, in the form's order.
CERTIFICATION_BASIC = ["applicant_name", "licence_no", "enterprise_name", "uscc", "mine_address", "economic_type",
                       "employees", "mineral_name", "mining_method", "production_scale", "area_km2"]
CERTIFICATION_CONTACTS = ["legal_representative", "contact_person", "contact_address", "email", "phone", "fax",
                          "mobile", "postcode"]
CERTIFICATION_SITUATION = list(SITUATION_AREAS)
CERTIFICATION_CONDITION_FIELDS = list(CERTIFICATION_CONDITIONS) + ["conditions_note"]
CERTIFICATION_FORM = CERTIFICATION_BASIC + CERTIFICATION_CONTACTS + CERTIFICATION_SITUATION + CERTIFICATION_CONDITION_FIELDS


def date_or_none(value: str | None) -> datetime.date | None:
    """An ISO date from a form field or a JSON body; None when it is not one."""
    try:
        return datetime.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


# What an empty choice of a search form shows: nothing.
_BLANK_LABEL = " "


def closed_list_search_fields(model: type, columns, labels: dict) -> dict:
    """Search-form fields (FAB's ``search_form_extra_fields``) for the columns FAB would render as
    free text around a code: every searched column with a closed list of values
    (``app.web.closed_lists``: a workflow's state, a level, a grade) is chosen by its label
    (已提交) from a select box instead of typed as its code (submitted); its filter is "equal
    to", the first (``app.web.datamodel.EscapedLikeFilterConverter``)."""
    from flask_appbuilder.fieldwidgets import Select2Widget
    from wtforms import SelectField
    from wtforms.validators import Optional as OptionalValidator

    from app.web import closed_lists

    return {
        # The choices are read when a form is made, in the reader's language.
        column: SelectField(labels.get(column), choices=functools.partial(_closed_choices, model, column),
                            validators=[OptionalValidator()], widget=Select2Widget())
        for column in columns or () if closed_lists.has_closed_list(model, column)
    }


def _closed_choices(model: type, column: str) -> list[tuple[str, str]]:
    from app.web import closed_lists

    choices = closed_lists.closed_list(model, column) or {}
    return [("", _BLANK_LABEL)] + [(str(value), label) for value, label in choices.items()]


def without_defaults(form_class) -> None:
    """A search form starts empty: FAB builds it like an add form, with each column's default
    value in its field (a status field read "draft" before anyone typed)."""
    from wtforms.fields.core import UnboundField

    for field in vars(form_class).values():
        if isinstance(field, UnboundField):
            field.kwargs["default"] = None
