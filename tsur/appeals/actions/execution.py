"""The executor's steps: take, ask the citizen, answer (interim and final), redirect, extend; and the
link to a known outage that dispatch makes on the organisation's behalf."""

from datetime import datetime

from django.utils import timezone

from tsur.core.errors import DomainError
from tsur.core.models import Organisation, User
from tsur.core.text import clean_text

from .. import complaint_book, deadlines, placeholder, policies, review, routing
from ..choices import DeadlineState, EventKind, Status
from ..models import Appeal, AppealPhoto, Topic
from .base import apply_route, correct_topic, event, move, step


@step("take")
def take(appeal: Appeal, actor: User | None, *, at: datetime) -> Appeal:
    """The organisation starts work; the person who takes it is the one working on it from now on."""
    if actor is not None and actor.pk:
        appeal.assignee = actor
    move(appeal, Status.IN_WORK, EventKind.TAKEN, actor, at, public=True)
    return appeal


@step("reassign")
def reassign(appeal: Appeal, actor: User | None, *, assignee: User, reason: str = "", at: datetime) -> Appeal:
    """The supervisor hands the appeal to another person of the organisation (someone whose
    executor or supervisor role reaches it: `policies.assignable`); status and clock stay."""
    reason = clean_text(reason, field="reason", required=False)
    if appeal.organisation_id is None:
        raise DomainError("У обращения нет организации-исполнителя.", field="assignee")
    if assignee is None or not policies.assignable(appeal.organisation).filter(pk=assignee.pk).exists():
        raise DomainError(
            f"Сотрудник не работает в «{appeal.organisation}»: передать обращение можно только "
            "исполнителю или руководителю этой организации.",
            field="assignee",
        )
    if appeal.assignee_id == assignee.pk:
        raise DomainError("Обращение уже у этого сотрудника.", field="assignee")
    previous = appeal.assignee_id
    appeal.assignee = assignee
    appeal.save()
    event(
        appeal,
        EventKind.REASSIGNED,
        actor,
        at,
        status_from=appeal.status,
        reason=reason,
        data={"from": previous, "to": assignee.pk},
    )
    return appeal


@step("request_clarification")
def request_clarification(appeal: Appeal, actor: User | None, *, question: str, at: datetime) -> Appeal:
    """Ask the citizen; the deadlines stand still until the citizen replies."""
    question = clean_text(question, field="question")
    appeal.paused_since = at
    if appeal.first_responded_at is None:
        appeal.first_responded_at = at
    move(
        appeal,
        Status.CLARIFICATION,
        EventKind.CLARIFICATION_REQUESTED,
        actor,
        at,
        reason=question,
        public=True,
    )
    return appeal


@step("interim_answer")
def interim_answer(
    appeal: Appeal, actor: User | None, *, text: str, planned_at: datetime, at: datetime
) -> Appeal:
    """Tell the citizen what is being done and when it will be finished."""
    text = clean_text(text)
    if planned_at is None or timezone.is_naive(planned_at):
        raise DomainError("Укажите плановую дату решения с часовым поясом.", field="planned_at")
    if planned_at <= at:
        raise DomainError("Плановая дата решения должна быть в будущем.", field="planned_at")
    limit = deadlines.after_interim(appeal, at)
    if limit is not None:
        if planned_at > limit:
            raise DomainError(
                f"По правилам канала решение после промежуточного ответа — не позже "
                f"{timezone.localtime(limit):%d.%m.%Y %H:%M}.",
                field="planned_at",
            )
        appeal.resolution_due = min(appeal.resolution_due or limit, limit)
    appeal.planned_at = planned_at
    if appeal.first_responded_at is None:
        appeal.first_responded_at = at
    move(
        appeal,
        Status.INTERIM,
        EventKind.INTERIM_ANSWER,
        actor,
        at,
        reason=text,
        data={"planned_at": planned_at.isoformat()},
        public=True,
    )
    return appeal


