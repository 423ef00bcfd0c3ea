"""Outages: a failure on a network object leaves the buildings it serves without a service.

An alarm by a rule that `opens_outage` opens one for the object (unless one is active); appeals on
the matching topics from those buildings (or within the object's radius) are linked to it, the
ones filed up to `LOOKBACK` before the alarm and every new one while it lasts. The operator answers
them all at once; when the outage ends, every linked appeal still open gets the final answer, so
each citizen is told.
"""

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from tsur.appeals import actions as appeal_actions
from tsur.appeals.choices import FINAL_STATUSES, Status
from tsur.appeals.models import Appeal, Topic
from tsur.core.errors import DomainError, InvalidTransition
from tsur.core.text import clean_text
from tsur.nlp.duplicates import around, distance_m

from .choices import SERVICES_OF_KIND, TOPICS_OF_SERVICE, OutageState
from .models import Alarm, EngineeringObject, Outage, OutageAppeal

log = logging.getLogger(__name__)
LOOKBACK = timedelta(hours=12)  # residents often call before the controller's alarm reaches anyone


def open_for_alarm(alarm: Alarm) -> Outage | None:
    """A new alarm: open an outage if its rule says the object's buildings lost a service."""
    if not alarm.rule.opens_outage:
        return None
    return open_outage(alarm.object, None, alarm=alarm, at=alarm.raised_at)


def open_outage(
    engineering_object: EngineeringObject,
    actor,
    *,
    alarm: Alarm | None = None,
    services: list[str] | None = None,
    expected_end_at: datetime | None = None,
    note: str = "",
    at: datetime | None = None,
) -> Outage | None:
    """Open an outage for the object (by an alarm, or by a dispatcher who learned of it otherwise).
    None when the object serves nobody, loses no service, or already has an active outage."""
    at = at or timezone.now()
    services = (
        services
        if services is not None
        else [str(s) for s in SERVICES_OF_KIND.get(engineering_object.kind, [])]
    )
    buildings = list(engineering_object.serves.values_list("pk", flat=True))
    if not services or (not buildings and not engineering_object.service_radius_m):
        return None
    if Outage.objects.filter(object=engineering_object, state=OutageState.ACTIVE).exists():
        return None
    codes = {code for service in services for code in TOPICS_OF_SERVICE.get(service, [])}
    try:
        with transaction.atomic():
            outage = Outage.objects.create(
                object=engineering_object,
                alarm=alarm,
                services=services,
                started_at=at,
                expected_end_at=expected_end_at,
                radius_m=engineering_object.service_radius_m,
                latitude=engineering_object.latitude,
                longitude=engineering_object.longitude,
                public_note=note,
                opened_by=actor,
            )
            outage.buildings.set(buildings)
            outage.topics.set(Topic.objects.filter(code__in=codes))
    except IntegrityError:  # opened by another worker a moment ago
        return None
    transaction.on_commit(lambda: _opened(outage.pk), robust=True)
    return outage


def _opened(outage_id: int) -> None:
    from tsur.notify import events as notify_events

    try:
        link_existing(Outage.objects.get(pk=outage_id))
    except Exception:  # the outage stands; linking can be repeated from the dispatcher's screen
        log.exception("appeals could not be linked to outage %s", outage_id)
    try:
        notify_events.outage_opened(outage_id)
    except Exception:  # the alarm's own notification must still go
        log.exception("services could not be told of outage %s", outage_id)


def _near(outage: Outage, appeal: Appeal) -> bool:
    return (
        outage.radius_m > 0
        and None not in (outage.latitude, appeal.latitude)
        and distance_m(outage.latitude, outage.longitude, appeal.latitude, appeal.longitude)
        <= outage.radius_m
    )


def candidates(outage: Outage):
    """Open appeals on the outage's topics from its buildings or its radius, not linked yet."""
    appeals = (
        Appeal.objects.filter(topic__in=outage.topics.all(), registered_at__gte=outage.started_at - LOOKBACK)
        .exclude(status__in=FINAL_STATUSES)
        .exclude(outage_links__outage=outage)
    )
    place = Q(building__in=outage.buildings.all())
    if outage.radius_m and outage.latitude is not None:
        place |= around(outage.latitude, outage.longitude, outage.radius_m)
    found = appeals.filter(place)
    return [a for a in found if a.building_id in _building_ids(outage) or _near(outage, a)]


def _building_ids(outage: Outage) -> set[int]:
    cached = getattr(outage, "_building_ids", None)
    if cached is None:
        cached = outage._building_ids = set(outage.buildings.values_list("pk", flat=True))
    return cached


