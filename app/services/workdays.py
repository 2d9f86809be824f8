"""Working days in mainland China and the evaluation clock (SPEC G2; seed 002 §六.2).

The certification has to be finished "正式受理申请后 20 个工作日内（申请方整改所需时间不计入期限）".

The calendar is data: ``app/data/holidays_cn.csv`` (source and format in
``holidays_cn.SOURCE.md``) lists the special dates of the State Council's yearly notices: every day
of each holiday period (``holiday``) and each adjusted working Saturday/Sunday (``workday``,
调休上班). A year is *covered* when it has at least one row. For a year that is not covered the
calendar falls back to weekends only (Monday to Friday are working days) and every result built
on such a year says so (``EvaluationClock.calendar_complete`` is False).

Conventions (the same everywhere in this module):

- Counting starts the day after ``start`` (期间开始之日不计算在内): the working days counted between
  ``start`` and ``end`` are the days ``d`` with ``start < d <= end``.
- A pause (the enterprise's rectification time) is a pair ``(from_day, to_day)`` with the same
  half-open convention: the days ``d`` with ``from_day < d <= to_day`` are paused and not counted.
  So the day the rectification is asked for still counts and counting resumes the day after
  ``to_day``. ``to_day=None`` is a pause still open: every day after ``from_day`` is paused.
  Pauses may overlap; a day is paused or not, it is never subtracted twice.

Performance: everything walks day by day, O(days × pauses). That is fine for ranges up to a few
years, which is what a 20-working-day limit needs.
"""
from __future__ import annotations

import csv
import datetime
import os
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Iterable, Mapping, Optional, Sequence

from app import clock

HOLIDAY = "holiday"
WORKDAY = "workday"
KINDS = (HOLIDAY, WORKDAY)
COLUMNS = ["date", "kind", "name"]
DEFAULT_LIMIT = 20

PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "holidays_cn.csv")

Pause = tuple[datetime.date, Optional[datetime.date]]
_ONE_DAY = datetime.timedelta(days=1)


class HolidayDataError(ValueError):
    """The holiday data is malformed: a programming/data error found at load, never a user error."""


def _is_weekend(day: datetime.date) -> bool:
    return day.weekday() >= 5


@dataclass(frozen=True, eq=False)
class Calendar:
    """Working-day calendar built from a mapping date -> kind (``holiday`` or ``workday``).

    ``names`` (optional) maps a date to its festival's name, for display. Days of a year without
    any entry follow the weekends-only rule; ``covers(year)`` tells which years have data.
    """

    special: Mapping[datetime.date, str]
    names: Mapping[datetime.date, str] = field(default_factory=dict)
    covered_years: frozenset[int] = field(init=False)

    def __post_init__(self) -> None:
        special = dict(self.special)
        for day, kind in special.items():
            if not isinstance(day, datetime.date) or isinstance(day, datetime.datetime):
                raise HolidayDataError(f"not a date: {day!r}")
            if kind not in KINDS:
                raise HolidayDataError(f"{day.isoformat()}: unknown kind {kind!r} (expected one of {KINDS})")
            if kind == WORKDAY and not _is_weekend(day):
                raise HolidayDataError(f"{day.isoformat()}: an adjusted working day must be a Saturday or Sunday")
        # Frozen copies, so a calendar shared through the cache cannot be changed by a caller.
        object.__setattr__(self, "special", MappingProxyType(special))
        object.__setattr__(self, "names", MappingProxyType(dict(self.names)))
        object.__setattr__(self, "covered_years", frozenset(day.year for day in special))

    def kind(self, day: datetime.date) -> str | None:
        """``holiday``, ``workday`` or None (an ordinary day)."""
        return self.special.get(day)

    def is_working_day(self, day: datetime.date) -> bool:
        """Monday to Friday unless a holiday; Saturday and Sunday only when an adjusted workday."""
        kind = self.special.get(day)
        if kind is not None:
            return kind == WORKDAY
        return not _is_weekend(day)

    def covers(self, year: int) -> bool:
        """Whether the data has the official arrangement of ``year`` (else: weekends only)."""
        return year in self.covered_years

    def uncovered_years(self, first: datetime.date, last: datetime.date) -> tuple[int, ...]:
        """The years from ``first`` to ``last`` (inclusive) that the data does not cover."""
        if last < first:
            first, last = last, first
        return tuple(year for year in range(first.year, last.year + 1) if not self.covers(year))


