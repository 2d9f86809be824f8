"""One's own messages (SPEC I3): the list, opening one (marks it read and goes to its record),
marking all read; the unread count in the navigation bar. Rules in app.services.notifications."""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.services import notifications
from app.services.exceptions import NotFound
from app.views import record_pages

PAGE_SIZE = 20


def record_url(message) -> str | None:
    """The page of the message's record (the logs' registry of record pages, one source)."""
    view = record_pages.page_view(message.record_type or "")
    return url_for(f"{view.endpoint}.show", pk=message.record_id) if view and message.record_id else None


class NotificationView(BaseView):
    route_base = "/notifications"
    default_view = "inbox"
    method_permission_name = {"inbox": "read", "open": "read", "read_all": "read"}

    @expose("/")
    @has_access
    def inbox(self):
        try:
            page = max(int(request.args.get("page", 0)), 0)
        except ValueError:
            page = 0
        unread_only = request.args.get("unread") == "1"
        messages, total = notifications.inbox(g.user, page, PAGE_SIZE, unread_only)
        return self.render_template("gm/notifications.html", title=_("My messages"), messages=messages,
                                    total=total, page=page, page_size=PAGE_SIZE, unread_only=unread_only)

    @expose("/<int:notification_id>")
    @has_access
    def open(self, notification_id):
        """Mark the message read and show what it is about."""
        try:
            message = notifications.mark_read(notification_id, g.user)
        except NotFound:
            abort(404)
        return redirect(record_url(message) or url_for("NotificationView.inbox"))

    @expose("/read-all", methods=["POST"])
    @has_access
    def read_all(self):
        count = notifications.mark_all_read(g.user)
        flash(_("%(n)s message(s) marked as read.", n=count), "success")
        return redirect(url_for("NotificationView.inbox"))


def register(appbuilder) -> None:
    appbuilder.add_view(NotificationView, "My messages", label=_l("My messages"), icon="fa-bell",
                        category="Account")
    # The navigation bar's bell (templates/appbuilder/navbar_right.html).
    current_app.jinja_env.globals.update(gm_unread_messages=lambda: notifications.unread_count(g.user))
