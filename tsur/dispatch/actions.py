"""Every change of dispatch's business state goes through a function here.

Alarms: `raise_or_repeat` (a rule is violated: a new alarm, or a repeat of the open one; this is
where an alarm opens an outage), `back_to_normal`, `acknowledge`, `clear`.
Outages: `open_outage` (by an alarm or by a dispatcher), `link_appeal` (with `link_candidates` and
`link_new_appeal`, which link what the reads in `outages` find), `answer_all`, `end_outage`.

Each runs in one transaction, locks the row it reads and changes, refuses a step its state does not
allow (InvalidTransition, nothing changed), writes its event (`AlarmEvent`, `OutageEvent`) with the
acting user, the time and the note, and stores the services' notices in the same transaction
(`tsur.notify` sends them after the commit; decision 0009).

Deciding from readings that a rule is violated or no longer is belongs to `alarms` (the Evaluator,
`check_silence`), which calls these. Storing the readings themselves is intake (`ingest`), not a
change of state.
"""

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from tsur.appeals import actions as appeal_actions
from tsur.appeals.choices import Status
from tsur.appeals.models import Appeal, Topic
from tsur.core.errors import DomainError, InvalidTransition
from tsur.core.text import clean_text

from . import notices, outages
from .choices import SERVICES_OF_KIND, TOPICS_OF_SERVICE, AlarmState, OutageEventKind, OutageState
from .models import Alarm, AlarmEvent, AlarmRule, EngineeringObject, Outage, OutageAppeal, OutageEvent

log = logging.getLogger(__name__)
BACK_TO_NORMAL = "Возврат в норму"
ANSWERABLE = frozenset({Status.ASSIGNED, Status.IN_WORK, Status.INTERIM})


# ---------------------------------------------------------------- alarms


def _lock_alarm(alarm: Alarm) -> Alarm:
    return Alarm.objects.select_for_update().get(pk=alarm.pk)


def _alarm_event(alarm: Alarm, kind: str, at: datetime, actor=None, value=None, note: str = "") -> None:
    AlarmEvent.objects.create(alarm=alarm, kind=kind, at=at, actor=actor, value=value, note=note[:400])


def raise_or_repeat(
    engineering_object: EngineeringObject, rule: AlarmRule, value: float, at: datetime
) -> Alarm:
    """A rule is violated on the object: its open alarm by the rule takes the repeat (value, last
    time, count; repeats are not events), or a new alarm is raised and the services told. An alarm by
    a rule that `opens_outage` opens an outage for the buildings the object serves."""
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
                _alarm_event(alarm, "raised", at, value=value)
                notices.alarm_raised(alarm.pk)  # stored with the alarm, sent after the commit
                if rule.opens_outage:  # here, and only here, an alarm opens an outage
                    try:
                        open_outage(engineering_object, None, alarm=alarm, at=at)
                    except InvalidTransition:
                        pass  # the object's active outage already stands for this trouble
                return alarm
        except IntegrityError:  # raised by another worker a moment ago: repeat it instead
            continue
    raise RuntimeError("alarm could neither be raised nor repeated")


def back_to_normal(alarm: Alarm, value: float, at: datetime) -> Alarm:
    """The readings are normal again. An acknowledged alarm clears; an active one nobody has seen
    yet stays, marked as back to normal, so a short fault never vanishes unseen."""
    with transaction.atomic():
        alarm = _lock_alarm(alarm)
        if alarm.state == AlarmState.ACKNOWLEDGED:
            return _clear(alarm, None, BACK_TO_NORMAL, at)
        if alarm.state == AlarmState.CLEARED:
            raise InvalidTransition("Тревога уже снята.")
        if alarm.normal_since is not None:
            raise InvalidTransition("Тревога уже отмечена как вернувшаяся в норму.")
        alarm.normal_since, alarm.value, alarm.last_seen_at = at, value, at
        alarm.save(update_fields=["normal_since", "value", "last_seen_at"])
        _alarm_event(alarm, "normal", at, value=value, note=BACK_TO_NORMAL)
    return alarm


