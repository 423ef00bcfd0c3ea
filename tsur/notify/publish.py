"""Putting notices out. The apps above compose them (subject, text, data for webhooks) and name the
recipients, or let the subscriptions choose; here each delivery is stored in the caller's
transaction, so it exists exactly when the event that caused it does, and is handed to the job
worker once that transaction commits. If the worker or its queue is down, the periodic sweep
(`tasks.retry_due`) sends it later."""

import logging

from django.db import transaction

from tsur.core import db

from . import tasks
from .models import Delivery, Subscription

log = logging.getLogger(__name__)


def deliver(deliveries: list[Delivery]) -> list[Delivery]:
    """Store new deliveries (one INSERT) and send them after commit."""
    if not deliveries:
        return deliveries
    for delivery in deliveries:
        delivery.subject = delivery.subject[:300]
    ids = [d.pk for d in db.insert(deliveries)]
    transaction.on_commit(lambda: _send(ids), robust=True)
    return deliveries


def _send(ids: list[int]) -> None:
    for pk in ids:
        try:
            tasks.send(pk)
        except Exception:  # the queue is down: the periodic sweep will send it
            log.warning("delivery %s left to the periodic sweep", pk)


def to_subscribers(
    topic: str, *, severity: str, object_kind: str, subject: str, text: str, payload: dict
) -> int:
    """One delivery per active subscription that wants the topic at this severity and kind of
    object; returns how many."""
    subscriptions = [
        s for s in Subscription.objects.filter(is_active=True) if s.wants(topic, severity, object_kind)
    ]
    deliver(
        [
            Delivery(subscription=s, topic=topic, subject=subject, text=text, payload=payload)
            for s in subscriptions
        ]
    )
    return len(subscriptions)