@step("answer")
def answer(appeal: Appeal, actor: User | None, *, text: str, photos=(), at: datetime) -> Appeal:
    """The final answer. Where a review rule covers the appeal (tsur.appeals.review) it waits for a
    reviewer unseen by the citizen, with what looks like an «отписка» flagged; otherwise the citizen
    has it at once. `photos`: the appeal's photos (or their ids) that go with the answer."""
    text = clean_text(text, limit=20000)
    photo_ids = _answer_photos(appeal, photos)
    if review.required(appeal):
        # what a returned answer carried stays with the next one unless given anew
        carried = [p for p in review.unpublished_photos(appeal) if p not in photo_ids]
        move(
            appeal,
            Status.REVIEW,
            EventKind.ANSWER_SUBMITTED,
            actor,
            at,
            reason=text,
            data={"photos": carried + photo_ids, "placeholder": placeholder.reasons(text)},
        )
        return appeal
    give_answer(appeal, actor, text=text, photo_ids=photo_ids, at=at)
    return appeal


def _answer_photos(appeal: Appeal, photos) -> list[int]:
    ids = []
    for photo in photos or ():
        key = photo.pk if isinstance(photo, AppealPhoto) else photo
        if not isinstance(key, int) or isinstance(key, bool):
            raise DomainError("Фото ответа указываются номерами фото обращения.", field="photos")
        if key not in ids:
            ids.append(key)
    if ids and AppealPhoto.objects.filter(appeal=appeal.pk, pk__in=ids).count() != len(ids):
        raise DomainError("Среди фото ответа есть фото не этого обращения.", field="photos")
    return ids


def give_answer(
    appeal: Appeal, actor: User | None, *, text: str, photo_ids: list[int], at: datetime, **fields
) -> None:
    """The citizen gets the answer: answered now, on time or not, told with the followers."""
    appeal.answered_at = at
    if appeal.first_responded_at is None:
        appeal.first_responded_at = at
    on_time = appeal.resolution_due is None or at <= appeal.resolution_due
    data = {"on_time": on_time}
    if photo_ids:
        data["photos"] = photo_ids
    move(
        appeal, Status.ANSWERED, EventKind.ANSWERED, actor, at, reason=text, data=data, public=True, **fields
    )


@step("redirect")
def redirect(
    appeal: Appeal,
    actor: User | None,
    *,
    reason: str,
    organisation: Organisation | None = None,
    topic: Topic | None = None,
    to_operator: bool = False,
    at: datetime,
) -> Appeal:
    """Not in this organisation's remit: hand the appeal on. The new organisation gets a fresh clock.
    `to_operator`: the executor does not know whose it is, so it goes back to moderation instead of
    to whatever the routing rules would choose next."""
    reason = clean_text(reason, field="reason")
    previous = appeal.organisation
    appeal.assignee = None  # whoever worked on it was of the organisation it leaves
    if topic is not None:
        correct_topic(appeal, topic)
    if to_operator:
        if organisation is not None:
            raise DomainError("Либо другая организация, либо возврат оператору.", field="organisation")
        route = None
    elif organisation is not None:
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
        data["to_moderation"] = True
        move(appeal, Status.MODERATION, EventKind.REDIRECTED, actor, at, reason=reason, data=data)
        return appeal
    if appeal.complaint_ticket_id is None and complaint_book.applies(appeal.topic, route.organisation):
        raise DomainError(
            f"«{route.organisation}» — управляющая организация: жалоба на неё принимается только с номером "
            "невыполненной заявки из книги жалоб. Верните обращение оператору (на модерацию).",
            code="complaint_ticket_required",
            field="organisation",
        )
    apply_route(appeal, route)
    appeal.first_response_due = None
    deadlines.start_clock(appeal, at)
    appeal.deadline_state = DeadlineState.OK
    data.update(to_organisation=route.organisation.pk, resolution_due=appeal.resolution_due.isoformat())
    move(appeal, Status.ASSIGNED, EventKind.REDIRECTED, actor, at, reason=reason, data=data, public=True)
    return appeal


@step("extend")
def extend(appeal: Appeal, actor: User | None, *, until: datetime, reason: str, at: datetime) -> Appeal:
    """Move the resolution deadline, with a reason, never past the lawful maximum."""
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
    event(
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


@step("link_to_outage")
def link_to_outage(
    appeal: Appeal, actor: User | None, *, outage_id: int, note: str, data: dict | None = None, at: datetime
) -> Appeal:
    """The appeal is about a known outage (an accident on a network object): the citizen sees that
    the failure is known and will be told when it is over; status and clock stay."""
    event(
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
