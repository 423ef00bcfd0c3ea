"""What the register tells people about its events (planned inside the step's transaction)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .choices import EventKind

# Events that somebody must hear about; older ones (a replayed history) notify nobody.
NOTIFYING = frozenset(
    {
        EventKind.ASSIGNED,
        EventKind.REDIRECTED,
        EventKind.CLARIFICATION_REQUESTED,
        EventKind.INTERIM_ANSWER,
        EventKind.ANSWERED,
        EventKind.CLOSED,
        EventKind.REJECTED,
        EventKind.ESCALATED,
        EventKind.REOPENED,
    }
)


def plan(events) -> None:
    recent = timezone.now() - timedelta(hours=1)
    for event in events:
        if event.kind in NOTIFYING and event.at > recent:
            from . import tasks  # temporary: replaced by stored deliveries (tsur.notify)

            transaction.on_commit(lambda pk=event.pk: tasks.notify_event(pk))