def acknowledge(alarm: Alarm, actor, note: str = "", at: datetime | None = None) -> Alarm:
    """A dispatcher has seen an active alarm; one already back to normal is over as well: it clears."""
    at = at or timezone.now()
    with transaction.atomic():
        alarm = _lock_alarm(alarm)
        if alarm.state != AlarmState.ACTIVE:
            raise InvalidTransition(
                f"Квитировать можно только активную тревогу (сейчас: {alarm.get_state_display()})."
            )
        alarm.state, alarm.acknowledged_at, alarm.acknowledged_by = AlarmState.ACKNOWLEDGED, at, actor
        alarm.save(update_fields=["state", "acknowledged_at", "acknowledged_by"])
        _alarm_event(alarm, "acknowledged", at, actor=actor, note=note)
        if alarm.normal_since is not None:
            return _clear(alarm, None, BACK_TO_NORMAL, at)
    return alarm


def clear(alarm: Alarm, actor, note: str = "", at: datetime | None = None) -> Alarm:
    """A dispatcher clears an acknowledged alarm (an active one must be seen first)."""
    at = at or timezone.now()
    with transaction.atomic():
        alarm = _lock_alarm(alarm)
        if alarm.state == AlarmState.CLEARED:
            raise InvalidTransition("Тревога уже снята.")
        if alarm.state == AlarmState.ACTIVE:
            raise InvalidTransition("Сначала квитируйте тревогу: снять можно только увиденную.")
        return _clear(alarm, actor, note, at)


def _clear(alarm: Alarm, actor, note: str, at: datetime) -> Alarm:
    """Clear an acknowledged alarm locked by the caller."""
    alarm.state, alarm.cleared_at = AlarmState.CLEARED, at
    alarm.save(update_fields=["state", "cleared_at"])
    _alarm_event(alarm, "cleared", at, actor=actor, note=note)
    return alarm


# ---------------------------------------------------------------- outages


def _lock_outage(outage: Outage) -> Outage:
    return Outage.objects.select_for_update(of=("self",)).select_related("object").get(pk=outage.pk)


def _outage_event(
    outage: Outage, kind: str, actor, *, at: datetime | None = None, appeal=None, note: str = "", data=None
) -> None:
    OutageEvent.objects.create(
        outage=outage,
        kind=kind,
        at=at or timezone.now(),
        actor=actor,
        appeal=appeal,
        note=note,
        data=data or {},
    )


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
    """The buildings the object serves are left without a service: open an outage for it, by an
    alarm or by a dispatcher who learned of it otherwise. None when there is nothing to open (the
    object serves nobody or loses no service); InvalidTransition when it has an active outage."""
    at = at or timezone.now()
    if services is None:
        services = [str(s) for s in SERVICES_OF_KIND.get(engineering_object.kind, [])]
    buildings = list(engineering_object.serves.values_list("pk", flat=True))
    if not services or (not buildings and not engineering_object.service_radius_m):
        return None
    codes = {code for service in services for code in TOPICS_OF_SERVICE.get(service, [])}
    refusal = InvalidTransition(f"У объекта «{engineering_object.name}» уже есть действующее отключение.")
    if Outage.objects.filter(object=engineering_object, state=OutageState.ACTIVE).exists():
        raise refusal
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
            _outage_event(
                outage,
                OutageEventKind.OPENED,
                actor,
                at=at,
                note=note,
                data={"alarm": alarm.pk} if alarm else {},
            )
            _link_at_opening(outage)
            # stored with the outage: a process that dies right after the commit cannot lose it
            notices.outage_opened(outage.pk)
    except IntegrityError:  # opened by another worker a moment ago
        raise refusal from None
    return outage


def _link_at_opening(outage: Outage) -> None:
    try:
        with transaction.atomic():
            link_candidates(outage)
    except Exception:  # the outage stands; linking can be repeated from the dispatcher's screen
        log.exception("appeals could not be linked to outage %s", outage.pk)


