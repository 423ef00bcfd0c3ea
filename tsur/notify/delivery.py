"""Attempting deliveries: at once after the event commits, then again with growing pauses until
`MAX_ATTEMPTS`; the periodic job picks up whatever is due, so a worker restart loses nothing.

A delivery is sent at most once: its row stays locked while it is being sent (others skip it) and
is marked sent in the same transaction; on SQLite every transaction takes the write lock at its
start (`transaction_mode` IMMEDIATE), which serialises the attempts just as well."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .channels import SENDERS, DeliveryError
from .models import Delivery, DeliveryState

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
BACKOFF = [timedelta(minutes=m) for m in (1, 2, 5, 10, 30, 60, 120)]


def attempt(delivery_id: int) -> str | None:
    """Try one delivery if it is due; returns its state afterwards (None if not ours to try)."""
    with transaction.atomic():
        # only the delivery's row: its optional subscription is joined as the nullable side of an
        # outer join, which PostgreSQL refuses to lock
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription")
            .filter(pk=delivery_id, state__in=[DeliveryState.PENDING, DeliveryState.RETRYING])
            .first()
        )
        if delivery is None:
            return None
        now = timezone.now()
        delivery.attempts += 1
        try:
            SENDERS[delivery.target()[0]](delivery)
        except (DeliveryError, KeyError) as error:
            delivery.last_error = str(error)[:500]
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.state = DeliveryState.FAILED
                log.warning("delivery %s failed for good: %s", delivery.pk, error)
            else:
                delivery.state = DeliveryState.RETRYING
                delivery.next_attempt_at = now + BACKOFF[min(delivery.attempts, len(BACKOFF)) - 1]
        else:
            delivery.state, delivery.sent_at, delivery.last_error = DeliveryState.SENT, now, ""
        delivery.save(update_fields=["attempts", "state", "next_attempt_at", "last_error", "sent_at"])
        return delivery.state


def due(now=None) -> list[int]:
    now = now or timezone.now()
    return list(
        Delivery.objects.filter(
            state__in=[DeliveryState.PENDING, DeliveryState.RETRYING], next_attempt_at__lte=now
        ).values_list("pk", flat=True)[:500]
    )
