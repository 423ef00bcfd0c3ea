"""Telemetry intake, the same for MQTT and HTTP: every reading is checked on its own; a bad one is
refused and counted, and never stops the good ones next to it.

Storing readings (COPY on PostgreSQL), moving a device's «last seen» and counting refusals is intake
of telemetry, not a change of dispatch's business state, so it is written here directly and in bulk;
what the readings mean for alarms and outages is decided by `alarms.Evaluator` and done by
`actions`, with their events.

A reading is {"metric": code, "value": number, "unit": text, "at": ISO 8601 with time zone}.
"""

import json
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import alarms
from .choices import RejectReason
from .models import Device, Metric, Reading

log = logging.getLogger(__name__)
FUTURE_TOLERANCE = timedelta(minutes=5)  # controllers' clocks drift
MAX_AGE = timedelta(days=7)  # older readings belong to an archive import, not to live telemetry
MAX_BATCH = 5000
MAX_BYTES = 1024 * 1024
METRICS_TTL_S = 10.0
SEEN_EVERY = timedelta(seconds=30)
MAX_OFFSET = timedelta(hours=14)  # the widest real one; PostgreSQL refuses past ±15:59


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


def _parse_time(raw) -> datetime | None:
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    try:
        return datetime.fromisoformat(raw)  # fast, and since Python 3.11 it reads «Z» as well
    except ValueError:
        try:
            return parse_datetime(raw)
        except ValueError:
            return None


def _check(
    item, metrics: dict[str, Metric], now: datetime
) -> tuple[Metric, float, datetime] | tuple[str, str]:
    if not isinstance(item, dict):
        return RejectReason.MALFORMED, "a reading is an object"
    code = item.get("metric")
    metric = metrics.get(code) if isinstance(code, str) else None
    if metric is None:
        return RejectReason.UNKNOWN_METRIC, f"unknown metric {str(code)[:40]!r}"
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
    at = _parse_time(item.get("at"))
    if at is None or at.tzinfo is None or abs(at.utcoffset()) > MAX_OFFSET:
        return RejectReason.MALFORMED, "at must be ISO 8601 with a time zone (offset within ±14:00)"
    if at > now + FUTURE_TOLERANCE:
        return RejectReason.FUTURE, "the reading is from the future"
    if at < now - MAX_AGE:
        return RejectReason.TOO_OLD, f"the reading is older than {MAX_AGE.days} days"
    return metric, float(value), at


class Intake:
    """Checks, stores and evaluates batches of readings. A request makes one and drops it; the MQTT
    consumer keeps one, which remembers metrics and alarm state between batches."""

    def __init__(self, remember: bool = False):
        self.remember = remember
        self.evaluator = alarms.Evaluator(remember=remember)
        self._metrics: dict[str, Metric] | None = None
        self._metrics_at = 0.0
        self._seen: dict[int, datetime] = {}

    def _seen_stale(self, device_id: int, at: datetime) -> bool:
        """Whether the device's «last seen» is worth writing (a remembering intake writes it at most
        every `SEEN_EVERY` per device: it serves the dispatcher's screen, not the alarm rules)."""
        if not self.remember:
            return True
        written = self._seen.get(device_id)
        return written is None or at - written >= SEEN_EVERY

    def metrics(self) -> dict[str, Metric]:
        if self._metrics is None or not self.remember or time.monotonic() - self._metrics_at > METRICS_TTL_S:
            self._metrics, self._metrics_at = {m.code: m for m in Metric.objects.all()}, time.monotonic()
        return self._metrics

    def accept(self, device: Device, items: list, now: datetime | None = None) -> Outcome:
        return self.accept_many([(device, items)], now=now)[0]

    def accept_many(
        self, batches: list[tuple[Device, list]], now: datetime | None = None, refused: Counter | None = None
    ) -> list[Outcome]:
        """Store the good readings of several devices in one transaction and one insert; count the
        bad ones by reason and device (`refused` adds refusals found before, keyed (reason, code))."""
        now = now or timezone.now()
        metrics = self.metrics()
        outcomes, samples, newest = [], [], {}
        reasons = Counter(refused or ())
        for device, items in batches:
            outcome = Outcome()
            for index, item in enumerate(items):
                checked = _check(item, metrics, now)
                if isinstance(checked[0], Metric):
                    metric, value, at = checked
                    samples.append((device, metric.pk, value, at))
                    if device.pk not in newest or at > newest[device.pk]:
                        newest[device.pk] = at
                    outcome.accepted += 1
                else:
                    reason, detail = checked
                    reasons[reason, device.code] += 1
                    outcome.rejected.append({"index": index, "reason": str(reason), "detail": detail})
            outcomes.append(outcome)
        seen = {pk: at for pk, at in newest.items() if self._seen_stale(pk, at)}
        with transaction.atomic():
            store([(device.pk, metric_id, value, at, now) for device, metric_id, value, at in samples])
            mark_seen(seen)
            count_rejections(reasons, now=now)
        if self.remember:
            self._seen.update(seen)
        if samples:
            try:
                self.evaluator.evaluate(samples)
            except Exception:  # the readings are stored; a sender retrying would only duplicate them
                log.exception("alarm rules failed on a batch of %s readings", len(samples))
        return outcomes


