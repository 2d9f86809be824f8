"""What the logs show of a logged record: its page, its fields by their labels, its values as
names.

Built from the registered screens, so that there is one source for each: a kind of record's page
is the show page of its first registered model view; a field is called what the record's screens
call it (their ``label_columns``), a foreign key by the label of its relation. The logs store
only the record's kind (its model's name), its key and what it was called then.
"""
from __future__ import annotations

import datetime
from typing import Any, Iterable, Mapping, Optional

from flask import current_app, g, url_for
from flask_appbuilder import Model, ModelRestApi, ModelView
from flask_appbuilder.security.sqla.models import Role
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from markupsafe import Markup
from sqlalchemy import DateTime
from sqlalchemy import inspect as sa_inspect

from app.extensions import db
from app.models.user import role_label
from app.services import scoping, uploads
from app.views.formatting import local_datetime
from app.web import closed_lists, labels

_CACHE = "gm_record_registry"


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


def _declared_labels(view) -> Iterable[Mapping]:
    """The labels a view (or API) declares, its own and those of the classes it extends (FAB's
    user screen labels the account's own fields)."""
    yield view.label_columns
    for cls in type(view).__mro__[1:]:
        declared = cls.__dict__.get("label_columns")
        if isinstance(declared, Mapping):
            yield declared


def _declared_label(view, column: str):
    """The label a view declares for ``column``; FAB fills the columns nobody labelled with
    their prettified English names ("Enterprise Id"), which are not labels, and so are the
    column names ``labels.label_of`` gives back for a column it does not know."""
    for declared in _declared_labels(view):
        label = declared.get(column)
        if label is None or (not isinstance(label, LazyString) and label in (column, view._prettify_column(column))):
            continue
        return label
    return None


def field_label(record_type: str, field: str) -> Optional[str]:
    """What the record's screens call ``field``: its label in ``app.web.labels`` (the one source
    of the screens and the REST API), else the label a registered view declares for it (FAB's
    account screens, the views with labels of their own), a foreign key by its relation's
    (``enterprise_id`` is the 矿业权人 of ``enterprise``)."""
    model = model_of(record_type)
    if model is None:
        return None
    label = labels.label_of(model, field)
    if label is not None and label != field:
        return str(label)
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
    choices = closed_lists.closed_list(model, field)
    if choices is not None and value in choices:
        return str(choices[value])
    for name in (_choice_label(model, field, value), _related_name(model, field, value, user)):
        if name:
            return name
    return str(value)


def _owner_name(owner_type: Optional[str], owner_id: Any, user=None) -> str:
    """The record a file belongs to, by its display name where the reader may see it; else
    nothing rather than a bare number (the kind of record stands beside it)."""
    model = model_of(owner_type) if owner_type else None
    if model is None or not scoping.is_record_id(owner_id):
        return ""
    owner = db.session.get(model, owner_id)
    user = user if user is not None else g.user
    if owner is None or not scoping.can_access(user, owner, scoping.READ):
        return ""
    return str(owner)


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
    def shown(field: str, value: Any) -> str:
        if record_type == "Attachment" and value is not None:
            owner_type = (changes.get("owner_type") or [None, None])
            owner_type = owner_type[1] or owner_type[0]
            if field == "slot":
                # A slot's label depends on the kind of record the file belongs to.
                return uploads.slot_label(owner_type, value)
            if field == "owner_id":
                # The record the file belongs to by its name (the reader may see it), not its ID.
                return _owner_name(owner_type, value, user)
            if field == "size_bytes" and isinstance(value, int):
                return uploads.size_text(value)
        return shown_value(record_type, field, value, user)

    rows = Markup("").join(
        Markup("<tr><td>{}</td><td>{}</td><td>{}</td></tr>").format(
            field_label(record_type, field) or _("Other field"),
            shown(field, changes[field][0]), shown(field, changes[field][1]))
        for field in fields
    )
    return Markup('<table class="table table-condensed table-bordered gm-changes"><thead><tr><th>{}</th>'
                  "<th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>").format(
        _("Field"), _("Old value"), _("New value"), rows)