def _parse_date(text: str) -> datetime.date:
    # Strict YYYY-MM-DD: fromisoformat alone also takes 20240101 and week dates.
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError(text)
    return datetime.date.fromisoformat(text)


def load_calendar(path: str) -> Calendar:
    """Read and validate a holidays CSV (header ``date,kind,name``). Raises HolidayDataError
    naming the file and line of every bad row: a bad date, an unknown kind, a missing name,
    extra columns, a duplicate date, or a ``workday`` on Monday to Friday."""
    special: dict[datetime.date, str] = {}
    names: dict[datetime.date, str] = {}
    errors: list[str] = []
    label = os.path.basename(path)
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != COLUMNS:
            raise HolidayDataError(f"{label}: the header must be {','.join(COLUMNS)}, not {reader.fieldnames}")
        for row in reader:
            where = f"{label} line {reader.line_num}"
            if None in row:
                errors.append(f"{where}: more than {len(COLUMNS)} columns")
                continue
            raw_date, kind, name = ((row.get(column) or "").strip() for column in COLUMNS)
            try:
                day = _parse_date(raw_date)
            except ValueError:
                errors.append(f"{where}: bad date {raw_date!r} (expected YYYY-MM-DD)")
                continue
            if kind not in KINDS:
                errors.append(f"{where}: unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
                continue
            if not name:
                errors.append(f"{where}: {raw_date} has no name")
                continue
            if kind == WORKDAY and not _is_weekend(day):
                errors.append(f"{where}: {raw_date} is a workday but not a Saturday or Sunday")
                continue
            if day in special:
                errors.append(f"{where}: duplicate date {raw_date}")
                continue
            special[day] = kind
            names[day] = name
    if errors:
        raise HolidayDataError("; ".join(errors))
    return Calendar(special, names)


@lru_cache(maxsize=1)
def default_calendar() -> Calendar:
    """The shipped calendar (app/data/holidays_cn.csv), read once per process."""
    return load_calendar(PATH)


# --- arithmetic -------------------------------------------------------------------------------

def _normalise(excluded: Iterable[Sequence]) -> tuple[Pause, ...]:
    pauses = []
    for pause in excluded:
        from_day, to_day = pause
        if to_day is not None and to_day < from_day:
            raise ValueError(f"pause ends ({to_day}) before it starts ({from_day})")
        pauses.append((from_day, to_day))
    return tuple(pauses)


def _is_paused(day: datetime.date, pauses: tuple[Pause, ...]) -> bool:
    return any(from_day < day and (to_day is None or day <= to_day) for from_day, to_day in pauses)


def working_days_between(
    start: datetime.date,
    end: datetime.date,
    excluded: Iterable[Sequence] = (),
    calendar: Calendar | None = None,
) -> int:
    """Number of working days ``d`` with ``start < d <= end`` not inside any pause (0 when
    ``end <= start``). An open pause (``to_day`` None) pauses every day after its ``from_day``."""
    calendar = calendar or default_calendar()
    pauses = _normalise(excluded)
    count = 0
    day = start + _ONE_DAY
    while day <= end:
        if calendar.is_working_day(day) and not _is_paused(day, pauses):
            count += 1
        day += _ONE_DAY
    return count


def add_working_days(
    start: datetime.date,
    n: int,
    excluded: Iterable[Sequence] = (),
    calendar: Calendar | None = None,
) -> datetime.date | None:
    """The day on which the ``n``-th counted working day after ``start`` falls (the deadline of
    an ``n``-working-day limit), skipping paused days. ``n`` must be at least 1.

    Returns None when an open pause (``to_day`` None) starts before the ``n``-th day is reached:
    nobody knows yet when counting resumes, so there is no deadline. An open pause starting on or
    after that day does not change it. Always ``working_days_between(start, result, excluded) == n``.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    calendar = calendar or default_calendar()
    pauses = _normalise(excluded)
    open_from = min((from_day for from_day, to_day in pauses if to_day is None), default=None)
    count = 0
    day = start
    while count < n:
        day += _ONE_DAY
        if open_from is not None and day > open_from:
            return None
        if calendar.is_working_day(day) and not _is_paused(day, pauses):
            count += 1
    return day


# --- the evaluation clock ---------------------------------------------------------------------

@dataclass(frozen=True)
class EvaluationClock:
    """Where an evaluation stands against its working-day limit.

    used: working days counted from the acceptance (exclusive) to ``finished_on`` or today
    (inclusive), pauses left out; remaining = limit - used (negative once over the limit);
    deadline: the day of the limit-th working day (None while a pause is open); paused: not
    finished and a pause is open at today; overdue: finished after the deadline, or (still
    running) more days used than the limit; calendar_complete: every year the computation touched
    is covered by the holiday data (else those years, listed in uncovered_years, were counted
    with weekends only).
    """

    limit: int
    used: int
    remaining: int
    deadline: datetime.date | None
    paused: bool
    overdue: bool
    finished_on: datetime.date | None
    calendar_complete: bool
    uncovered_years: tuple[int, ...]

    def label(self) -> str:
        """A short translated sentence for the screens (call it inside a request)."""
        from flask_babel import gettext as _

        if self.finished_on is not None:
            if self.overdue:
                text = _("Finished on %(day)s, after the deadline (%(used)s of %(limit)s working days)",
                         day=self.finished_on.isoformat(), used=self.used, limit=self.limit)
            else:
                text = _("Finished on %(day)s, in %(used)s of %(limit)s working days",
                         day=self.finished_on.isoformat(), used=self.used, limit=self.limit)
        elif self.paused:
            text = _("Paused for rectification: %(used)s of %(limit)s working days used",
                     used=self.used, limit=self.limit)
        elif self.overdue:
            text = _("Overdue by %(days)s working day(s) (deadline %(deadline)s)",
                     days=-self.remaining, deadline=self.deadline.isoformat() if self.deadline else "-")
        else:
            text = _("%(remaining)s of %(limit)s working days left (deadline %(deadline)s)",
                     remaining=self.remaining, limit=self.limit,
                     deadline=self.deadline.isoformat() if self.deadline else "-")
        if not self.calendar_complete:
            text += " " + _("(public holidays of %(years)s not in the calendar: counted with weekends only)",
                            years=", ".join(str(year) for year in self.uncovered_years))
        return text


def evaluation_clock(
    accepted_on: datetime.date,
    pauses: Iterable[Sequence] = (),
    limit: int = DEFAULT_LIMIT,
    today: datetime.date | None = None,
    finished_on: datetime.date | None = None,
    calendar: Calendar | None = None,
) -> EvaluationClock:
    """The clock of an evaluation accepted on ``accepted_on`` with the rectification ``pauses``.

    It counts up to ``finished_on`` when the evaluation is over, else up to ``today`` (default:
    the server's date); while a pause is open the clock stands still.
    """
    calendar = calendar or default_calendar()
    pauses = _normalise(pauses)
    today = today or clock.today()
    stop = finished_on or today
    used = working_days_between(accepted_on, stop, pauses, calendar)
    deadline = add_working_days(accepted_on, limit, pauses, calendar)
    if finished_on is not None:
        paused = False
        overdue = finished_on > deadline if deadline is not None else used > limit
    else:
        # Today is inside a closed pause, or an open pause has begun (it runs on from its start).
        paused = any(
            (to_day is None and from_day <= today) or (to_day is not None and from_day < today <= to_day)
            for from_day, to_day in pauses
        )
        overdue = used > limit
    # The days looked at: after the acceptance up to the later of the stop day and the deadline.
    last = max(stop, deadline) if deadline is not None else stop
    uncovered = calendar.uncovered_years(accepted_on + _ONE_DAY, max(last, accepted_on + _ONE_DAY))
    return EvaluationClock(
        limit=limit,
        used=used,
        remaining=limit - used,
        deadline=deadline,
        paused=paused,
        overdue=overdue,
        finished_on=finished_on,
        calendar_complete=not uncovered,
        uncovered_years=uncovered,
    )
