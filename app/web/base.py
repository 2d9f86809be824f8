"""The scoped view and API base classes: every route of a FAB view goes through the scope rule.

FAB applies ``base_filters`` to list, show, edit and delete, and to the REST API's get, put
and delete; but its ``action``, ``action_post`` and ``download`` routes load rows without them,
and nothing checks what a form or body *writes* (an edit may move a record out of scope, a body
may name another enterprise). These classes close each of those paths with
``app.services.scoping`` and add one ``transition`` route driven by the workflow table.
"""
from __future__ import annotations

import json
import urllib.parse
from typing import Any, Optional

import jsonschema
import prison
from flask import abort, current_app, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import ModelRestApi, ModelView
from flask_appbuilder.api import expose as api_expose, protect, safe
from flask_appbuilder.const import PERMISSION_PREFIX
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.widgets import ShowWidget
from flask_appbuilder.views import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from marshmallow_sqlalchemy.fields import Related, RelatedList

from app.errors import InvalidArgument, ValueOutOfRange
from app.extensions import db
from app.services import audit, records, scoping, workflow
from app.services.exceptions import DomainError, FieldErrors, ValidationFailed
from app.web import labels
from app.web.datamodel import ListLoading


class ScopeFilter(BaseFilter):
    """FAB filter that applies the scope rule of the current user to the model's query."""

    name = "scope"

    def apply(self, query, value):
        return query.filter(scoping.scope_filter(self.model, g.user))


def _no_value() -> None:
    return None


SCOPE_BASE_FILTERS = [["id", ScopeFilter, _no_value]]


_REFUSAL = "gm_refusal"


class RecordRules:
    """What both the HTML view and the REST API do before writing a record."""

    datamodel: Any

    def _refuse(self, exc: DomainError):
        # Nothing half-done stays in the session; the view re-shows the form (see below).
        db.session.rollback()
        setattr(g, _REFUSAL, exc)
        raise exc

    def check_write(self, item, action: str) -> None:
        """The record, as it will be saved, must lie in the user's scope, and so must every
        record it points to (IDs in a form or body are checked like IDs in a path)."""
        try:
            # The kinds of the referenced ids first, then the rules: they normalise and derive
            # fields (codes, the owning enterprise); then the scope is checked on the values
            # that will be saved.
            scoping.check_reference_types(item)
            self.check_rules(item, action)
            scoping.check_access(g.user, item, action)
            scoping.check_related_access(g.user, item)
        except DomainError as exc:
            self._refuse(exc)

    # The resource's business rule, a service function (record, user, action) -> None that
    # normalises the record and raises DomainError; the view and the API name the same one.
    record_rule = None

    def check_rules(self, item, action: str) -> None:
        if self.record_rule is not None:
            type(self).record_rule(item, g.user, action)

    # The resource's own condition on who may change or delete a record as it stands, beyond the
    # scope rule and the workflow's editable states: a service function (record, user, action)
    # that raises DomainError without a query (app.services.records.change_refusal).
    change_rule = None

    def change_refusal(self, item, action: str, in_scope: bool = False) -> Optional[DomainError]:
        """Why the user may not edit (``scoping.EDIT``) or delete (``scoping.DELETE``) ``item``
        as it stands, or None: the list's icons, the detail page's buttons and the routes ask
        this one question (the resource's permission aside)."""
        return records.change_refusal(item, g.user, action, type(self).change_rule, in_scope=in_scope)

    def _check_changeable(self, item, action: str) -> None:
        refusal = self.change_refusal(item, action)
        if refusal is not None:
            self._refuse(refusal)

    def pre_add(self, item) -> None:
        self.check_write(item, scoping.EDIT)

    def pre_update(self, item) -> None:
        self.check_write(item, scoping.EDIT)
        # After the rules: their refusal names the field or the state in the resource's words.
        self._check_changeable(item, scoping.EDIT)

    def pre_delete(self, item) -> None:
        try:
            scoping.check_access(g.user, item, scoping.DELETE)
            audit.check_deletable(item)
            self.check_rules(item, scoping.DELETE)
        except DomainError as exc:
            self._refuse(exc)
        self._check_changeable(item, scoping.DELETE)

    def rule_refusals_besides(self, item, refused: set[str]) -> list[DomainError]:
        """The resource's rule on ``item`` as far as it was filled in: when the form or the JSON
        schema already refused some fields (a number that is not a number, a date that is not a
        date), the rule's own refusals of the *other* fields are reported with them, so that one
        save names everything to correct. Refusals that are not about input (scope, state) wait
        for the real save. Nothing of the attempt stays in the session."""
        if self.record_rule is None:
            return []
        try:
            with db.session.no_autoflush:
                self.check_rules(item, scoping.EDIT)
        except FieldErrors as exc:
            found = list(exc.errors)
        except ValidationFailed as exc:
            found = [exc]
        except DomainError:
            found = []
        else:
            found = []
        finally:
            db.session.rollback()
        return [error for error in found if error.field is None or error.field not in refused]

    def get_scoped_or_404(self, pk, action: str = scoping.READ):
        """Load one record through the scope rule; 404 when absent or out of scope."""
        item = self.datamodel.get(pk, self._base_filters)
        if item is None or not scoping.can_access(g.user, item, action):
            abort(404)
        return item


