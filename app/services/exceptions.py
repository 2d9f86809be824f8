"""Domain exceptions. Each carries a translated, user-facing message.

Views turn them into a flashed message and a redirect; the REST API into a JSON error with
the matching status code. They never reach the user as a 500.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


class DomainError(Exception):
    """Base of every refusal a rule can give. ``str(exc)`` is the translated message;
    ``field`` names the form field or body key at fault, when there is one."""

    status_code = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field = field

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


@contextmanager
def on_field(name: str) -> Iterator[None]:
    """Attribute a refusal raised inside the block to the form field or body key ``name``."""
    try:
        yield
    except DomainError as exc:
        if exc.field is None:
            exc.field = name
        raise
