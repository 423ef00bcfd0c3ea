"""Regulated deadlines of an appeal, computed on the Russian production calendar.

The clock starts at registration (or at redirection, for the new organisation), stops while the
organisation waits for the citizen, and never runs past the 59-ФЗ maximum of 30 days plus one lawful
extension of 30 days.

A channel may carry the region's own rule for the first reply (`ChannelRegulation`: a social post is
answered within 9 working hours, 4 when urgent, and after an interim answer the work takes at most
7 more days); it is read through `regulations`, remembered for seconds like the rubricator.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from tsur.core import calendar, memo

from .choices import RUNNING_STATUSES, DeadlineState, DeadlineUnit, Priority
from .regulation_models import ChannelRegulation

LEGAL_DAYS = 30
LEGAL_EXTENSION_DAYS = 30
URGENT = frozenset({Priority.HIGH, Priority.CRITICAL})


def _load_regulations() -> dict[str, ChannelRegulation]:
    return {r.channel: r for r in ChannelRegulation.objects.filter(is_active=True)}


regulations = memo.Remembered(_load_regulations, ttl=30)


def regulation_for(channel: str) -> ChannelRegulation | None:
    return regulations.get().get(channel)


def due_after(start: datetime, amount: int, unit: str) -> datetime:
    if unit == DeadlineUnit.HOURS:
        return calendar.add_hours(start, amount)
    if unit == DeadlineUnit.WORKING_DAYS:
        return calendar.add_working_days(start, amount, settings.TIME_ZONE)
    if unit == DeadlineUnit.CALENDAR_DAYS:
        return calendar.add_calendar_days(start, amount, settings.TIME_ZONE)
    raise ValueError(f"unknown deadline unit {unit!r}")


def legal_limit(appeal, *, extended: bool | None = None) -> datetime:
    """The latest lawful resolution deadline for the current organisation."""
    extended = bool(appeal.extension_reason) if extended is None else extended
    days = LEGAL_DAYS + (LEGAL_EXTENSION_DAYS if extended else 0)
    return calendar.add_calendar_days(appeal.clock_started_at, days, settings.TIME_ZONE) + timedelta(
        seconds=appeal.paused_seconds
    )


def start_clock(appeal, at: datetime) -> None:
    """(Re)compute both deadlines from the topic's regulation, starting at `at`."""
    appeal.clock_started_at = at
    appeal.paused_seconds = 0
    appeal.extension_reason = ""
    topic = appeal.topic
    regulation = regulation_for(appeal.channel)
    if topic is None:
        appeal.first_response_due = None
        appeal.resolution_due = legal_limit(appeal)
    else:
        resolution = min(due_after(at, topic.resolution_amount, topic.resolution_unit), legal_limit(appeal))
        appeal.resolution_due = resolution
        if appeal.first_responded_at is None:
            appeal.first_response_due = min(
                due_after(at, topic.first_response_amount, topic.first_response_unit), resolution
            )
    if regulation is not None and appeal.first_responded_at is None:
        hours = (
            regulation.urgent_first_response_hours
            if appeal.priority in URGENT
            else regulation.first_response_hours
        )
        appeal.first_response_due = min(
            calendar.add_working_hours(at, hours, settings.TIME_ZONE), appeal.resolution_due
        )


def after_interim(appeal, at: datetime) -> datetime | None:
    """The latest resolution after an interim answer given at `at` on a channel whose rule limits it
    (None where no rule does)."""
    regulation = regulation_for(appeal.channel)
    if regulation is None:
        return None
    limit = calendar.add_hours(at, regulation.after_interim_days * 24)
    return min(limit, legal_limit(appeal))


def shift_for_pause(appeal, resumed_at: datetime) -> int:
    """End a pause: every running deadline moves by the time spent waiting for the citizen."""
    if appeal.paused_since is None:
        return 0
    seconds = max(0, int((resumed_at - appeal.paused_since).total_seconds()))
    delta = timedelta(seconds=seconds)
    appeal.paused_seconds += seconds
    appeal.paused_since = None
    if appeal.resolution_due:
        appeal.resolution_due += delta
    if appeal.first_response_due and appeal.first_responded_at is None:
        appeal.first_response_due += delta
    return seconds


def state_at(appeal, now: datetime) -> str:
    """«в срок», «срок истекает» (the last share of the period) or «просрочено»."""
    due = appeal.resolution_due
    if due is None:
        return DeadlineState.OK
    if appeal.first_responded_at is None and appeal.first_response_due and now > appeal.first_response_due:
        return DeadlineState.OVERDUE
    if now > due:
        return DeadlineState.OVERDUE
    period = (due - appeal.clock_started_at).total_seconds() - appeal.paused_seconds
    share = settings.TSUR["DEADLINE_WARNING_SHARE"]
    if (due - now).total_seconds() <= max(period * share, 3600):
        return DeadlineState.SOON
    return DeadlineState.OK


def overdue_now(now: datetime, prefix: str = "", *, responded: str = "first_responded_at") -> Q:
    """«Просрочено» as of `now`, for a query: the clock running against the organisation (open, not
    waiting for the citizen) and the resolution deadline passed, or the first-response deadline
    passed with no first response yet — what `state_at` says of one appeal.

    Every count and list of overdue appeals reads this (the console's and the organisation's queues,
    the overview, the wall screen, the KPIs and their reports): they agree with each other at any
    moment. `Appeal.deadline_state` is the job worker's record of what it escalated, brought up to
    date every few minutes; it is shown on an appeal but nothing is counted by it.

    `prefix` reaches the fields through a relation; `responded` names the first response's field
    (the KPIs' facts call it `first_response_at`)."""

    def q(**lookups) -> Q:
        return Q(**{prefix + k: v for k, v in lookups.items()})

    return q(status__in=sorted(RUNNING_STATUSES)) & (
        q(resolution_due__lt=now) | q(**{f"{responded}__isnull": True, "first_response_due__lt": now})
    )


def in_state(state: str, now: datetime) -> Q:
    """The appeals in a deadline state now, for a query: «просрочено» as `overdue_now` says;
    «срок истекает» and «в срок» as the job worker last marked them, less those overdue since."""
    overdue = overdue_now(now)
    if state == DeadlineState.OVERDUE:
        return overdue
    if state == DeadlineState.SOON:
        return Q(deadline_state=DeadlineState.SOON) & ~overdue
    return ~Q(deadline_state=DeadlineState.SOON) & ~overdue


@dataclass(frozen=True)
class Countdown:
    """What is left of a deadline in working time: whole working days when the deadline is on a
    later day, clock hours on its own day; negative once it has passed."""

    working_days: int
    hours: int
    overdue: bool
    state: str


def countdown(appeal, now: datetime) -> Countdown | None:
    """The time left to the resolution deadline on the production calendar (None without one, or
    while the clock stands waiting for the citizen)."""
    due = appeal.resolution_due
    if due is None or appeal.paused_since is not None:
        return None
    zone = ZoneInfo(settings.TIME_ZONE)
    today, due_day = now.astimezone(zone).date(), due.astimezone(zone).date()
    days = calendar.working_days_between(today, due_day)
    hours = int(abs((due - now).total_seconds()) // 3600)
    return Countdown(days, hours, now > due, state_at(appeal, now))