class RecordShowWidget(ShowWidget):
    """FAB's show widget without its row of buttons: the record's page has its action bars
    above and below the record (gm/show.html), with the back button."""

    template = "gm/_show_widget.html"


class SearchChoices:
    """The ``/choices/<field>`` route behind a form's search-as-you-type fields (a region, an
    enterprise, …), for our views and for the account screens alike: whoever may list the records
    may search the choices, which the service functions scope themselves."""

    method_permission_name = {"choices": "list"}
    # field name -> service function (user, q) -> [{"id", "text"}] (app.services.choices)
    search_choices: dict = {}

    @expose("/choices/<field>")
    @has_access
    def choices(self, field):
        search = self.search_choices.get(field)
        if search is None:
            abort(404)
        return jsonify(results=search(g.user, request.args.get("q", "")[:64]))


class ChoiceSearch:
    """Mixin for model views: the list's search form offers each column with a closed list of
    values (a workflow's state, a level: app.web.closed_lists) as a select box of its labels,
    searched by "equal to" by default, and starts with no field filled in."""

    datamodel: Any
    search_columns: list
    label_columns: dict
    search_form_extra_fields: Optional[dict]
    search_form: Any

    def _init_forms(self):
        from app.web.forms import closed_list_search_fields, without_defaults

        self.search_form_extra_fields = {
            **closed_list_search_fields(self.datamodel.obj, self.search_columns, self.label_columns),
            **(self.search_form_extra_fields or {}),
        }
        super()._init_forms()  # type: ignore[misc]
        without_defaults(self.search_form)


