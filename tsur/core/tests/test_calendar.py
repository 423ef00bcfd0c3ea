import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tsur.core import calendar
from tsur.core.calendar import (
    PRESIDENTIAL_NON_WORKING_DAYS,
    add_calendar_days,
    add_hours,
    add_working_days,
    is_covered,
    is_working_day,
    next_working_day,
    working_days_between,
)

MSK = ZoneInfo("Europe/Moscow")


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK)


def end_of(y: int, m: int, d: int, tz: ZoneInfo = MSK) -> datetime:
    return datetime.combine(date(y, m, d), time(23, 59, 59, 999999), tzinfo=tz)


# --- the calendar itself -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # 2025: Feb 23 (Sunday) moved to May 8, Mar 8 (Saturday) to Jun 13, Nov 1 (Saturday) to Nov 3.
        (date(2025, 1, 8), False),
        (date(2025, 1, 9), True),
        (date(2025, 2, 24), True),
        (date(2025, 3, 10), True),
        (date(2025, 5, 2), False),
        (date(2025, 5, 8), False),
        (date(2025, 6, 13), False),
        (date(2025, 11, 1), True),  # a working Saturday
        (date(2025, 11, 3), False),
        (date(2025, 11, 4), False),
        (date(2025, 12, 27), False),  # an ordinary Saturday, not a transferred working day
        (date(2025, 12, 31), False),
        # 2026: Jan 3 -> Jan 9, Jan 4 -> Dec 31; weekend holidays Mar 8 and May 9 move to Monday.
        (date(2026, 1, 9), False),
        (date(2026, 1, 12), True),
        (date(2026, 2, 23), False),
        (date(2026, 3, 9), False),
        (date(2026, 5, 11), False),
        (date(2026, 6, 12), False),
        (date(2026, 11, 4), False),
        (date(2026, 12, 31), False),
        (date(2026, 12, 30), True),
        # 2024: three working Saturdays.
        (date(2024, 4, 27), True),
        (date(2024, 11, 2), True),
        (date(2024, 12, 28), True),
        (date(2024, 12, 30), False),
        # 2027: Saturday Feb 20 worked for Monday Feb 22.
        (date(2027, 2, 20), True),
        (date(2027, 2, 22), False),
        (date(2027, 11, 5), False),
        # an ordinary weekend and the days around it
        (date(2025, 10, 3), True),
        (date(2025, 10, 4), False),
        (date(2025, 10, 5), False),
        (date(2025, 10, 6), True),
    ],
)
def test_is_working_day(day, working):
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("year", "norm"),
    [(2020, 248), (2021, 247), (2022, 247), (2023, 247), (2024, 248), (2025, 247), (2026, 247), (2027, 247)],
)
def test_yearly_number_of_working_days_matches_the_official_calendar(year, norm):
    assert working_days_between(date(year - 1, 12, 31), date(year, 12, 31)) == norm


@pytest.mark.parametrize("year", range(2020, 2028))
def test_table_is_consistent(year):
    days_off, worked = calendar._CALENDAR[year]
    assert all(d.weekday() < 5 for d in days_off)
    assert all(d.weekday() >= 5 for d in worked)
    for month, day in calendar._HOLIDAYS:
        holiday = date(year, month, day)
        assert not is_working_day(holiday), holiday


def test_2026_has_no_working_weekends():
    d = date(2026, 1, 1)
    while d.year == 2026:
        if d.weekday() >= 5:
            assert not is_working_day(d), d
        d += timedelta(days=1)


def test_is_working_day_rejects_datetime():
    with pytest.raises(TypeError):
        is_working_day(msk(2025, 11, 1, 10))


def test_next_working_day():
    assert next_working_day(date(2025, 12, 30)) == date(2026, 1, 12)
    assert next_working_day(date(2025, 10, 31)) == date(2025, 11, 1)
    assert next_working_day(date(2025, 11, 1)) == date(2025, 11, 5)
    assert next_working_day(date(2025, 10, 6)) == date(2025, 10, 7)


