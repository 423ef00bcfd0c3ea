"""What a channel that answers in place (social monitoring) records on an appeal's timeline: a
source post attached to the incident, and the outcome of an answer delivered under a post. Neither
changes the status or the clock; the channel's own app keeps the posts and deliveries."""

from datetime import datetime

from django.db import transaction

from tsur.core.errors import DomainError
from tsur.core.models import User

from ..choices import EventKind
from ..models import Appeal
from .base import check, event, lock, moment, new_event, record, step

DELIVERY_OUTCOMES = ("posted", "refused", "deleted", "failed")


@step("attach_source")
def attach_source(
    appeal: Appeal, actor: User | None, *, data: dict, reason: str = "", at: datetime
) -> Appeal:
    """Another post about the same problem joined the incident (`data`: network, post id, link —
    never the author's name)."""
    event(
        appeal, EventKind.POST_ATTACHED, actor, at, status_from=appeal.status, reason=reason[:2000], data=data
    )
    return appeal


def attach_sources(
    attachments: list[tuple[int, dict, str]], actor: User | None, *, at: datetime | None = None
) -> dict[int, Appeal]:
    """`attach_source` for a batch of posts at once — (incident key, data, reason) each: the
    incidents locked together in key order and each checked as the step checks it, one event per
    post, all recorded in one go. Returns the incidents by key, as locked."""
    at = moment(at)
    if not attachments:
        return {}
    with transaction.atomic():
        appeals = {a.pk: a for a in lock(*sorted({key for key, _, _ in attachments}))}
        for appeal in appeals.values():
            check(appeal, "attach_source")
        record(
            [
                new_event(
                    appeals[key],
                    EventKind.POST_ATTACHED,
                    actor,
                    at,
                    status_from=appeals[key].status,
                    reason=reason[:2000],
                    data=data,
                )
                for key, data, reason in attachments
            ]
        )
    return appeals


attach_sources.step = "attach_source"  # the same step, its lock and check, for many appeals at once


@step("record_delivery")
def record_delivery(
    appeal: Appeal, actor: User | None, *, outcome: str, data: dict, reason: str = "", at: datetime
) -> Appeal:
    """The answer under a post was posted, refused by the network, found deleted, or given up on."""
    if outcome not in DELIVERY_OUTCOMES:
        raise DomainError(f"Неизвестный исход доставки «{outcome}».", field="outcome")
    event(
        appeal,
        EventKind.REPLY_DELIVERED,
        actor,
        at,
        status_from=appeal.status,
        reason=reason[:2000],
        data={"outcome": outcome, **data},
        public=outcome == "posted",
    )
    return appeal
