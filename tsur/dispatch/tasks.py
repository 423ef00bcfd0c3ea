"""Periodic jobs of dispatch."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import alarms

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
def check_silence():
    touched = alarms.check_silence()
    if touched:
        log.info("controllers silent for too long: %s alarms", touched)
    return touched
