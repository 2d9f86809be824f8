"""Domain exceptions. Each carries a translated, user-facing message.

Views turn them into a flashed message and a redirect; the REST API into a JSON error with
the matching status code. They never reach the user as a 500.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from flask_babel import gettext as _


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


class CommentMissing(TransitionRefused):
    """A step the transition table takes only with a comment (``comment_required``), attempted
    without one: missing input (422, on the ``comment`` field), not a state that forbids it. The
    message names what is missing: the reviewer's opinion (``opinion`` steps) or the reason."""

    status_code = 422

    def __init__(self, step) -> None:
        from app.models.states import action_label

        label = action_label(step.workflow, step.action)
        if step.opinion:
            message = _("“%(action)s” needs your review opinion: write it in the opinion box.", action=label)
        else:
            message = _("“%(action)s” needs a comment giving the reason.", action=label)
        super().__init__(message, field="comment")


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


class FieldErrors(ValidationFailed):
    """Several refusals of one save, each on its field: the form shows every one at once, the
    REST API lists them under ``errors``. ``str(exc)`` says how many there are; ``field`` is the
    first one's field (for callers that look at one only)."""

    def __init__(self, errors: list[DomainError]) -> None:
        self.errors = list(errors)
        super().__init__(_("%(count)s entries need correcting; each is marked at its field.", count=len(self.errors)),
                         field=self.errors[0].field if self.errors else None)


class ErrorCollector:
    """Runs the independent checks of one save and keeps every ValidationFailed instead of
    stopping at the first::

        errors = ErrorCollector()
        with errors.on_field("email"):
            check_email(record.email)
        with errors.on_field("postcode"):
            check_postcode(record.postcode)
        errors.raise_if_any()

    Other refusals (AccessDenied, NotFound, TransitionRefused) are not input errors: they pass
    through at once."""

    def __init__(self) -> None:
        self.errors: list[DomainError] = []

    @contextmanager
    def on_field(self, name: str | None = None) -> Iterator[None]:
        try:
            yield
        except FieldErrors as exc:
            self.errors.extend(exc.errors)
        except ValidationFailed as exc:
            if exc.field is None:
                exc.field = name
            self.errors.append(exc)

    def add(self, message: str, field: str | None) -> None:
        """Record a refusal found without raising one."""
        self.errors.append(ValidationFailed(message, field=field))

    def has(self, field: str) -> bool:
        """Whether ``field`` was refused already (a later check that depends on it is skipped)."""
        return any(error.field == field for error in self.errors)

    def raise_if_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise FieldErrors(self.errors)
