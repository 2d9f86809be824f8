"""The working-day calendar and the evaluation clock (SPEC G2; app.services.workdays).

Conventions under test: a count runs over the days d with start < d <= end; a pause
(from_day, to_day) pauses the days d with from_day < d <= to_day (to_day None: open).
"""
from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from flask_babel import force_locale

from app.services import workdays
from app.services.workdays import (
    HOLIDAY,
    WORKDAY,
    Calendar,
    HolidayDataError,
    add_working_days,
    default_calendar,
    evaluation_clock,
    load_calendar,
    working_days_between,
)

FESTIVALS = {"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"}
D = date


# --- the shipped data -------------------------------------------------------------------------

def test_shipped_data_loads_and_covers_2024_to_2026():
    calendar = default_calendar()
    assert calendar.covered_years == {2024, 2025, 2026}
    assert calendar.covers(2025) and not calendar.covers(2023) and not calendar.covers(2027)
    assert default_calendar() is calendar  # read once


def test_every_adjusted_workday_is_a_weekend_day_and_every_year_has_the_seven_festivals():
    calendar = default_calendar()
    for day, kind in calendar.special.items():
        assert kind in (HOLIDAY, WORKDAY)
        if kind == WORKDAY:
            assert day.weekday() >= 5, day
    for year in (2024, 2025, 2026):
        # 2025 merges 国庆节 and 中秋节 into one period named "国庆节、中秋节".
        names = {part for day, name in calendar.names.items() if day.year == year for part in name.split("、")}
        assert names == FESTIVALS, year


@pytest.mark.parametrize(
    "year, festival, holidays, adjusted",
    [
        # 2025 added a day to 春节 (8 days from 除夕) and to 劳动节 (5 days).
        (2025, "春节", 8, [D(2025, 1, 26), D(2025, 2, 8)]),
        (2025, "劳动节", 5, [D(2025, 4, 27)]),
        (2025, "国庆节、中秋节", 8, [D(2025, 9, 28), D(2025, 10, 11)]),
        (2026, "春节", 9, [D(2026, 2, 14), D(2026, 2, 28)]),
        (2026, "国庆节", 7, [D(2026, 9, 20), D(2026, 10, 10)]),
        (2024, "春节", 8, [D(2024, 2, 4), D(2024, 2, 18)]),
    ],
)
def test_periods_match_the_notices(year, festival, holidays, adjusted):
    calendar = default_calendar()
    rows = [(day, calendar.special[day]) for day, name in calendar.names.items()
            if day.year == year and name == festival]
    assert sum(1 for _day, kind in rows if kind == HOLIDAY) == holidays
    assert sorted(day for day, kind in rows if kind == WORKDAY) == adjusted


def test_is_working_day():
    calendar = default_calendar()
    assert calendar.is_working_day(D(2025, 9, 30))  # Tuesday
    assert not calendar.is_working_day(D(2025, 10, 8))  # Wednesday inside 国庆节、中秋节
    assert calendar.is_working_day(D(2025, 9, 28))  # Sunday, 调休上班
    assert calendar.is_working_day(D(2025, 10, 11))  # Saturday, 调休上班
    assert not calendar.is_working_day(D(2025, 10, 12))  # ordinary Sunday
    assert calendar.is_working_day(D(2024, 2, 9))  # 2024 除夕: only "encouraged" to rest


# --- the case: holiday + adjusted working day + rectification pause -------------------

# Accepted Wednesday 2025-09-24, just before 国庆节、中秋节 2025 (10-01..10-08 off; Sunday 09-28
# and Saturday 10-11 worked). Counting starts the next day:
#   09-25 Thu 1, 09-26 Fri 2, 09-27 Sat -, 09-28 Sun (调休) 3, 09-29 Mon 4, 09-30 Tue 5,
#   10-01..10-08 holiday, 10-09 Thu 6, 10-10 Fri 7 (rectification asked for: still counts),
#   pause 10-11..10-17: 10-11 Sat (调休, would have been 8) and 10-13..10-17 not counted,
#   10-20 Mon 8, 10-21 9, 10-22 10, 10-23 11, 10-24 12, 10-27 13, 10-28 14, 10-29 15,
#   10-30 16, 10-31 17, 11-03 18, 11-04 19, 11-05 Wed 20  -> deadline 2025-11-05.
# Without the pause: 10-11 8, 10-13..10-17 9..13, 10-20..10-24 14..18, 10-27 19, 10-28 20.
ACCEPTED = D(2025, 9, 24)
PAUSE = (D(2025, 10, 10), D(2025, 10, 17))


