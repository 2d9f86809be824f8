"""Domain exceptions. Each carries a translated, user-facing message.

Views turn them into a flashed message and a redirect; the REST API into a JSON error with
the matching status code. They never reach the user as a 500.
"""
from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal a rule can give. ``str(exc)`` is the translated message."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(str(message))
        self.message = str(message)

    def __str__(self) -> str:
        return self.message


class ValidationFailed(DomainError):
    """Input that breaks a rule: a bad code, a value out of range, an inconsistent user."""

    status_code = 422


class AccessDenied(DomainError):
    """The user may not see or touch this record (outside the scope, or no such role)."""

    status_code = 403


class NotFound(DomainError):
    status_code = 404


class TransitionRefused(DomainError):
    """A status change the transition table does not allow in this state, role or scope."""

    status_code = 409


class StatusWriteForbidden(RuntimeError):
    """A programming error: a status written outside app.services.workflow."""