class ScopedModelView(SearchChoices, ChoiceSearch, ListLoading, RecordRules, ModelView):
    """One view per resource for every role: permissions decide what a role may do,
    the scope rule decides which records it reaches."""

    base_filters = SCOPE_BASE_FILTERS
    # Said under an empty list: what it would hold, and where the rest is (empty_hint below).
    empty_hint = lazy_gettext("Only the records within your scope are listed here.")
    show_template = "gm/show.html"
    page_size = 20

    # FAB takes ?psize_<View>= as given: a page of 100,000 rows is one request away.
    max_page_size = 100

    show_widget = RecordShowWidget

    def _get_list_widget(self, filters, actions=None, order_column="", order_direction="", page=None,
                         page_size=None, widgets=None, **kwargs):
        """FAB's list widget (``BaseCRUDView._get_list_widget``), with the page size capped and
        each row's edit and delete icons decided by ``may_change`` (``row_rights``), from the
        rows as loaded: no statement per row."""
        if page_size is not None:
            page_size = min(max(int(page_size), 1), self.max_page_size)
        widgets = widgets or {}
        actions = actions or self.actions
        page_size = page_size or self.page_size
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        joined_filters = filters.get_joined_filters(self._base_filters)
        count, rows = self.datamodel.query(joined_filters, order_column, order_direction, page=page,
                                           page_size=page_size)
        pks = [self._serialize_pk_if_composite(pk) for pk in self.datamodel.get_keys(rows)]
        widgets["list"] = self.list_widget(
            label_columns=self.label_columns,
            include_columns=self.list_columns,
            value_columns=self.datamodel.get_values(rows, self.list_columns),
            order_columns=self.order_columns,
            formatters_columns=self.formatters_columns,
            page=page,
            page_size=page_size,
            count=count,
            pks=pks,
            actions=actions,
            filters=filters,
            modelview_name=self.__class__.__name__,
            row_rights=self.row_rights(rows, pks),
            **kwargs,
        )
        return widgets

    # --- May this user edit or delete this record? ---------------------------------------
    def _permitted(self, action: str) -> bool:
        permission = "can_delete" if action == scoping.DELETE else "can_edit"
        return permission in self.base_permissions and self.appbuilder.sm.has_access(
            permission, self.class_permission_name)

    def may_change(self, item, action: str, permitted: Optional[bool] = None, in_scope: bool = False) -> bool:
        """Whether the user may edit (``scoping.EDIT``) or delete (``scoping.DELETE``) ``item``:
        the resource's permission and ``change_refusal`` (scope, workflow state, the resource's
        own condition). ``permitted``: the permission, when the caller asked it once for many
        records; ``in_scope``: the record came through the scope filter."""
        if permitted is None:
            permitted = self._permitted(action)
        return permitted and self.change_refusal(item, action, in_scope=in_scope) is None

    def row_rights(self, rows, pks) -> dict:
        """pk -> {"edit": bool, "delete": bool} for the list's rows (read by the list template,
        app/templates/appbuilder/general/widgets/list.html)."""
        may_edit, may_delete = self._permitted(scoping.EDIT), self._permitted(scoping.DELETE)
        return {
            pk: {"edit": self.may_change(row, scoping.EDIT, may_edit, in_scope=True),
                 "delete": self.may_change(row, scoping.DELETE, may_delete, in_scope=True)}
            for pk, row in zip(pks, rows)
        }

    # --- Add and edit: a refused form comes back with the user's input -----------------
    # FAB flashes a pre_add/pre_update refusal and redirects, so the user would type it all
    # again. Here the form is shown again, filled in, with the message on the field at fault.
    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        widgets = self._add()
        refusal = g.pop(_REFUSAL, None)
        if widgets is None and refusal is not None:
            form = self.add_form.refresh()
            self._attach_refusal(form, refusal)
            widgets = self._get_add_widget(form=form)
        elif widgets is not None and request.method == "POST":
            self._attach_rule_refusals(widgets["add"].template_args["form"], self.datamodel.obj())
        if widgets is None:
            return self.post_add_redirect()
        return self.render_template(self.add_template, title=self.add_title, widgets=widgets)

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        pk = self._deserialize_pk_if_composite(pk)
        if request.method == "GET":
            # A record the user may not change is not offered as a form to fill in for nothing;
            # a POST goes through the rules (pre_update), which say what is wrong on the form.
            refusal = self.change_refusal(self.get_scoped_or_404(pk), scoping.EDIT)
            if refusal is not None:
                flash(str(refusal), "danger")
                return redirect(url_for(f"{self.endpoint}.show", pk=pk))
        widgets = self._edit(pk)
        refusal = g.pop(_REFUSAL, None)
        if widgets is None and refusal is not None:
            form = self.edit_form.refresh(request.form)
            self._attach_refusal(form, refusal)
            widgets = self._get_edit_widget(form=form)
        elif widgets is not None and request.method == "POST":
            self._attach_rule_refusals(widgets["edit"].template_args["form"], self.get_scoped_or_404(pk, scoping.EDIT))
        if widgets is None:
            return self.post_edit_redirect()
        return self.render_template(self.edit_template, title=self.edit_title, widgets=widgets,
                                    related_views=self._related_views)

    def post_delete_redirect(self):
        """FAB goes back to the page before; after a delete from the record's own page, that is
        the deleted record's page: the list instead."""
        target = self.get_redirect()
        pk = (request.view_args or {}).get("pk")
        if pk is not None and urllib.parse.urlsplit(target).path == url_for(f"{self.endpoint}.show", pk=pk):
            return redirect(url_for(f"{self.endpoint}.list"))
        return redirect(target)

    def _attach_rule_refusals(self, form, item) -> None:
        """The form's own checks refused some fields: fill ``item`` with the fields they passed and
        put the rule's refusals of the other fields beside theirs (RecordRules.rule_refusals_besides)."""
        refused = {field.name for field in form if field.errors}
        for field in form:
            if field.name not in refused and field.name != "csrf_token":
                try:
                    field.populate_obj(item, field.name)
                except (AttributeError, TypeError, ValueError):
                    refused.add(field.name)  # a value the model cannot take: the rule does not judge it
        errors = self.rule_refusals_besides(item, refused)
        if errors:
            self._attach_refusal(form, FieldErrors(errors))

    @staticmethod
    def _attach_refusal(form, refusal: DomainError) -> None:
        """Each refusal on its field (all of them, when the rule found several); one about a
        field the form does not have is flashed (FAB flashed only the summary)."""
        for error in getattr(refusal, "errors", None) or [refusal]:
            field = getattr(form, error.field, None) if error.field else None
            if field is not None:
                field.errors = list(field.errors or []) + [str(error)]
            elif error is not refusal:
                flash(str(error), "danger")

    # --- FAB routes that skip base_filters ----------------------------------------------
    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        if request.method != "POST" or name not in self.actions:
            abort(405 if request.method != "POST" else 404)
        if not self.appbuilder.sm.has_access(self.get_action_permission_name(name), self.class_permission_name):
            abort(403)
        item = self.get_scoped_or_404(self._deserialize_pk_if_composite(pk), scoping.ACT)
        return self.actions[name].func(item)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        name = request.form.get("action", "")
        if name not in self.actions:
            abort(404)
        if not self.appbuilder.sm.has_access(self.get_action_permission_name(name), self.class_permission_name):
            abort(403)
        # Every selected row must be reachable, or nothing is done.
        items = [
            self.get_scoped_or_404(self._deserialize_pk_if_composite(pk), scoping.ACT)
            for pk in request.form.getlist("rowid")
        ]
        return self.actions[name].func(items)

    @expose("/download/<string:filename>")
    @has_access
    def download(self, filename):
        # FAB serves any file of UPLOAD_FOLDER by name here, without looking at any record.
        # Our files are served by scoped routes of their own.
        abort(404)

    # --- Workflow ------------------------------------------------------------------------
    @expose("/transition/<pk>", methods=["POST"])
    @has_access
    def transition(self, pk):
        """Perform one step of the record's workflow (the buttons of the show page)."""
        item = self.get_scoped_or_404(pk, scoping.ACT)
        action = request.form.get("action", "")
        try:
            workflow.transition(item, action, g.user, request.form.get("comment"))
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("Done: %(action)s.", action=workflow.action_label(workflow.workflow_of(item).name, action)),
                  "success")
        return redirect(url_for(f"{self.endpoint}.show", pk=pk))

    def render_template(self, template, **kwargs):
        # The show page's action bars (gm/show.html): edit and delete when the user may, the
        # workflow buttons, and the process history of the record. A view that computes the
        # workflow's buttons itself passes them in.
        if template == self.show_template and "pk" in kwargs:
            item = self.datamodel.get(kwargs["pk"], self._base_filters)
            if item is not None:
                kwargs.setdefault("record_may_edit", self.may_change(item, scoping.EDIT))
                kwargs.setdefault("record_may_delete", self.may_change(item, scoping.DELETE))
            if item is not None and getattr(type(item), "workflow_name", None) and "workflow_actions" not in kwargs:
                steps = workflow.available_actions(item, g.user)
                kwargs["workflow_actions"] = [step for step in steps if step.screen is None]
                # Steps taken on another page (a meeting's decisions, a public notice) link there.
                kwargs["workflow_screens"] = [step for step in steps if step.screen is not None]
                kwargs["workflow_history"] = workflow.history(item)
                kwargs["workflow_name"] = item.workflow_name
        return super().render_template(template, **kwargs)