def link(outage: Outage, appeal: Appeal, actor=None, automatic: bool = True) -> bool:
    """Link one appeal (False if it was linked already, is closed, or the outage has ended)."""
    with transaction.atomic():
        if not Outage.objects.select_for_update().filter(pk=outage.pk, state=OutageState.ACTIVE).exists():
            return False  # ended meanwhile: its final answer has been given, it would never come
        _, created = OutageAppeal.objects.get_or_create(
            outage=outage, appeal=appeal, defaults={"automatic": automatic}
        )
        if not created:
            return False
        try:
            appeal_actions.link_to_outage(
                appeal,
                actor,
                outage_id=outage.pk,
                note=_public_note(outage),
                data={"object": outage.object.name, "automatic": automatic},
            )
        except InvalidTransition:
            transaction.set_rollback(True)
            return False
    return True


def _plain(text: str) -> str:
    """Names and notes as they may go into a timeline reason (which refuses markup)."""
    return text.replace("<", "«").replace(">", "»")


def _public_note(outage: Outage) -> str:
    note = (
        f"Аварийное отключение ({outage.services_display()}) на объекте «{_plain(outage.object.name)}» известно "
        f"диспетчерской службе с {timezone.localtime(outage.started_at):%d.%m.%Y %H:%M}."
    )
    if outage.expected_end_at:
        note += f" Плановое восстановление: {timezone.localtime(outage.expected_end_at):%d.%m.%Y %H:%M}."
    if outage.public_note:
        note += f" {_plain(outage.public_note)}"
    return note[:2000]


def link_existing(outage: Outage) -> int:
    return sum(link(outage, appeal) for appeal in candidates(outage))


def link_new_appeal(appeal: Appeal) -> list[Outage]:
    """A new or re-routed appeal: link it to every active outage it is about."""
    with connection.cursor() as cursor:  # every registration asks: the cheapest question first
        cursor.execute("SELECT 1 FROM dispatch_outage WHERE state = %s LIMIT 1", [OutageState.ACTIVE])
        if cursor.fetchone() is None:
            return []
    linked = []
    active = Outage.objects.filter(state=OutageState.ACTIVE, topics=appeal.topic_id).select_related("object")
    for outage in active:
        if appeal.building_id in _building_ids(outage) or _near(outage, appeal):
            if link(outage, appeal):
                linked.append(outage)
    return linked


def _linked_open(outage: Outage, within=None):
    """Open linked appeals; `within` (a queryset of appeals) limits them to what the actor may act on."""
    appeals = Appeal.objects.filter(outage_links__outage=outage).exclude(status__in=FINAL_STATUSES)
    if within is not None:
        appeals = appeals.filter(pk__in=within.values("pk"))
    return appeals.order_by("registered_at")


def _take_if_needed(appeal: Appeal, actor) -> Appeal:
    if appeal.status == Status.ASSIGNED:
        return appeal_actions.take(appeal, actor)
    return appeal


def answer_all(
    outage: Outage, actor, *, text: str, planned_at: datetime | None = None, within=None
) -> dict[str, int]:
    """One interim answer (with the planned restoration) to every open linked appeal. Appeals still
    in moderation or waiting for the citizen are left as they are and counted."""
    if outage.state != OutageState.ACTIVE:
        raise InvalidTransition("Отключение уже устранено: ответ дан при его завершении.")
    planned_at = planned_at or outage.expected_end_at
    if planned_at is None:
        raise DomainError("Укажите плановое время восстановления.", field="planned_at")
    if planned_at <= timezone.now():
        raise DomainError("Плановое время восстановления должно быть в будущем.", field="planned_at")
    text = clean_text(text)
    counts = {"answered": 0, "skipped": 0}
    with transaction.atomic():
        Outage.objects.filter(pk=outage.pk).update(expected_end_at=planned_at)
        for appeal in _linked_open(outage, within):
            if appeal.status not in {Status.ASSIGNED, Status.IN_WORK, Status.INTERIM}:
                counts["skipped"] += 1
                continue
            appeal = _take_if_needed(appeal, actor)
            appeal_actions.interim_answer(appeal, actor, text=text, planned_at=planned_at)
            counts["answered"] += 1
    outage.expected_end_at = planned_at
    return counts


def end(outage: Outage, actor, *, text: str, at: datetime | None = None, within=None) -> dict[str, int]:
    """The service is back: the outage ends and every open linked appeal gets `text` as its answer."""
    at = at or timezone.now()
    text = clean_text(text)
    counts = {"answered": 0, "skipped": 0}
    with transaction.atomic():
        updated = Outage.objects.filter(pk=outage.pk, state=OutageState.ACTIVE).update(
            state=OutageState.ENDED, ended_at=at, ended_by=actor
        )
        if not updated:
            raise InvalidTransition("Отключение уже устранено.")
        for appeal in _linked_open(outage, within):
            if appeal.status not in {Status.ASSIGNED, Status.IN_WORK, Status.INTERIM}:
                counts["skipped"] += 1
                continue
            appeal = _take_if_needed(appeal, actor)
            appeal_actions.answer(appeal, actor, text=text)
            counts["answered"] += 1
        transaction.on_commit(lambda: _ended(outage.pk), robust=True)
    outage.refresh_from_db()
    return counts


def _ended(outage_id: int) -> None:
    from tsur.notify import events as notify_events

    notify_events.outage_ended(outage_id)
