"""Columns and attributes shared by the domain tables."""
from __future__ import annotations

import datetime
from typing import Any, Callable

from sqlalchemy import DateTime
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class TimestampMixin:
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime.datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


# ---------------------------------------------------------------------------
# Values computed by a service's rule
# ---------------------------------------------------------------------------
_SERVICE_RULES: dict[str, Callable[[Any], Any]] = {}
# Every rule a model declares (tests/test_layers.py checks that the application provides each).
DECLARED_SERVICE_RULES: set[str] = set()


def service_rule(name: str, doc: str) -> property:
    """A read-only attribute whose value a service's rule computes: ``name`` is the rule's
    "module.function" under app.services, which that module hands down with ``provide_rule``
    when it is imported (the application imports every service before it serves anything).

    Some values that lists and detail pages show are rules of a service: whether a certificate
    is valid today, whether a self-check was filed after the deadline (they read today's date and
    the deployment's settings). The models may not import a service (layers point down only), so
    the service provides the rule instead of the model reaching up for it."""

    def compute(record):
        try:
            rule = _SERVICE_RULES[name]
        except KeyError:
            raise LookupError(f"app.services.{name} has not been provided: import its service first") from None
        return rule(record)

    DECLARED_SERVICE_RULES.add(name)
    compute.__name__ = name.rsplit(".", 1)[-1]
    return property(compute, doc=doc)


def provide_rule(name: str, rule: Callable[[Any], Any]) -> None:
    """Called by the service that owns the rule ``name`` (see ``service_rule``)."""
    _SERVICE_RULES[name] = rule


def provided_rules() -> set[str]:
    return set(_SERVICE_RULES)
