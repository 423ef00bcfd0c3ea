"""The citizen's steps (and the operator's or controller's on their behalf): reply to a question,
add a detail, rate and accept the answer, or reopen the appeal as not solved; and another resident
joining an appeal about the same problem instead of filing a new one."""

from datetime import datetime

from django.conf import settings

from tsur.core.errors import DomainError, InvalidTransition
from tsur.core.models import User
from tsur.core.text import clean_text

from .. import deadlines
from ..choices import Channel, CloseReason, DeadlineState, EventKind, Status
from ..lifecycle import may_rate, reopen_until
from ..models import Appeal, Follower
from .base import event, move, step
from .intake import consent_source


@step("citizen_reply")
def citizen_reply(appeal: Appeal, actor: User | None, *, text: str, at: datetime) -> Appeal:
    """The citizen answered the question: the deadlines move on by the time they stood still."""
    text = clean_text(text)
    paused = deadlines.shift_for_pause(appeal, at)
    move(
        appeal,
        Status.IN_WORK,
        EventKind.CITIZEN_REPLIED,
        actor,
        at,
        reason=text,
        data={"paused_seconds": paused},
        public=True,
    )
    return appeal


@step("comment")
def comment(
    appeal: Appeal, actor: User | None, *, text: str, data: dict | None = None, at: datetime
) -> Appeal:
    """The citizen (or the app they filed through) adds something while the appeal is open: a detail,
    a photo link, «still not fixed». The status and the clock stay; the organisation sees it."""
    text = clean_text(text)
    event(appeal, EventKind.COMMENTED, actor, at, status_from=appeal.status, reason=text, data=data or {})
    return appeal


@step("close")
def close(
    appeal: Appeal, actor: User | None, *, how: str = CloseReason.SATISFIED, reason: str = "", at: datetime
) -> Appeal:
    if how not in CloseReason.values:
        raise DomainError(f"Неизвестное основание закрытия «{how}».", field="how")
    reason = clean_text(reason, field="reason", required=False)
    appeal.close_reason = how
    appeal.closed_at = at
    move(appeal, Status.CLOSED, EventKind.CLOSED, actor, at, reason=reason, data={"how": how}, public=True)
    return appeal


@step("reopen")
def reopen(appeal: Appeal, actor: User | None, *, reason: str, at: datetime) -> Appeal:
    """The citizen is not satisfied: back to work as a repeat, with a fresh regulated period."""
    reason = clean_text(reason, field="reason")
    until = reopen_until(appeal)
    if until is not None and at > until:
        window = settings.TSUR["REOPEN_WINDOW_DAYS"]
        raise InvalidTransition(
            f"Обращение закрыто более {window} дней назад: подайте новое обращение со ссылкой на № {appeal.number}."
        )
    appeal.reopen_count += 1
    appeal.answered_at = None
    appeal.closed_at = None
    appeal.close_reason = ""
    deadlines.start_clock(appeal, at)
    appeal.deadline_state = DeadlineState.OK
    move(
        appeal,
        Status.IN_WORK,
        EventKind.REOPENED,
        actor,
        at,
        reason=reason,
        data={"repeat": appeal.reopen_count},
        public=True,
    )
    return appeal


@step("rate")
def rate(appeal: Appeal, actor: User | None, *, rating: int, comment: str = "", at: datetime) -> Appeal:
    """The author's mark for the answer, 1 (nothing was done) to 5, with a word if they like. The mark
    is in the event's data for the quality figures; the comment is for the organisation and the
    center, not a public text."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise DomainError("Оценка — целое число от 1 до 5.", field="rating")
    if not may_rate(appeal):
        raise DomainError("Этот ответ уже оценён.", code="already_rated", field="rating")
    comment = clean_text(comment, field="comment", required=False)
    appeal.rating = rating
    appeal.rating_comment = comment
    appeal.rated_at = at
    appeal.save(update_fields=["rating", "rating_comment", "rated_at", "updated_at"])
    event(
        appeal,
        EventKind.RATED,
        actor,
        at,
        status_from=appeal.status,
        reason=comment,
        data={"rating": rating},
    )
    return appeal


@step("subscribe")
def subscribe(
    appeal: Appeal,
    actor: User | None,
    *,
    channel: str,
    user: User | None = None,
    name: str = "",
    email: str = "",
    phone: str = "",
    personal_data_consent: bool | None = None,
    at: datetime,
) -> Follower:
    """Another resident reports the same problem: they join this appeal (and hear of its answer)
    instead of filing a new one. `actor` is the operator at the hotline, None on the portal; `user`
    the resident's account if they have one (joining twice is one follower). The appeal's status
    and deadlines stay; the timeline counts the residents without naming them."""
    if channel not in Channel.values:
        raise DomainError(f"Неизвестный канал «{channel}».", field="channel")
    if user is not None and appeal.author_id == user.pk:
        raise DomainError("Это ваше обращение: вы и так получите ответ.", code="own_appeal")
    if user is not None:
        found = Follower.objects.filter(appeal=appeal, user=user).first()
        if found is not None:
            return found
    source = consent_source(channel, actor, personal_data_consent)
    name = clean_text(name, field="name", required=False, limit=200)
    email = (email or "").strip()[:254]
    phone = (phone or "").strip()[:32]
    if not (user or email or phone):
        raise DomainError("Укажите e-mail или телефон, чтобы получить ответ.", field="email")
    follower = Follower.objects.create(
        appeal=appeal,
        user=user,
        channel=channel,
        name=name,
        email=email,
        phone=phone,
        consent_at=at if source else None,
        consent_source=source,
        added_by=actor if actor and actor.pk else None,
        added_at=at,
    )
    count = Follower.objects.filter(appeal=appeal).count()
    event(
        appeal,
        EventKind.SUBSCRIBED,
        actor,
        at,
        status_from=appeal.status,
        data={"channel": channel, "followers": count},
        public=True,
    )
    return follower


def claim(user: User, email: str) -> int:
    """The appeals filed under this e-mail without an account become the resident's own, once the
    resident has proved the address with a code (`tsur.core.codes.redeem`). Not a step: the course
    of no appeal changes, only whose list shows it; appeals whose personal data were erased keep no
    e-mail and are not found. Returns how many were claimed."""
    return Appeal.objects.filter(author__isnull=True, author_email__iexact=email.strip()).update(author=user)