def test_deadline_across_national_day_2025_with_adjusted_days_and_a_pause():
    assert add_working_days(ACCEPTED, 20) == D(2025, 10, 28)
    assert add_working_days(ACCEPTED, 20, [PAUSE]) == D(2025, 11, 5)
    assert working_days_between(ACCEPTED, D(2025, 9, 28)) == 3  # the Sunday worked counts
    assert working_days_between(ACCEPTED, D(2025, 10, 8)) == 5  # nothing during the holiday
    assert working_days_between(ACCEPTED, D(2025, 10, 11)) == 8
    assert working_days_between(ACCEPTED, D(2025, 10, 11), [PAUSE]) == 7
    assert working_days_between(ACCEPTED, D(2025, 11, 5), [PAUSE]) == 20
    assert working_days_between(ACCEPTED, D(2025, 11, 4), [PAUSE]) == 19


def test_clock_during_and_after_the_pause():
    during = evaluation_clock(ACCEPTED, [PAUSE], today=D(2025, 10, 15))
    assert (during.used, during.remaining, during.deadline) == (7, 13, D(2025, 11, 5))
    assert during.paused and not during.overdue and during.calendar_complete
    assert during.uncovered_years == () and during.finished_on is None

    running = evaluation_clock(ACCEPTED, [PAUSE], today=D(2025, 10, 22))
    assert (running.used, running.remaining, running.paused) == (10, 10, False)

    late = evaluation_clock(ACCEPTED, [PAUSE], today=D(2025, 11, 6))
    assert (late.used, late.remaining, late.overdue) == (21, -1, True)

    on_time = evaluation_clock(ACCEPTED, [PAUSE], today=D(2025, 12, 1), finished_on=D(2025, 11, 5))
    assert (on_time.used, on_time.overdue, on_time.paused) == (20, False, False)
    after = evaluation_clock(ACCEPTED, [PAUSE], finished_on=D(2025, 11, 6))
    assert (after.used, after.overdue) == (21, True)


def test_accepted_on_the_friday_before_spring_festival_2026():
    # Friday 2026-02-13; 春节 02-15..02-23 off; Saturdays 02-14 and 02-28 worked.
    #   02-14 Sat (调休) 1, 02-15..02-23 holiday, 02-24 Tue 2, 02-25 3, 02-26 4, 02-27 5,
    #   02-28 Sat (调休) 6, 03-02..03-06 7..11, 03-09..03-13 12..16, 03-16 17, 03-17 18,
    #   03-18 19, 03-19 Thu 20.
    accepted = D(2026, 2, 13)
    assert add_working_days(accepted, 1) == D(2026, 2, 14)
    assert add_working_days(accepted, 2) == D(2026, 2, 24)
    assert add_working_days(accepted, 20) == D(2026, 3, 19)
    # A pause over the whole holiday only (02-14 counted, 02-15..02-23 paused) changes nothing.
    assert add_working_days(accepted, 20, [(D(2026, 2, 14), D(2026, 2, 23))]) == D(2026, 3, 19)


def test_accepted_on_the_friday_before_national_day_2024():
    # Friday 2024-09-27: 09-29 Sun (调休) 1, 09-30 2, 10-01..10-07 holiday, 10-08..10-11 3..6,
    # 10-12 Sat (调休) 7, 10-14..10-18 8..12, 10-21..10-25 13..17, 10-28 18, 10-29 19, 10-30 20.
    assert add_working_days(D(2024, 9, 27), 20) == D(2024, 10, 30)
    assert working_days_between(D(2024, 9, 27), D(2024, 10, 7)) == 2


# --- pauses -----------------------------------------------------------------------------------

def test_open_pause_has_no_deadline_and_stops_the_clock():
    pauses = [(D(2025, 10, 10), None)]
    clock = evaluation_clock(ACCEPTED, pauses, today=D(2025, 10, 30))
    assert clock.deadline is None and clock.paused
    assert (clock.used, clock.remaining, clock.overdue) == (7, 13, False)
    assert add_working_days(ACCEPTED, 20, pauses) is None
    # Open since today: today still counts, the clock is paused from now on.
    today = evaluation_clock(ACCEPTED, [(D(2025, 10, 10), None)], today=D(2025, 10, 10))
    assert today.paused and today.used == 7


