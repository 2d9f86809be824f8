"""REST for attachments: the same service and scope as the screens (app.services.uploads).

  GET    /api/v1/attachment/<owner_type>/<owner_id>          the owner's files
  POST   /api/v1/attachment/<owner_type>/<owner_id>/<slot>   upload (multipart field "file")
  DELETE /api/v1/attachment/<id>                             remove (while the owner is editable)
  GET    /api/v1/attachment/<id>/file                        download (or 302 to a presigned URL)
Owner types: PreDeclaration, Application, IndicatorEvidence, Notice.
"""
from __future__ import annotations

from flask import g, request
from flask_appbuilder.api import BaseApi, expose, protect, safe

from app.services import scoping, uploads
from app.services.exceptions import AccessDenied, DomainError, NotFound
from app.web.downloads import attachment_response


def _as_json(attachment) -> dict:
    return {
        "id": attachment.id,
        "owner_type": attachment.owner_type,
        "owner_id": attachment.owner_id,
        "slot": attachment.slot,
        "kind": attachment.kind,
        "original_name": attachment.original_name,
        "content_type": attachment.content_type,
        "size_bytes": attachment.size_bytes,
        "sha256": attachment.sha256,
        "created_at": attachment.created_at.isoformat(),
    }


class AttachmentApi(BaseApi):
    resource_name = "attachment"
    method_permission_name = {"list_for_owner": "download", "file": "download", "upload": "upload",
                              "delete": "upload"}
    openapi_spec_tag = "Attachments"

    def _refusal(self, exc: DomainError):
        if isinstance(exc, NotFound):
            return self.response_404()
        if isinstance(exc, AccessDenied):  # the role may not upload here (scope gives NotFound)
            return self.response_403()
        body = {"message": str(exc)}
        return self.response(exc.status_code, **body)

    @expose("/<owner_type>/<int:owner_id>", methods=["GET"])
    @protect()
    @safe
    def list_for_owner(self, owner_type, owner_id):
        """The files of one record.
        ---
        get:
          parameters:
          - {in: path, name: owner_type, schema: {type: string}}
          - {in: path, name: owner_id, schema: {type: integer}}
          responses:
            200: {description: the files}
            404: {$ref: '#/components/responses/404'}
        """
        try:
            uploads.load_owner(owner_type, owner_id, g.user, scoping.READ)
        except DomainError as exc:
            return self._refusal(exc)
        return self.response(200, result=[_as_json(a) for a in uploads.attachments_of(owner_type, owner_id)])

    @expose("/<owner_type>/<int:owner_id>/<slot>", methods=["POST"])
    @protect()
    @safe
    def upload(self, owner_type, owner_id, slot):
        """Upload one file (multipart form field ``file``).
        ---
        post:
          parameters:
          - {in: path, name: owner_type, schema: {type: string}}
          - {in: path, name: owner_id, schema: {type: integer}}
          - {in: path, name: slot, schema: {type: string}}
          responses:
            201: {description: stored}
            404: {$ref: '#/components/responses/404'}
            422: {description: refused (type, size, count, state)}
        """
        try:
            attachment = uploads.attach(owner_type, owner_id, slot, request.files.get("file"), g.user)
        except DomainError as exc:
            return self._refusal(exc)
        return self.response(201, **_as_json(attachment))

    @expose("/<int:attachment_id>", methods=["DELETE"])
    @protect()
    @safe
    def delete(self, attachment_id):
        """Remove one file while its record may still change.
        ---
        delete:
          parameters:
          - {in: path, name: attachment_id, schema: {type: integer}}
          responses:
            200: {description: removed}
            404: {$ref: '#/components/responses/404'}
        """
        try:
            uploads.remove(attachment_id, g.user)
        except DomainError as exc:
            return self._refusal(exc)
        return self.response(200, message="OK")

    @expose("/<int:attachment_id>/file", methods=["GET"])
    @protect()
    @safe
    def file(self, attachment_id):
        """Download one file: the bytes, or (STORAGE_PRESIGNED_DOWNLOADS with object storage) a
        redirect to a short-lived presigned URL; either only within the owner record's scope.
        ---
        get:
          parameters:
          - {in: path, name: attachment_id, schema: {type: integer}}
          responses:
            200: {description: the file}
            302: {description: 'a short-lived presigned URL of the object store (Location)'}
            404: {$ref: '#/components/responses/404'}
        """
        try:
            return attachment_response(uploads.check_download(attachment_id, g.user))
        except (DomainError, OSError, ValueError):
            return self.response_404()
