"""Password policy, one place for every form and API that sets a password."""
from __future__ import annotations

import re
import secrets
import string

from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_babel import gettext as _

MIN_LENGTH = 8
_CLASSES = (
    (re.compile(r"[a-z]"), "lower"),
    (re.compile(r"[A-Z]"), "upper"),
    (re.compile(r"[0-9]"), "digit"),
    (re.compile(r"[^A-Za-z0-9]"), "symbol"),
)


def password_problems(password: str | None) -> list[str]:
    """The names of the rules this password breaks (empty when it is acceptable)."""
    password = password or ""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append("length")
    problems.extend(name for pattern, name in _CLASSES if not pattern.search(password))
    return problems


def validate_password_complexity(password: str | None) -> None:
    """FAB's FAB_PASSWORD_COMPLEXITY_VALIDATOR: raise with a translated message."""
    if password_problems(password):
        raise PasswordComplexityValidationError(
            _(
                "The password must have at least %(n)d characters and contain upper-case "
                "and lower-case letters, a digit and a symbol.",
                n=MIN_LENGTH,
            )
        )


def generate_one_time_password(length: int = 12) -> str:
    """A random password that satisfies the policy (for resets; never chosen by a person)."""
    alphabet = string.ascii_letters + string.digits + "!@#$%^&*-_=+"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if not password_problems(candidate):
            return candidate