COLUMNS = ("device_id", "metric_id", "value", "measured_at", "received_at")


def store(rows: list[tuple]) -> None:
    """Insert readings (device id, metric id, value, measured at, received at): COPY on PostgreSQL,
    one multi-row insert per 2,000 elsewhere."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        # COPY's text format, written at once: several times faster than a row at a time
        data = "".join(f"{d}\t{m}\t{v!r}\t{at.isoformat()}\t{rx.isoformat()}\n" for d, m, v, at, rx in rows)
        # the raw cursor's COPY raises psycopg's errors: turn them into Django's like every query
        with connection.cursor() as cursor, connection.wrap_database_errors:
            with cursor.cursor.copy(f"COPY dispatch_reading ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                copy.write(data)
        return
    Reading.objects.bulk_create(
        [
            Reading(device_id=d, metric_id=m, value=v, measured_at=at, received_at=rx)
            for d, m, v, at, rx in rows
        ],
        batch_size=2000,
    )


def mark_seen(seen: dict[int, datetime]) -> None:
    """Move the devices' «last seen» forward (never back), in one statement on PostgreSQL."""
    if not seen:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            values = ", ".join(["(%s::bigint, %s::timestamptz)"] * len(seen))
            sql = (
                "UPDATE dispatch_device AS d SET last_seen_at = v.at"  # noqa: S608 - placeholders only
                f" FROM (VALUES {values}) AS v (id, at)"
                " WHERE d.id = v.id AND (d.last_seen_at IS NULL OR d.last_seen_at < v.at)"
            )
            cursor.execute(sql, [x for pk, at in seen.items() for x in (pk, at)])
        else:
            cursor.executemany(
                "UPDATE dispatch_device SET last_seen_at = %s"
                " WHERE id = %s AND (last_seen_at IS NULL OR last_seen_at < %s)",
                [(at, pk, at) for pk, at in seen.items()],
            )


def accept(device: Device, items: list, now: datetime | None = None) -> Outcome:
    """One device's batch, as the HTTP endpoint receives it."""
    return Intake().accept(device, items, now=now)


def count_rejections(reasons: Counter, device_code: str | None = None, now: datetime | None = None) -> None:
    """Add refusals to the hourly counters: keyed by reason with `device_code`, or by (reason, code).
    One statement however many buckets (an upsert on both PostgreSQL and SQLite)."""
    if not reasons:
        return
    hour = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    rows = []
    for key, count in reasons.items():
        reason, code = key if device_code is None else (key, device_code)
        rows += [hour, str(reason), code[:64], count]
    values = ", ".join(["(%s, %s, %s, %s)"] * (len(rows) // 4))
    sql = (
        "INSERT INTO dispatch_rejection (hour, reason, device_code, count)"  # noqa: S608 - placeholders only
        f" VALUES {values} ON CONFLICT (hour, reason, device_code)"
        " DO UPDATE SET count = dispatch_rejection.count + excluded.count"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, rows)
