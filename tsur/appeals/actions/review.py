"""The reviewer's steps on an answer that waits (status «Ответ на проверке»): give it to the citizen
as it was written, or send it back to the organisation with a comment. Who reviews: an operator of
the center, a supervisor of the organisation, an administrator (policies.ACTION_ROLES)."""

from datetime import datetime

from tsur.core.errors import DomainError
from tsur.core.models import User
from tsur.core.text import clean_text

from .. import review
from ..choices import EventKind, Status
from ..models import Appeal
from .base import move, new_event, record, step
from .execution import give_answer


def _waiting(appeal: Appeal):
    submitted = review.submission(appeal)
    if submitted is None:
        raise DomainError("Ответа, ожидающего проверки, нет.", code="no_answer_in_review")
    return submitted


@step("approve_answer")
def approve_answer(appeal: Appeal, actor: User | None, *, at: datetime) -> Appeal:
    """The answer goes out exactly as a direct answer would: answered now (on time or not), public,
    told to the citizen and the followers, signed by the one who wrote it."""
    submitted = _waiting(appeal)
    if actor is not None and actor.pk and submitted.actor_id == actor.pk:
        raise DomainError("Свой ответ одобрить нельзя: его проверяет другой сотрудник.", code="own_answer")
    record(
        [
            new_event(
                appeal,
                EventKind.ANSWER_APPROVED,
                actor,
                at,
                status_from=appeal.status,
                status_to=Status.ANSWERED,
                data={"submitted": submitted.pk},
            )
        ]
    )
    give_answer(
        appeal,
        submitted.actor or actor,
        text=submitted.reason,
        photo_ids=list((submitted.data or {}).get("photos") or []),
        at=at,
    )
    return appeal


@step("return_answer")
def return_answer(appeal: Appeal, actor: User | None, *, comment: str, at: datetime) -> Appeal:
    """Back to work with what is missing; the organisation (and the one who wrote it) is told, the
    citizen is not: for them the answer is still being prepared."""
    comment = clean_text(comment, field="comment", limit=4000)
    submitted = _waiting(appeal)
    move(
        appeal,
        Status.IN_WORK,
        EventKind.ANSWER_RETURNED,
        actor,
        at,
        reason=comment,
        data={"submitted": submitted.pk, "submitted_by": submitted.actor_id},
    )
    return appeal
