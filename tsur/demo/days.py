"""The production calendar as arrays, for deadlines of many appeals at once.

The same rules as tsur.core.calendar and tsur.appeals.deadlines (the generator's tests compare both
on many moments): a period in working days ends at the end of the n-th working day after the local
date of its start; in calendar days, at the end of the day n days later or of the next working day;
in hours, n clock hours later. Moments are microseconds since the Unix epoch (UTC).
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from tsur.appeals.choices import DeadlineUnit
from tsur.core import calendar

US = 1_000_000
HOUR = 3600 * US
DAY = 24 * HOUR


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(value))


class Days:
    """Local days from `first` to `last` (inclusive) in `zone`, with what deadlines need of each."""

    def __init__(self, first: date, last: date, zone: str):
        self.zone = ZoneInfo(zone)
        self.first = first
        count = (last - first).days + 1
        dates = [first + timedelta(days=i) for i in range(count)]
        self.dates = dates
        self.working = np.array([calendar.is_working_day(d) for d in dates], dtype=bool)
        # local midnight and the last microsecond of each day, in UTC microseconds
        self.start = np.array([to_us(datetime.combine(d, time.min, tzinfo=self.zone)) for d in dates])
        self.end = np.array([to_us(datetime.combine(d, time.max, tzinfo=self.zone)) for d in dates])
        self.working_index = np.flatnonzero(self.working)
        # working days up to and including each day
        self.worked_through = np.cumsum(self.working)
        self.year = np.array([d.year for d in dates])
        self.weekday = np.array([d.weekday() for d in dates])
        self.day_of_year = np.array([d.timetuple().tm_yday for d in dates])

    def day_of(self, moments: np.ndarray) -> np.ndarray:
        """The local day (index) of each moment."""
        index = np.searchsorted(self.start, moments, side="right") - 1
        if (index < 0).any() or (index >= len(self.start)).any():
            raise ValueError("a moment outside the calendar's days")
        return index

    def _next_working(self, days: np.ndarray) -> np.ndarray:
        """The first working day strictly after each day."""
        return self.working_index[self.worked_through[days]]

    def add_working_days(self, moments: np.ndarray, amounts: np.ndarray) -> np.ndarray:
        days = self.day_of(moments)
        target = self.working_index[self.worked_through[days] + np.asarray(amounts) - 1]
        return self.end[target]

    def add_calendar_days(self, moments: np.ndarray, amounts) -> np.ndarray:
        days = self.day_of(moments) + np.asarray(amounts)
        days = np.where(self.working[days], days, self._next_working(days))
        return self.end[days]

    def due_after(self, moments: np.ndarray, amounts: np.ndarray, units: np.ndarray) -> np.ndarray:
        """deadlines.due_after for arrays: `units` holds DeadlineUnit values."""
        amounts = np.asarray(amounts, dtype=np.int64)
        result = moments + amounts * HOUR
        working = units == DeadlineUnit.WORKING_DAYS
        if working.any():
            result = np.where(working, self.add_working_days(moments, np.maximum(amounts, 1)), result)
        days = units == DeadlineUnit.CALENDAR_DAYS
        if days.any():
            result = np.where(days, self.add_calendar_days(moments, amounts), result)
        return result

    def legal_limit(self, clock_started: np.ndarray, paused_seconds, extended) -> np.ndarray:
        days = np.where(extended, 60, 30)
        return self.add_calendar_days(clock_started, days) + np.asarray(paused_seconds) * US