def N_(message: str) -> str:
    """gettext_noop: marks a message for the catalogue; it is translated where it is shown."""
    return message


# marshmallow's messages for a body that fails the schema (FAB answers them as 422), to be
# translated like ours; the ones with values in them ("Longer than maximum length 6.") stay as
# marshmallow writes them.
SCHEMA_MESSAGES = frozenset({
    N_("Field may not be null."), N_("Missing data for required field."), N_("Unknown field."),
    N_("Invalid input type."), N_("Invalid type."), N_("Invalid value."), N_("Not a valid boolean."),
    N_("Not a valid date."), N_("Not a valid email address."), N_("Not a valid integer."),
    N_("Not a valid list."), N_("Not a valid mapping type."), N_("Not a valid number."),
    N_("Not a valid string."), N_("Not a valid URL."), N_("Number too large."),
    N_("Special numeric values (nan or infinity) are not permitted."),
})


_SCHEMA_REFUSAL = "gm_schema_refusal"


def _keep_schema_refusal(error, data, **_kwargs) -> None:
    """A REST schema's refusal of this request's body, kept for ScopedModelRestApi.response_422."""
    setattr(g, _SCHEMA_REFUSAL, error)


def translate_schema_messages(message):
    """``{"field": ["Field may not be null."]}`` in the user's language, at any depth."""
    if isinstance(message, dict):
        return {key: translate_schema_messages(value) for key, value in message.items()}
    if isinstance(message, (list, tuple)):
        return [translate_schema_messages(value) for value in message]
    if isinstance(message, str) and message in SCHEMA_MESSAGES:
        return _(message)
    return message


