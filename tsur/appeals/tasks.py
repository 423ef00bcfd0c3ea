"""Background and periodic jobs of the register."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from tsur.core.choices import Role
from tsur.core.models import User

from . import actions
from .choices import EventKind
from .models import AppealEvent

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


def recipients(event: AppealEvent) -> list[str]:
    """Who hears about an event: the organisation on new work, its supervisors on escalation,
    the citizen on what concerns them."""
    appeal = event.appeal
    if event.kind in {EventKind.ASSIGNED, EventKind.REDIRECTED, EventKind.REOPENED}:
        return [appeal.organisation.email] if appeal.organisation and appeal.organisation.email else []
    if event.kind == EventKind.ESCALATED:
        if not appeal.organisation_id:
            return []
        supervisors = User.objects.filter(
            assignments__role=Role.SUPERVISOR,
            assignments__organisation=appeal.organisation_id,
            is_active=True,
        ).exclude(email="")
        return sorted(set(supervisors.values_list("email", flat=True)))
    email = appeal.author_email or (appeal.author.email if appeal.author else "")
    return [email] if email else []


@db_task(retries=3, retry_delay=60)
def notify_event(event_id: int) -> int:
    event = (
        AppealEvent.objects.select_related("appeal__organisation", "appeal__author")
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        return 0
    to = recipients(event)
    if not to:
        return 0
    appeal = event.appeal
    subject = f"Обращение № {appeal.number}: {event.get_kind_display()}"
    lines = [f"Обращение № {appeal.number}", f"Статус: {appeal.get_status_display()}"]
    if event.reason:
        lines.append("")
        lines.append(event.reason)
    return send_mail(subject, "\n".join(lines), settings.DEFAULT_FROM_EMAIL, to)
