"""The skeleton every step of an appeal shares: the moment, the lock, the transition check, the
timeline event and what is told after commit. A step is written once as the change it makes;
`step` wraps it in the rest, so no step can forget its transaction or its lock."""

import contextlib
import functools
import threading
from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tsur.core import db
from tsur.core.errors import InvalidTransition
from tsur.core.models import User

from .. import notifications, routing, signals
from ..choices import EventKind, Priority
from ..lifecycle import ACTION_NAMES, ALLOWED_FROM
from ..models import Appeal, AppealEvent


def moment(at: datetime | None) -> datetime:
    """When the step happens: now, or the given aware moment (a replayed history, a test)."""
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        raise ValueError("naive datetime")
    return at


def lock(*appeals: Appeal | int) -> list[Appeal]:
    """The appeals read again under a row lock, in key order so that two steps locking the same pair
    cannot wait for each other. Must run inside a transaction (`step` opens one)."""
    keys = [a.pk if isinstance(a, Appeal) else a for a in appeals]
    found = {
        a.pk: a
        for a in Appeal.objects.select_for_update(of=("self",))
        .select_related("topic", "organisation")
        .filter(pk__in=keys)
        .order_by("pk")
    }
    missing = [k for k in keys if k not in found]
    if missing:
        raise Appeal.DoesNotExist(f"appeal {missing[0]} does not exist")
    return [found[k] for k in keys]


def check(appeal: Appeal, name: str) -> None:
    if appeal.status not in ALLOWED_FROM[name]:
        raise InvalidTransition(
            f"Нельзя {ACTION_NAMES[name]}: обращение {appeal.number} в статусе «{appeal.get_status_display()}»."
        )


def step(name: str, *, also_locks: str | None = None) -> Callable:
    """Make `function(appeal, actor, *, at, **arguments)` a lifecycle step `name`: one transaction,
    the appeal (and the appeal in argument `also_locks`, if any) locked and read afresh, the status
    checked against the lifecycle table, `at` resolved. The step gets the locked appeal."""
    if name not in ALLOWED_FROM:
        raise LookupError(f"{name} is not in the lifecycle table")

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def run(appeal: Appeal | int, actor: User | None, *, at: datetime | None = None, **arguments):
            at = moment(at)
            with transaction.atomic():
                if also_locks is not None:
                    appeal, arguments[also_locks] = lock(appeal, arguments[also_locks])
                else:
                    (appeal,) = lock(appeal)
                check(appeal, name)
                return function(appeal, actor, at=at, **arguments)

        run.step = name
        return run

    return decorate


def new_event(
    appeal: Appeal,
    kind: str,
    actor: User | None,
    at: datetime,
    *,
    status_from: str = "",
    status_to: str | None = None,
    organisation=False,
    reason: str = "",
    data: dict | None = None,
    public: bool = False,
) -> AppealEvent:
    """A timeline event, not stored yet; the organisation and the status are the appeal's own unless
    given (False: the appeal's organisation)."""
    return AppealEvent(
        appeal=appeal,
        kind=kind,
        actor=actor if actor and actor.pk else None,
        at=at,
        status_from=status_from,
        status_to=appeal.status if status_to is None else status_to,
        organisation=appeal.organisation if organisation is False else organisation,
        reason=reason,
        data=data or {},
        public=public,
    )


_together = threading.local()


def record(events: list[AppealEvent]) -> list[AppealEvent]:
    """Store events and plan what must be told about them (sent once the transaction commits)."""
    events = db.insert(events)
    notifications.plan(events)
    appeal_ids = {e.appeal_id for e in events}
    pending = getattr(_together, "appeal_ids", None)
    if pending is not None:
        pending |= appeal_ids
    else:
        signals.events_recorded.send(AppealEvent, appeal_ids=appeal_ids)
    return events


@contextlib.contextmanager
def together():
    """Steps taken as one batch: one transaction, and what is derived from the timeline (the
    analytics facts, `signals.events_recorded`) brought up to date once at its end for every appeal
    the steps wrote to — still inside the transaction and under the steps' locks, so a fact is
    never older than its events (decision 0016). A failure rolls the whole batch back. Inside
    another `together` block it is that block's part."""
    if getattr(_together, "appeal_ids", None) is not None:
        yield
        return
    with transaction.atomic():
        _together.appeal_ids = set()
        try:
            yield
            appeal_ids = _together.appeal_ids
        finally:
            _together.appeal_ids = None
        if appeal_ids:
            signals.events_recorded.send(AppealEvent, appeal_ids=appeal_ids)


def event(appeal: Appeal, kind: str, actor: User | None, at: datetime, **fields) -> AppealEvent:
    """Store one event that changes no status."""
    return record([new_event(appeal, kind, actor, at, **fields)])[0]


def move(appeal: Appeal, to: str, kind: str, actor: User | None, at: datetime, **fields) -> AppealEvent:
    """Save the appeal in status `to` with the event that says why."""
    status_from = appeal.status
    appeal.status = to
    appeal.save()
    return record([new_event(appeal, kind, actor, at, status_from=status_from, **fields)])[0]


def apply_route(appeal: Appeal, route: routing.Route) -> None:
    appeal.organisation = route.organisation
    appeal.routing_rule = route.rule
    appeal.routing_reason = route.reason[:400]


def correct_topic(appeal: Appeal, topic) -> None:
    """A person corrects the appeal's topic: its priority follows the new topic, unless a person
    chose the priority (at filing, or with `set_priority`) — that choice stands."""
    given_by_topic = appeal.topic.priority if appeal.topic_id else Priority.NORMAL
    chosen = appeal.priority != given_by_topic or (
        appeal.pk is not None and appeal.events.filter(kind=EventKind.PRIORITY_CHANGED).exists()
    )
    if not chosen:
        appeal.priority = topic.priority
    appeal.topic = topic
