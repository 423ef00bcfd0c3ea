"""Periodic jobs of the analytics: the spikes detector, hourly (tsur.analytics.anomalies)."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import anomalies

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="2"))
def detect_spikes():
    raised = anomalies.evaluate()
    log.info("spikes raised: %s", len(raised))
    return len(raised)
