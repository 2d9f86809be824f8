"""Lock-out after repeated failed logins (issue 5, "Login safety"), for the HTML form and the REST
login alike (both call the security manager's ``auth_user_db``).

Two counters, each a row of ``login_throttle`` so that every app server sees the same numbers:
- per login name: LOGIN_LOCKOUT_FAILURES failures (default 5) within LOGIN_LOCKOUT_WINDOW_MINUTES
  (15) lock the name for LOGIN_LOCKOUT_MINUTES (15); a name without an account is counted and
  locked exactly like one with, so the lock reveals nothing about which names exist;
- per client address: LOGIN_ADDRESS_FAILURES (30) failures within the window lock the address
  (password spraying across many names).
While locked, even the right password is refused, with a message saying so and for how long.
A successful login clears the name's counter; an authority's password reset clears it too.
The per-minute request limit (AUTH_RATE_LIMIT) stays in front of all this.
"""
from __future__ import annotations

import datetime
import math
from typing import Optional

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.services.exceptions import DomainError

DEFAULTS = {
    "LOGIN_LOCKOUT_FAILURES": 5,
    "LOGIN_LOCKOUT_WINDOW_MINUTES": 15,
    "LOGIN_LOCKOUT_MINUTES": 15,
    "LOGIN_ADDRESS_FAILURES": 30,
}


class LoginLocked(DomainError):
    status_code = 429

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


def _config(key: str) -> int:
    return int(current_app.config.get(key, DEFAULTS[key]))


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def name_key(username: Optional[str]) -> str:
    return "user:" + (username or "").strip().lower()[:150]


def address_key(address: Optional[str]) -> Optional[str]:
    return f"addr:{address}"[:160] if address else None


def _minutes_left(until: datetime.datetime, now: datetime.datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))


def check(username: Optional[str], address: Optional[str], now: Optional[datetime.datetime] = None) -> None:
    """Raise LoginLocked if the name or the address is locked now."""
    from app.models import LoginThrottle

    now = now or _now()
    keys = [key for key in (name_key(username), address_key(address)) if key]
    rows = {row.key: row for row in db.session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))}
    name_row = rows.get(name_key(username))
    if name_row is not None and name_row.locked_until and name_row.locked_until > now:
        minutes = _minutes_left(name_row.locked_until, now)
        raise LoginLocked(_("Too many failed logins: this account is locked for %(minutes)s minute(s). "
                            "Try again later, or ask your authority to reset the password.", minutes=minutes),
                          int((name_row.locked_until - now).total_seconds()) + 1)
    address_row = rows.get(address_key(address) or "")
    if address_row is not None and address_row.locked_until and address_row.locked_until > now:
        minutes = _minutes_left(address_row.locked_until, now)
        raise LoginLocked(_("Too many failed logins from your network address: logins from it are blocked for "
                            "%(minutes)s minute(s).", minutes=minutes),
                          int((address_row.locked_until - now).total_seconds()) + 1)


def _count(key: str, limit: int, now: datetime.datetime) -> None:
    from app.models import LoginThrottle

    window = datetime.timedelta(minutes=_config("LOGIN_LOCKOUT_WINDOW_MINUTES"))
    row = db.session.get(LoginThrottle, key)
    if row is None:
        row = LoginThrottle(key=key, failures=0, window_started_at=now)
        db.session.add(row)
    if now - row.window_started_at > window or (row.locked_until and row.locked_until <= now):
        row.failures, row.window_started_at, row.locked_until = 0, now, None
    row.failures += 1
    if row.failures >= limit:
        row.locked_until = now + datetime.timedelta(minutes=_config("LOGIN_LOCKOUT_MINUTES"))


def record_failure(username: Optional[str], address: Optional[str], now: Optional[datetime.datetime] = None) -> None:
    now = now or _now()
    for attempt in (1, 2):
        try:
            _count(name_key(username), _config("LOGIN_LOCKOUT_FAILURES"), now)
            key = address_key(address)
            if key:
                _count(key, _config("LOGIN_ADDRESS_FAILURES"), now)
            db.session.commit()
            return
        except IntegrityError:
            # Another server inserted the same first row at the same moment: count again on it.
            db.session.rollback()
            if attempt == 2:
                raise
        except Exception:
            db.session.rollback()
            raise


def clear(username: Optional[str]) -> None:
    """Forget the name's failures (a successful login, a password reset). The caller commits."""
    from app.models import LoginThrottle

    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key == name_key(username)))


def count_attempt(key: str, limit: int, window_minutes: int, now: Optional[datetime.datetime] = None) -> int:
    """Count one attempt under ``key`` (a public form's client address, say) in the same table:
    at most ``limit`` attempts within ``window_minutes``. Returns 0 when this attempt is allowed,
    otherwise the minutes until the window ends (the refused attempt is not counted). Commits
    the count, whatever the caller does next."""
    from app.models import LoginThrottle

    now = now or _now()
    key = key[:160]
    window = datetime.timedelta(minutes=window_minutes)
    for attempt in (1, 2):
        try:
            row = db.session.get(LoginThrottle, key)
            if row is None:
                row = LoginThrottle(key=key, failures=0, window_started_at=now)
                db.session.add(row)
            if now - row.window_started_at > window:
                row.failures, row.window_started_at, row.locked_until = 0, now, None
            if row.failures >= limit:
                row.locked_until = row.window_started_at + window
                db.session.commit()
                return _minutes_left(row.locked_until, now)
            row.failures += 1
            db.session.commit()
            return 0
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
        except Exception:
            db.session.rollback()
            raise
    return 0
