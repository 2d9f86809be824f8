"""Error pages and JSON errors: translated, never a stack trace."""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import BadRequest, HTTPException

MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have permission to do this."),
    404: _l("The page or record was not found, or you do not have access to it."),
    405: _l("This action is not allowed in this way."),
    413: _l("The upload is too large."),
    429: _l("Too many attempts. Please wait a moment and try again."),
    500: _l("An internal error occurred. The administrators have been informed."),
}


class ValueOutOfRange(BadRequest):
    """A number in a path, filter or body that the database column cannot hold."""

    description = _l("A number is out of the allowed range.")

    def __str__(self) -> str:
        # FAB's @safe answers str(exc) as the JSON message: without werkzeug's English prefix.
        return str(self.description)


class InvalidArgument(BadRequest):
    """A query argument that cannot be used (malformed, nested too deeply, of the wrong kind),
    with a translated explanation that the error answer shows."""

    def __init__(self, description) -> None:
        super().__init__(description=description)

    def __str__(self) -> str:
        # FAB's @safe answers str(exc) as the JSON message: without werkzeug's English prefix.
        return str(self.description)


def _numeric_overflow(context) -> None:
    """One place for every path: a huge integer fails in the driver (OverflowError from
    sqlite3, SQLSTATE 22003 from PostgreSQL); it is the client's error, not the server's."""
    original = context.original_exception
    if isinstance(original, OverflowError) or getattr(original, "pgcode", None) == "22003":
        raise ValueOutOfRange() from original


def _respond(code: int, message):
    # A failed statement may have aborted the transaction; the page below still reads the
    # user and the menu.
    from app.extensions import db

    db.session.rollback()
    if request.path.startswith("/api/"):
        return jsonify(message=str(message)), code
    appbuilder = current_app.appbuilder
    body = render_template("gm/error.html", appbuilder=appbuilder, base_template=appbuilder.base_template,
                           code=code, message=message)
    return body, code


def register(app: Flask) -> None:
    if not event.contains(Engine, "handle_error", _numeric_overflow):
        event.listen(Engine, "handle_error", _numeric_overflow)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        return _respond(400, _l("The form has expired or was not sent from this site. Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = exc.code or 500
        explained = isinstance(exc, (ValueOutOfRange, InvalidArgument))
        message = exc.description if explained else MESSAGES.get(code, exc.description)
        response = _respond(code, message)
        if code == 429 and exc.get_response().headers.get("Retry-After"):
            body, status = response
            return body, status, {"Retry-After": exc.get_response().headers["Retry-After"]}
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("Unhandled error")
        return _respond(500, MESSAGES[500])
