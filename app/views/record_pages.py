"""What the logs show of a logged record: its page, its fields by their labels, its values as
names.

Built from the registered screens, so that there is one source for each: a kind of record's page
is the show page of its first registered model view; a field is called what the record's screens
call it (their ``label_columns``), a foreign key by the label of its relation. The logs store
only the record's kind (its model's name), its key and what it was called then.
"""
from __future__ import annotations

import datetime
from typing import Any, Iterable, Optional

from flask import current_app, g, url_for
from flask_appbuilder import Model, ModelRestApi, ModelView
from flask_appbuilder.security.sqla.models import Role
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_babel.speaklater import LazyString
from markupsafe import Markup
from sqlalchemy import DateTime
from sqlalchemy import inspect as sa_inspect

from app.extensions import db
from app.models.choices import ECONOMIC_TYPES, MINE_SIZES, MINING_METHODS
from app.models.directory import LEVEL_LABELS
from app.models.spotcheck import STAGE_LABELS
from app.models.user import role_label
from app.services import agencies, certification, evaluation, scoping, selection, spotchecks, uploads
from app.views.formatting import local_datetime

_CACHE = "gm_record_registry"  # (not "gm_record_pages": app.services.notifications caches there)


def _registry() -> dict:
    """model name -> (model, its registered model views, then its REST APIs, in the order of
    registration), per application."""
    registry = current_app.extensions.get(_CACHE)
    if registry is None:
        models = {mapper.class_.__name__: mapper.class_ for mapper in Model.registry.mappers}
        registry = {name: (model, []) for name, model in models.items()}
        # The screens first, then the REST APIs (which label what no screen shows).
        interfaces = sorted((view for view in current_app.appbuilder.baseviews
                             if isinstance(view, (ModelView, ModelRestApi))),
                            key=lambda view: not isinstance(view, ModelView))
        for view in interfaces:
            entry = registry.get(view.datamodel.obj.__name__)
            if entry is not None and entry[0] is view.datamodel.obj:
                entry[1].append(view)
        current_app.extensions[_CACHE] = registry
    return registry


def model_of(record_type: str) -> Optional[type]:
    entry = _registry().get(record_type)
    return entry[0] if entry else None


def page_view(record_type: str) -> Optional[ModelView]:
    """The view whose show page is the record's page."""
    entry = _registry().get(record_type)
    for view in entry[1] if entry else ():
        if isinstance(view, ModelView) and "can_show" in (view.base_permissions or ()):
            return view
    return None


# The records that have no screen of their own (a page of their parent shows them in a table
# of its template): their fields' labels. Every other record's fields are labelled by its views.
UNSCREENED_FIELD_LABELS = {
    "Attachment": {"owner_type": _l("Belongs to"), "owner_id": _l("Belongs to"), "slot": _l("Material"),
                   "kind": _l("Type"), "original_name": _l("File"), "stored_name": _l("Stored file"),
                   "content_type": _l("File type"), "size_bytes": _l("Size"), "sha256": _l("Checksum"),
                   "uploaded_by_id": _l("Uploaded by"), "removed_at": _l("Removed at"),
                   "removed_by_id": _l("Removed by")},
    "ResponsiblePerson": {"mine_id": _l("Mine"), "level": _l("Level"), "name": lazy_pgettext("person", "Name"),
                          "post": _l("Post"), "phone": _l("Phone"), "entered_by_id": _l("Entered by"),
                          "replaced_at": _l("Replaced")},
    "IndicatorEvidence": {"application_id": _l("Application"), "item_id": _l("Indicator item"), "note": _l("Note")},
    "EvaluationScore": {"application_id": _l("Application"), "item_id": _l("Indicator item"),
                        "source": _l("Scored by whom"), "score": _l("Score"), "note": _l("Note"),
                        "scored_by_id": _l("Scored by"), "scored_at": _l("Scored at")},
    "AgencyAssignment": {"application_id": _l("Application"), "agency_id": _l("Drawn agency"),
                         "algorithm": _l("Algorithm"), "seed": _l("Seed"),
                         "candidate_ids": _l("Candidates (in order)"), "excluded": _l("Excluded"),
                         "drawn_at": _l("Drawn at"), "drawn_by_id": _l("Drawn by")},
    "ReviewDecision": {"meeting_id": _l("Collective review meeting"), "application_id": _l("Application"),
                       "decision": _l("Decision"), "reasons": _l("Reasons"), "decided_at": _l("Decided at"),
                       "decided_by_id": _l("Decided by")},
    "SpotCheckTeam": {"campaign_id": _l("Spot-check campaign"), "number": _l("Team"), "leader_id": _l("Team leader")},
    "SpotCheckTeamMember": {"team_id": _l("Team"), "inspector_id": _l("Inspector"), "position": _l("Order")},
    "SpotCheckConfirmation": {"check_id": _l("Spot-check record"), "inspector_id": _l("Inspector"),
                              "stage": _l("Stage"), "user_id": _l("Account"), "confirmed_at": _l("Confirmed at")},
    "CertificationTeamMember": {"certification_id": _l("Certification application"),
                                "name": lazy_pgettext("person", "Name"), "team_role": _l("Role in the team"),
                                "registration_no": _l("Registration number"), "unit": _l("Unit"),
                                "specialty": _l("Specialty"), "removed_at": _l("Removed at")},
    "CertificationPause": {"certification_id": _l("Certification application"),
                           "started_on": _l("Rectification requested on"),
                           "ended_on": _l("Rectification submitted on"), "reason": _l("Reason")},
    "CertificationScore": {"certification_id": _l("Certification application"), "item_id": _l("Indicator item"),
                           "source": _l("Scored by whom"), "score": _l("Score"), "note": _l("Note"),
                           "scored_by_id": _l("Scored by"), "scored_at": _l("Scored at")},
}


