"""Readings are kept for the retention period: on PostgreSQL in daily partitions dropped whole,
elsewhere by deleting old rows. Runs on both databases of the suite."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from tsur.core.tests.factories import OrganisationFactory
from tsur.dispatch import ingest, partitions
from tsur.dispatch.choices import ObjectKind
from tsur.dispatch.models import Device, EngineeringObject, Metric, Reading

pytestmark = pytest.mark.django_db
# today's noon: the migration prepares partitions from the real date (AHEAD_DAYS ahead), so a fixed
# date would fall inside them once the calendar caught up with it («beyond the prepared days» no more)
NOW = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)


@pytest.fixture
def series():
    plant = EngineeringObject.objects.create(
        code="k1", name="Котельная", kind=ObjectKind.BOILER_HOUSE, owner=OrganisationFactory()
    )
    device, _ = Device.issue("plc-k1", plant)
    metric = Metric.objects.create(code="t_supply", name="Подача", unit="°C")
    return device, metric


def put(series, *days_ago):
    device, metric = series
    ingest.store([(device.pk, metric.pk, 70.0 + d, NOW - timedelta(days=d), NOW) for d in days_ago])


def partition_of(value: float) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM dispatch_reading WHERE value = %s", [value])
        return cursor.fetchone()[0]


def test_readings_past_the_retention_period_are_dropped(series):
    partitions.maintain(now=NOW, retention_days=30)
    put(series, 0, 3, 29, 45)  # 45 days ago: past retention already

    result = partitions.maintain(now=NOW, retention_days=30)
    assert sorted(Reading.objects.values_list("value", flat=True)) == [70.0, 73.0, 99.0]

    later = NOW + timedelta(days=28)  # the retention horizon now lies two days before NOW
    result = partitions.maintain(now=later, retention_days=30)
    assert list(Reading.objects.values_list("value", flat=True)) == [70.0]
    if connection.vendor == "postgresql":
        assert partitions.is_partitioned()
        assert result["dropped"] >= 1 and result["deleted"] == 1  # a day dropped whole; a stray row deleted
        assert (NOW - timedelta(days=3)).date() not in partitions.existing()
        assert (later + timedelta(days=partitions.AHEAD_DAYS)).date() in partitions.existing()
    else:
        assert result["deleted"] == 2


def test_a_day_without_its_partition_is_caught_and_moved_later(series):
    partitions.maintain(now=NOW, retention_days=90)
    far = NOW + timedelta(days=partitions.AHEAD_DAYS + 3)  # beyond the prepared days
    device, metric = series
    ingest.store([(device.pk, metric.pk, 1.0, far, NOW), (device.pk, metric.pk, 2.0, NOW, NOW)])
    if connection.vendor != "postgresql":
        assert Reading.objects.count() == 2
        return
    assert partition_of(1.0) == "dispatch_reading_default"
    assert partition_of(2.0) == f"dispatch_reading_p{NOW:%Y%m%d}"

    partitions.maintain(now=far, retention_days=90)
    assert partition_of(1.0) == f"dispatch_reading_p{far:%Y%m%d}"
    assert Reading.objects.count() == 2
