"""Every change of an alarm: raised or repeated by readings, acknowledged by a dispatcher, cleared
by a dispatcher or by the return to normal. One open alarm per object and rule."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from tsur.core.errors import InvalidTransition

from .choices import AlarmState, Condition
from .models import Alarm, AlarmEvent, AlarmRule, Device, Reading


def _violating(rule: AlarmRule) -> Q:
    if rule.condition == Condition.ABOVE:
        return Q(value__gt=rule.threshold)
    if rule.condition == Condition.BELOW:
        return Q(value__lt=rule.threshold)
    return Q(value__gte=0.5)


def _held(rule: AlarmRule, device: Device, latest: Reading) -> bool:
    """Whether the series has been in violation for at least the rule's hold time up to `latest`."""
    if not rule.hold_seconds:
        return True
    series = Reading.objects.filter(device=device, metric=rule.metric, measured_at__lte=latest.measured_at)
    last_normal = series.exclude(_violating(rule)).aggregate(at=Max("measured_at"))["at"]
    violating = series.filter(measured_at__gt=last_normal) if last_normal else series
    began = violating.aggregate(at=Min("measured_at"))["at"]
    return began is not None and latest.measured_at - began >= timedelta(seconds=rule.hold_seconds)


def _rate(rule: AlarmRule, device: Device, latest: Reading) -> float | None:
    """Change per minute between the newest reading and the last one at least the window before it."""
    earlier = (
        Reading.objects.filter(
            device=device,
            metric=rule.metric,
            measured_at__lte=latest.measured_at - timedelta(seconds=rule.window_seconds),
        )
        .order_by("-measured_at")
        .values_list("value", "measured_at")
        .first()
    )
    if earlier is None:
        return None
    minutes = (latest.measured_at - earlier[1]).total_seconds() / 60
    return (latest.value - earlier[0]) / minutes if minutes > 0 else None


def check_silence(now: datetime | None = None) -> int:
    """«No data»: raise for every controller whose metric has been silent longer than a rule allows
    (a fresh reading brings the alarm back to normal through `evaluate`). Returns alarms touched."""
    now = now or timezone.now()
    touched = 0
    for rule in AlarmRule.objects.filter(is_active=True, condition=Condition.NO_DATA).select_related(
        "metric"
    ):
        devices = Device.objects.filter(is_active=True).select_related("object")
        if rule.object_id:
            devices = devices.filter(object=rule.object_id)
        if rule.object_kind:
            devices = devices.filter(object__kind=rule.object_kind)
        for device in devices:
            last = (
                Reading.objects.filter(device=device, metric=rule.metric)
                .order_by("-measured_at")
                .values_list("measured_at", flat=True)
                .first()
            )
            since = last or device.last_seen_at
            if since is None or now - since <= timedelta(seconds=rule.hold_seconds):
                continue
            raise_or_repeat(device.object, rule, round((now - since).total_seconds()), now)
            touched += 1
    return touched


def rules_for(device: Device):
    engineering_object = device.object
    return (
        AlarmRule.objects.filter(is_active=True)
        .filter(
            Q(object=engineering_object)
            | Q(object__isnull=True, object_kind__in=["", engineering_object.kind])
        )
        .select_related("metric")
    )


def evaluate(device: Device, readings: list[Reading]) -> list[Alarm]:
    """Apply the object's rules to the newest reading of each metric in a stored batch."""
    newest: dict[int, Reading] = {}
    for reading in readings:
        if reading.metric_id not in newest or reading.measured_at > newest[reading.metric_id].measured_at:
            newest[reading.metric_id] = reading
    touched = []
    for rule in rules_for(device):
        latest = newest.get(rule.metric_id)
        if latest is None:
            continue
        try:
            alarm = _apply(rule, device, latest)
        except (InvalidTransition, IntegrityError):  # another worker moved the alarm meanwhile
            continue
        if alarm is not None:
            touched.append(alarm)
    return touched


