"""Periodic jobs of the register (its notifications are deliveries of `tsur.notify`, planned by
`notifications.plan` within each action)."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import actions

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/5"))
def check_deadlines():
    counts = actions.mark_deadlines()
    log.info("deadlines marked: %s", counts)
    return counts


@db_periodic_task(crontab(minute="17"))
def close_unanswered():
    closed = actions.autoclose()
    log.info("appeals closed automatically: %s", closed)
    return closed


@db_periodic_task(crontab(hour="3", minute="41"))
def erase_expired_personal_data():
    erased = actions.erase_expired_personal_data()
    log.info("appeals anonymised at the end of retention: %s", erased)
    return erased
