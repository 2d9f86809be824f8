"""Error pages and JSON errors: translated, never a stack trace."""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have permission to do this."),
    404: _l("The page or record was not found, or you do not have access to it."),
    405: _l("This action is not allowed in this way."),
    413: _l("The upload is too large."),
    429: _l("Too many attempts. Please wait a moment and try again."),
    500: _l("An internal error occurred. The administrators have been informed."),
}


def _respond(code: int, message):
    if request.path.startswith("/api/"):
        return jsonify(message=str(message)), code
    appbuilder = current_app.appbuilder
    body = render_template("gm/error.html", appbuilder=appbuilder, base_template=appbuilder.base_template,
                           code=code, message=message)
    return body, code


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        return _respond(400, _l("The form has expired or was not sent from this site. Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = exc.code or 500
        response = _respond(code, MESSAGES.get(code, exc.description))
        if code == 429 and exc.get_response().headers.get("Retry-After"):
            body, status = response
            return body, status, {"Retry-After": exc.get_response().headers["Retry-After"]}
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("Unhandled error")
        return _respond(500, MESSAGES[500])