def document_field_errors() -> None:
    """FAB documents every error's "message" as a string, but answers a body that fails the
    schema with ``{"message": {"field": ["…"]}}`` (and our refusals add the field at fault, and
    ``errors`` when one save broke several rules).
    The 422 response is one shared OpenAPI component, registered by the first API: say so in
    FAB's own table, before any API registers."""
    from flask_appbuilder.api import BaseApi

    BaseApi.responses["422"] = {"description": "Could not process entity", "content": {"application/json": {
        "schema": {"type": "object", "properties": {
            "message": {"oneOf": [{"type": "string"}, {"type": "object"}]},
            "field": {"type": "string"},
            # Several refusals of one save: each with its field.
            "errors": {"type": "array", "items": {"type": "object", "properties": {
                "field": {"type": "string"}, "message": {"type": "string"}}}},
        }},
    }}}


class JsonRefusals:
    """For every REST API of ours (the scoped model APIs, the user API): a domain refusal as JSON."""

    def refusal(self, exc: DomainError):
        """A domain refusal as JSON: its status code, the translated message, the field at fault.
        Nothing half-done stays in the session."""
        db.session.rollback()
        g.pop(_REFUSAL, None)
        errors = getattr(exc, "errors", None)
        if errors:
            # Several refusals of one save (FieldErrors): every one, each with its field.
            return self.response(exc.status_code, message=str(exc), field=exc.field,  # type: ignore[attr-defined]
                                 errors=[{"field": error.field, "message": str(error)} for error in errors])
        if exc.field:
            return self.response(exc.status_code, message=str(exc), field=exc.field)  # type: ignore[attr-defined]
        return self.response(exc.status_code, message=str(exc))  # type: ignore[attr-defined]


