"""Every change of an appeal goes through a function here.

Each action runs in one transaction, locks the appeal, refuses a step its status does not allow
(InvalidTransition, nothing changed), writes one timeline event with the acting user and the reason,
and hands side effects (notifications) to the job queue only after commit.
"""

import hashlib
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from tsur.core import db
from tsur.core.errors import DomainError, InvalidTransition
from tsur.core.models import Building, Organisation, Territory, User
from tsur.core.text import clean_text
from tsur.nlp import understanding

from . import complaint_book, deadlines, notifications, numbering, photos, routing, signals
from .choices import FINAL_STATUSES, RUNNING_STATUSES, Channel, CloseReason, DeadlineState, EventKind, Status
from .models import Appeal, AppealEvent, AppealPhoto, Topic

log = logging.getLogger(__name__)

S = Status
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "send_to_moderation": frozenset({S.REGISTERED, S.ASSIGNED}),
    "assign": frozenset({S.REGISTERED, S.MODERATION}),
    "take": frozenset({S.ASSIGNED}),
    "request_clarification": frozenset({S.ASSIGNED, S.IN_WORK, S.INTERIM}),
    "citizen_reply": frozenset({S.CLARIFICATION}),
    "interim_answer": frozenset({S.IN_WORK, S.INTERIM}),
    "answer": frozenset({S.IN_WORK, S.INTERIM}),
    "close": frozenset({S.ANSWERED}),
    "reopen": frozenset({S.ANSWERED, S.CLOSED}),
    "reject": frozenset({S.REGISTERED, S.MODERATION, S.ASSIGNED, S.IN_WORK}),
    "redirect": frozenset({S.ASSIGNED, S.IN_WORK, S.INTERIM}),
    "merge": frozenset({S.REGISTERED, S.MODERATION, S.ASSIGNED, S.IN_WORK, S.INTERIM, S.CLARIFICATION}),
    "extend": frozenset({S.ASSIGNED, S.IN_WORK, S.INTERIM, S.CLARIFICATION}),
    "comment": frozenset(
        {S.REGISTERED, S.MODERATION, S.ASSIGNED, S.IN_WORK, S.CLARIFICATION, S.INTERIM, S.ANSWERED}
    ),
}
ACTION_NAMES = {
    "send_to_moderation": "направить на модерацию",
    "assign": "назначить исполнителя",
    "take": "принять в работу",
    "request_clarification": "запросить уточнение",
    "citizen_reply": "ответить на запрос уточнения",
    "interim_answer": "дать промежуточный ответ",
    "answer": "дать ответ",
    "close": "закрыть",
    "reopen": "возобновить",
    "reject": "отклонить",
    "redirect": "перенаправить",
    "merge": "объединить как дубликат",
    "extend": "продлить срок",
    "comment": "добавить комментарий",
}
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


# ---------------------------------------------------------------- helpers


def _now(at: datetime | None) -> datetime:
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        raise ValueError("naive datetime")
    return at


def _lock(appeal: Appeal | int) -> Appeal:
    pk = appeal.pk if isinstance(appeal, Appeal) else appeal
    return Appeal.objects.select_for_update(of=("self",)).select_related("topic", "organisation").get(pk=pk)


def _check(appeal: Appeal, action: str) -> None:
    if appeal.status not in ALLOWED_FROM[action]:
        raise InvalidTransition(
            f"Нельзя {ACTION_NAMES[action]}: обращение {appeal.number} в статусе «{appeal.get_status_display()}»."
        )