def test_working_days_between():
    assert working_days_between(date(2025, 12, 30), date(2026, 1, 14)) == 3
    assert working_days_between(date(2025, 12, 29), date(2025, 12, 30)) == 1
    assert working_days_between(date(2025, 12, 30), date(2025, 12, 30)) == 0
    assert working_days_between(date(2026, 1, 14), date(2025, 12, 30)) == -3
    assert working_days_between(date(2025, 10, 31), date(2025, 11, 7)) == 4  # Sat 1, Wed 5, Thu 6, Fri 7


def test_presidential_non_working_days_are_listed_but_not_applied():
    assert date(2020, 4, 15) in PRESIDENTIAL_NON_WORKING_DAYS
    assert date(2020, 7, 1) in PRESIDENTIAL_NON_WORKING_DAYS
    assert date(2021, 11, 2) in PRESIDENTIAL_NON_WORKING_DAYS
    assert is_working_day(date(2020, 4, 15))
    assert is_working_day(date(2020, 7, 1))


# --- fallback years ------------------------------------------------------------------------------


def test_is_covered():
    assert all(is_covered(year) for year in range(2020, 2028))
    assert not is_covered(2019)
    assert not is_covered(2028)


def test_fallback_year_uses_labour_code_holidays():
    assert not is_working_day(date(2028, 1, 3))  # Monday, New Year holidays
    assert not is_working_day(date(2028, 1, 7))
    assert is_working_day(date(2028, 1, 10))
    assert not is_working_day(date(2028, 2, 23))  # Wednesday
    assert not is_working_day(date(2028, 11, 6))  # Monday after Saturday Nov 4
    assert is_working_day(date(2028, 11, 7))
    assert not is_working_day(date(2028, 11, 11))  # plain Saturday
    assert is_working_day(date(2019, 12, 31))
    assert not is_working_day(date(2019, 1, 1))


@pytest.mark.parametrize("year", range(2020, 2028))
def test_fallback_rule_agrees_with_the_decrees(year):
    """The Labour Code rule gives a subset of every decree year's days off, except where 2025 moved them."""
    days_off, _ = calendar._CALENDAR[year]
    missing = calendar._fallback_days_off(year) - days_off
    expected = {date(2025, 2, 24), date(2025, 3, 10)} if year == 2025 else set()
    assert missing == expected


# --- add_working_days ----------------------------------------------------------------------------


def test_add_working_days_across_new_year_holidays():
    # Dec 31 2025 and Jan 1-11 2026 are days off: the three days are Jan 12, 13, 14.
    assert add_working_days(msk(2025, 12, 30, 10), 3) == end_of(2026, 1, 14)
    assert add_working_days(msk(2025, 12, 30, 10), 1) == end_of(2026, 1, 12)


def test_add_working_days_across_may_holidays():
    start = msk(2025, 4, 30, 12)
    assert add_working_days(start, 1) == end_of(2025, 5, 5)
    assert add_working_days(start, 3) == end_of(2025, 5, 7)
    assert add_working_days(start, 4) == end_of(2025, 5, 12)  # May 8-11 off


def test_add_working_days_counts_a_transferred_working_saturday():
    start = msk(2025, 10, 31, 15)
    assert add_working_days(start, 1) == end_of(2025, 11, 1)
    assert add_working_days(start, 2) == end_of(2025, 11, 5)


def test_add_working_days_ordinary_week():
    assert add_working_days(msk(2025, 10, 3, 9), 1) == end_of(2025, 10, 6)  # Friday -> Monday
    assert add_working_days(msk(2025, 10, 6, 23, 59), 5) == end_of(2025, 10, 13)


def test_add_working_days_uses_the_local_date():
    # 22:30 UTC on Sunday Nov 30 is already 01:30 on Monday Dec 1 in Moscow.
    start = datetime(2025, 11, 30, 22, 30, tzinfo=ZoneInfo("UTC"))
    result = add_working_days(start, 1)
    assert result == end_of(2025, 12, 2)
    assert result.tzinfo == MSK
    assert result.utcoffset() == timedelta(hours=3)
    assert result.isoformat() == "2025-12-02T23:59:59.999999+03:00"


