"""Timelines of many appeals at once: what the lifecycle would have written for each of them.

Every appeal goes the way the actions take it (tsur.appeals.actions), with the rates below: routed
by the model at intake or by an operator after moderation (some refused there), taken, sometimes
redirected to the right organisation (a fresh clock), asked for a clarification (the clock stands),
given an interim answer, extended once; answered after the hours a real appeal of the export took;
then accepted, rated, reopened and answered again, or closed automatically. The job worker's marks
(«срок истекает», «просрочено» with the escalation) fall on its five-minute runs. Steps after `now`
have not happened: those appeals are still open, in the status their last step left.

To keep each appeal's timeline what the actions would write without replaying them, the steps
that move a deadline (redirection, clarification, extension) come before the deadline's warning
window, and a reopened appeal is answered again within its new period (so its marks are those of the
final period only). Times are microseconds since the Unix epoch.
"""

from dataclasses import dataclass, field

import numpy as np

from tsur.appeals.choices import CloseReason, DeadlineState, Status

from .days import DAY, HOUR, US, Days

MINUTE = 60 * US
JOB_EVERY = 5 * MINUTE  # tsur.appeals.tasks.check_deadlines: crontab(minute="*/5")
AUTOCLOSE_MINUTE = 17 * MINUTE  # tasks.close_unanswered: crontab(minute="17")


@dataclass
class Rates:
    """How often each turn happens (shares of appeals), after the real portal's figures where the
    export has them (answer times, answered share) and the region's practice elsewhere."""

    automatic: float = 0.62  # routed by the model with no person's step
    rejected: float = 0.03  # of those moderated: refused (spam, not an appeal)
    redirected: float = 0.06  # the first organisation was wrong
    clarification: float = 0.05
    interim: float = 0.10
    interim_when_late: float = 0.6  # of those whose answer comes after the first-response deadline
    extended: float = 0.04
    satisfied: float = 0.38  # the author accepts the answer
    controller: float = 0.01  # a public controller confirms it
    reopened: float = 0.05  # the author reopens it: not solved
    rated: float = 0.30
    ratings: tuple = (0.12, 0.08, 0.15, 0.25, 0.40)  # marks 1..5


@dataclass
class Batch:
    """Inputs of one batch: per appeal, its registration moment and what the sampled real appeal
    says (topic's regulation, organisations, the hours to its answer)."""

    registered: np.ndarray
    first_amount: np.ndarray
    first_unit: np.ndarray
    resolution_amount: np.ndarray
    resolution_unit: np.ndarray
    organisation: np.ndarray  # the right organisation
    wrong_organisation: np.ndarray  # where a redirected appeal went first
    answer_hours: np.ndarray  # hours from registration to the answer (NaN: the real one had none)


@dataclass
class Result:
    appeal: dict  # what the appeal's row holds now, field -> array
    steps: dict  # step -> (moment, on the appeal's path)
    happened: dict  # step -> it happened before now
    values: dict = field(default_factory=dict)  # what the events' data need


def _lognormal(rng, median_us: float, sigma: float, n: int) -> np.ndarray:
    return (median_us * np.exp(sigma * rng.standard_normal(n))).astype(np.int64)


