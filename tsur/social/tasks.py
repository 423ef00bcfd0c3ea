"""Periodic jobs of social monitoring: read the sources, turn new answers into replies, post the
replies due. Off where another process does it (`SOCIAL["PERIODIC"]`: the demo's simulator)."""

import logging

from django.conf import settings
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import actions

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
def monitor():
    if not settings.SOCIAL["PERIODIC"]:
        return None
    now = timezone.now()
    reports = actions.poll_all(at=now)
    stored = actions.publish(now)
    outcomes = actions.deliver(now)
    found = sum(r.new for r in reports.values() if r is not None)
    if found or stored or outcomes:
        log.info("social: %s posts found, %s replies stored, delivered %s", found, stored, outcomes)
    return found