def link_appeal(outage: Outage, appeal: Appeal, actor=None, automatic: bool = True) -> bool:
    """The appeal is about the outage: linked, with a public event on the appeal's timeline (the
    citizen sees the failure is known) and one on the outage's. False if it was linked already;
    InvalidTransition if the outage has ended (its final answer has been given, this appeal would
    never get it) or the appeal is closed."""
    with transaction.atomic():
        outage = _lock_outage(outage)
        if outage.state != OutageState.ACTIVE:
            raise InvalidTransition("Отключение уже устранено: обращения с ним больше не связываются.")
        _, created = OutageAppeal.objects.get_or_create(
            outage=outage, appeal=appeal, defaults={"automatic": automatic}
        )
        if not created:
            return False
        appeal_actions.link_to_outage(
            appeal,
            actor,
            outage_id=outage.pk,
            note=outages.public_note(outage),
            data={"object": outage.object.name, "automatic": automatic},
        )
        _outage_event(
            outage, OutageEventKind.APPEAL_LINKED, actor, appeal=appeal, data={"automatic": automatic}
        )
    return True


def link_candidates(outage: Outage) -> int:
    """Link the open appeals the outage is about that are not linked yet; returns how many."""
    linked = 0
    for appeal in outages.candidates(outage):
        try:
            linked += link_appeal(outage, appeal)
        except InvalidTransition:  # closed meanwhile, or the outage ended
            continue
    return linked


def link_new_appeal(appeal: Appeal) -> list[Outage]:
    """A new or re-routed appeal: link it to every active outage it is about."""
    linked = []
    for outage in outages.about(appeal):
        try:
            if link_appeal(outage, appeal):
                linked.append(outage)
        except InvalidTransition:
            continue
    return linked


def _answer_linked(outage: Outage, actor, within, answer) -> dict[str, int]:
    """`answer(appeal)` for every open linked appeal the actor may act on; appeals still in moderation
    or waiting for the citizen are left as they are and counted. An answer the region's review rules
    hold for a reviewer is counted as such: the citizen has not been told yet."""
    counts = {"answered": 0, "in_review": 0, "skipped": 0}
    for appeal in outages.linked_open(outage, within):
        if appeal.status not in ANSWERABLE:
            counts["skipped"] += 1
            continue
        if appeal.status == Status.ASSIGNED:  # the register answers only what somebody took to work
            appeal = appeal_actions.take(appeal, actor)
        appeal = answer(appeal)
        counts["in_review" if appeal.status == Status.REVIEW else "answered"] += 1
    return counts


def answer_all(
    outage: Outage, actor, *, text: str, planned_at: datetime | None = None, within=None
) -> dict[str, int]:
    """One interim answer with the planned restoration to every open linked appeal (`within`, a
    queryset of appeals, limits them to what the actor may act on)."""
    with transaction.atomic():
        locked = _lock_outage(outage)
        if locked.state != OutageState.ACTIVE:
            raise InvalidTransition("Отключение уже устранено: ответ дан при его завершении.")
        planned_at = planned_at or locked.expected_end_at
        if planned_at is None:
            raise DomainError("Укажите плановое время восстановления.", field="planned_at")
        if planned_at <= timezone.now():
            raise DomainError("Плановое время восстановления должно быть в будущем.", field="planned_at")
        text = clean_text(text)
        locked.expected_end_at = planned_at
        locked.save(update_fields=["expected_end_at"])
        counts = _answer_linked(
            locked,
            actor,
            within,
            lambda appeal: appeal_actions.interim_answer(appeal, actor, text=text, planned_at=planned_at),
        )
        _outage_event(
            locked,
            OutageEventKind.ANSWERED_ALL,
            actor,
            note=text,
            data={**counts, "planned_at": planned_at.isoformat()},
        )
    outage.expected_end_at = planned_at
    return counts


def end_outage(
    outage: Outage, actor, *, text: str, at: datetime | None = None, within=None
) -> dict[str, int]:
    """The service is back: the outage ends, every open linked appeal gets `text` as its answer
    (`within` as in `answer_all`), and the services are told."""
    at = at or timezone.now()
    with transaction.atomic():
        locked = _lock_outage(outage)
        if locked.state != OutageState.ACTIVE:
            raise InvalidTransition("Отключение уже устранено.")
        text = clean_text(text)
        locked.state, locked.ended_at, locked.ended_by = OutageState.ENDED, at, actor
        locked.save(update_fields=["state", "ended_at", "ended_by"])
        counts = _answer_linked(
            locked, actor, within, lambda appeal: appeal_actions.answer(appeal, actor, text=text)
        )
        _outage_event(locked, OutageEventKind.ENDED, actor, at=at, note=text, data=counts)
        notices.outage_ended(locked.pk)
    outage.refresh_from_db()
    return counts
