"""Readings become alarms by rules held as data; alarms live active → acknowledged → cleared."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tsur.core.errors import InvalidTransition
from tsur.core.tests.factories import UserFactory
from tsur.dispatch import actions, alarms, ingest
from tsur.dispatch.choices import AlarmState, Condition, ObjectKind, Severity
from tsur.dispatch.models import Alarm, AlarmEvent, Reading
from tsur.dispatch.tests.factories import (
    AlarmRuleFactory,
    DeviceFactory,
    EngineeringObjectFactory,
    MetricFactory,
)

pytestmark = pytest.mark.django_db
NOW = timezone.now()


@pytest.fixture
def setup():
    boiler = EngineeringObjectFactory(code="b1", name="Котельная 1")
    pump = EngineeringObjectFactory(
        code="p1", name="Насосная 1", kind=ObjectKind.PUMPING_STATION, owner=boiler.owner
    )
    cold = AlarmRuleFactory(
        name="Низкая температура подачи",
        metric=MetricFactory(code="t_supply"),
        object_kind=ObjectKind.BOILER_HOUSE,
        condition=Condition.BELOW,
        threshold=55,
        hold_seconds=600,
        severity=Severity.CRITICAL,
    )
    faulty = AlarmRuleFactory(name="Авария контроллера", condition=Condition.FLAG, severity=Severity.WARNING)
    boiler_plc = DeviceFactory(code="plc-b1", object=boiler)
    pump_plc = DeviceFactory(code="plc-p1", object=pump)
    return {"boiler": boiler_plc, "pump": pump_plc, "cold": cold, "faulty": faulty}


def send(device, metric, unit, *values_by_minute):
    """Readings at NOW - n minutes: send(device, "t_supply", "°C", (20, 70.0), (10, 50.0))."""
    items = [
        {"metric": metric, "value": value, "unit": unit, "at": (NOW - timedelta(minutes=m)).isoformat()}
        for m, value in values_by_minute
    ]
    outcome = ingest.accept(device, items, now=NOW)
    assert outcome.rejected == []


def test_a_threshold_must_hold_for_its_duration(setup):
    boiler = setup["boiler"]
    send(boiler, "t_supply", "°C", (30, 70.0), (8, 50.0))
    assert not Alarm.objects.exists()  # cold only since 8 minutes: not yet

    send(boiler, "t_supply", "°C", (1, 49.0))  # cold for 7 minutes since the first cold reading
    assert not Alarm.objects.exists()

    send(boiler, "t_supply", "°C", (-1, 48.0))  # 9 … still under 10 minutes
    send(boiler, "t_supply", "°C", (-3, 47.5))  # 11 minutes: raised
    alarm = Alarm.objects.get()
    assert (alarm.rule, alarm.object, alarm.severity, alarm.state, alarm.value) == (
        setup["cold"], boiler.object, Severity.CRITICAL, AlarmState.ACTIVE, 47.5
    )  # fmt: skip
    assert list(alarm.events.values_list("kind", flat=True)) == ["raised"]


def test_repeats_update_the_one_open_alarm(setup):
    boiler = setup["boiler"]
    send(boiler, "fault", "flag", (3, 1))
    send(boiler, "fault", "flag", (2, 1))
    send(boiler, "fault", "flag", (1, 1))

    alarm = Alarm.objects.get()
    assert (alarm.repeats, alarm.state) == (2, AlarmState.ACTIVE)
    assert alarm.last_seen_at == NOW - timedelta(minutes=1)
    assert AlarmEvent.objects.count() == 1


def test_back_to_normal_before_anybody_saw_it_stays_until_acknowledged(setup):
    boiler = setup["boiler"]
    send(boiler, "fault", "flag", (5, 1))
    send(boiler, "fault", "flag", (4, 0))
    alarm = Alarm.objects.get()
    assert (alarm.state, alarm.normal_since) == (AlarmState.ACTIVE, NOW - timedelta(minutes=4))

    actions.acknowledge(alarm, UserFactory())  # seen, and already over: cleared
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.CLEARED
    assert list(alarm.events.values_list("kind", flat=True)) == [
        "raised",
        "normal",
        "acknowledged",
        "cleared",
    ]


def test_an_acknowledged_alarm_clears_itself_and_a_new_fault_opens_a_new_one(setup):
    boiler = setup["boiler"]
    send(boiler, "fault", "flag", (5, 1))
    first = Alarm.objects.get()
    actions.acknowledge(first, UserFactory())
    send(boiler, "fault", "flag", (4, 0))
    first.refresh_from_db()
    assert first.state == AlarmState.CLEARED
    assert first.events.get(kind="cleared").note == "Возврат в норму"

    send(boiler, "fault", "flag", (3, 1))
    assert Alarm.objects.count() == 2
    assert Alarm.objects.exclude(pk=first.pk).get().state == AlarmState.ACTIVE


def test_a_late_reading_says_nothing_about_now(setup):
    boiler = setup["boiler"]
    send(boiler, "fault", "flag", (2, 1))
    alarm = Alarm.objects.get()
    actions.acknowledge(alarm, UserFactory())
    send(boiler, "fault", "flag", (10, 0))  # an old normal reading arrives late
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.ACKNOWLEDGED


def test_rules_for_a_kind_of_object_do_not_touch_other_kinds(setup):
    send(setup["pump"], "t_supply", "°C", (30, 10.0), (1, 10.0))
    assert not Alarm.objects.exists()
    send(setup["pump"], "fault", "flag", (1, 1))  # the fault rule is for every object
    assert Alarm.objects.get().object == setup["pump"].object


def test_a_dispatcher_acknowledges_then_clears(setup):
    send(setup["boiler"], "fault", "flag", (1, 1))
    alarm = Alarm.objects.get()
    dispatcher = UserFactory()

    with pytest.raises(InvalidTransition, match="квитируйте"):
        actions.clear(alarm, dispatcher)  # nobody has seen it yet
    actions.acknowledge(alarm, dispatcher, note="Выехала бригада")
    alarm.refresh_from_db()
    assert (alarm.state, alarm.acknowledged_by) == (AlarmState.ACKNOWLEDGED, dispatcher)
    with pytest.raises(InvalidTransition):
        actions.acknowledge(alarm, dispatcher)

    # still faulty: the acknowledged alarm takes the repeats, no second alarm
    send(setup["boiler"], "fault", "flag", (0, 1))
    assert Alarm.objects.count() == 1

    actions.clear(alarm, dispatcher, note="Устранено")
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.CLEARED
    assert list(alarm.events.values_list("kind", "actor")) == [
        ("raised", None), ("acknowledged", dispatcher.pk), ("cleared", dispatcher.pk)
    ]  # fmt: skip
    with pytest.raises(InvalidTransition):
        actions.clear(alarm, dispatcher)


def test_a_failing_rule_does_not_lose_the_readings(setup, monkeypatch):
    def broken(*args):
        raise RuntimeError("rule engine down")

    monkeypatch.setattr(alarms.Evaluator, "evaluate", broken)
    send(setup["boiler"], "fault", "flag", (1, 1))

    assert Reading.objects.count() == 1
    assert not Alarm.objects.exists()


def test_a_fast_fall_raises_a_rate_alarm(setup):
    falling = AlarmRuleFactory(
        name="Быстрое падение температуры",
        metric=MetricFactory(code="t_supply"),
        condition=Condition.RATE,
        threshold=1.5,  # °C per minute
        window_seconds=600,
        severity=Severity.CRITICAL,
    )
    boiler = setup["boiler"]
    send(boiler, "t_supply", "°C", (30, 72.0), (20, 71.0), (10, 70.0))  # 0.1 °C a minute
    assert not Alarm.objects.filter(rule=falling).exists()

    send(boiler, "t_supply", "°C", (0, 50.0))  # 20 °C in 10 minutes
    alarm = Alarm.objects.get(rule=falling)
    assert alarm.value == pytest.approx(-2.0)


def test_silence_raises_no_data_and_fresh_readings_bring_it_back(setup):
    silent = AlarmRuleFactory(
        name="Нет данных 15 минут",
        metric=MetricFactory(code="t_supply"),
        condition=Condition.NO_DATA,
        hold_seconds=900,
        object_kind=ObjectKind.BOILER_HOUSE,
    )
    boiler = setup["boiler"]
    send(boiler, "t_supply", "°C", (20, 70.0))

    assert alarms.check_silence(now=NOW - timedelta(minutes=10)) == 0  # silent for 10 minutes: fine
    assert alarms.check_silence(now=NOW) == 1  # 20 minutes
    alarm = Alarm.objects.get(rule=silent)
    assert (alarm.object, alarm.value) == (boiler.object, 1200)
    assert not Alarm.objects.filter(object=setup["pump"].object).exists()  # not a boiler house

    actions.acknowledge(alarm, UserFactory())
    send(boiler, "t_supply", "°C", (-1, 70.5))
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.CLEARED


def test_a_series_remembers_a_bounded_history_however_often_its_controller_reports(setup):
    """The consumer's evaluator lives as long as the process: a controller reporting ten times a
    second for 15 minutes must not make it keep 6,000 readings of one series (bench/memory.py)."""
    falling = AlarmRuleFactory(
        name="Быстрое падение температуры",
        metric=MetricFactory(code="t_supply"),
        condition=Condition.RATE,
        threshold=1.5,  # °C per minute
        window_seconds=600,
        severity=Severity.CRITICAL,
    )
    boiler = setup["boiler"]
    evaluator = alarms.Evaluator(remember=True)
    start = NOW - timedelta(minutes=15)
    for batch in range(180):  # 5 s each: 50 readings 0.1 s apart, falling 2 °C a minute all along
        samples = []
        for n in range(batch * 50, batch * 50 + 50):
            seconds = n / 10
            samples.append(
                (boiler, falling.metric_id, 100 - 2 * seconds / 60, start + timedelta(seconds=seconds))
            )
        evaluator.evaluate(samples)

    history = evaluator._series[boiler.id, falling.metric_id].history
    # one reading kept every 2 s (600 s / HISTORY_POINTS) over the window, and the one just before it
    assert len(history) == 301
    assert history[-1][0] - history[0][0] == timedelta(seconds=600)
    alarm = Alarm.objects.get(rule=falling)  # the rate is still the fall's: 2 °C a minute
    assert alarm.value == pytest.approx(-2.0)