def test_add_working_days_other_time_zone():
    yekt = ZoneInfo("Asia/Yekaterinburg")
    assert add_working_days(msk(2025, 10, 3, 9), 1, yekt) == end_of(2025, 10, 6, yekt)
    assert add_working_days(msk(2025, 10, 3, 9), 1, "Asia/Yekaterinburg") == end_of(2025, 10, 6, yekt)


@pytest.mark.parametrize("days", [0, -1])
def test_add_working_days_rejects_non_positive_days(days):
    with pytest.raises(ValueError):
        add_working_days(msk(2025, 10, 3, 9), days)


def test_add_working_days_rejects_naive_datetime():
    with pytest.raises(ValueError):
        add_working_days(datetime(2025, 10, 3, 9), 1)  # noqa: DTZ001


@pytest.mark.parametrize("n", [1, 2, 5, 10, 30])
@pytest.mark.parametrize("start", [msk(2025, 12, 30, 10), msk(2025, 4, 30, 12), msk(2024, 12, 27, 18)])
def test_add_working_days_agrees_with_working_days_between(start, n):
    due = add_working_days(start, n)
    assert is_working_day(due.date())
    assert working_days_between(start.date(), due.date()) == n


# --- add_calendar_days ---------------------------------------------------------------------------


def test_add_calendar_days_ending_on_a_working_day():
    assert add_calendar_days(msk(2025, 10, 1, 10), 30) == end_of(2025, 10, 31)
    assert add_calendar_days(msk(2025, 10, 2, 10), 30) == end_of(2025, 11, 1)  # working Saturday


def test_add_calendar_days_ending_on_a_day_off_moves_forward():
    assert add_calendar_days(msk(2025, 10, 3, 10), 30) == end_of(2025, 11, 5)  # Sun Nov 2, then 3-4 off
    assert add_calendar_days(msk(2025, 12, 1, 10), 30) == end_of(2026, 1, 12)  # Dec 31, then New Year
    assert add_calendar_days(msk(2026, 4, 9, 10), 30) == end_of(2026, 5, 12)  # Sat May 9, Sun, Mon 11 off


def test_add_calendar_days_zero_and_errors():
    assert add_calendar_days(msk(2025, 10, 6, 10), 0) == end_of(2025, 10, 6)
    with pytest.raises(ValueError):
        add_calendar_days(msk(2025, 10, 6, 10), -1)
    with pytest.raises(ValueError):
        add_calendar_days(datetime(2025, 10, 6, 10), 30)  # noqa: DTZ001


# --- add_hours -----------------------------------------------------------------------------------


def test_add_hours_runs_through_holidays():
    assert add_hours(msk(2025, 12, 31, 20), 24) == msk(2026, 1, 1, 20)
    assert add_hours(msk(2025, 12, 31, 20), 4).tzinfo == MSK


def test_add_hours_is_elapsed_time_across_dst():
    ny = ZoneInfo("America/New_York")
    result = add_hours(datetime(2025, 3, 8, 12, tzinfo=ny), 24)
    assert result.isoformat() == "2025-03-09T13:00:00-04:00"


def test_add_hours_rejects_naive_and_negative():
    with pytest.raises(ValueError):
        add_hours(datetime(2025, 10, 6, 10), 4)  # noqa: DTZ001
    with pytest.raises(ValueError):
        add_hours(msk(2025, 10, 6, 10), -1)


def test_working_days_between_counts_long_spans_as_day_by_day_would():
    # years apart (an appeal overdue since long ago), across leap years and the calendar's edge
    rng = random.Random(11)
    start = date(2018, 1, 1)
    for _ in range(300):
        a = start + timedelta(days=rng.randrange(0, 4000))
        b = a + timedelta(days=rng.randrange(-1500, 1500))
        step = timedelta(days=1) if b >= a else timedelta(days=-1)
        d, expected = a, 0
        while d != b:
            d += step
            expected += is_working_day(d if step.days > 0 else d + timedelta(days=1))
        assert working_days_between(a, b) == (expected if b >= a else -expected), (a, b)
