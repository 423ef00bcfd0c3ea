"""Jobs of notify: one attempt per new delivery, and a sweep of due retries every minute."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import delivery


@db_task()
def send(delivery_id: int):
    return delivery.attempt(delivery_id)


@db_periodic_task(crontab(minute="*"))
def retry_due():
    return {pk: delivery.attempt(pk) for pk in delivery.due()}
