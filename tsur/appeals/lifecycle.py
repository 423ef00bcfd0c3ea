"""The lifecycle of an appeal as data: which step may start from which status, and its name.

Actions (tsur.appeals.actions) refuse a step from any other status; policies offer a person only
the steps the status allows. Both read this one table, and the two rules of the author's steps
that depend on more than the status (`may_rate`, `reopen_until`).
"""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from .choices import FINAL_STATUSES, RUNNING_STATUSES, Status

if TYPE_CHECKING:
    from .models import Appeal

S = Status
OPEN_STATUSES = frozenset(Status.values) - FINAL_STATUSES

ALLOWED_FROM: dict[str, frozenset[str]] = {
    "send_to_moderation": frozenset({S.REGISTERED, S.ASSIGNED}),
    "assign": frozenset({S.REGISTERED, S.MODERATION}),
    "take": frozenset({S.ASSIGNED}),
    "request_clarification": frozenset({S.ASSIGNED, S.IN_WORK, S.INTERIM}),
    "citizen_reply": frozenset({S.CLARIFICATION}),
    "interim_answer": frozenset({S.IN_WORK, S.INTERIM}),
    "answer": frozenset({S.IN_WORK, S.INTERIM}),
    # an answer that waits for a reviewer (a ReviewRule matched): out to the citizen, or back to work
    "approve_answer": frozenset({S.REVIEW}),
    "return_answer": frozenset({S.REVIEW}),
    "close": frozenset({S.ANSWERED}),
    "reopen": frozenset({S.ANSWERED, S.CLOSED}),
    # the author's mark for the answer: once per answer (actions.citizen.may_rate)
    "rate": frozenset({S.ANSWERED, S.CLOSED}),
    "reject": frozenset({S.REGISTERED, S.MODERATION, S.ASSIGNED, S.IN_WORK}),
    "redirect": frozenset({S.ASSIGNED, S.IN_WORK, S.INTERIM}),
    "merge": frozenset({S.REGISTERED, S.MODERATION, S.ASSIGNED, S.IN_WORK, S.INTERIM, S.CLARIFICATION}),
    "extend": frozenset({S.ASSIGNED, S.IN_WORK, S.INTERIM, S.CLARIFICATION, S.REVIEW}),
    # the supervisor hands the appeal to another person of the organisation while it is worked
    "reassign": frozenset({S.ASSIGNED, S.IN_WORK, S.INTERIM, S.CLARIFICATION}),
    "comment": frozenset(
        {S.REGISTERED, S.MODERATION, S.ASSIGNED, S.IN_WORK, S.CLARIFICATION, S.INTERIM, S.REVIEW, S.ANSWERED}
    ),
    "set_priority": OPEN_STATUSES,
    "add_photo": OPEN_STATUSES,
    "link_to_outage": OPEN_STATUSES,
    "mark_deadline": RUNNING_STATUSES,
    # another resident with the same problem joins an appeal still open
    "subscribe": OPEN_STATUSES,
    # a channel that answers in place: another post joins an open incident; a delivery's outcome is
    # recorded whatever became of the appeal meanwhile
    "attach_source": OPEN_STATUSES,
    "record_delivery": frozenset(Status.values),
    # a citizen may withdraw consent, and retention runs out, whatever the status
    "erase_personal_data": frozenset(Status.values),
}
ACTION_NAMES = {
    "send_to_moderation": "направить на модерацию",
    "assign": "назначить исполнителя",
    "take": "принять в работу",
    "request_clarification": "запросить уточнение",
    "citizen_reply": "ответить на запрос уточнения",
    "interim_answer": "дать промежуточный ответ",
    "answer": "дать ответ",
    "approve_answer": "одобрить ответ",
    "return_answer": "вернуть ответ на доработку",
    "set_priority": "изменить приоритет",
    "close": "закрыть",
    "reopen": "возобновить",
    "rate": "оценить ответ",
    "reject": "отклонить",
    "redirect": "перенаправить",
    "merge": "объединить как дубликат",
    "extend": "продлить срок",
    "reassign": "передать другому сотруднику",
    "comment": "добавить комментарий",
    "add_photo": "добавить фото",
    "link_to_outage": "связать с аварийным отключением",
    "mark_deadline": "отметить состояние срока",
    "erase_personal_data": "обезличить персональные данные",
    "subscribe": "присоединить заявителя",
    "attach_source": "присоединить публикацию",
    "record_delivery": "записать доставку ответа",
}


def allows(step: str, status: str) -> bool:
    return status in ALLOWED_FROM[step]


def may_rate(appeal: "Appeal") -> bool:
    """Whether the appeal's answer still waits for its mark: one mark per answer. After a reopening
    the next answer may be rated again (its `answered_at` is later than the last mark); an answer
    already rated is not marked twice, so the satisfaction figures count each answer once."""
    if appeal.status not in (Status.ANSWERED, Status.CLOSED):
        return False
    return appeal.rated_at is None or (
        appeal.answered_at is not None and appeal.rated_at < appeal.answered_at
    )


def reopen_until(appeal: "Appeal") -> datetime | None:
    """The last moment a closed appeal may be reopened (None while it is not closed)."""
    if appeal.status != Status.CLOSED or appeal.closed_at is None:
        return None
    return appeal.closed_at + timedelta(days=settings.TSUR["REOPEN_WINDOW_DAYS"])


def permits(step: str, appeal: "Appeal", at: datetime | None = None) -> bool:
    """Whether the appeal as it stands allows `step`: its status, and for the author's mark and a
    reopening the rules beyond the status (the action refuses the same cases)."""
    if step in ALLOWED_FROM and appeal.status not in ALLOWED_FROM[step]:
        return False
    if step == "rate":
        return may_rate(appeal)
    if step == "reopen":
        until = reopen_until(appeal)
        return until is None or (at or timezone.now()) <= until
    return True
