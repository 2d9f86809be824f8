"""The transition log as a list (national and admin). Each record's own history is shown on
its detail page, through the record's scope."""
from flask_appbuilder import ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l

from app.models import TransitionLog
from app.views.base import SCOPE_BASE_FILTERS
from app.views.formatting import formatters


class TransitionLogView(ModelView):
    datamodel = SQLAInterface(TransitionLog)
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
        "from_state_label": _l("From"),
        "to_state_label": _l("To"),
        "username": _l("Operator"),
        "role_label": _l("Role"),
        "comment": _l("Comment"),
        "region_code": _l("Operator's region"),
    }