def _apply(rule: AlarmRule, device: Device, latest: Reading) -> Alarm | None:
    open_alarm = (
        Alarm.objects.filter(object=device.object, rule=rule).exclude(state=AlarmState.CLEARED).first()
    )
    if open_alarm is not None and latest.measured_at < open_alarm.last_seen_at:
        return None  # a late reading (a buffer emptied, a redelivery) says nothing about now
    if rule.condition == Condition.RATE:
        rate = _rate(rule, device, latest)
        if rate is None:
            return None
        if abs(rate) > rule.threshold:
            return raise_or_repeat(device.object, rule, round(rate, 4), latest.measured_at)
    elif rule.violated_by(latest.value):
        if _held(rule, device, latest):
            return raise_or_repeat(device.object, rule, latest.value, latest.measured_at)
        return None
    if open_alarm is None:
        return None
    return back_to_normal(open_alarm, latest.value, latest.measured_at)


def back_to_normal(alarm: Alarm, value: float, at: datetime) -> Alarm:
    """An acknowledged alarm clears; an active one nobody has seen yet stays, marked as back to
    normal, so a short fault never vanishes unseen."""
    if alarm.state == AlarmState.ACKNOWLEDGED:
        return clear(alarm, None, note="Возврат в норму", at=at)
    with transaction.atomic():
        updated = Alarm.objects.filter(
            pk=alarm.pk, state=AlarmState.ACTIVE, normal_since__isnull=True
        ).update(normal_since=at, value=value, last_seen_at=at)
        if updated:
            AlarmEvent.objects.create(alarm=alarm, kind="normal", at=at, value=value, note="Возврат в норму")
    alarm.refresh_from_db()
    return alarm


def raise_or_repeat(engineering_object, rule: AlarmRule, value: float, at: datetime) -> Alarm:
    for _ in range(2):
        try:
            with transaction.atomic():
                alarm = (
                    Alarm.objects.select_for_update()
                    .filter(object=engineering_object, rule=rule)
                    .exclude(state=AlarmState.CLEARED)
                    .first()
                )
                if alarm is not None:
                    alarm.repeats += 1
                    alarm.value = value
                    alarm.last_seen_at = max(alarm.last_seen_at, at)
                    alarm.normal_since = None  # in trouble again
                    alarm.save(update_fields=["repeats", "value", "last_seen_at", "normal_since"])
                    return alarm
                alarm = Alarm.objects.create(
                    object=engineering_object,
                    rule=rule,
                    severity=rule.severity,
                    value=value,
                    raised_at=at,
                    last_seen_at=at,
                )
                AlarmEvent.objects.create(alarm=alarm, kind="raised", at=at, value=value)
                return alarm
        except IntegrityError:  # raised by another worker a moment ago: repeat it instead
            continue
    raise RuntimeError("alarm could neither be raised nor repeated")


def acknowledge(alarm: Alarm, actor, note: str = "", at: datetime | None = None) -> Alarm:
    at = at or timezone.now()
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update().get(pk=alarm.pk)
        if alarm.state != AlarmState.ACTIVE:
            raise InvalidTransition(
                f"Квитировать можно только активную тревогу (сейчас: {alarm.get_state_display()})."
            )
        alarm.state, alarm.acknowledged_at, alarm.acknowledged_by = AlarmState.ACKNOWLEDGED, at, actor
        alarm.save(update_fields=["state", "acknowledged_at", "acknowledged_by"])
        AlarmEvent.objects.create(alarm=alarm, kind="acknowledged", at=at, actor=actor, note=note[:400])
    if alarm.normal_since is not None:  # seen, and already over
        return clear(alarm, None, note="Возврат в норму", at=at)
    return alarm


def clear(alarm: Alarm, actor, note: str = "", at: datetime | None = None) -> Alarm:
    at = at or timezone.now()
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update().get(pk=alarm.pk)
        if alarm.state == AlarmState.CLEARED:
            raise InvalidTransition("Тревога уже снята.")
        if alarm.state == AlarmState.ACTIVE:
            raise InvalidTransition("Сначала квитируйте тревогу: снять можно только увиденную.")
        alarm.state, alarm.cleared_at = AlarmState.CLEARED, at
        alarm.save(update_fields=["state", "cleared_at"])
        AlarmEvent.objects.create(alarm=alarm, kind="cleared", at=at, actor=actor, note=note[:400])
    return alarm
