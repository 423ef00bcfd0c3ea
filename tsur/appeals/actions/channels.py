"""What a channel that answers in place (social monitoring) records on an appeal's timeline: a
source post attached to the incident, and the outcome of an answer delivered under a post. Neither
changes the status or the clock; the channel's own app keeps the posts and deliveries."""

from datetime import datetime

from tsur.core.errors import DomainError
from tsur.core.models import User

from ..choices import EventKind
from ..models import Appeal
from .base import event, step

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