def test_open_pause_starting_after_the_deadline_leaves_it():
    assert add_working_days(ACCEPTED, 20, [(D(2025, 10, 28), None)]) == D(2025, 10, 28)
    assert add_working_days(ACCEPTED, 20, [(D(2025, 10, 27), None)]) is None


def test_overlapping_pauses_are_not_subtracted_twice():
    single = add_working_days(ACCEPTED, 20, [PAUSE])
    overlapping = [(D(2025, 10, 10), D(2025, 10, 15)), (D(2025, 10, 13), D(2025, 10, 17)), PAUSE,
                   (D(2025, 10, 12), D(2025, 10, 14))]
    assert add_working_days(ACCEPTED, 20, overlapping) == single == D(2025, 11, 5)
    assert working_days_between(ACCEPTED, D(2025, 11, 5), overlapping) == 20
    assert evaluation_clock(ACCEPTED, overlapping, today=D(2025, 10, 22)).used == 10


def test_pause_on_non_working_days_only_changes_nothing():
    weekend = (D(2025, 10, 24), D(2025, 10, 26))  # pauses Saturday 10-25 and Sunday 10-26
    holiday = (D(2025, 10, 1), D(2025, 10, 8))  # pauses 10-02..10-08, all holidays
    for pauses in ([weekend], [holiday], [weekend, holiday]):
        assert add_working_days(ACCEPTED, 20, pauses) == D(2025, 10, 28)
        assert working_days_between(ACCEPTED, D(2025, 10, 28), pauses) == 20


def test_pause_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError):
        working_days_between(ACCEPTED, D(2025, 11, 5), [(D(2025, 10, 17), D(2025, 10, 10))])


def test_edge_cases():
    assert working_days_between(ACCEPTED, ACCEPTED) == 0
    assert working_days_between(ACCEPTED, ACCEPTED - timedelta(days=10)) == 0
    with pytest.raises(ValueError):
        add_working_days(ACCEPTED, 0)
    before = evaluation_clock(ACCEPTED, today=ACCEPTED)
    assert (before.used, before.remaining, before.overdue) == (0, 20, False)


def test_consistency_property_with_random_pauses():
    rng = random.Random(20251104)
    first = D(2023, 10, 1)
    calendar = default_calendar()
    for _ in range(400):
        start = first + timedelta(days=rng.randrange(4 * 365))
        n = rng.randint(1, 45)
        pauses = []
        for _p in range(rng.randint(0, 3)):
            begin = start + timedelta(days=rng.randint(-10, 60))
            pauses.append((begin, None if rng.random() < 0.1 else begin + timedelta(days=rng.randint(0, 30))))
        result = add_working_days(start, n, pauses, calendar)
        if result is None:
            assert any(to_day is None for _f, to_day in pauses)
            continue
        assert working_days_between(start, result, pauses, calendar) == n
        # The deadline is itself a counted day: one day earlier, one fewer.
        assert working_days_between(start, result - timedelta(days=1), pauses, calendar) == n - 1
        assert calendar.is_working_day(result)


# --- years the data does not cover --------------------------------------------------------------

def test_uncovered_year_counts_weekends_only():
    # October 2030 has 23 weekdays (Tuesday 1st to Thursday 31st); 国庆 is unknown to the data.
    assert working_days_between(D(2030, 9, 30), D(2030, 10, 31)) == 23
    assert default_calendar().is_working_day(D(2030, 10, 1))
    clock = evaluation_clock(D(2030, 9, 30), today=D(2030, 10, 10))
    assert not clock.calendar_complete and clock.uncovered_years == (2030,)


def test_clock_reaching_into_an_uncovered_year_says_so():
    # Accepted Sunday 2026-12-20: 12-21..12-25 1..5, 12-28..12-31 6..9, then 2027 weekends only:
    # 01-01 Fri 10 (元旦 in reality, unknown yet), 01-04 11, 01-05 12, ... 01-15 Fri 20.
    clock = evaluation_clock(D(2026, 12, 20), today=D(2027, 1, 5))
    assert (clock.used, clock.deadline) == (12, D(2027, 1, 15))
    assert not clock.calendar_complete and clock.uncovered_years == (2027,)
    # Still in 2026: the deadline is in 2027 too, so the result is already incomplete.
    early = evaluation_clock(D(2026, 12, 20), today=D(2026, 12, 22))
    assert early.uncovered_years == (2027,)
    inside = evaluation_clock(D(2026, 3, 2), today=D(2026, 3, 10))
    assert inside.calendar_complete


