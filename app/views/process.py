"""The transition log as a list (national and admin), and the audit trail (admin). Each record's
own history is shown on its detail page, through the record's scope.

Both logs name what they record for a person: the kind of record (app.models.kinds), the record
by its name, linked to its page where the reader may open it, the acting person's name (or the
command that acted), and, in the audit trail, the changed fields by their labels and values as
names (app.views.record_pages)."""
from flask_appbuilder import ModelView
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy.orm import joinedload

from app.models import AuditEntry, TransitionLog
from app.views import record_pages
from app.views.formatting import formatters
from app.web.base import SCOPE_BASE_FILTERS, ChoiceSearch
from app.web.datamodel import ListInterface, ListLoading


class _LogInterface(ListInterface):
    """A log's rows with their ``record`` (the logged record's name, linked where the reader may
    open it) and ``changes`` (a table of labelled fields) computed for the whole page at once: the
    links cost one statement per page, the operators' accounts are loaded with the page."""

    def apply_all(self, query, *args, **kwargs):
        # The operator's account with the page itself (a join, not a statement per row nor one
        # that only some pages need).
        return super().apply_all(query, *args, **kwargs).options(joinedload(self.obj.user))

    def get_values(self, lst, list_columns):
        lst = list(lst)
        cells = record_pages.link_records(lst) if "record" in list_columns else {}
        for item, values in zip(lst, super().get_values(lst, list_columns)):
            if cells:
                values["record"] = cells[id(item)]
            yield values

    def get_values_item(self, item, show_columns):
        values = super().get_values_item(item, show_columns)
        computed = {}
        if "record" in show_columns:
            computed["record"] = record_pages.link_records([item])[id(item)]
        if "changes" in show_columns:
            computed["changes"] = record_pages.changes_table(item.record_type, item.changes)
        return [computed.get(column, value) for column, value in zip(show_columns, values)]


_LABELS = {
    "created_at": _l("Time"),
    "record_type": _l("Record type"),
    "record_kind": _l("Record type"),
    "record": _l("Record"),
    "record_label": _l("Record"),
    "username": _l("Operator's login"),
    "operator_name": _l("Operator"),
    "comment": _l("Comment"),
}


class TransitionLogView(ChoiceSearch, ListLoading, ModelView):
    datamodel = _LogInterface(TransitionLog)
    base_permissions = {"can_list", "can_show"}
    base_filters = SCOPE_BASE_FILTERS
    list_title = show_title = _l("Process log")
    list_columns = ["created_at", "record_kind", "record", "action_label", "from_state_label",
                    "to_state_label", "operator_name", "role_label", "comment"]
    show_columns = list_columns + ["operator_region"]
    search_columns = ["created_at", "record_type", "record_label", "username", "comment"]
    base_order = ("id", "desc")
    formatters_columns = formatters(datetimes=("created_at",), optional=("comment",))
    label_columns = dict(
        _LABELS,
        action_label=_l("Action"),
        from_state_label=lazy_pgettext("status change", "From"),
        to_state_label=lazy_pgettext("status change", "To"),
        role_label=_l("Role"),
        operator_region=_l("Operator's region"),
    )


class AuditLogView(ChoiceSearch, ListLoading, ModelView):
    """The audit trail (SPEC I4), for the info-centre administrator: read only."""

    datamodel = _LogInterface(AuditEntry)
    base_permissions = {"can_list", "can_show"}
    list_title = show_title = _l("Audit trail")
    list_columns = ["created_at", "operator_name", "source_label", "action_label", "record_kind", "record"]
    show_columns = list_columns + ["address", "changes"]
    search_columns = ["created_at", "record_type", "record_label", "username"]
    base_order = ("id", "desc")
    formatters_columns = formatters(datetimes=("created_at",), optional=("address",))
    label_columns = dict(
        _LABELS,
        source_label=_l("Source"),
        action_label=_l("Change"),
        # The request's network address (not a postal address, which 地址 alone reads as).
        address=_l("Network address"),
        changes=_l("Fields changed"),
    )