class DescribedModelRestApi(ModelRestApi):
    """Every model REST API of ours: what it says about itself (``_info``; the labels,
    descriptions and titles of its list and item answers) is true, in the user's language.

    FAB gets three things wrong by default, each fixed here once:

    - a column without a label is labelled with its name title-cased ("Uscc"), which FAB then
      passes through gettext ("Number" becomes 数量): the labels are the screens' own
      (``app.web.labels``), and every column has one;
    - a column without a description is described as ``gettext("")``, which is the zh
      catalogue's header ("Project-Id-Version: …"): no description stays blank, and nothing
      already translated is translated a second time;
    - ``required`` is guessed from the table (NOT NULL without a default), while the rules of
      ``app.services`` decide what a POST must carry: ``add_required`` says it (below), and the
      add schema, hence ``_info``, the OpenAPI document and the body check, follow it.

    ``_info`` also describes FAB's POST and PUT bodies only where the API serves those routes:
    an API whose ``POST /`` is a route of its own (a directory listing, a public notice) or
    that has none would otherwise document every column of the table as its body.
    """

    # The keys a POST body must carry, where that is not what the table says (a column the rule
    # requires although the table allows it empty, or one the table requires but the rule fills
    # in): every other add column is then optional. None: FAB's guess from the table stands.
    add_required: tuple[str, ...] | None = None

    def _gen_labels_columns(self, list_columns) -> None:
        for column in list_columns:
            if not self.label_columns.get(column):
                self.label_columns[column] = labels.label_of(self.datamodel.obj, column)

    def _init_titles(self) -> None:
        record = labels.record_name(self.datamodel.obj)
        self.list_title = self.list_title or lazy_gettext("%(record)s list", record=record)
        self.show_title = self.show_title or lazy_gettext("%(record)s details", record=record)
        self.add_title = self.add_title or lazy_gettext("Add %(record)s", record=record)
        self.edit_title = self.edit_title or lazy_gettext("Edit %(record)s", record=record)
        self.title = self.list_title

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        if self.add_required is None:
            return
        unknown = set(self.add_required) - set(self.add_model_schema.fields)
        if unknown:
            raise TypeError(f"{type(self).__name__}.add_required names no add column: {sorted(unknown)}")
        for fields in (self.add_model_schema.fields, self.add_model_schema.load_fields):
            for name, field in fields.items():
                field.required = name in self.add_required

    def serves(self, method: str) -> bool:
        """Whether FAB's own route ``method`` ("post", "put", …) is served: registered, and its
        permission one this API grants."""
        if self.include_route_methods is not None and method not in self.include_route_methods:
            return False
        if method in (self.exclude_route_methods or ()):
            return False
        permission = self.get_method_permission(method)
        return bool(permission) and PERMISSION_PREFIX + permission in self.base_permissions

    def _get_fields_info(self, cols, model_schema, filter_rel_fields, **kwargs) -> list[dict[str, Any]]:
        # FAB's info route binds its merge_add_field_info / merge_edit_field_info when the class
        # is made (a decorator): this is the method they call on the instance.
        if model_schema is self.add_model_schema and not self.serves("post"):
            return []
        if model_schema is self.edit_model_schema and not self.serves("put"):
            return []
        return super()._get_fields_info(cols, model_schema, filter_rel_fields, **kwargs)

    # The labels and descriptions are lazy strings already: evaluated in the user's language,
    # never looked up again, and an absent description is absent, not gettext("").
    def _label_columns_json(self, cols=None) -> dict[str, str]:
        return {key: str(value) for key, value in self.label_columns.items() if key in (cols or ())}

    def _description_columns_json(self, cols=None) -> dict[str, str]:
        return {key: str(value) for key, value in self.description_columns.items()
                if key in (cols or ()) and value}

    def _get_field_info(self, field, filter_rel_field, page=None, page_size=None) -> dict[str, Any]:
        description = self.description_columns.get(field.name)
        info: dict[str, Any] = {
            "name": field.name,
            "label": str(self.label_columns.get(field.name) or labels.label_of(self.datamodel.obj, field.name)),
            "description": str(description) if description else "",
            "type": field.__class__.__name__,
            "required": field.required,
            # A custom marshmallow schema's fields have no "unique".
            "unique": getattr(field, "unique", False),
        }
        if isinstance(field, (Related, RelatedList)):
            info["count"], info["values"] = self._get_list_related_field(field, filter_rel_field, page=page,
                                                                         page_size=page_size)
        if field.validate:
            validators = field.validate if isinstance(field.validate, list) else [field.validate]
            info["validate"] = [str(validator) for validator in validators]
        return info


