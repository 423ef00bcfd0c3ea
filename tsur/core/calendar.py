"""The Russian production calendar (производственный календарь) and deadline arithmetic on it.

Which days are working days in Russia is fixed by three layers of rules:

* Article 112 of the Labour Code lists the non-working holidays: 1-6 and 8 January (New Year holidays),
  7 January (Christmas), 23 February, 8 March, 1 May, 9 May, 12 June and 4 November. When one of them
  falls on a Saturday or Sunday, the day off moves to the next working day, except for the January
  holidays: for those the Government moves two of the lost days off to other dates of the year.
* Every year the Government adopts a decree «О переносе выходных дней в <год> году» that does the January
  moves and may move other days off, sometimes making a Saturday a working day in exchange.
* In 2020 and 2021 the President also declared extra «нерабочие дни» because of COVID-19 and for the
  2020 parade and vote. They are not part of the production calendar and are not applied here; see
  ``PRESIDENTIAL_NON_WORKING_DAYS`` below.

The table ``_CALENDAR`` encodes the outcome of the first two layers for 2020-2027, following these
Government decrees on the transfer of days off:

* 2020 - decree of 10 July 2019;
* 2021 - decree of 10 October 2020;
* 2022 - decree No. 1564 of 16 September 2021;
* 2023 - decree No. 1505 of 29 August 2022;
* 2024 - decree No. 1314 of 10 August 2023;
* 2025 - decree No. 1335 of 4 October 2024;
* 2026 - decree No. 1466 of 24 September 2025;
* 2027 - decree No. 1187 of 17 September 2026.

Each year's entry holds the weekdays that are not worked (holidays and transferred days off) and the
weekend days that are worked (transferred working days). Every year reproduces the official annual
number of working days of the five-day week; the tests check it. Pre-holiday shortened days do not
matter for deadlines and are not recorded.

For any other year ``is_covered()`` returns False and the calendar falls back to the Labour Code alone:
Monday to Friday, minus the Article 112 holidays, with a weekend holiday outside January moved to the
next working day. The fallback cannot know the Government's transfers, so a new year's decree has to be
added to ``_CALENDAR`` when it is published (usually in the autumn of the preceding year).

Deadline helpers follow the usual rule of the Civil Code (art. 191 and 193): a period counted in days
starts on the day after the event, and a period that ends on a non-working day ends on the next working
day. Deadlines are returned as the last microsecond of the final local day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "DEFAULT_TZ",
    "PRESIDENTIAL_NON_WORKING_DAYS",
    "add_calendar_days",
    "add_hours",
    "add_working_days",
    "add_working_hours",
    "is_covered",
    "is_working_day",
    "next_working_day",
    "working_days_between",
]

DEFAULT_TZ = "Europe/Moscow"

_ONE_DAY = timedelta(days=1)

# Article 112 of the Labour Code: (month, day) of every non-working holiday.
_HOLIDAYS = (
    (1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (1, 6), (1, 7), (1, 8),
    (2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4),
)  # fmt: skip

# year -> ("MM-DD ..." weekdays that are days off, "MM-DD ..." Saturdays/Sundays that are working days).
_RAW: dict[int, tuple[str, str]] = {
    # Jan 4-5 moved to May 4-5; Feb 23, Mar 8, May 9 fell on weekends and moved to the next Monday.
    2020: ("01-01 01-02 01-03 01-06 01-07 01-08 02-24 03-09 05-01 05-04 05-05 05-11 06-12 11-04", ""),
    # Jan 2 -> Nov 5, Jan 3 -> Dec 31, Saturday Feb 20 worked for Monday Feb 22.
    2021: (
        "01-01 01-04 01-05 01-06 01-07 01-08 02-22 02-23 03-08 05-03 05-10 06-14 11-04 11-05 12-31",
        "02-20",
    ),
    # Jan 1 -> May 3, Jan 2 -> May 10, Saturday Mar 5 worked for Monday Mar 7.
    2022: ("01-03 01-04 01-05 01-06 01-07 02-23 03-07 03-08 05-02 05-03 05-09 05-10 06-13 11-04", "03-05"),
    # Jan 1 -> Feb 24, Jan 8 -> May 8; Nov 4 fell on a Saturday.
    2023: ("01-02 01-03 01-04 01-05 01-06 02-23 02-24 03-08 05-01 05-08 05-09 06-12 11-06", ""),
    # Jan 6 -> May 10, Jan 7 -> Dec 31; Saturdays Apr 27, Nov 2, Dec 28 worked for Apr 29, Apr 30, Dec 30.
    2024: (
        "01-01 01-02 01-03 01-04 01-05 01-08 02-23 03-08 04-29 04-30 05-01 05-09 05-10 06-12 11-04"
        " 12-30 12-31",
        "04-27 11-02 12-28",
    ),
    # Jan 4 -> May 2, Jan 5 -> Dec 31, Feb 23 -> May 8, Mar 8 -> Jun 13; Saturday Nov 1 worked for Nov 3.
    2025: (
        "01-01 01-02 01-03 01-06 01-07 01-08 05-01 05-02 05-08 05-09 06-12 06-13 11-03 11-04 12-31",
        "11-01",
    ),
    # Jan 3 -> Jan 9, Jan 4 -> Dec 31; Mar 8 and May 9 fell on weekends.
    2026: ("01-01 01-02 01-05 01-06 01-07 01-08 01-09 02-23 03-09 05-01 05-11 06-12 11-04 12-31", ""),
    # Jan 2 -> Nov 5, Jan 3 -> Dec 31, Saturday Feb 20 worked for Monday Feb 22.
    2027: (
        "01-01 01-04 01-05 01-06 01-07 01-08 02-22 02-23 03-08 05-03 05-10 06-14 11-04 11-05 12-31",
        "02-20",
    ),
}


def _dates(year: int, spec: str) -> frozenset[date]:
    return frozenset(date(year, int(mm), int(dd)) for mm, dd in (item.split("-") for item in spec.split()))


# year -> (weekdays that are days off, weekend days that are working days)
_CALENDAR: dict[int, tuple[frozenset[date], frozenset[date]]] = {
    year: (_dates(year, off), _dates(year, worked)) for year, (off, worked) in _RAW.items()
}


def _date_range(first: date, last: date) -> frozenset[date]:
    return frozenset(first + timedelta(days=n) for n in range((last - first).days + 1))


#: Days the President declared non-working with pay kept (COVID-19 in spring 2020, May 2021 and
#: autumn 2021; the Victory parade on 24 June 2020; the constitutional vote on 1 July 2020).
#: They are listed for reference only and are NOT treated as days off by this module: they were not
#: weekends or holidays of the production calendar, the Supreme Court's COVID-19 review No. 1 of
#: 21 April 2020 took the view that they do not by themselves move the end of a period, and regional
#: management centres kept working through them.
PRESIDENTIAL_NON_WORKING_DAYS: frozenset[date] = (
    _date_range(date(2020, 3, 30), date(2020, 4, 30))
    | _date_range(date(2020, 5, 6), date(2020, 5, 8))
    | {date(2020, 6, 24), date(2020, 7, 1)}
    | _date_range(date(2021, 5, 4), date(2021, 5, 7))
    | _date_range(date(2021, 10, 30), date(2021, 11, 7))
)


def is_covered(year: int) -> bool:
    """Whether ``year`` is in the table of Government decrees (2020-2027).

    For other years the answers come from the Labour Code fallback and may miss that year's transfers.
    """
    return year in _CALENDAR


@lru_cache(maxsize=64)
def _fallback_days_off(year: int) -> frozenset[date]:
    """Weekdays off by Article 112 alone: the holidays, plus weekend holidays moved to the next working day.

    January holidays that fall on a weekend are not moved: the Labour Code leaves them to the decree.
    """
    holidays = sorted(date(year, month, day) for month, day in _HOLIDAYS)
    off = {h for h in holidays if h.weekday() < 5}
    for holiday in holidays:
        if holiday.weekday() >= 5 and holiday.month != 1:
            moved = holiday + _ONE_DAY
            while moved.weekday() >= 5 or moved in off:
                moved += _ONE_DAY
            off.add(moved)
    return frozenset(off)


def is_working_day(d: date) -> bool:
    """Whether ``d`` is a working day of the five-day week under the production calendar."""
    if isinstance(d, datetime):
        raise TypeError("is_working_day() takes a date, not a datetime")
    days_off, worked = _CALENDAR.get(d.year) or (_fallback_days_off(d.year), frozenset())
    if d in worked:
        return True
    return d.weekday() < 5 and d not in days_off


def next_working_day(d: date) -> date:
    """The first working day strictly after ``d``."""
    d += _ONE_DAY
    while not is_working_day(d):
        d += _ONE_DAY
    return d


def working_days_between(a: date, b: date) -> int:
    """The number of working days in the half-open interval (a, b].

    Zero when ``a == b``; negative (minus the count in (b, a]) when ``b`` is before ``a``, so that the
    counts over consecutive intervals add up.
    """
    if b < a:
        return -working_days_between(b, a)
    if a.year == b.year:
        return _working_days_through(b) - _working_days_through(a)
    count = _year_working_days(a.year) - _working_days_through(a) + _working_days_through(b)
    return count + sum(_year_working_days(year) for year in range(a.year + 1, b.year))


@lru_cache(maxsize=64)
def _running_count(year: int) -> tuple[int, ...]:
    """For each day of the year, the working days from 1 January up to it, inclusive: a queue of
    appeals overdue since years is counted in a few lookups, not day by day."""
    counts, total, d = [], 0, date(year, 1, 1)
    while d.year == year:
        total += is_working_day(d)
        counts.append(total)
        d += _ONE_DAY
    return tuple(counts)


def _working_days_through(d: date) -> int:
    return _running_count(d.year)[d.timetuple().tm_yday - 1]


def _year_working_days(year: int) -> int:
    return _running_count(year)[-1]


def _zone(tz: ZoneInfo | str) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def _require_aware(start: datetime) -> None:
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be an aware datetime")


def _end_of_day(d: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(d, time.max, tzinfo=zone)


def add_working_days(start: datetime, days: int, tz: ZoneInfo | str = DEFAULT_TZ) -> datetime:
    """The deadline «N working days» from ``start``.

    Counting starts on the day after the local date of ``start`` in ``tz``; the deadline is the end
    (23:59:59.999999 local time) of the ``days``-th working day, as an aware datetime in ``tz``.

    Raises ValueError for a naive ``start`` or for ``days`` < 1.
    """
    _require_aware(start)
    if days < 1:
        raise ValueError("days must be at least 1")
    zone = _zone(tz)
    d = start.astimezone(zone).date()
    for _ in range(days):
        d = next_working_day(d)
    return _end_of_day(d, zone)


def add_calendar_days(start: datetime, days: int, tz: ZoneInfo | str = DEFAULT_TZ) -> datetime:
    """The deadline «N calendar days» from ``start``.

    The end (23:59:59.999999 local time in ``tz``) of the day ``days`` calendar days after the local
    date of ``start``; if that day is not a working day, the end of the next working day instead.
    ``days`` = 0 means the start's own day.

    Raises ValueError for a naive ``start`` or for negative ``days``.
    """
    _require_aware(start)
    if days < 0:
        raise ValueError("days must not be negative")
    zone = _zone(tz)
    d = start.astimezone(zone).date() + timedelta(days=days)
    if not is_working_day(d):
        d = next_working_day(d)
    return _end_of_day(d, zone)


def add_hours(start: datetime, hours: float) -> datetime:
    """The deadline «N hours» from ``start``: elapsed clock time, with no regard to days off.

    The result is in the time zone of ``start``. Raises ValueError for a naive ``start`` or negative
    ``hours``.
    """
    _require_aware(start)
    if hours < 0:
        raise ValueError("hours must not be negative")
    return (start.astimezone(UTC) + timedelta(hours=hours)).astimezone(start.tzinfo)


WORKING_DAY = (time(9), time(18))  # the hours of a working day that «N рабочих часов» counts


def add_working_hours(
    start: datetime, hours: float, tz: ZoneInfo | str = DEFAULT_TZ, day: tuple[time, time] = WORKING_DAY
) -> datetime:
    """The deadline «N working hours» from ``start``: only the hours from ``day[0]`` to ``day[1]`` of
    working days count (9:00-18:00 local by default, so 9 working hours are one working day). A start
    outside working hours counts from the next opening; a deadline that falls exactly on the close of
    a day stays on that day.

    Raises ValueError for a naive ``start`` or negative ``hours``.
    """
    _require_aware(start)
    if hours < 0:
        raise ValueError("hours must not be negative")
    zone = _zone(tz)
    local = start.astimezone(zone)
    left = timedelta(hours=hours)
    d = local.date()
    opens, closes = day
    cursor = local
    while True:
        if is_working_day(d):
            day_open = datetime.combine(d, opens, tzinfo=zone)
            day_close = datetime.combine(d, closes, tzinfo=zone)
            begin = max(cursor, day_open)
            if begin < day_close:
                if begin + left <= day_close:
                    return begin + left
                left -= day_close - begin
        d += _ONE_DAY
        cursor = datetime.combine(d, opens, tzinfo=zone)
