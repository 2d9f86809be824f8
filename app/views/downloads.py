"""The one way a generated file (certificate PDF, report, Excel table) leaves the application:
an attachment named in the user's language with an ASCII fallback, never sniffed or cached.
Attachments of records stream from the storage instead (app/views/attachments.py)."""
from __future__ import annotations

from flask import current_app

from app.services.downloads import content_disposition


def file_response(body: bytes, mimetype: str, filename: str, fallback: str):
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename, fallback)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