class ScopedModelRestApi(ListLoading, RecordRules, JsonRefusals, DescribedModelRestApi):
    """The REST twin of ScopedModelView: same scope, same rules, JSON errors."""

    base_filters = SCOPE_BASE_FILTERS

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        for schema in (self.add_model_schema, self.edit_model_schema):
            if schema is not None:
                # Marshmallow calls this with the refusal before raising it; FAB then answers with
                # response_422, below, which adds the rule's refusals of the fields that passed.
                schema.handle_error = _keep_schema_refusal

    def response_422(self, message=None):
        message = translate_schema_messages(message)
        refused = g.pop(_SCHEMA_REFUSAL, None)
        if refused is not None and isinstance(message, dict):
            for error in self._rule_refusals_of_body(refused.valid_data, set(message)):
                message.setdefault(error.field or "_schema", []).append(str(error))
        return super().response_422(message)

    def _rule_refusals_of_body(self, valid_data, refused: set[str]) -> list[DomainError]:
        """The rule's refusals of a POST or PUT body whose schema refused some fields, judged on
        the fields the schema passed (RecordRules.rule_refusals_besides)."""
        pk = (request.view_args or {}).get("pk")
        if request.method == "PUT" and pk is not None:
            item = self._scoped_or_none(pk, scoping.EDIT)
        elif request.method == "POST":
            item = self.datamodel.obj()
        else:
            item = None
        if item is None or not isinstance(valid_data, dict):
            return []
        for name, value in valid_data.items():
            try:
                setattr(item, name, value)
            except (AttributeError, TypeError, ValueError):
                refused.add(name)
        return self.rule_refusals_besides(item, refused)


    def _domain_errors(self, call, *args):
        try:
            return call(*args)
        except DomainError as exc:
            return self.refusal(exc)
        except ValueOutOfRange as exc:
            db.session.rollback()
            return self.response_400(message=str(exc))

    def _scoped_or_none(self, pk, action: str):
        item = self.datamodel.get(pk, self._base_filters)
        return item if item is not None and scoping.can_access(g.user, item, action) else None

    @staticmethod
    def json_object() -> dict:
        """The request's JSON body when it is an object; anything else (none, a list, a number)
        reads as an empty one, so that the service refuses what is missing instead of a 500."""
        body = request.get_json(silent=True)
        return body if isinstance(body, dict) else {}

    def act_on(self, pk, action: str, step):
        """A route of our own on one record: load it through the scope rule (404 when absent or
        out of scope), run ``step(record, body)`` and answer a domain refusal as JSON."""
        record = self._scoped_or_none(pk, action)
        if record is None:
            return self.response_404()
        return self._domain_errors(step, record, self.json_object())

    def post_headless(self):
        return self._domain_errors(super().post_headless)

    def put_headless(self, pk):
        # FAB merges the body into the record as a dict: a JSON list or number would be a 500.
        if request.is_json and not isinstance(request.get_json(silent=True), dict):
            return self.response_400(message=_("The request body must be a JSON object."))
        return self._domain_errors(super().put_headless, pk)

    def delete_headless(self, pk):
        return self._domain_errors(super().delete_headless, pk)

    @api_expose("/<pk>/transition", methods=["POST"])
    @protect()
    @safe
    def transition(self, pk):
        """Perform one workflow step: body ``{"action": "...", "comment": "..."}``.
        ---
        post:
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    action: {type: string}
                    comment: {type: string}
          responses:
            200:
              description: the new status
            404:
              $ref: '#/components/responses/404'
            409:
              description: the step is not possible now
            422:
              description: the step needs a comment (the reviewer's opinion, the reason) and has none
        """
        if not getattr(self.datamodel.obj, "workflow_name", None):
            return self.response_404()

        def step(item, body):
            log = workflow.transition(item, str(body.get("action", "")), g.user, body.get("comment"))
            return self.response(200, id=item.id, status=log.to_state, from_status=log.from_state)

        return self.act_on(pk, scoping.ACT, step)


def check_paging_args() -> None:
    """FAB reads ?page_<View>= and ?psize_<View>= with int(): anything else would be a 500.
    Refuse them with a 400 (installed as a before_request hook)."""
    for key, value in request.args.items():
        if key.startswith(("page_", "psize_")) and not (value.isdigit() and len(value) <= 9):
            abort(400)


def refuse_unknown_actions() -> None:
    """FAB's ``action/<name>/<pk>`` and ``action_post`` routes of every model view (ours, and
    FAB's user, role, permission screens) look the action up after asking for its permission,
    and an unknown name raises AttributeError: a 500, for anonymous callers too. An unknown
    name is a 404 here, before anything else looks at the request (installed as a
    before_request hook, after FAB's, which sets the user the error page shows); a known name
    goes on to the view's own checks."""
    endpoint = request.endpoint or ""
    if endpoint.endswith(".action"):
        name = (request.view_args or {}).get("name")
    elif endpoint.endswith(".action_post"):
        name = request.form.get("action")
    else:
        return
    view = getattr(current_app.view_functions.get(endpoint), "__self__", None)
    actions = getattr(view, "actions", None)
    if isinstance(actions, dict) and name not in actions:
        abort(404)


def check_path_ids(*_args) -> None:
    """An id in the URL beyond the id columns' range finds nothing (404), instead of an
    overflow in the database (installed as a before_request hook)."""
    for value in (request.view_args or {}).values():
        digits = str(value).lstrip("-")
        if digits.isdigit() and (len(digits) > 10 or int(digits) > scoping.MAX_ID):
            abort(404)


