"""What dispatch tells the services (the ЕДДС, a utility's dispatch) through their subscriptions:
an alarm raised, an outage opened, an outage ended. Composed here, delivered by `tsur.notify`.

Each is called inside the action's transaction, after its changes: the deliveries are stored with
them (a process that dies right after the commit loses no notice) and sent once it commits. The
outage's notice counts the appeals linked to it at its opening."""

from django.utils import timezone

from tsur.notify import publish
from tsur.notify.choices import Severity, Topic

from .models import Alarm, EngineeringObject, Outage


def _when(at) -> str:
    return f"{timezone.localtime(at):%d.%m.%Y %H:%M}"


def _object_payload(engineering_object: EngineeringObject) -> dict:
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
    return publish.to_subscribers(
        Topic.ALARM_RAISED,
        severity=alarm.severity,
        object_kind=obj.kind,
        subject=subject,
        text=text,
        payload=payload,
    )


def _outage(outage_id: int) -> Outage | None:
    return Outage.objects.select_related("object__owner", "alarm").filter(pk=outage_id).first()


def _severity(outage: Outage) -> str:
    # an outage a dispatcher opened by hand (no alarm) is as grave as any: people are without a service
    return outage.alarm.severity if outage.alarm else Severity.CRITICAL


def _outage_payload(outage: Outage) -> dict:
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
    buildings = outage.buildings.count()
    subject = f"Аварийное отключение: {outage.services_display()} — {outage.object.name}"
    text = (
        f"С {_when(outage.started_at)} без услуги ({outage.services_display()}) {buildings} зд. "
        f"от объекта «{outage.object.name}» ({outage.object.address or 'адрес не указан'}).\n"
        f"Связано обращений: {outage.links.count()}."
    )
    return publish.to_subscribers(
        Topic.OUTAGE_OPENED,
        severity=_severity(outage),
        object_kind=outage.object.kind,
        subject=subject,
        text=text,
        payload=_outage_payload(outage),
    )


def outage_ended(outage_id: int) -> int:
    outage = _outage(outage_id)
    if outage is None:
        return 0
    subject = f"Отключение устранено: {outage.services_display()} — {outage.object.name}"
    text = (
        f"Услуга восстановлена {_when(outage.ended_at)} (отключение с {_when(outage.started_at)}). "
        f"Ответ получили обращения, связанные с отключением: {outage.links.count()}."
    )
    return publish.to_subscribers(
        Topic.OUTAGE_ENDED,
        severity=_severity(outage),
        object_kind=outage.object.kind,
        subject=subject,
        text=text,
        payload=_outage_payload(outage),
    )