def _declared_labels(view) -> Iterable[dict]:
    """The labels a view (or API) declares, its own and those of the classes it extends (FAB's
    user screen labels the account's own fields)."""
    yield view.label_columns
    for cls in type(view).__mro__[1:]:
        labels = cls.__dict__.get("label_columns")
        if isinstance(labels, dict):
            yield labels


def _declared_label(view, column: str):
    """The label a view declares for ``column``; FAB fills the columns nobody labelled with
    their prettified English names ("Enterprise Id"), which are not labels."""
    for labels in _declared_labels(view):
        label = labels.get(column)
        if label is not None and (isinstance(label, LazyString) or label != view._prettify_column(column)):
            return label
    return None


def field_label(record_type: str, field: str) -> Optional[str]:
    """What the record's screens call ``field``: the first view (then REST API) that labels it,
    or for a foreign key the label of its relation (``enterprise_id`` is the 矿业权人 of
    ``enterprise``); for a record without screens, ``UNSCREENED_FIELD_LABELS``."""
    model = model_of(record_type)
    if model is None:
        return None
    unscreened = UNSCREENED_FIELD_LABELS.get(record_type, {})
    if field in unscreened:
        return str(unscreened[field])
    names = [field] + [relation.key for relation in sa_inspect(model).relationships
                       if not relation.uselist and any(column.key == field for column in relation.local_columns)]
    for name in names:
        for view in _registry()[record_type][1]:
            label = _declared_label(view, name)
            if label is not None:
                return str(label)
    return None


# ---------------------------------------------------------------------------
# Links, by the scope rule
# ---------------------------------------------------------------------------
def record_urls(refs: Iterable[tuple[str, Any]]) -> dict[tuple[str, str], str]:
    """(record type, key) -> the URL of the record's page, for the records among ``refs`` that
    still exist and that the signed-in user may open: his permissions allow the page, the scope
    rule the record. One statement for any number of records."""
    wanted: dict[type, set[str]] = {}
    views: dict[type, ModelView] = {}
    for record_type, key in refs:
        model, view = model_of(record_type), page_view(record_type)
        if model is None or view is None or key is None:
            continue
        if model not in views:
            if not current_app.appbuilder.sm.has_access("can_show", view.class_permission_name):
                continue
            views[model] = view
        wanted.setdefault(model, set()).add(str(key))
    return {(model.__name__, key): url_for(f"{views[model].endpoint}.show", pk=key)
            for model, key in scoping.reachable_records(g.user, wanted)}


def record_cell(label: Optional[str], url: Optional[str]) -> Markup:
    """A logged record by its name, linked to its page when there is one for the reader."""
    text = label or (_("Open the record") if url else _("(no name recorded)"))
    if url:
        return Markup('<a href="{}">{}</a>').format(url, text)
    return Markup("{}").format(text)


def link_records(items: list) -> dict[int, Markup]:
    """id(log row) -> the record cell, for log rows with ``record_type``, ``record_id`` and
    ``record_label``."""
    urls = record_urls([(item.record_type, item.record_id) for item in items])
    return {id(item): record_cell(item.record_label, urls.get((item.record_type, str(item.record_id))))
            for item in items}


