"""The transition log as a list (national and admin), and the audit trail (admin). Each record's
own history is shown on its detail page, through the record's scope."""
from flask_appbuilder import ModelView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from markupsafe import Markup

from app.models import AuditEntry, TransitionLog
from app.views.formatting import formatters
from app.web.base import SCOPE_BASE_FILTERS
from app.web.datamodel import ListInterface, ListLoading


class TransitionLogView(ListLoading, ModelView):
    datamodel = ListInterface(TransitionLog)
    base_permissions = {"can_list", "can_show"}
    base_filters = SCOPE_BASE_FILTERS
    list_title = show_title = _l("Process log")
    list_columns = ["created_at", "record_type", "record_id", "action_label", "from_state_label",
                    "to_state_label", "username", "role_label", "comment"]
    show_columns = list_columns + ["region_code"]
    search_columns = ["record_type", "record_id", "username", "action"]
    base_order = ("id", "desc")
    formatters_columns = formatters(datetimes=("created_at",), optional=("comment", "region_code"))
    label_columns = {
        "created_at": _l("Time"),
        "record_type": _l("Record type"),
        "record_id": _l("Record"),
        "action": _l("Action"),
        "action_label": _l("Action"),
        "from_state_label": lazy_pgettext("status change", "From"),
        "to_state_label": lazy_pgettext("status change", "To"),
        "username": _l("Operator"),
        "role_label": _l("Role"),
        "comment": _l("Comment"),
        "region_code": _l("Operator's region"),
    }


def _changes_table(changes) -> Markup:
    """{field: [old, new]} as a small table (values escaped)."""
    if not changes:
        return Markup("")
    rows = Markup("").join(
        Markup("<tr><td>{}</td><td>{}</td><td>{}</td></tr>").format(
            field, "" if values[0] is None else values[0], "" if values[1] is None else values[1])
        for field, values in sorted(changes.items())
    )
    return Markup('<table class="table table-condensed table-bordered gm-changes"><thead><tr><th>{}</th>'
                  "<th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>").format(
        _("Field"), _("Old value"), _("New value"), rows)


class AuditLogView(ListLoading, ModelView):
    """The audit trail (SPEC I4), for the info-centre administrator: read only."""

    datamodel = ListInterface(AuditEntry)
    base_permissions = {"can_list", "can_show"}
    list_title = show_title = _l("Audit trail")
    list_columns = ["created_at", "username", "source_label", "action_label", "record_type", "record_id",
                    "record_label"]
    show_columns = list_columns + ["address", "user_id", "changes"]
    search_columns = ["created_at", "username", "action", "record_type", "record_id", "source"]
    base_order = ("id", "desc")
    formatters_columns = dict(formatters(datetimes=("created_at",), optional=("record_label", "address", "user_id")),
                              changes=_changes_table)
    label_columns = {
        "created_at": _l("Time"),
        "username": _l("Operator"),
        "source": _l("Source"),
        "source_label": _l("Source"),
        "action": _l("Change"),
        "action_label": _l("Change"),
        "record_type": _l("Record type"),
        "record_id": _l("Record"),
        "record_label": _l("Name"),
        "address": _l("Address"),
        "user_id": _l("User ID"),
        "changes": _l("Fields changed"),
    }
