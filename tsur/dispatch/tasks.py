"""Periodic jobs of dispatch."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import alarms, partitions

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
def check_silence():
    touched = alarms.check_silence()
    if touched:
        log.info("controllers silent for too long: %s alarms", touched)
    return touched


@db_periodic_task(crontab(hour="*/6", minute="7"))
def keep_readings():
    """Partitions for the coming days; readings past TELEMETRY_RETENTION_DAYS dropped."""
    return partitions.maintain()