def test_labels():
    # The suite's autouse fixture pushes an app context whose default locale is zh.
    with force_locale("en"):
        running = evaluation_clock(ACCEPTED, [PAUSE], today=D(2025, 10, 22))
        assert running.label() == "10 of 20 working days left (deadline 2025-11-05)"
        assert evaluation_clock(ACCEPTED, [PAUSE], today=D(2025, 10, 15)).label().startswith("Paused")
        assert evaluation_clock(ACCEPTED, [PAUSE], today=D(2025, 11, 6)).label().startswith("Overdue by 1 ")
        assert "after the deadline" in evaluation_clock(ACCEPTED, [PAUSE], finished_on=D(2025, 11, 6)).label()
        on_time = evaluation_clock(ACCEPTED, [PAUSE], finished_on=D(2025, 11, 5)).label()
        assert on_time == "Finished on 2025-11-05, in 20 of 20 working days"
        incomplete = evaluation_clock(D(2026, 12, 20), today=D(2027, 1, 5)).label()
        assert incomplete.endswith("(public holidays of 2027 not in the calendar: counted with weekends only)")


# --- small calendars and malformed data -----------------------------------------------------------

def test_custom_calendar():
    # A made-up calendar: Monday 2031-03-03 off, Saturday 2031-03-08 worked.
    calendar = Calendar({D(2031, 3, 3): HOLIDAY, D(2031, 3, 8): WORKDAY})
    assert calendar.covered_years == {2031}
    assert not calendar.is_working_day(D(2031, 3, 3)) and calendar.is_working_day(D(2031, 3, 8))
    # Friday 2031-02-28: 03-03 off, 03-04..03-07 1..4, 03-08 Sat 5.
    assert add_working_days(D(2031, 2, 28), 5, calendar=calendar) == D(2031, 3, 8)
    with pytest.raises(HolidayDataError, match="Saturday or Sunday"):
        Calendar({D(2031, 3, 5): WORKDAY})
    with pytest.raises(HolidayDataError, match="unknown kind"):
        Calendar({D(2031, 3, 5): "bridge"})
    with pytest.raises(TypeError):
        calendar.special[D(2031, 3, 4)] = HOLIDAY  # read-only


def test_loader_reads_a_good_file(tmp_path):
    path = tmp_path / "good.csv"
    path.write_text("date,kind,name\n2031-03-03,holiday,测试节\n2031-03-08,workday,测试节\n", encoding="utf-8")
    calendar = load_calendar(str(path))
    assert calendar.names[D(2031, 3, 3)] == "测试节" and calendar.kind(D(2031, 3, 8)) == WORKDAY


@pytest.mark.parametrize(
    "body, message",
    [
        ("date,kind,name\n2031-02-30,holiday,x\n", "line 2: bad date '2031-02-30'"),
        ("date,kind,name\n20310303,holiday,x\n", "bad date"),
        ("date,kind,name\n2031-03-03,bridge,x\n", "line 2: unknown kind 'bridge'"),
        ("date,kind,name\n2031-03-03,holiday,x\n2031-03-03,holiday,y\n", "line 3: duplicate date 2031-03-03"),
        ("date,kind,name\n2031-03-03,holiday,x\n2031-03-05,workday,x\n", "line 3: 2031-03-05 is a workday but not"),
        ("date,kind,name\n2031-03-03,holiday,\n", "has no name"),
        ("date,kind,name\n2031-03-03,holiday,x,extra\n", "more than 3 columns"),
        ("day,kind,name\n2031-03-03,holiday,x\n", "the header must be date,kind,name"),
    ],
)
def test_malformed_file_raises_a_clear_error(tmp_path, body, message):
    path = tmp_path / "bad.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(HolidayDataError) as caught:
        load_calendar(str(path))
    assert "bad.csv" in str(caught.value) and message in str(caught.value)


def test_default_path_is_the_shipped_file():
    assert workdays.PATH.replace("\\", "/").endswith("app/data/holidays_cn.csv")
