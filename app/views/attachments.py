"""Attachments: one scoped set of routes for every owner record (pre-declaration photos,
application files, indicator evidence). The rules are in app.services.uploads."""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import gettext as _

from app.services import uploads
from app.services.exceptions import AccessDenied, DomainError, NotFound
from app.web.downloads import attachment_response


def _back():
    """Back to the page the form was on, if it is a local URL; else the home page."""
    target = request.form.get("next") or request.args.get("next") or ""
    return redirect(get_safe_redirect(target) if target else "/")


class AttachmentView(BaseView):
    route_base = "/attachments"
    default_view = "upload"
    method_permission_name = {"upload": "upload", "delete": "upload", "download": "download"}

    @expose("/<owner_type>/<int:owner_id>/<slot>", methods=["POST"])
    @has_access
    def upload(self, owner_type, owner_id, slot):
        try:
            attachment = uploads.attach(owner_type, owner_id, slot, request.files.get("file"), g.user)
        except NotFound:
            abort(404)
        except AccessDenied:  # the role may not upload here (out of scope is NotFound)
            abort(403)
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("Uploaded: %(name)s.", name=attachment.original_name), "success")
        return _back()

    @expose("/<int:attachment_id>/delete", methods=["POST"])
    @has_access
    def delete(self, attachment_id):
        try:
            name = uploads.remove(attachment_id, g.user)
        except NotFound:
            abort(404)
        except AccessDenied:
            abort(403)
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("Removed: %(name)s.", name=name), "success")
        return _back()

    @expose("/<int:attachment_id>", methods=["GET"])
    @has_access
    def download(self, attachment_id):
        try:
            return attachment_response(uploads.check_download(attachment_id, g.user))
        except (DomainError, OSError, ValueError):
            abort(404)


def _accept(owner_type: str, owner, slot: str) -> str:
    """The file chooser's ``accept`` hint for a slot (the server checks the content anyway)."""
    try:
        rule = uploads.slots_of(owner_type, owner).get(slot)
    except DomainError:
        rule = None
    if rule is None:
        return ""
    hints = []
    for content_type, (kind, extensions) in uploads.CONTENT_TYPES.items():
        if kind in rule.kinds:
            hints.append(content_type)
            hints.extend(extensions)
    return ",".join(hints)


def register(appbuilder) -> None:
    """Add the attachment routes to ``appbuilder``. The request limit of the upload route
    (app/__init__.py) reads the largest file size from the config: give it its default."""
    for key, value in uploads.DEFAULTS.items():
        current_app.config.setdefault(key, value)
    # What the attachment panel macro (gm/_attachments.html) calls.
    current_app.jinja_env.globals.update(
        attachments_of=uploads.attachments_of,
        attachment_size=uploads.size_text,
        attachment_accept=_accept,
    )
    appbuilder.add_view_no_menu(AttachmentView)