class _RisonSchemaValidation:
    """Stands in for the ``jsonschema`` module inside ``flask_appbuilder.api``.

    FAB's ``@rison`` decorator calls ``jsonschema.validate(instance, schema)`` on every REST
    request, and that checks the schema itself against the JSON Schema meta-schema each time:
    about 7 ms of a 15 ms REST list. Here the validator is built (and the schema checked)
    once per schema; the errors are the ones ``jsonschema.validate`` raises."""

    ValidationError = jsonschema.ValidationError
    _validators: dict[int, tuple[Any, Any]] = {}

    @classmethod
    def validate(cls, instance, schema) -> None:
        cached = cls._validators.get(id(schema))
        if cached is None or cached[0] is not schema:
            validator_class = jsonschema.validators.validator_for(schema)
            validator_class.check_schema(schema)
            cached = cls._validators[id(schema)] = (schema, validator_class(schema))
        error = jsonschema.exceptions.best_match(cached[1].iter_errors(instance))
        if error is not None:
            # FAB would answer "Not a valid rison schema <jsonschema's English>": say which
            # part of q is wrong, in the user's language (FAB's @safe answers it as a 400).
            where = "/".join(str(part) for part in error.absolute_path)
            if where:
                raise InvalidArgument(_("The query argument q is not valid at “%(where)s”.", where=where))
            raise InvalidArgument(_("The query argument q does not have the expected form."))


# Deeper than any query the API understands (a filter list is 3 levels, _info's page
# arguments 3); prison recurses once per level and fails with RecursionError near 1,000.
RISON_MAX_DEPTH = 32
_OPENING, _CLOSING = "([{", ")]}"


def _nesting(text: str, quote: str, escape: str) -> tuple[int, bool]:
    """The deepest bracket nesting of ``text`` outside its quoted strings, and whether every
    bracket is closed."""
    depth = deepest = 0
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quoted:
            if char == escape:
                escaped = True
            elif char == quote:
                quoted = False
        elif char == quote:
            quoted = True
        elif char in _OPENING:
            depth += 1
            deepest = max(deepest, depth)
        elif char in _CLOSING:
            depth -= 1
            if depth < 0:
                return deepest, False
    return deepest, depth == 0 and not quoted


class _RisonParsing:
    """Stands in for the ``prison`` module inside ``flask_appbuilder.api``.

    FAB's ``@rison`` decorator (every REST list, item and ``_info``) parses ``q`` with
    ``prison.loads`` and catches only prison's ParserException: an unclosed ``((`` or 1,000
    nested brackets recurse until RecursionError, ``!`` or ``1-`` raise IndexError or
    ValueError, all answered as 500. Here ``q`` is parsed the same way (rison, else JSON when
    ``FAB_API_ALLOW_JSON_QS``, as FAB falls back), and anything that is not a value of at most
    ``RISON_MAX_DEPTH`` levels is refused with a translated 400 (``InvalidArgument``, which
    FAB's ``@safe`` answers with its message)."""

    decoder = prison.decoder

    @staticmethod
    def loads(value: str):
        depth, balanced = _nesting(value, "'", "!")
        deepest = depth
        if balanced and depth <= RISON_MAX_DEPTH:
            try:
                return prison.loads(value)
            except Exception:  # prison's errors on malformed input are of several kinds
                pass
        if current_app.config.get("FAB_API_ALLOW_JSON_QS", True):
            # FAB's fallback decodes the argument once more before json.loads.
            decoded = urllib.parse.parse_qs(f"q={value}").get("q")
            if decoded:
                depth, balanced = _nesting(decoded[0], '"', "\\")
                deepest = min(deepest, depth)
                if balanced and depth <= RISON_MAX_DEPTH:
                    try:
                        return json.loads(decoded[0])
                    except ValueError:
                        pass
        if deepest > RISON_MAX_DEPTH:
            raise InvalidArgument(_("The query argument q is nested more than %(max)s levels deep.",
                                    max=RISON_MAX_DEPTH))
        raise InvalidArgument(_("The query argument q is neither valid rison nor valid JSON."))


def cache_rison_validators() -> None:
    """Install ``_RisonSchemaValidation`` and ``_RisonParsing`` in FAB's API module."""
    import flask_appbuilder.api as fab_api

    fab_api.jsonschema = _RisonSchemaValidation
    fab_api.prison = _RisonParsing


def empty_hint(modelview_name: str) -> Optional[str]:
    """The sentence under an empty list of this view (its ``empty_hint``), for the list widget."""
    for view in current_app.appbuilder.baseviews:
        if type(view).__name__ == modelview_name:
            hint = getattr(view, "empty_hint", None)
            return str(hint) if hint else None
    return None