# ---------------------------------------------------------------------------
# Values as names
# ---------------------------------------------------------------------------
def _value_labels() -> dict[tuple[str, str], Any]:
    """The closed lists of the coded columns whose model has no ``<column>_label`` of its own
    (their labels live with the rules that use them): (record type, column) -> value -> label."""
    applicant_form = {"economic_type": ECONOMIC_TYPES, "mining_method": MINING_METHODS, "mine_size": MINE_SIZES}
    labels: dict[tuple[str, str], Any] = {
        (record_type, column): choices for record_type in ("Application", "CertificationApplication")
        for column, choices in applicant_form.items()
    }
    labels.update({
        ("CertificationApplication", "kind"): certification.kind_labels(),
        ("CertificationTeamMember", "team_role"): certification.team_role_labels(),
        ("EvaluationScore", "source"): evaluation.SOURCE_LABELS,
        ("CertificationScore", "source"): evaluation.SOURCE_LABELS,
        ("ReviewDecision", "decision"): selection.DECISION_LABELS,
        ("Agency", "status"): agencies.STATUS_LABELS,
        ("Attachment", "kind"): uploads.KIND_LABELS,
        ("SpotCheckCampaign", "level"): spotchecks.CAMPAIGN_LEVELS,
        ("SpotCheck", "entry_level"): LEVEL_LABELS,
        ("SpotCheck", "mining_method"): MINING_METHODS,
        ("SpotCheckConfirmation", "stage"): STAGE_LABELS,
        ("Inspector", "title_grade"): spotchecks.TITLE_GRADES,
        ("Inspector", "admin_rank"): spotchecks.ADMIN_RANKS,
    })
    return labels


def _choice_label(model: type, field: str, value: Any) -> Optional[str]:
    """A coded value by its label, through the model's own ``<field>_label`` (a status, a mine
    size, an economic type): evaluated on a detached instance holding only that value."""
    if not isinstance(getattr(model, f"{field}_label", None), property) or field not in sa_inspect(model).columns:
        return None
    try:
        return str(getattr(model(**{field: value}), f"{field}_label"))
    except Exception:  # a label that needs more of the record than this one value
        return None


def _related_name(model: type, field: str, value: Any, user) -> Optional[str]:
    """A foreign key by the name of the row it points to, when the reader may see that row."""
    column = sa_inspect(model).columns.get(field)
    if column is None or not column.foreign_keys or not (scoping.is_record_id(value) or isinstance(value, str)):
        return None
    table = next(iter(column.foreign_keys)).column.table
    # (FAB's User and our GreenMineUser map the same table: the most derived class names it.)
    classes = [mapper.class_ for mapper in Model.registry.mappers if mapper.local_table is table]
    target = next((cls for cls in classes if not any(other is not cls and issubclass(other, cls) for other in classes)),
                  None)
    related = db.session.get(target, value) if target is not None else None
    if related is not None and scoping.can_access(user, related, scoping.READ):
        return str(related)
    return None


def shown_value(record_type: str, field: str, value: Any, user=None) -> str:
    """A logged value (JSON: text, number, boolean, list) as a person reads it."""
    model = model_of(record_type)
    user = user if user is not None else g.user
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        if model is not None and field in sa_inspect(model).relationships:
            if sa_inspect(model).relationships[field].mapper.class_ is Role:
                value = [role_label(name) for name in value]
        return "、".join(str(item) for item in value)
    if model is None:
        return str(value)
    column = sa_inspect(model).columns.get(field)
    if column is not None and isinstance(column.type, DateTime) and isinstance(value, str):
        try:
            return local_datetime(datetime.datetime.fromisoformat(value))
        except ValueError:
            return value
    choices = _value_labels().get((record_type, field))
    if choices is not None and value in choices:
        return str(choices[value])
    for name in (_choice_label(model, field, value), _related_name(model, field, value, user)):
        if name:
            return name
    return str(value)


def changes_table(record_type: str, changes: Optional[dict], user=None) -> Markup:
    """{field: [old, new]} as a table: fields by their labels, in the record's column order,
    values as names; the record's key is the record itself and not repeated."""
    if not changes:
        return Markup("")
    model = model_of(record_type)
    order: list[str] = []
    keys: set[str] = set()
    if model is not None:
        mapper = sa_inspect(model)
        keys = {column.key for column in mapper.primary_key}
        order = [attr.key for attr in mapper.attrs]
    fields = sorted((field for field in changes if field not in keys),
                    key=lambda field: (order.index(field) if field in order else len(order), field))
    rows = Markup("").join(
        Markup("<tr><td>{}</td><td>{}</td><td>{}</td></tr>").format(
            field_label(record_type, field) or _("Other field"),
            shown_value(record_type, field, changes[field][0], user),
            shown_value(record_type, field, changes[field][1], user))
        for field in fields
    )
    return Markup('<table class="table table-condensed table-bordered gm-changes"><thead><tr><th>{}</th>'
                  "<th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>").format(
        _("Field"), _("Old value"), _("New value"), rows)
