"""The operator's steps: moderation's outcome (assign), back to moderation, refusal, merging."""

from datetime import datetime, timedelta

from django.db import transaction

from tsur.core.errors import DomainError, InvalidTransition
from tsur.core.models import Organisation, User
from tsur.core.text import clean_text

from .. import complaint_book, deadlines, routing, signals
from ..choices import FINAL_STATUSES, EventKind, Priority, Status
from ..models import Appeal, Topic
from .base import apply_route, correct_topic, event, move, record, step
from .intake import complaint_event


@step("send_to_moderation")
def send_to_moderation(appeal: Appeal, actor: User | None, *, reason: str = "", at: datetime) -> Appeal:
    reason = clean_text(reason, field="reason", required=False)
    move(appeal, Status.MODERATION, EventKind.SENT_TO_MODERATION, actor, at, reason=reason)
    return appeal


@step("assign")
def assign(
    appeal: Appeal,
    actor: User | None,
    *,
    organisation: Organisation | None = None,
    topic: Topic | None = None,
    reason: str = "",
    complaint_ticket_number: str = "",
    at: datetime,
) -> Appeal:
    """Moderation's outcome: fix the topic if needed and send the appeal to an organisation
    (the one given, or the one the routing rules choose)."""
    reason = clean_text(reason, field="reason", required=False)
    data = {}
    if topic is not None and topic.pk != appeal.topic_id:
        data["topic_from"] = appeal.topic_id
        data["topic_to"] = topic.pk
        correct_topic(appeal, topic)
    if organisation is not None:
        route = routing.Route(organisation, None, f"Назначено оператором: «{organisation}»")
    else:
        if appeal.topic is None:
            raise DomainError("Укажите тему или организацию-исполнителя.", field="topic")
        route = routing.route(
            topic=appeal.topic,
            territory=appeal.territory,
            place_kind=appeal.place_kind,
            building=appeal.building,
        )
        if route is None:
            raise DomainError(
                "Для этой темы и территории нет маршрута: укажите организацию.", field="organisation"
            )
    ticket = None
    if appeal.complaint_ticket_id is None and complaint_book.applies(appeal.topic, route.organisation):
        ticket = complaint_book.unfulfilled_ticket(
            route.organisation, complaint_ticket_number, at, building=appeal.building
        )
        appeal.complaint_ticket = ticket
    apply_route(appeal, route)
    if "topic_to" in data:
        _follow_new_regulation(appeal, at)
        data["resolution_due"] = appeal.resolution_due.isoformat()
    if ticket:
        record([complaint_event(appeal, ticket, actor, at, status_from=appeal.status)])
    move(
        appeal,
        Status.ASSIGNED,
        EventKind.ASSIGNED,
        actor,
        at,
        reason=reason or route.reason,
        data=data,
        public=True,
    )
    if appeal.building_id or appeal.latitude is not None:
        transaction.on_commit(lambda: signals.appeal_placed.send(Appeal, appeal=appeal))
    return appeal


def _follow_new_regulation(appeal: Appeal, at: datetime) -> None:
    """The topic changed: the legal clock still runs from its start; only the regulation changed.
    Time already spent waiting for the citizen still counts in the citizen's favour, and an
    extension is dropped with the regulation it extended."""
    paused = appeal.paused_seconds
    deadlines.start_clock(appeal, appeal.clock_started_at)
    appeal.paused_seconds = paused
    appeal.resolution_due += timedelta(seconds=paused)
    if appeal.first_response_due and appeal.first_responded_at is None:
        appeal.first_response_due += timedelta(seconds=paused)
    appeal.deadline_state = deadlines.state_at(appeal, at)


@step("reject")
def reject(appeal: Appeal, actor: User | None, *, reason: str, at: datetime) -> Appeal:
    reason = clean_text(reason, field="reason")
    appeal.closed_at = at
    move(appeal, Status.REJECTED, EventKind.REJECTED, actor, at, reason=reason, public=True)
    return appeal


@step("merge", also_locks="into")
def merge(appeal: Appeal, actor: User | None, *, into: Appeal, reason: str = "", at: datetime) -> Appeal:
    """Close `appeal` as a duplicate of `into`; the citizen follows the main appeal from now on."""
    if into.pk == appeal.pk:
        raise DomainError("Нельзя объединить обращение с самим собой.", field="into")
    if into.status in FINAL_STATUSES:
        raise InvalidTransition(f"Обращение {into.number} уже закрыто: объединять с ним нельзя.")
    reason = clean_text(reason, field="reason", required=False)
    appeal.merged_into = into
    appeal.closed_at = at
    move(
        appeal,
        Status.MERGED,
        EventKind.MERGED,
        actor,
        at,
        reason=reason,
        data={"into": into.number},
        public=True,
    )
    event(into, EventKind.DUPLICATE_ATTACHED, actor, at, reason=reason, data={"duplicate": appeal.number})
    return appeal


@step("set_priority")
def set_priority(appeal: Appeal, actor: User | None, *, priority: str, reason: str, at: datetime) -> Appeal:
    """Raise or lower the appeal's priority, with the reason. Queues show and sort by it; the
    deadlines stay those of the topic's regulation (decision 0011)."""
    reason = clean_text(reason, field="reason", limit=4000)
    if priority not in Priority.values:
        raise DomainError("Такого приоритета нет.", field="priority")
    if priority == appeal.priority:
        raise DomainError("У обращения уже этот приоритет.", field="priority")
    previous = appeal.priority
    appeal.priority = priority
    appeal.save()
    event(
        appeal,
        EventKind.PRIORITY_CHANGED,
        actor,
        at,
        status_from=appeal.status,
        reason=reason,
        data={"from": previous, "to": priority},
    )
    return appeal
