"""Every change of an alarm or an outage is an action: it writes its event with who, when and what
they wrote, and a step its state does not allow is refused with InvalidTransition, changing nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tsur.appeals import actions as appeal_actions
from tsur.appeals.choices import EventKind, Status
from tsur.appeals.models import ReviewRule
from tsur.appeals.tests.factories import TopicFactory
from tsur.core.choices import Role
from tsur.core.errors import DomainError, InvalidTransition
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory, UserFactory, user_with_role
from tsur.dispatch import actions
from tsur.dispatch.choices import AlarmState, ObjectKind, OutageEventKind, OutageState
from tsur.dispatch.models import Alarm, AlarmEvent, EngineeringObject, Outage, OutageAppeal, OutageEvent
from tsur.dispatch.tests.factories import (
    AlarmFactory,
    AlarmRuleFactory,
    EngineeringObjectFactory,
    OutageFactory,
)

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def alarm_as_stored(alarm: Alarm) -> tuple:
    stored = Alarm.objects.get(pk=alarm.pk)
    return (
        stored.state,
        stored.value,
        stored.last_seen_at,
        stored.normal_since,
        stored.acknowledged_by_id,
        stored.cleared_at,
        list(stored.events.values_list("kind", flat=True)),
    )


def outage_as_stored(outage: Outage) -> tuple:
    stored = Outage.objects.get(pk=outage.pk)
    return (
        stored.state,
        stored.expected_end_at,
        stored.ended_at,
        list(stored.links.values_list("appeal_id", flat=True)),
        list(stored.events.values_list("kind", flat=True)),
    )


@pytest.fixture
def dispatcher():
    return UserFactory()


@pytest.fixture
def boiler():
    return EngineeringObjectFactory(name="Котельная №7", serves=BuildingFactory.create_batch(2))


def resident_appeal(building, topic, organisation, text="Нет отопления в квартире"):
    appeal, _ = appeal_actions.register(
        channel="portal", text=text, building=building, topic=topic, organisation=organisation
    )
    return appeal


# ---------------------------------------------------------------- alarms


def test_a_new_alarm_is_raised_with_its_event_and_a_repeat_only_counts(boiler):
    rule = AlarmRuleFactory()

    alarm = actions.raise_or_repeat(boiler, rule, 1.0, NOW - timedelta(minutes=2))
    again = actions.raise_or_repeat(boiler, rule, 1.0, NOW - timedelta(minutes=1))

    assert again.pk == alarm.pk
    assert (again.repeats, again.last_seen_at) == (1, NOW - timedelta(minutes=1))
    assert list(alarm.events.values_list("kind", "at", "value", "actor")) == [
        ("raised", NOW - timedelta(minutes=2), 1.0, None)
    ]
    assert not Outage.objects.exists()  # the rule does not say the buildings lost a service


def test_an_alarm_by_a_rule_that_opens_outages_opens_one_for_the_buildings_served(boiler):
    rule = AlarmRuleFactory(opens_outage=True)

    alarm = actions.raise_or_repeat(boiler, rule, 1.0, NOW)
    second = actions.raise_or_repeat(boiler, AlarmRuleFactory(opens_outage=True), 1.0, NOW)

    outage = Outage.objects.get()  # the second alarm joins the object's active outage
    assert (outage.object, outage.alarm, outage.started_at, outage.opened_by) == (boiler, alarm, NOW, None)
    assert second.pk != alarm.pk
    event = outage.events.get()
    assert (event.kind, event.at, event.actor, event.data) == (
        OutageEventKind.OPENED,
        NOW,
        None,
        {"alarm": alarm.pk},
    )


def test_back_to_normal_marks_an_unseen_alarm_and_clears_a_seen_one(dispatcher):
    unseen, seen = AlarmFactory(), AlarmFactory(state=AlarmState.ACKNOWLEDGED)

    actions.back_to_normal(unseen, 0.0, NOW)
    actions.back_to_normal(seen, 0.0, NOW)

    assert alarm_as_stored(unseen)[:4] == (AlarmState.ACTIVE, 0.0, NOW, NOW)
    assert unseen.events.get().note == "Возврат в норму"
    assert alarm_as_stored(seen)[0] == AlarmState.CLEARED
    assert list(seen.events.values_list("kind", "note", "actor")) == [("cleared", "Возврат в норму", None)]


@pytest.mark.parametrize("given", [{"state": AlarmState.CLEARED}, {"normal_since": NOW}])
def test_back_to_normal_refuses_an_alarm_already_over_and_changes_nothing(given):
    alarm = AlarmFactory(**given)
    before = alarm_as_stored(alarm)

    with pytest.raises(InvalidTransition):
        actions.back_to_normal(alarm, 0.0, NOW + timedelta(minutes=1))

    assert alarm_as_stored(alarm) == before


def test_acknowledging_writes_who_and_why(dispatcher):
    alarm = AlarmFactory()

    actions.acknowledge(alarm, dispatcher, note="Выехала бригада", at=NOW)

    assert alarm_as_stored(alarm)[0] == AlarmState.ACKNOWLEDGED
    event = alarm.events.get()
    assert (event.kind, event.at, event.actor, event.note) == (
        "acknowledged",
        NOW,
        dispatcher,
        "Выехала бригада",
    )


def test_acknowledging_an_alarm_already_back_to_normal_clears_it_in_the_same_step(dispatcher):
    alarm = AlarmFactory(normal_since=NOW - timedelta(minutes=1))

    actions.acknowledge(alarm, dispatcher, at=NOW)

    assert alarm_as_stored(alarm)[0] == AlarmState.CLEARED
    assert list(alarm.events.values_list("kind", "actor")) == [
        ("acknowledged", dispatcher.pk),
        ("cleared", None),
    ]


@pytest.mark.parametrize("state", [AlarmState.ACKNOWLEDGED, AlarmState.CLEARED])
def test_only_an_active_alarm_is_acknowledged(dispatcher, state):
    alarm = AlarmFactory(state=state)
    before = alarm_as_stored(alarm)

    with pytest.raises(InvalidTransition, match="только активную"):
        actions.acknowledge(alarm, dispatcher)

    assert alarm_as_stored(alarm) == before


def test_clearing_writes_who_and_why(dispatcher):
    alarm = AlarmFactory(state=AlarmState.ACKNOWLEDGED)

    actions.clear(alarm, dispatcher, note="Устранено", at=NOW)

    assert alarm_as_stored(alarm)[0] == AlarmState.CLEARED
    assert list(alarm.events.values_list("kind", "at", "actor", "note")) == [
        ("cleared", NOW, dispatcher.pk, "Устранено")
    ]


@pytest.mark.parametrize(
    ("state", "message"), [(AlarmState.ACTIVE, "квитируйте"), (AlarmState.CLEARED, "уже снята")]
)
def test_only_an_acknowledged_alarm_is_cleared(dispatcher, state, message):
    alarm = AlarmFactory(state=state)
    before = alarm_as_stored(alarm)

    with pytest.raises(InvalidTransition, match=message):
        actions.clear(alarm, dispatcher)

    assert alarm_as_stored(alarm) == before
    assert not AlarmEvent.objects.exists()


# ---------------------------------------------------------------- outages


def test_a_dispatcher_opens_an_outage_they_learned_of_otherwise(boiler, dispatcher):
    planned = NOW + timedelta(hours=4)

    outage = actions.open_outage(
        boiler, dispatcher, services=["hot_water"], expected_end_at=planned, note="Плановый ремонт", at=NOW
    )

    assert (outage.services, outage.opened_by, outage.expected_end_at) == (["hot_water"], dispatcher, planned)
    assert set(outage.buildings.all()) == set(boiler.serves.all())
    event = outage.events.get()
    assert (event.kind, event.at, event.actor, event.note) == (
        OutageEventKind.OPENED, NOW, dispatcher, "Плановый ремонт"
    )  # fmt: skip


def test_a_second_outage_for_the_same_object_is_refused_and_nothing_changes(boiler, dispatcher):
    first = actions.open_outage(boiler, dispatcher)
    before = outage_as_stored(first)

    with pytest.raises(InvalidTransition, match="уже есть действующее"):
        actions.open_outage(boiler, dispatcher)

    assert Outage.objects.count() == 1
    assert outage_as_stored(first) == before


def test_an_object_that_leaves_nobody_without_a_service_opens_nothing(dispatcher):
    camera = EngineeringObjectFactory(kind=ObjectKind.CAMERA, serves=BuildingFactory.create_batch(1))
    lonely = EngineeringObjectFactory()  # a boiler house serving no building and no radius

    assert actions.open_outage(camera, dispatcher) is None
    assert actions.open_outage(lonely, dispatcher) is None
    assert not Outage.objects.exists() and not OutageEvent.objects.exists()


def test_linking_an_appeal_writes_an_event_on_both_timelines(boiler, dispatcher):
    outage = actions.open_outage(boiler, dispatcher)
    heating = TopicFactory(code="zhkh-no-heating")
    appeal = resident_appeal(boiler.serves.first(), heating, OrganisationFactory())

    assert actions.link_appeal(outage, appeal, dispatcher, automatic=False) is True
    assert actions.link_appeal(outage, appeal, dispatcher) is False  # linked already

    event = outage.events.get(kind=OutageEventKind.APPEAL_LINKED)
    assert (event.actor, event.appeal, event.data) == (dispatcher, appeal, {"automatic": False})
    assert appeal.events.get(kind=EventKind.OUTAGE_LINKED).data == {
        "outage": outage.pk, "object": "Котельная №7", "automatic": False
    }  # fmt: skip


def test_a_closed_appeal_or_an_ended_outage_is_not_linked_and_nothing_changes(boiler, dispatcher):
    heating = TopicFactory(code="zhkh-no-heating")
    building = boiler.serves.first()
    appeal = resident_appeal(building, heating, OrganisationFactory())
    ended = OutageFactory(object=boiler, state=OutageState.ENDED, ended_at=NOW)
    active = OutageFactory(object=EngineeringObjectFactory())
    closed = resident_appeal(building, heating, OrganisationFactory())
    appeal_actions.reject(closed, dispatcher, reason="Дубликат")
    before = (outage_as_stored(ended), outage_as_stored(active), appeal.events.count(), closed.events.count())

    with pytest.raises(InvalidTransition, match="устранено"):
        actions.link_appeal(ended, appeal)
    with pytest.raises(InvalidTransition, match="Нельзя связать с аварийным отключением"):
        actions.link_appeal(active, closed)

    after = (outage_as_stored(ended), outage_as_stored(active), appeal.events.count(), closed.events.count())
    assert after == before
    assert not OutageAppeal.objects.exists()


@pytest.fixture
def outage_with_appeals(boiler, dispatcher):
    outage = actions.open_outage(boiler, dispatcher)
    heating = TopicFactory(code="zhkh-no-heating")
    utility = OrganisationFactory()
    assigned = resident_appeal(boiler.serves.first(), heating, utility)
    in_moderation = resident_appeal(boiler.serves.last(), heating, utility, text="Холодно")
    appeal_actions.send_to_moderation(in_moderation, dispatcher, reason="Проверить адрес")
    for appeal in (assigned, in_moderation):
        actions.link_appeal(outage, appeal)
    return outage, assigned, in_moderation


def test_answering_all_writes_the_text_and_the_counts(outage_with_appeals, dispatcher):
    outage, assigned, in_moderation = outage_with_appeals
    planned = timezone.now() + timedelta(hours=6)

    counts = actions.answer_all(outage, dispatcher, text="Идёт ремонт котла", planned_at=planned)

    assert counts == {"answered": 1, "in_review": 0, "skipped": 1}
    assert outage_as_stored(outage)[1] == planned
    event = outage.events.get(kind=OutageEventKind.ANSWERED_ALL)
    counted = {"answered": 1, "in_review": 0, "skipped": 1, "planned_at": planned.isoformat()}
    assert (event.actor, event.note, event.data) == (dispatcher, "Идёт ремонт котла", counted)
    assigned.refresh_from_db()
    in_moderation.refresh_from_db()
    assert (assigned.status, in_moderation.status) == (Status.INTERIM, Status.MODERATION)


def test_answering_all_without_a_planned_time_or_after_the_end_is_refused_and_nothing_changes(
    outage_with_appeals, dispatcher
):
    outage, assigned, _ = outage_with_appeals
    before = outage_as_stored(outage)
    with pytest.raises(DomainError, match="плановое время"):
        actions.answer_all(outage, dispatcher, text="Идёт ремонт")
    assert outage_as_stored(outage) == before

    actions.end_outage(outage, dispatcher, text="Отопление восстановлено")
    ended = outage_as_stored(outage)
    with pytest.raises(InvalidTransition, match="устранено"):
        actions.answer_all(
            outage, dispatcher, text="Идёт ремонт", planned_at=timezone.now() + timedelta(hours=1)
        )
    assert outage_as_stored(outage) == ended


def test_ending_counts_an_answer_held_for_review_as_such(outage_with_appeals, dispatcher):
    """The region reviews answers on this topic: the end of the outage answers the appeal, the
    answer waits for the reviewer, and the summary does not claim the citizen was answered."""
    outage, assigned, _ = outage_with_appeals
    ReviewRule.objects.create(topic=assigned.topic)

    counts = actions.end_outage(outage, dispatcher, text="Отопление восстановлено")

    assert counts == {"answered": 0, "in_review": 1, "skipped": 1}
    assigned.refresh_from_db()
    assert assigned.status == Status.REVIEW
    assert outage.events.get(kind=OutageEventKind.ENDED).data == counts


def test_ending_answers_the_linked_appeals_and_writes_who_and_what(outage_with_appeals, dispatcher):
    outage, assigned, _ = outage_with_appeals
    at = timezone.now()

    counts = actions.end_outage(outage, dispatcher, text="Отопление восстановлено", at=at)

    assert counts == {"answered": 1, "in_review": 0, "skipped": 1}
    assert (outage.state, outage.ended_at, outage.ended_by) == (OutageState.ENDED, at, dispatcher)
    assert list(outage.events.values_list("kind", flat=True)) == [
        OutageEventKind.OPENED, OutageEventKind.APPEAL_LINKED, OutageEventKind.APPEAL_LINKED, OutageEventKind.ENDED
    ]  # fmt: skip
    event = outage.events.get(kind=OutageEventKind.ENDED)
    assert (event.at, event.actor, event.note, event.data) == (
        at, dispatcher, "Отопление восстановлено", {"answered": 1, "in_review": 0, "skipped": 1}
    )  # fmt: skip
    assigned.refresh_from_db()
    assert assigned.status == Status.ANSWERED


def test_an_ended_outage_is_not_ended_again_and_nothing_changes(outage_with_appeals, dispatcher):
    outage, _, _ = outage_with_appeals
    actions.end_outage(outage, dispatcher, text="Отопление восстановлено")
    before = outage_as_stored(outage)

    with pytest.raises(InvalidTransition, match="уже устранено"):
        actions.end_outage(outage, UserFactory(), text="Ещё раз")

    assert outage_as_stored(outage) == before


def test_engineering_objects_are_restricted_by_owner_and_territory_and_only_dispatchers_act():
    ours = EngineeringObjectFactory()
    EngineeringObjectFactory()  # another owner's
    dispatcher = user_with_role(Role.DISPATCHER, organisation=ours.owner)
    leadership = user_with_role(Role.LEADERSHIP)

    assert list(EngineeringObject.objects.restrict(dispatcher)) == [ours]
    assert list(EngineeringObject.objects.restrict(dispatcher, "act")) == [ours]
    assert EngineeringObject.objects.restrict(leadership).count() == 2
    assert not EngineeringObject.objects.restrict(leadership, "act").exists()
