"""What the job worker does to the register on its own: keep deadline states true (with
escalation to the organisation's supervisors) and close answers the citizen left without reaction."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from tsur.core.errors import InvalidTransition

from .. import deadlines
from ..choices import FINAL_STATUSES, RUNNING_STATUSES, CloseReason, DeadlineState, EventKind, Status
from ..models import Appeal
from .base import event, moment, step
from .citizen import close
from .privacy import erase_personal_data

# How far ahead a resolution deadline can be and still be «срок истекает»: the warning share of
# the longest lawful period (30 + 30 days), with a margin.
SOON_LOOKAHEAD = timedelta(days=14)
RETENTION_BATCH = 5000
SEVERITY = {DeadlineState.OK: 0, DeadlineState.SOON: 1, DeadlineState.OVERDUE: 2}


def mark_deadlines(now: datetime | None = None) -> dict[str, int]:
    """Keep every running appeal's deadline state true.

    A deadline crossed raises «срок истекает» or «просрочено» with an event and one escalation to the
    organisation's supervisors; a deadline that moved away (the first response was given, the term
    was extended, the topic changed) lowers the state quietly, so that the next breach is seen too.
    Only appeals whose state can change now are read, and only those whose state did change are locked.
    """
    now = moment(now)
    counts = {DeadlineState.SOON: 0, DeadlineState.OVERDUE: 0}  # states raised in this run
    candidates = Appeal.objects.filter(
        status__in=RUNNING_STATUSES, paused_since__isnull=True, resolution_due__isnull=False
    ).filter(
        Q(resolution_due__lte=now + SOON_LOOKAHEAD)
        | Q(first_responded_at__isnull=True, first_response_due__lte=now)
        | ~Q(deadline_state=DeadlineState.OK)
    )
    fields = [
        "pk",
        "deadline_state",
        "resolution_due",
        "first_response_due",
        "first_responded_at",
        "clock_started_at",
        "paused_seconds",
    ]
    changed = [a.pk for a in candidates.only(*fields) if deadlines.state_at(a, now) != a.deadline_state]
    for pk in changed:
        try:
            raised = mark_deadline(pk, None, at=now)
        except InvalidTransition:
            continue  # no longer running: its state no longer matters
        if raised:
            counts[raised] += 1
    return {str(k): v for k, v in counts.items()}


@step("mark_deadline")
def mark_deadline(appeal: Appeal, actor, *, at: datetime) -> str | None:
    """The appeal's deadline state as of `at`; returns the state if it was raised."""
    if appeal.paused_since is not None:
        return None
    state = deadlines.state_at(appeal, at)
    if state == appeal.deadline_state:
        return None
    raised = SEVERITY[state] > SEVERITY[appeal.deadline_state]
    appeal.deadline_state = state
    appeal.save(update_fields=["deadline_state", "updated_at"])
    if not raised:
        return None
    _escalate(appeal, state, at)
    return state


def _escalate(appeal: Appeal, state: str, now: datetime) -> None:
    kind = EventKind.OVERDUE if state == DeadlineState.OVERDUE else EventKind.DEADLINE_SOON
    first_response_missed = (
        appeal.first_responded_at is None
        and appeal.first_response_due is not None
        and appeal.first_response_due < now <= appeal.resolution_due
    )
    which = "first_response" if state == DeadlineState.OVERDUE and first_response_missed else "resolution"
    due = appeal.first_response_due if which == "first_response" else appeal.resolution_due
    event(
        appeal, kind, None, now, status_from=appeal.status, data={"due": due.isoformat(), "deadline": which}
    )
    if appeal.organisation_id:
        event(
            appeal,
            EventKind.ESCALATED,
            None,
            now,
            status_from=appeal.status,
            reason=str(EventKind(kind).label),
            data={"to": "supervisor", "because": kind, "deadline": which},
        )


def autoclose(now: datetime | None = None) -> int:
    """Close answered appeals that their authors left without a reaction for the configured days."""
    now = moment(now)
    cutoff = now - timedelta(days=settings.TSUR["AUTOCLOSE_DAYS"])
    closed = 0
    for pk in list(
        Appeal.objects.filter(status=Status.ANSWERED, answered_at__lte=cutoff).values_list("pk", flat=True)
    ):
        try:
            close(pk, None, how=CloseReason.AUTO, reason="Нет реакции заявителя", at=now)
            closed += 1
        except InvalidTransition:
            continue  # changed meanwhile by a person: their step wins
    return closed


def erase_expired_personal_data(now: datetime | None = None) -> int:
    """Anonymise finished appeals (closed, rejected, merged) whose retention period has run out since
    they finished; `PERSONAL_DATA_RETENTION_DAYS` 0 keeps them for ever."""
    days = settings.TSUR["PERSONAL_DATA_RETENTION_DAYS"]
    if not days:
        return 0
    now = moment(now)
    expired = Appeal.objects.filter(
        status__in=FINAL_STATUSES,
        personal_data_erased_at__isnull=True,
        closed_at__lte=now - timedelta(days=days),
    ).values_list("pk", flat=True)
    reason = f"Истёк срок хранения персональных данных ({days} дн. после завершения)"
    due = list(expired[:RETENTION_BATCH])  # a run's share; what is left waits for the next run
    for pk in due:
        erase_personal_data(pk, None, reason=reason, followers=True, at=now)
    return len(due)
