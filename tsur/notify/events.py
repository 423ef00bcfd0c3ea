"""What the dispatch events tell the services: one delivery per interested subscription, stored
first, then attempted by the worker."""

import logging

from django.db import transaction
from django.utils import timezone

from .models import Delivery, Subscription, Topic

log = logging.getLogger(__name__)


def _publish(topic: str, severity: str, object_kind: str, subject: str, text: str, payload: dict) -> int:
    subscriptions = [
        s for s in Subscription.objects.filter(is_active=True) if s.wants(topic, severity, object_kind)
    ]
    if not subscriptions:
        return 0
    created = Delivery.objects.bulk_create(
        [
            Delivery(subscription=s, topic=topic, subject=subject[:300], text=text, payload=payload)
            for s in subscriptions
        ]
    )  # both PostgreSQL and SQLite hand back the new keys
    ids = [d.pk for d in created]

    def schedule():
        from . import tasks

        for pk in ids:
            try:
                tasks.send(pk)
            except Exception:  # the queue is down: the periodic sweep will send it
                log.warning("delivery %s left to the periodic sweep", pk)

    transaction.on_commit(schedule)
    return len(ids)


def _when(at) -> str:
    return f"{timezone.localtime(at):%d.%m.%Y %H:%M}"


def _object_payload(engineering_object) -> dict:
    return {
        "object": {
            "code": engineering_object.code,
            "name": engineering_object.name,
            "kind": engineering_object.kind,
            "address": engineering_object.address,
            "latitude": engineering_object.latitude,
            "longitude": engineering_object.longitude,
            "owner": engineering_object.owner.name,
        }
    }


def alarm_raised(alarm_id: int) -> int:
    from tsur.dispatch.models import Alarm

    alarm = Alarm.objects.select_related("object__owner", "rule__metric").filter(pk=alarm_id).first()
    if alarm is None:
        return 0
    obj = alarm.object
    subject = f"[{alarm.get_severity_display()}] {alarm.rule.name}: {obj.name}"
    text = (
        f"{alarm.rule.name} на объекте «{obj.name}» ({obj.get_kind_display()}, {obj.address or 'адрес не указан'}).\n"
        f"Значение: {alarm.value:g} {alarm.rule.metric.unit}, с {_when(alarm.raised_at)}.\n"
        f"Эксплуатирующая организация: {obj.owner.name}."
    )
    payload = {
        "alarm": {
            "id": alarm.pk,
            "rule": alarm.rule.name,
            "severity": alarm.severity,
            "value": alarm.value,
            "unit": alarm.rule.metric.unit,
            "raised_at": alarm.raised_at.isoformat(),
        },
        **_object_payload(obj),
    }
    return _publish(Topic.ALARM_RAISED, alarm.severity, obj.kind, subject, text, payload)


def _outage(outage_id: int):
    from tsur.dispatch.models import Outage

    return Outage.objects.select_related("object__owner", "alarm").filter(pk=outage_id).first()


def _outage_payload(outage) -> dict:
    return {
        "outage": {
            "id": outage.pk,
            "services": outage.services,
            "started_at": outage.started_at.isoformat(),
            "expected_end_at": outage.expected_end_at.isoformat() if outage.expected_end_at else None,
            "ended_at": outage.ended_at.isoformat() if outage.ended_at else None,
            "buildings": outage.buildings.count(),
            "appeals": outage.links.count(),
        },
        **_object_payload(outage.object),
    }


def outage_opened(outage_id: int) -> int:
    outage = _outage(outage_id)
    if outage is None:
        return 0
    severity = outage.alarm.severity if outage.alarm else "critical"
    buildings = outage.buildings.count()
    subject = f"Аварийное отключение: {outage.services_display()} — {outage.object.name}"
    text = (
        f"С {_when(outage.started_at)} без услуги ({outage.services_display()}) {buildings} зд. "
        f"от объекта «{outage.object.name}» ({outage.object.address or 'адрес не указан'}).\n"
        f"Связано обращений: {outage.links.count()}."
    )
    return _publish(Topic.OUTAGE_OPENED, severity, outage.object.kind, subject, text, _outage_payload(outage))


def outage_ended(outage_id: int) -> int:
    outage = _outage(outage_id)
    if outage is None:
        return 0
    severity = outage.alarm.severity if outage.alarm else "critical"
    subject = f"Отключение устранено: {outage.services_display()} — {outage.object.name}"
    text = (
        f"Услуга восстановлена {_when(outage.ended_at)} (отключение с {_when(outage.started_at)}). "
        f"Ответ получили обращения, связанные с отключением: {outage.links.count()}."
    )
    return _publish(Topic.OUTAGE_ENDED, severity, outage.object.kind, subject, text, _outage_payload(outage))
