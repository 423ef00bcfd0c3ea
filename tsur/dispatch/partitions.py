"""Keeping readings: on PostgreSQL the table is partitioned by day (UTC) of `measured_at`; a daily
job creates the partitions ahead and drops the ones past the retention period whole, which costs
nothing however many readings they hold. Elsewhere (SQLite) old readings are deleted in chunks.

A DEFAULT partition catches anything outside the prepared days, so an insert never fails for want of
a partition; when a day's partition is created later, its rows are moved out of the default first.
"""

import logging
import re
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import Reading

log = logging.getLogger(__name__)
TABLE = "dispatch_reading"
AHEAD_DAYS = 14
BEHIND_DAYS = 8  # the intake accepts readings up to 7 days old
NAME = re.compile(rf"^{TABLE}_p(\d{{8}})$")


def is_partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid WHERE c.relname = %s",
            [TABLE],
        )
        return cursor.fetchone() is not None


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def existing() -> dict[date, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    days = {}
    for name in names:
        match = NAME.match(name)
        if match:
            days[date.fromisoformat(match.group(1))] = name
    return days


def create_day(day: date) -> str:
    """The day's partition; rows already caught by the default partition move into it."""
    name = f"{TABLE}_p{day:%Y%m%d}"
    start, end = _bounds(day)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {TABLE}_default")
        # DDL takes no parameters; the bounds are built from a date above, not from input
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {TABLE}"
            f" FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
        cursor.execute(
            f"WITH moved AS (DELETE FROM {TABLE}_default WHERE measured_at >= %s AND measured_at < %s RETURNING *)"  # noqa: S608 - constant names
            f" INSERT INTO {TABLE} SELECT * FROM moved",
            [start, end],
        )
        cursor.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {TABLE}_default DEFAULT")
    return name


def maintain(now: datetime | None = None, retention_days: int | None = None) -> dict[str, int]:
    """Create the partitions for the coming days, drop the expired ones (or delete expired rows)."""
    now = now or timezone.now()
    retention_days = settings.TELEMETRY_RETENTION_DAYS if retention_days is None else retention_days
    cutoff = now - timedelta(days=retention_days)
    if not is_partitioned():
        deleted = 0
        while True:
            ids = list(Reading.objects.filter(measured_at__lt=cutoff).values_list("pk", flat=True)[:10000])
            if not ids:
                break
            deleted += Reading.objects.filter(pk__in=ids).delete()[0]
        return {"created": 0, "dropped": 0, "deleted": deleted}
    have = existing()
    today = now.astimezone(UTC).date()
    created = 0
    for offset in range(-BEHIND_DAYS, AHEAD_DAYS + 1):
        day = today + timedelta(days=offset)
        if day not in have and _bounds(day)[1] > cutoff:
            create_day(day)
            created += 1
    dropped = 0
    for day, name in sorted(have.items()):
        if _bounds(day)[1] <= cutoff:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # inside a transaction: checks first
                cursor.execute(f"DROP TABLE {name}")
            dropped += 1
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}_default WHERE measured_at < %s", [cutoff])  # noqa: S608 - constant
        deleted = cursor.rowcount
    if created or dropped:
        log.info("readings: %s partitions created, %s dropped", created, dropped)
    return {"created": created, "dropped": dropped, "deleted": deleted}
