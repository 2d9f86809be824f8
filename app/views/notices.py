"""Notices: authorities manage those of their region; everyone reads them on the home page."""
from flask import g
from flask_babel import lazy_gettext as _l

from app.models import Notice
from app.services import notices, uploads
from app.views.formatting import formatters
from app.web.base import ScopedModelView
from app.web.datamodel import ListInterface


class NoticeView(ScopedModelView):
    empty_hint = _l("Listed here: the notices addressed to your region and the regions below it, which you "
                    "manage. Notices of the higher levels are shown on the home page.")
    datamodel = ListInterface(Notice)
    list_title = _l("Notices")
    show_title = _l("Notice")
    add_title = _l("Publish a notice")
    edit_title = _l("Edit notice")
    list_columns = ["publish_date", "title", "region", "created_at"]
    show_columns = ["title", "body", "region", "publish_date"]
    add_columns = edit_columns = ["title", "body", "publish_date"]
    search_columns = ["title", "publish_date"]
    order_columns = ["publish_date"]
    base_order = ("publish_date", "desc")
    label_columns = {
        "title": _l("Title"),
        "body": _l("Text"),
        "region": _l("Addressed to"),
        "publish_date": _l("Publish date"),
        "created_at": _l("Created at"),
        "author_id": _l("Author"),
    }
    description_columns = {
        "publish_date": _l("Shown from this day on to everyone in your region and below it."),
    }
    formatters_columns = formatters(datetimes=("created_at",), optional=("region",))
    record_rule = notices.record_rule
    show_template = "gm/notice_show.html"

    def render_template(self, template, **kwargs):
        # The detail page carries the notice's attachments, with an upload form for its managers.
        if template == self.show_template and "pk" in kwargs:
            notice = self.get_scoped_or_404(kwargs["pk"])
            kwargs.update(notice=notice, attachments_editable=self.appbuilder.sm.has_access(
                "can_upload", "AttachmentView") and uploads.may_upload("Notice", notice, g.user))
        return super().render_template(template, **kwargs)


def register(appbuilder) -> None:
    appbuilder.add_view(NoticeView, "Notices", label=_l("Notices"), icon="fa-bullhorn", category="Account")
