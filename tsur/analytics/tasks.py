"""Periodic and on-demand jobs of the situational center: the spike detector (hourly), the weekly
report (Monday 07:00 in the region's time, and on demand)."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import anomalies, report

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="2"))
def detect_spikes():
    raised = anomalies.evaluate()
    log.info("spikes raised: %s", len(raised))
    return len(raised)


@db_periodic_task(crontab(minute="*/15"))
def weekly_report_when_due():
    """Monday 07:00 in the region's time makes last week's report and mails it; asked every quarter
    of an hour, so a worker that was down at seven makes it as soon as it is back, and only once."""
    week = report.due()
    if week is None:
        return None
    made = report.make(report.request(week).pk, mail_subscribers=True)
    log.info("weekly report for %s made (%s bytes)", week, made.pdf_size)
    return made.pk


@db_task()
def make_report(report_id: int):
    return report.make(report_id).pk
