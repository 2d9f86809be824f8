"""REST for one's own messages (SPEC I3), the same service as the screens:

  GET  /api/v1/notification/?page=0&unread=1   the messages, newest first, and the unread count
  POST /api/v1/notification/<id>/read          mark one read
  POST /api/v1/notification/read-all           mark all read
"""
from __future__ import annotations

from flask import g, request
from flask_appbuilder.api import BaseApi, expose, protect, safe

from app.services import notifications
from app.services.exceptions import NotFound

PAGE_SIZE = 20


def _as_json(message) -> dict:
    return {
        "id": message.id,
        "kind": message.kind,
        "title": message.title,
        "body": message.body,
        "record_type": message.record_type,
        "record_id": message.record_id,
        "created_at": message.created_at.isoformat(),
        "read_at": message.read_at.isoformat() if message.read_at else None,
    }


class NotificationApi(BaseApi):
    resource_name = "notification"
    method_permission_name = {"inbox": "read", "read_one": "read", "read_all": "read"}
    openapi_spec_tag = "Notifications"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def inbox(self):
        """One's own messages.
        ---
        get:
          parameters:
          - {in: query, name: page, schema: {type: integer, minimum: 0}}
          - {in: query, name: unread, schema: {type: integer, enum: [0, 1]}}
          responses:
            200: {description: the messages, the total and the unread count}
        """
        page = request.args.get("page", 0, type=int) or 0
        messages, total = notifications.inbox(g.user, max(page, 0), PAGE_SIZE, request.args.get("unread") == "1")
        return self.response(200, result=[_as_json(m) for m in messages], count=total,
                             unread=notifications.unread_count(g.user))

    @expose("/<int:notification_id>/read", methods=["POST"])
    @protect()
    @safe
    def read_one(self, notification_id):
        """Mark one of one's messages read.
        ---
        post:
          parameters:
          - {in: path, name: notification_id, schema: {type: integer}}
          responses:
            200: {description: the message}
            404: {$ref: '#/components/responses/404'}
        """
        try:
            return self.response(200, result=_as_json(notifications.mark_read(notification_id, g.user)))
        except NotFound:
            return self.response_404()

    @expose("/read-all", methods=["POST"])
    @protect()
    @safe
    def read_all(self):
        """Mark all of one's messages read.
        ---
        post:
          responses:
            200: {description: how many were marked}
        """
        return self.response(200, marked=notifications.mark_all_read(g.user))
