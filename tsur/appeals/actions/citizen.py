"""The citizen's steps (and the operator's or controller's on their behalf): reply to a question,
add a detail, accept the answer, or reopen the appeal as not solved."""

from datetime import datetime, timedelta

from django.conf import settings

from tsur.core.errors import DomainError, InvalidTransition
from tsur.core.models import User
from tsur.core.text import clean_text

from .. import deadlines
from ..choices import CloseReason, DeadlineState, EventKind, Status
from ..models import Appeal
from .base import event, move, step


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