def _new_event(
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


def _record(events: list[AppealEvent]) -> list[AppealEvent]:
    """Store events and, once the transaction commits, tell whoever must hear about them."""
    events = db.insert(events)
    notifications.plan(events)
    return events


def _event(appeal: Appeal, kind: str, actor: User | None, at: datetime, **fields) -> AppealEvent:
    return _record([_new_event(appeal, kind, actor, at, **fields)])[0]


def _move(appeal: Appeal, action: str, to: str, kind: str, actor, at, **event) -> AppealEvent:
    _check(appeal, action)
    status_from = appeal.status
    appeal.status = to
    appeal.save()
    return _event(appeal, kind, actor, at, status_from=status_from, **event)


def _apply_route(appeal: Appeal, route: routing.Route) -> None:
    appeal.organisation = route.organisation
    appeal.routing_rule = route.rule
    appeal.routing_reason = route.reason[:400]


# ---------------------------------------------------------------- intake


def register(
    *,
    channel: str,
    text: str,
    external_id: str = "",
    submitted_by: User | None = None,
    author: User | None = None,
    author_name: str = "",
    author_email: str = "",
    author_phone: str = "",
    address: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    territory: Territory | None = None,
    building: Building | None = None,
    place_kind: str = "",
    topic: Topic | None = None,
    organisation: Organisation | None = None,
    priority: str = "",
    complaint_ticket_number: str = "",
    moderate: bool = False,
    photo_files=(),
    attributes: dict | None = None,
    media_url: str = "",
    at: datetime | None = None,
) -> tuple[Appeal, bool]:
    """Register an appeal and route it; returns (appeal, created).

    The same channel id twice yields the first appeal unchanged (idempotent intake). A known topic
    with a route goes straight to the organisation; anything uncertain waits in moderation.
    """
    at = _now(at)
    if channel not in Channel.values:
        raise DomainError(f"Неизвестный канал «{channel}».", field="channel")
    external_id = (external_id or "").strip()[:128]
    text = clean_text(text)
    key = intake_key(
        channel,
        external_id,
        submitted_by,
        text,
        author_name,
        author_email,
        author_phone,
        address,
        latitude,
        longitude,
        topic.pk if topic else None,
    )
    address = clean_text(address, field="address", required=False, limit=400)
    author_name = clean_text(author_name, field="author_name", required=False, limit=200)
    if (latitude is None) != (longitude is None):
        raise DomainError("Укажите обе координаты: широту и долготу.", field="latitude")
    if latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise DomainError("Координаты вне допустимого диапазона.", field="latitude")
    photo_files = list(photo_files)
    if len(photo_files) > settings.TSUR["PHOTO_MAX_COUNT"]:
        raise DomainError(f"Не больше {settings.TSUR['PHOTO_MAX_COUNT']} фото.", field="photos")
    inspected = [photos.inspect(f) for f in photo_files]

    if building is None and address:
        building = _building_at(address)
    if building is not None:
        territory = territory or building.territory
        address = address or building.address
        if latitude is None and building.latitude is not None:
            latitude, longitude = building.latitude, building.longitude
    place_kind = place_kind or (building.kind if building else "")

    understood = None
    if topic is None and organisation is None and not moderate:
        try:
            understood = understanding.understand(
                text, place_kind=place_kind, territory=territory, building=building, address=address
            )
        except Exception:  # the model is an aid: whatever goes wrong in it, the appeal is registered
            log.exception("text model failed on an appeal; it goes to moderation")
    if understood is not None:
        if understood.building is not None and building is None:
            building = understood.building
            address = address or building.address
            if latitude is None and building.latitude is not None:
                latitude, longitude = building.latitude, building.longitude
            place_kind = place_kind or building.kind
        if understood.territory is not None and territory is None:
            territory = understood.territory
        if understood.topic_trusted:
            topic = understood.topic

    actor = submitted_by or author
    try:
        with transaction.atomic():
            appeal = Appeal(
                number=numbering.issue(at),
                channel=channel,
                external_id=external_id,
                intake_key=key,
                submitted_by=submitted_by,
                author=author,
                author_name=author_name,
                author_email=author_email or "",
                author_phone=author_phone or "",
                text=text,
                address=address,
                latitude=latitude,
                longitude=longitude,
                territory=territory,
                building=building,
                place_kind=place_kind,
                topic=topic,
                priority=priority or (topic.priority if topic else "normal"),
                status=Status.REGISTERED,
                registered_at=at,
                clock_started_at=at,
                attributes=attributes or {},
                media_url=media_url or "",
            )
            deadlines.start_clock(appeal, at)
            route = None
            if organisation is not None:
                route = routing.Route(organisation, None, f"Указано при регистрации: «{organisation}»")
            elif understood is not None and understood.topic_trusted and understood.organisation_trusted:
                route = routing.Route(
                    understood.organisation,
                    None,
                    f"Определено по тексту: «{understood.organisation}» "
                    f"(уверенность {understood.organisation_confidence:.2f})",
                )
            elif topic is not None and not moderate:
                route = routing.route(
                    topic=topic, territory=territory, place_kind=place_kind, building=building
                )
            needs_ticket = False
            if (
                route
                and understood is not None
                and understood.topic_trusted
                and not complaint_ticket_number
                and complaint_book.applies(topic, route.organisation)
            ):
                # A guessed topic must not refuse the citizen for want of a complaint-book ticket:
                # an operator decides.
                route, needs_ticket = None, True
            ticket = None
            if route and complaint_book.applies(topic, route.organisation):
                ticket = complaint_book.unfulfilled_ticket(
                    route.organisation, complaint_ticket_number, at, building=building
                )
                appeal.complaint_ticket = ticket
            if route:
                _apply_route(appeal, route)
            # One insert: the appeal is stored in the status its registration ends in; the timeline
            # still shows both steps (registered, then assigned or sent to moderation).
            appeal.status = Status.ASSIGNED if route else Status.MODERATION
            db.insert([appeal])
            registered = (
                {"channel": channel, "external_id": external_id} if external_id else {"channel": channel}
            )
            events = [
                _new_event(
                    appeal,
                    EventKind.REGISTERED,
                    actor,
                    at,
                    status_to=Status.REGISTERED,
                    organisation=None,
                    data=registered,
                    public=True,
                )
            ]
            if understood is not None:
                events.append(
                    _new_event(
                        appeal,
                        EventKind.UNDERSTOOD,
                        None,
                        at,
                        status_to=Status.REGISTERED,
                        organisation=None,
                        data=understood.as_event_data(),
                    )
                )
            if ticket:
                events.append(
                    _new_event(
                        appeal,
                        EventKind.COMPLAINT_LINKED,
                        actor,
                        at,
                        status_to=Status.REGISTERED,
                        organisation=None,
                        data={
                            "ticket": ticket.number,
                            "organisation": ticket.organisation_id,
                            "ticket_due_at": ticket.due_at.isoformat(),
                        },
                    )
                )
            if route:
                events.append(
                    _new_event(
                        appeal,
                        EventKind.ASSIGNED,
                        None,
                        at,
                        status_from=Status.REGISTERED,
                        reason=route.reason,
                        public=True,
                        data={"automatic": True},
                    )
                )
            else:
                why = (
                    "Тема по тексту требует заявки из книги жалоб: решает оператор"
                    if needs_ticket
                    else "Модель не уверена в теме"
                    if topic is None and understood is not None
                    else "Тема не определена"
                    if topic is None
                    else "Не найден маршрут"
                    if not moderate
                    else "По запросу"
                )
                events.append(
                    _new_event(
                        appeal,
                        EventKind.SENT_TO_MODERATION,
                        None,
                        at,
                        status_from=Status.REGISTERED,
                        reason=why,
                    )
                )
            _record(events)
            for upload, (content_type, width, height) in zip(photo_files, inspected, strict=True):
                _store_photo(appeal, upload, content_type, width, height, actor, at)
            if appeal.topic_id and (appeal.building_id or appeal.latitude is not None):
                transaction.on_commit(lambda: signals.appeal_placed.send(Appeal, appeal=appeal))
    except IntegrityError:
        # The same channel id was registered before (or concurrently): answer with that appeal.
        existing = Appeal.objects.filter(intake_key=key).first() if key else None
        if existing is None:
            raise
        return existing, False
    return appeal, True


def _building_at(address: str) -> Building | None:
    """The known building at an address, its territory taken from the routing table. Most
    registrations ask this, so the query is written out once rather than compiled each time."""
    building = db.get_by(Building, "address_key", Building.key_for(address))
    if building is None:
        return None
    territory = routing.table().territories.get(building.territory_id)
    if territory is not None:
        building.territory = territory
    return building


def intake_key(channel: str, external_id: str, submitted_by: User | None, *content) -> str | None:
    """What makes two submissions the same: a signed-in sender's own id on a channel; for an anonymous
    sender, the id together with everything submitted, so only a true retry matches."""
    if not external_id:
        return None
    if submitted_by is not None and submitted_by.pk:
        return f"u{submitted_by.pk}:{channel}:{external_id}"
    digest = hashlib.sha256("\n".join(map(str, (channel, external_id, *content))).encode()).hexdigest()
    return f"anon:{digest}"


def _store_photo(appeal, upload, content_type, width, height, actor, at) -> AppealPhoto:
    clean = photos.clean_copy(upload, content_type)
    photo = AppealPhoto(
        appeal=appeal,
        content_type=content_type,
        size=clean.size,
        width=width,
        height=height,
        uploaded_by=actor if actor and actor.pk else None,
        uploaded_at=at,
    )
    photo.image.save(clean.name, clean, save=False)
    photo.save()
    return photo


@transaction.atomic
def add_photo(appeal: Appeal, actor: User | None, upload, *, at: datetime | None = None) -> AppealPhoto:
    at = _now(at)
    content_type, width, height = photos.inspect(upload)
    appeal = _lock(appeal)
    if appeal.status in FINAL_STATUSES:
        raise InvalidTransition(f"Обращение {appeal.number} закрыто: добавить фото нельзя.")
    if appeal.photos.count() >= settings.TSUR["PHOTO_MAX_COUNT"]:
        raise DomainError(f"Не больше {settings.TSUR['PHOTO_MAX_COUNT']} фото.", field="photos")
    photo = _store_photo(appeal, upload, content_type, width, height, actor, at)
    _event(appeal, EventKind.PHOTO_ADDED, actor, at, data={"photo": photo.pk})
    return photo


# ---------------------------------------------------------------- the operator's steps


@transaction.atomic
def send_to_moderation(appeal, actor: User | None, *, reason: str = "", at: datetime | None = None) -> Appeal:
    at = _now(at)
    appeal = _lock(appeal)
    _move(
        appeal,
        "send_to_moderation",
        Status.MODERATION,
        EventKind.SENT_TO_MODERATION,
        actor,
        at,
        reason=clean_text(reason, field="reason", required=False),
    )
    return appeal


@transaction.atomic
def assign(
    appeal,
    actor: User | None,
    *,
    organisation: Organisation | None = None,
    topic: Topic | None = None,
    reason: str = "",
    complaint_ticket_number: str = "",
    at: datetime | None = None,
) -> Appeal:
    """Moderation's outcome: fix the topic if needed and send the appeal to an organisation
    (the one given, or the one the routing rules choose)."""
    at = _now(at)
    appeal = _lock(appeal)
    _check(appeal, "assign")
    reason = clean_text(reason, field="reason", required=False)
    data = {}
    if topic is not None and topic.pk != appeal.topic_id:
        data["topic_from"] = appeal.topic_id
        data["topic_to"] = topic.pk
        appeal.topic = topic
        appeal.priority = topic.priority
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
    _apply_route(appeal, route)
    if "topic_to" in data:
        # The legal clock still runs from its start; only the regulation changed. Time already spent
        # waiting for the citizen still counts in the citizen's favour, and an extension is dropped
        # with the regulation it extended.
        paused = appeal.paused_seconds
        deadlines.start_clock(appeal, appeal.clock_started_at)
        appeal.paused_seconds = paused
        appeal.resolution_due += timedelta(seconds=paused)
        if appeal.first_response_due and appeal.first_responded_at is None:
            appeal.first_response_due += timedelta(seconds=paused)
        data["resolution_due"] = appeal.resolution_due.isoformat()
        appeal.deadline_state = deadlines.state_at(appeal, at)
    if ticket:
        _event(
            appeal,
            EventKind.COMPLAINT_LINKED,
            actor,
            at,
            status_from=appeal.status,
            data={
                "ticket": ticket.number,
                "organisation": ticket.organisation_id,
                "ticket_due_at": ticket.due_at.isoformat(),
            },
        )
    _move(
        appeal,
        "assign",
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


@transaction.atomic
def reject(appeal, actor: User | None, *, reason: str, at: datetime | None = None) -> Appeal:
    at = _now(at)
    appeal = _lock(appeal)
    _check(appeal, "reject")
    reason = clean_text(reason, field="reason")
    appeal.closed_at = at
    _move(appeal, "reject", Status.REJECTED, EventKind.REJECTED, actor, at, reason=reason, public=True)
    return appeal


@transaction.atomic
def merge(
    appeal, actor: User | None, *, into: Appeal, reason: str = "", at: datetime | None = None
) -> Appeal:
    """Close `appeal` as a duplicate of `into`; the citizen follows the main appeal from now on."""
    at = _now(at)
    if into.pk == appeal.pk:
        raise DomainError("Нельзя объединить обращение с самим собой.", field="into")
    first, second = sorted([appeal.pk, into.pk])
    locked = {
        a.pk: a for a in Appeal.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")
    }
    appeal, into = locked[appeal.pk], locked[into.pk]
    _check(appeal, "merge")
    if into.status in FINAL_STATUSES:
        raise InvalidTransition(f"Обращение {into.number} уже закрыто: объединять с ним нельзя.")
    reason = clean_text(reason, field="reason", required=False)
    appeal.merged_into = into
    appeal.closed_at = at
    _move(
        appeal,
        "merge",
        Status.MERGED,
        EventKind.MERGED,
        actor,
        at,
        reason=reason,
        data={"into": into.number},
        public=True,
    )
    _event(into, EventKind.DUPLICATE_ATTACHED, actor, at, reason=reason, data={"duplicate": appeal.number})
    return appeal


# ---------------------------------------------------------------- the executor's steps


@transaction.atomic
def take(appeal, actor: User | None, *, at: datetime | None = None) -> Appeal:
    at = _now(at)
    appeal = _lock(appeal)
    _move(appeal, "take", Status.IN_WORK, EventKind.TAKEN, actor, at, public=True)
    return appeal


@transaction.atomic
def request_clarification(appeal, actor: User | None, *, question: str, at: datetime | None = None) -> Appeal:
    """Ask the citizen; the deadlines stand still until the citizen replies."""
    at = _now(at)
    appeal = _lock(appeal)
    _check(appeal, "request_clarification")
    question = clean_text(question, field="question")
    appeal.paused_since = at
    if appeal.first_responded_at is None:
        appeal.first_responded_at = at
    _move(
        appeal,
        "request_clarification",
        Status.CLARIFICATION,
        EventKind.CLARIFICATION_REQUESTED,
        actor,
        at,
        reason=question,
        public=True,
    )
    return appeal


@transaction.atomic
def citizen_reply(appeal, actor: User | None, *, text: str, at: datetime | None = None) -> Appeal:
    at = _now(at)
    appeal = _lock(appeal)
    _check(appeal, "citizen_reply")
    text = clean_text(text)
    paused = deadlines.shift_for_pause(appeal, at)
    _move(
        appeal,
        "citizen_reply",
        Status.IN_WORK,
        EventKind.CITIZEN_REPLIED,
        actor,
        at,
        reason=text,
        data={"paused_seconds": paused},
        public=True,
    )
    return appeal


@transaction.atomic
def interim_answer(
    appeal, actor: User | None, *, text: str, planned_at: datetime, at: datetime | None = None
) -> Appeal:
    """Tell the citizen what is being done and when it will be finished."""
    at = _now(at)
    appeal = _lock(appeal)
    _check(appeal, "interim_answer")
    text = clean_text(text)
    if planned_at is None or timezone.is_naive(planned_at):
        raise DomainError("Укажите плановую дату решения с часовым поясом.", field="planned_at")
    if planned_at <= at:
        raise DomainError("Плановая дата решения должна быть в будущем.", field="planned_at")
    appeal.planned_at = planned_at
    if appeal.first_responded_at is None:
        appeal.first_responded_at = at
    _move(
        appeal,
        "interim_answer",
        Status.INTERIM,
        EventKind.INTERIM_ANSWER,
        actor,
        at,
        reason=text,
        data={"planned_at": planned_at.isoformat()},
        public=True,
    )
    return appeal


@transaction.atomic
def answer(appeal, actor: User | None, *, text: str, at: datetime | None = None) -> Appeal:
    at = _now(at)
    appeal = _lock(appeal)
    _check(appeal, "answer")
    text = clean_text(text, limit=20000)
    appeal.answered_at = at
    if appeal.first_responded_at is None:
        appeal.first_responded_at = at
    on_time = appeal.resolution_due is None or at <= appeal.resolution_due
    _move(
        appeal,
        "answer",
        Status.ANSWERED,
        EventKind.ANSWERED,
        actor,
        at,
        reason=text,
        data={"on_time": on_time},
        public=True,
    )
    return appeal


@transaction.atomic
def redirect(
    appeal,
    actor: User | None,
    *,
    reason: str,
    organisation: Organisation | None = None,
    topic: Topic | None = None,
    at: datetime | None = None,
) -> Appeal:
    """Not in this organisation's remit: hand the appeal on. The new organisation gets a fresh clock."""
    at = _now(at)
    appeal = _lock(appeal)
    _check(appeal, "redirect")
    reason = clean_text(reason, field="reason")
    previous = appeal.organisation
    if topic is not None:
        appeal.topic = topic
    if organisation is not None:
        if previous and organisation.pk == previous.pk:
            raise DomainError("Обращение уже у этой организации.", field="organisation")
        route = routing.Route(organisation, None, f"Перенаправлено: «{organisation}»")
    else:
        route = routing.route(
            topic=appeal.topic,
            territory=appeal.territory,
            place_kind=appeal.place_kind,
            building=appeal.building,
            exclude=(previous.pk,) if previous else (),
        )
    data = {"from_organisation": previous.pk if previous else None}
    if topic is not None:
        data["topic_to"] = topic.pk
    if route is None:
        appeal.organisation = None
        _move(
            appeal,
            "redirect",
            Status.MODERATION,
            EventKind.REDIRECTED,
            actor,
            at,
            reason=reason,
            data={**data, "to_moderation": True},
        )
        return appeal
    if appeal.complaint_ticket_id is None and complaint_book.applies(appeal.topic, route.organisation):
        raise DomainError(
            f"«{route.organisation}» — управляющая организация: жалоба на неё принимается только с номером "
            "невыполненной заявки из книги жалоб. Верните обращение оператору (на модерацию).",
            code="complaint_ticket_required",
            field="organisation",
        )
    _apply_route(appeal, route)
    appeal.first_response_due = None
    deadlines.start_clock(appeal, at)
    appeal.deadline_state = DeadlineState.OK
    data.update(to_organisation=route.organisation.pk, resolution_due=appeal.resolution_due.isoformat())
    _move(
        appeal,
        "redirect",
        Status.ASSIGNED,
        EventKind.REDIRECTED,
        actor,
        at,
        reason=reason,
        data=data,
        public=True,
    )
    return appeal


@transaction.atomic
def extend(appeal, actor: User | None, *, until: datetime, reason: str, at: datetime | None = None) -> Appeal:
    """Move the resolution deadline, with a reason, never past the lawful maximum."""
    at = _now(at)
    appeal = _lock(appeal)
    _check(appeal, "extend")
    reason = clean_text(reason, field="reason")
    if until is None or timezone.is_naive(until):
        raise DomainError("Укажите новый срок с часовым поясом.", field="until")
    if appeal.extension_reason:
        raise DomainError("Срок уже продлевался: 59-ФЗ допускает одно продление.", code="already_extended")
    if appeal.resolution_due and at > appeal.resolution_due:
        raise DomainError("Срок уже истёк: продлить можно только до его окончания.", code="deadline_passed")
    if appeal.resolution_due and until <= appeal.resolution_due:
        raise DomainError("Новый срок должен быть позже текущего.", field="until")
    limit = deadlines.legal_limit(appeal, extended=True)
    if until > limit:
        raise DomainError(
            f"Срок нельзя продлить дальше {timezone.localtime(limit):%d.%m.%Y}: это предел 59-ФЗ "
            "(30 дней и однократное продление ещё на 30 дней).",
            field="until",
        )
    previous = appeal.resolution_due
    appeal.resolution_due = until
    appeal.extension_reason = reason[:400]
    appeal.deadline_state = deadlines.state_at(appeal, at)
    appeal.save()
    _event(
        appeal,
        EventKind.EXTENDED,
        actor,
        at,
        status_from=appeal.status,
        reason=reason,
        public=True,
        data={"from": previous.isoformat() if previous else None, "to": until.isoformat()},
    )
    return appeal


# ---------------------------------------------------------------- the citizen's and controller's steps


@transaction.atomic
def close(
    appeal,
    actor: User | None,
    *,
    how: str = CloseReason.SATISFIED,
    reason: str = "",
    at: datetime | None = None,
) -> Appeal:
    at = _now(at)
    appeal = _lock(appeal)
    _check(appeal, "close")
    if how not in CloseReason.values:
        raise DomainError(f"Неизвестное основание закрытия «{how}».", field="how")
    appeal.close_reason = how
    appeal.closed_at = at
    _move(
        appeal,
        "close",
        Status.CLOSED,
        EventKind.CLOSED,
        actor,
        at,
        reason=clean_text(reason, field="reason", required=False),
        data={"how": how},
        public=True,
    )
    return appeal


@transaction.atomic
def comment(
    appeal, actor: User | None, *, text: str, data: dict | None = None, at: datetime | None = None
) -> Appeal:
    """The citizen (or the app they filed through) adds something while the appeal is open: a detail,
    a photo link, «still not fixed». The status and the clock stay; the organisation sees it."""
    at = _now(at)
    appeal = _lock(appeal)
    _check(appeal, "comment")
    text = clean_text(text)
    _event(appeal, EventKind.COMMENTED, actor, at, status_from=appeal.status, reason=text, data=data or {})
    return appeal


@transaction.atomic
def link_to_outage(
    appeal,
    actor: User | None,
    *,
    outage_id: int,
    note: str,
    data: dict | None = None,
    at: datetime | None = None,
) -> Appeal:
    """The appeal is about a known outage (an accident on a network object): the citizen sees that
    the failure is known and will be told when it is over; status and clock stay."""
    at = _now(at)
    appeal = _lock(appeal)
    if appeal.status in FINAL_STATUSES:
        raise InvalidTransition(f"Обращение {appeal.number} уже закрыто: связывать с отключением незачем.")
    _event(
        appeal,
        EventKind.OUTAGE_LINKED,
        actor,
        at,
        status_from=appeal.status,
        reason=clean_text(note, field="note", limit=2000),
        data={"outage": outage_id, **(data or {})},
        public=True,
    )
    return appeal


def reopen(appeal, actor: User | None, *, reason: str, at: datetime | None = None) -> Appeal:
    """The citizen is not satisfied: back to work as a repeat, with a fresh regulated period."""
    at = _now(at)
    appeal = _lock(appeal)
    _check(appeal, "reopen")
    reason = clean_text(reason, field="reason")
    window = settings.TSUR["REOPEN_WINDOW_DAYS"]
    if appeal.status == Status.CLOSED and appeal.closed_at and at - appeal.closed_at > timedelta(days=window):
        raise InvalidTransition(
            f"Обращение закрыто более {window} дней назад: подайте новое обращение со ссылкой на № {appeal.number}."
        )
    appeal.reopen_count += 1
    appeal.answered_at = None
    appeal.closed_at = None
    appeal.close_reason = ""
    deadlines.start_clock(appeal, at)
    appeal.deadline_state = DeadlineState.OK
    _move(
        appeal,
        "reopen",
        Status.IN_WORK,
        EventKind.REOPENED,
        actor,
        at,
        reason=reason,
        data={"repeat": appeal.reopen_count},
        public=True,
    )
    return appeal


# ---------------------------------------------------------------- periodic work


# How far ahead a resolution deadline can be and still be «срок истекает»: the warning share of
# the longest lawful period (30 + 30 days), with a margin.
SOON_LOOKAHEAD = timedelta(days=14)
SEVERITY = {DeadlineState.OK: 0, DeadlineState.SOON: 1, DeadlineState.OVERDUE: 2}


def mark_deadlines(now: datetime | None = None) -> dict[str, int]:
    """Keep every running appeal's deadline state true.

    A deadline crossed raises «срок истекает» or «просрочено» with an event and one escalation to the
    organisation's supervisors; a deadline that moved away (the first response was given, the term
    was extended, the topic changed) lowers the state quietly, so that the next breach is seen too.
    Only appeals whose state can change now are read, and only those whose state did change are locked.
    """
    now = _now(now)
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
        with transaction.atomic():
            appeal = _lock(pk)
            if appeal.status not in RUNNING_STATUSES or appeal.paused_since is not None:
                continue
            state = deadlines.state_at(appeal, now)
            if state == appeal.deadline_state:
                continue
            raised = SEVERITY[state] > SEVERITY[appeal.deadline_state]
            appeal.deadline_state = state
            appeal.save(update_fields=["deadline_state", "updated_at"])
            if raised:
                counts[state] += 1
                _raise_deadline_event(appeal, state, now)
    return {str(k): v for k, v in counts.items()}


def _raise_deadline_event(appeal: Appeal, state: str, now: datetime) -> None:
    kind = EventKind.OVERDUE if state == DeadlineState.OVERDUE else EventKind.DEADLINE_SOON
    first_response_missed = (
        appeal.first_responded_at is None
        and appeal.first_response_due is not None
        and appeal.first_response_due < now <= appeal.resolution_due
    )
    which = "first_response" if state == DeadlineState.OVERDUE and first_response_missed else "resolution"
    due = appeal.first_response_due if which == "first_response" else appeal.resolution_due
    _event(
        appeal, kind, None, now, status_from=appeal.status, data={"due": due.isoformat(), "deadline": which}
    )
    if appeal.organisation_id:
        _event(
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
    now = _now(now)
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