def _next_run(moments: np.ndarray, every: int = JOB_EVERY, offset: int = 0, strictly: bool = False):
    """The first run of a periodic job at or after (strictly after) each moment."""
    shifted = moments - offset - (0 if strictly else 1)
    return (shifted // every + 1) * every + offset


def simulate(
    batch: Batch, days: Days, now: int, rng: np.random.Generator, rates: Rates, share: float
) -> Result:
    n = len(batch.registered)
    never = np.iinfo(np.int64).max // 4
    reg = batch.registered
    u = rng.random

    automatic = u(n) < rates.automatic
    assigned_at = np.where(
        automatic, reg, reg + np.clip(_lognormal(rng, 35 * MINUTE, 1.0, n), MINUTE, 8 * HOUR)
    )
    rejected = ~automatic & (u(n) < rates.rejected)
    worked = ~rejected
    take1 = assigned_at + np.clip(_lognormal(rng, 150 * MINUTE, 1.2, n), MINUTE, 2 * DAY)

    def clock(start):
        resolution = np.minimum(
            days.due_after(start, batch.resolution_amount, batch.resolution_unit),
            days.legal_limit(start, 0, False),
        )
        first = np.minimum(days.due_after(start, batch.first_amount, batch.first_unit), resolution)
        return first, resolution

    def warning(start, due, paused_us):
        return due - np.maximum(((due - start - paused_us) * share).astype(np.int64), HOUR)

    first_due1, due1 = clock(reg)
    room1 = np.minimum(first_due1, warning(reg, due1, 0)) - take1
    redirected = worked & (u(n) < rates.redirected) & (room1 > 20 * MINUTE)
    redirect_at = take1 + (u(n) * 0.5 * np.maximum(room1, 0)).astype(np.int64)
    take2 = redirect_at + np.clip(_lognormal(rng, 150 * MINUTE, 1.2, n), MINUTE, 2 * DAY)
    start = np.where(redirected, redirect_at, reg)
    first_due, due = clock(start)
    first_due = np.where(redirected, first_due, first_due1)
    due = np.where(redirected, due, due1)
    base_due = due
    take = np.where(redirected, take2, take1)
    first_organisation = np.where(redirected, batch.wrong_organisation, batch.organisation)

    # a clarification asked early: it is the first response, and the clock stands until the reply
    room = np.minimum(first_due, warning(start, due, 0)) - take
    clarified = worked & (u(n) < rates.clarification) & (room > 20 * MINUTE)
    clarify_at = take + (u(n) * 0.5 * np.maximum(room, 0)).astype(np.int64)
    pause_s = np.where(clarified, np.clip(_lognormal(rng, 36 * HOUR, 1.0, n), 10 * MINUTE, 20 * DAY) // US, 0)
    resume = np.where(clarified, clarify_at + pause_s * US, take)
    due = due + pause_s * US
    due_paused = due
    soon_at = warning(start, due, pause_s * US)

    # an extension before the warning window, by ten working days, within the 59-ФЗ limit
    extend_at = resume + np.clip(_lognormal(rng, 6 * HOUR, 1.0, n), MINUTE, 5 * DAY)
    extend_to = np.minimum(
        days.add_working_days(np.minimum(due, days.end[-40]), np.full(n, 10)),
        days.legal_limit(start, pause_s, True),
    )
    extended = worked & (u(n) < rates.extended) & (extend_at < soon_at) & (extend_to > due)
    due = np.where(extended, extend_to, due)
    soon_at = warning(start, due, pause_s * US)

    # the answer, after the hours the real appeal took (the clock's pause added)
    hours = np.where(np.isnan(batch.answer_hours), rng.exponential(700, n), batch.answer_hours)
    answered_at = reg + (hours * np.exp(0.25 * rng.standard_normal(n)) * HOUR).astype(np.int64) + pause_s * US
    earliest = np.maximum.reduce([take, resume, np.where(extended, extend_at, 0)]) + 10 * MINUTE
    answered_at = np.maximum(answered_at, earliest)
    # an interim answer; most organisations that cannot answer in time for the first response give one
    late = answered_at > first_due
    fr_room = np.minimum(first_due, answered_at) - resume
    in_time = late & (u(n) < rates.interim_when_late) & (fr_room > 20 * MINUTE)
    interim = worked & (in_time | (u(n) < rates.interim))
    interim_at = np.where(
        in_time,
        resume + ((0.3 + 0.6 * u(n)) * np.maximum(fr_room, 0)).astype(np.int64),
        resume + ((0.2 + 0.4 * u(n)) * (answered_at - resume)).astype(np.int64),
    )
    planned_at = answered_at + np.clip(_lognormal(rng, 3 * DAY, 0.7, n), HOUR, 30 * DAY)
    first_response = np.minimum.reduce(
        [answered_at, np.where(clarified, clarify_at, never), np.where(interim, interim_at, never)]
    )

    # after the answer: accepted, confirmed, reopened (and answered again), rated, or closed alone
    outcome = u(n)
    satisfied = outcome < rates.satisfied
    controller = (outcome >= rates.satisfied) & (outcome < rates.satisfied + rates.controller)
    reopened = worked & (outcome >= 1 - rates.reopened)
    reaction = np.clip(_lognormal(rng, DAY, 1.0, n), 10 * MINUTE, 9 * DAY)
    # the clock runs for every appeal: an answer more than a year ahead (never reopened before now)
    # is reopened a year ahead here, inside the calendar's days
    reopen_at = np.minimum(answered_at, now + 365 * DAY) + reaction
    first2, due2 = clock(reopen_at)
    answered2_at = reopen_at + (u(n) * 0.8 * (warning(reopen_at, due2, 0) - reopen_at)).astype(np.int64)
    last_answer = np.where(reopened, answered2_at, answered_at)
    autoclose_at = _next_run(last_answer + 10 * DAY, every=HOUR, offset=AUTOCLOSE_MINUTE)
    close_at = np.where(satisfied | controller, last_answer + reaction, autoclose_at)
    close_how = np.where(satisfied, 0, np.where(controller, 1, 2))  # CLOSE_HOW
    rated = worked & ~reopened & (u(n) < rates.rated)
    rating = rng.choice(5, size=n, p=np.asarray(rates.ratings)) + 1
    rated_at = answered_at + np.clip(_lognormal(rng, 20 * HOUR, 1.0, n), 5 * MINUTE, 20 * DAY)

    # the job worker's marks on the final period (deadlines moved only before its warning window):
    # a run raises a state with an event, lowers one quietly, and leaves an unchanged one alone
    fr_mark = _next_run(first_due, strictly=True)
    fr_missed = worked & (first_response > first_due) & (fr_mark < first_response)
    lowered_at = _next_run(first_response)  # the run that sees the first response

    def fr_overdue_stored(t):
        return fr_missed & (fr_mark <= t) & (lowered_at >= t)

    soon_mark = _next_run(soon_at)
    computed_soon = ~((first_response > soon_mark) & (soon_mark > first_due)) & (soon_mark <= due)
    soon = worked & (soon_mark < answered_at) & computed_soon & ~fr_overdue_stored(soon_mark)
    overdue_mark = _next_run(due, strictly=True)
    overdue = worked & (overdue_mark < answered_at) & ~fr_overdue_stored(overdue_mark)

    steps = {
        "assigned": (assigned_at, ~rejected),
        "rejected": (assigned_at, rejected),
        "taken1": (take1, worked),
        "redirected": (redirect_at, redirected),
        "taken2": (take2, redirected),
        "clarified": (clarify_at, clarified),
        "replied": (resume, clarified),
        "extended": (extend_at, extended),
        "interim": (interim_at, interim),
        "fr_overdue": (fr_mark, fr_missed),
        "soon": (soon_mark, soon),
        "overdue": (overdue_mark, overdue),
        "answered": (answered_at, worked),
        "reopened": (reopen_at, reopened),
        "answered2": (answered2_at, reopened),
        "closed": (close_at, worked),
        "rated": (rated_at, rated),
    }
    # a step happened if it is on the appeal's path, not in the future, and what leads to it happened
    happened = {}
    chain = np.ones(n, dtype=bool)
    for name in ("assigned", "rejected", "taken1", "redirected", "taken2", "clarified", "replied"):
        at, on_path = steps[name]
        happened[name] = on_path & (at <= now) & chain
        chain &= ~on_path | happened[name]
    for name in ("extended", "interim", "fr_overdue", "soon", "overdue"):
        at, on_path = steps[name]
        happened[name] = on_path & (at <= now) & chain
    for name in ("answered", "reopened", "answered2", "closed"):
        at, on_path = steps[name]
        happened[name] = on_path & (at <= now) & chain
        chain &= ~on_path | happened[name]
    happened["rated"] = rated & (rated_at <= now) & happened["answered"]

    def status_at(t):
        """The status (its index in STATUSES) at moments of the final period before the answer."""
        s = np.where(t < take, CODE[Status.ASSIGNED], CODE[Status.IN_WORK])
        s = np.where(clarified & (clarify_at <= t) & (t < resume), CODE[Status.CLARIFICATION], s)
        return np.where(interim & (interim_at <= t), CODE[Status.INTERIM], s)

    status = np.where(automatic, CODE[Status.ASSIGNED], CODE[Status.MODERATION])
    for name, to in STATUS_AFTER:
        status = np.where(happened[name], CODE[to], status)

    # the deadlines as they stand now
    in_first_org = redirected & ~happened["redirected"]
    paused_us = np.where(happened["replied"], pause_s * US, 0)
    due_now = np.where(in_first_org, due1, base_due + paused_us)
    due_now = np.where(happened["extended"], extend_to, due_now)
    first_due_now = np.where(in_first_org, first_due1, first_due)
    start_now = np.where(in_first_org, reg, start)

    def state_at(t, due_, start_, paused_):
        late = ((first_response > t) & (t > first_due_now)) | (t > due_)
        window = np.maximum(((due_ - start_ - paused_) * share).astype(np.int64), HOUR)
        return np.where(
            late, DeadlineState.OVERDUE, np.where(due_ - t <= window, DeadlineState.SOON, DeadlineState.OK)
        )

    last_run = now - now % JOB_EVERY
    before_answer = _next_run(answered_at) - JOB_EVERY
    running = np.isin(status, [CODE[s] for s in RUNNING]) & ~happened["reopened"]
    state = np.full(n, DeadlineState.OK, dtype=object)
    state = np.where(running, state_at(np.full(n, last_run), due_now, start_now, paused_us), state)
    answered_once = happened["answered"] & ~happened["reopened"]
    state = np.where(answered_once, state_at(before_answer, due, start, pause_s * US), state)

    a = {
        "status": status,
        "organisation": np.where(
            happened["assigned"], np.where(happened["redirected"], batch.organisation, first_organisation), -1
        ),
        "clock_started_at": np.where(happened["reopened"], reopen_at, start_now),
        "first_response_due": first_due_now,
        "resolution_due": np.where(happened["reopened"], due2, due_now),
        "first_responded_at": np.where(worked & (first_response <= now), first_response, -1),
        "answered_at": np.where(
            happened["reopened"],
            np.where(happened["answered2"], answered2_at, -1),
            np.where(happened["answered"], answered_at, -1),
        ),
        "closed_at": np.where(happened["closed"], close_at, np.where(happened["rejected"], assigned_at, -1)),
        "close_how": np.where(happened["closed"], close_how, -1),
        "planned_at": np.where(happened["interim"], planned_at, -1),
        "paused_since": np.where(happened["clarified"] & ~happened["replied"], clarify_at, -1),
        "paused_seconds": np.where(happened["reopened"], 0, paused_us // US),
        "extended": happened["extended"] & ~happened["reopened"],
        "deadline_state": state,
        "reopen_count": happened["reopened"].astype(np.int64),
        "rating": np.where(happened["rated"], rating, -1),
        "rated_at": np.where(happened["rated"], rated_at, -1),
    }
    values = {
        "automatic": automatic,
        "first_organisation": first_organisation,
        "first_due": first_due,
        "due": due,
        "due1": due1,
        "base_due": base_due,
        "due_before": due_paused,
        "extend_to": extend_to,
        "fr_which_first": fr_mark <= due,
        "close_how": close_how,
        "rating": rating,
        "planned_at": planned_at,
        "pause_s": pause_s,
        "status_at": status_at,
    }
    return Result(appeal=a, steps=steps, happened=happened, values=values)


STATUSES = ["", *Status.values]  # a status as a number: its index here
CODE = {s: i for i, s in enumerate(STATUSES)}
RUNNING = {Status.ASSIGNED, Status.IN_WORK, Status.INTERIM}
STATUS_AFTER = (
    ("assigned", Status.ASSIGNED),
    ("rejected", Status.REJECTED),
    ("taken1", Status.IN_WORK),
    ("redirected", Status.ASSIGNED),
    ("taken2", Status.IN_WORK),
    ("clarified", Status.CLARIFICATION),
    ("replied", Status.IN_WORK),
    ("interim", Status.INTERIM),
    ("answered", Status.ANSWERED),
    ("reopened", Status.IN_WORK),
    ("answered2", Status.ANSWERED),
    ("closed", Status.CLOSED),
)
CLOSE_HOW = (CloseReason.SATISFIED, CloseReason.CONTROLLER, CloseReason.AUTO)
