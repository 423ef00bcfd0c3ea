"""Telemetry intake, the same for MQTT and HTTP: every reading is checked on its own; a bad one is
refused and counted, and never stops the good ones next to it.

A reading is {"metric": code, "value": number, "unit": text, "at": ISO 8601 with time zone}.
"""

import json
import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import alarms
from .choices import RejectReason
from .models import Device, Metric, Reading, Rejection

log = logging.getLogger(__name__)
FUTURE_TOLERANCE = timedelta(minutes=5)  # controllers' clocks drift
MAX_AGE = timedelta(days=7)  # older readings belong to an archive import, not to live telemetry
MAX_BATCH = 5000
MAX_BYTES = 1024 * 1024


def decode(raw: bytes) -> list | None:
    """The readings of a batch as HTTP and MQTT carry it, `{"readings": [...]}`; None when the body
    is too large or is not that (not JSON, nested past the parser's depth, another shape)."""
    if len(raw) > MAX_BYTES:
        return None
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    readings = body.get("readings") if isinstance(body, dict) else None
    return readings if isinstance(readings, list) else None


@dataclass
class Outcome:
    accepted: int = 0
    rejected: list[dict] = field(default_factory=list)


def _check(
    item, metrics: dict[str, Metric], now: datetime
) -> tuple[Metric, float, datetime] | tuple[str, str]:
    if not isinstance(item, dict):
        return RejectReason.MALFORMED, "a reading is an object"
    metric = metrics.get(item.get("metric")) if isinstance(item.get("metric"), str) else None
    if metric is None:
        return RejectReason.UNKNOWN_METRIC, f"unknown metric {str(item.get('metric'))[:40]!r}"
    value = item.get("value")
    try:
        finite = not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
    except OverflowError:  # an integer of hundreds of digits
        finite = False
    if not finite:
        return RejectReason.MALFORMED, "value must be a finite number"
    if item.get("unit") != metric.unit:
        return RejectReason.WRONG_UNIT, f"{metric.code} is measured in {metric.unit!r}"
    if (metric.min_value is not None and value < metric.min_value) or (
        metric.max_value is not None and value > metric.max_value
    ):
        return (
            RejectReason.OUT_OF_RANGE,
            f"{metric.code} must be within {metric.min_value}…{metric.max_value}",
        )
    raw = item.get("at")
    try:
        at = parse_datetime(raw) if isinstance(raw, str) and len(raw) <= 40 else None
    except ValueError:
        at = None
    if at is None or timezone.is_naive(at):
        return RejectReason.MALFORMED, "at must be ISO 8601 with a time zone"
    if at > now + FUTURE_TOLERANCE:
        return RejectReason.FUTURE, "the reading is from the future"
    if at < now - MAX_AGE:
        return RejectReason.TOO_OLD, f"the reading is older than {MAX_AGE.days} days"
    return metric, float(value), at


def accept(device: Device, items: list, now: datetime | None = None) -> Outcome:
    """Store the good readings of one device in one insert; count the bad ones by reason."""
    now = now or timezone.now()
    metrics = {m.code: m for m in Metric.objects.all()}
    outcome, readings, reasons = Outcome(), [], Counter()
    for index, item in enumerate(items):
        checked = _check(item, metrics, now)
        if isinstance(checked[0], Metric):
            metric, value, at = checked
            readings.append(
                Reading(device=device, metric=metric, value=value, measured_at=at, received_at=now)
            )
        else:
            reason, detail = checked
            reasons[reason] += 1
            outcome.rejected.append({"index": index, "reason": str(reason), "detail": detail})
    with transaction.atomic():
        Reading.objects.bulk_create(readings, batch_size=2000)
        if readings:
            Device.objects.filter(pk=device.pk).update(last_seen_at=max(r.measured_at for r in readings))
        count_rejections(reasons, device.code, now)
    outcome.accepted = len(readings)
    if readings:
        try:
            alarms.evaluate(device, readings)
        except Exception:  # the readings are stored; a sender retrying would only duplicate them
            log.exception("alarm rules failed on a batch of %s", device.code)
    return outcome


def count_rejections(reasons: Counter, device_code: str, now: datetime | None = None) -> None:
    hour = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    for reason, count in reasons.items():
        bucket = {"hour": hour, "reason": reason, "device_code": device_code[:64]}
        if Rejection.objects.filter(**bucket).update(count=F("count") + count):
            continue
        try:
            with transaction.atomic():
                Rejection.objects.create(**bucket, count=count)
        except IntegrityError:  # another worker opened the bucket first
            Rejection.objects.filter(**bucket).update(count=F("count") + count)
