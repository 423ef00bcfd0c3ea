"""Alarms become outages; appeals from the buildings left without the service are linked to them,
answered together, and told when the service is back; the services are notified."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tsur.appeals import actions
from tsur.appeals.choices import EventKind, Status
from tsur.appeals.tests.factories import TopicFactory
from tsur.core.errors import InvalidTransition
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory, UserFactory
from tsur.dispatch import actions as dispatch_actions
from tsur.dispatch import ingest, reference
from tsur.dispatch.choices import ObjectKind, OutageState
from tsur.dispatch.models import AlarmRule, EngineeringObject, Outage
from tsur.dispatch.tests.factories import DeviceFactory, EngineeringObjectFactory
from tsur.notify.models import Delivery, DeliveryState
from tsur.notify.tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db
NOW = timezone.now()


@pytest.fixture
def city(django_capture_on_commit_callbacks):
    reference.ensure()
    served, other = BuildingFactory.create_batch(2), BuildingFactory()
    boiler = EngineeringObjectFactory(code="k7", name="Котельная №7", serves=served)
    device = DeviceFactory(code="plc-k7", object=boiler)
    heating = TopicFactory(code="zhkh-no-heating", name="Отсутствие отопления")
    roads = TopicFactory(code="dorogi-potholes", name="Ямы")
    utility = OrganisationFactory(name="Теплосеть")
    return {
        "served": served,
        "other": other,
        "boiler": boiler,
        "device": device,
        "heating": heating,
        "roads": roads,
        "utility": utility,
    }


def appeal(city, building, topic, hours_ago=0.0):
    created, _ = actions.register(
        channel="portal",
        text="В квартире холодные батареи, нет отопления",
        author_email="resident@example.org",
        building=building,
        topic=topic,
        organisation=city["utility"],
        at=NOW - timedelta(hours=hours_ago),
    )
    return created


def fault(device, at=NOW):
    outcome = ingest.accept(
        device, [{"metric": "fault", "value": 1, "unit": "flag", "at": at.isoformat()}], now=NOW
    )
    assert outcome.rejected == []


def test_a_failure_opens_an_outage_and_links_the_appeals_it_caused(city, django_capture_on_commit_callbacks):
    before = appeal(city, city["served"][0], city["heating"], hours_ago=1)  # called before the alarm
    elsewhere = appeal(city, city["other"], city["heating"], hours_ago=1)
    unrelated = appeal(city, city["served"][1], city["roads"], hours_ago=1)

    with django_capture_on_commit_callbacks(execute=True):
        fault(city["device"])
    outage = Outage.objects.get(object=city["boiler"])
    assert outage.state == OutageState.ACTIVE
    assert set(outage.buildings.all()) == set(city["served"])
    assert outage.services == ["heating", "hot_water"]
    assert list(outage.appeals.all()) == [before]

    with django_capture_on_commit_callbacks(execute=True):
        after = appeal(city, city["served"][1], city["heating"])
    assert set(outage.appeals.all()) == {before, after}
    assert not elsewhere.outages.exists() and not unrelated.outages.exists()
    linked = after.events.get(kind=EventKind.OUTAGE_LINKED)
    assert linked.public and "Котельная №7" in linked.reason and linked.data["outage"] == outage.pk


def test_one_outage_per_object_and_only_by_rules_that_say_so(city, django_capture_on_commit_callbacks):
    AlarmRule.objects.filter(name="Авария контроллера").update(opens_outage=False)
    fault(city["device"])
    assert not Outage.objects.exists()

    AlarmRule.objects.filter(name="Авария контроллера").update(opens_outage=True)
    alarm = city["boiler"].alarms.get()
    dispatch_actions.acknowledge(alarm, UserFactory())
    dispatch_actions.clear(alarm, UserFactory())
    fault(city["device"], at=NOW - timedelta(seconds=30))
    fault(city["device"], at=NOW - timedelta(seconds=10))  # a repeat of the same alarm
    pressure = ingest.accept(
        city["device"],
        [
            {
                "metric": "p_supply",
                "value": 0.5,
                "unit": "bar",
                "at": (NOW - timedelta(minutes=m)).isoformat(),
            }
            for m in (3, 0)
        ],
        now=NOW,
    )  # a second alarm (pressure held low), same object
    assert pressure.accepted == 2
    assert city["boiler"].alarms.exclude(state="cleared").count() == 2
    assert Outage.objects.filter(object=city["boiler"]).count() == 1


def test_an_object_serving_nobody_opens_no_outage(city):
    camera = EngineeringObjectFactory(kind=ObjectKind.CAMERA, serves=city["served"])
    fault(DeviceFactory(object=camera))  # a camera leaves nobody without a service
    lonely = EngineeringObjectFactory()
    fault(DeviceFactory(object=lonely))  # serves no building and no radius
    assert camera.alarms.exists() and lonely.alarms.exists()
    assert not Outage.objects.exists()


def test_lighting_outage_links_by_radius(city, django_capture_on_commit_callbacks):
    lighting = TopicFactory(code="blag-street-lighting", name="Не работает уличное освещение")
    cabinet = EngineeringObjectFactory(
        name="ШНО-1",
        kind=ObjectKind.LIGHTING_CABINET,
        latitude=59.9300,
        longitude=30.3100,
        service_radius_m=300,
    )
    near, _ = actions.register(
        channel="portal", text="Не горят фонари на улице", topic=lighting, organisation=city["utility"],
        latitude=59.9310, longitude=30.3110, at=NOW - timedelta(minutes=20),
    )  # fmt: skip
    far, _ = actions.register(
        channel="portal", text="Не горят фонари у школы", topic=lighting, organisation=city["utility"],
        latitude=59.9500, longitude=30.3100, at=NOW - timedelta(minutes=20),
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        fault(DeviceFactory(object=cabinet))
    assert list(Outage.objects.get(object=cabinet).appeals.all()) == [near]
    assert far.pk


def test_the_operator_answers_all_at_once_and_everyone_is_told_at_the_end(
    city, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    dispatcher = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = appeal(city, city["served"][0], city["heating"], hours_ago=2)
        fault(city["device"])
    outage = Outage.objects.get()
    second = appeal(city, city["served"][1], city["heating"])
    dispatch_actions.link_appeal(outage, second)
    actions.take(second, UserFactory())
    assert {first.status, status_of(second)} == {Status.ASSIGNED, Status.IN_WORK}

    with pytest.raises(Exception, match="плановое время"):
        dispatch_actions.answer_all(outage, dispatcher, text="Идёт ремонт")
    planned = timezone.now() + timedelta(hours=6)
    counts = dispatch_actions.answer_all(outage, dispatcher, text="Идёт ремонт котла", planned_at=planned)
    assert counts == {"answered": 2, "in_review": 0, "skipped": 0}
    for linked in (first, second):
        linked.refresh_from_db()
        assert (linked.status, linked.planned_at) == (Status.INTERIM, planned)

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        counts = dispatch_actions.end_outage(outage, dispatcher, text="Отопление восстановлено")
    assert counts == {"answered": 2, "in_review": 0, "skipped": 0}
    outage.refresh_from_db()
    assert outage.state == OutageState.ENDED and outage.ended_by == dispatcher
    for linked in (first, second):
        linked.refresh_from_db()
        assert linked.status == Status.ANSWERED
        assert linked.events.filter(kind=EventKind.ANSWERED, reason="Отопление восстановлено").exists()
    with pytest.raises(InvalidTransition):
        dispatch_actions.end_outage(outage, dispatcher, text="ещё раз")


def status_of(appeal):
    appeal.refresh_from_db()
    return appeal.status


def test_services_are_notified_by_their_subscriptions(city, django_capture_on_commit_callbacks, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    edds = SubscriptionFactory(
        name="ЕДДС района", address="edds@example.org",
        topics=["alarm_raised", "outage_opened", "outage_ended"], min_severity="critical",
    )  # fmt: skip
    SubscriptionFactory(
        name="Только освещение", address="light@example.org", object_kinds=[ObjectKind.LIGHTING_CABINET]
    )
    with django_capture_on_commit_callbacks(execute=True):
        fault(city["device"])
    deliveries = Delivery.objects.filter(subscription=edds)
    assert sorted(deliveries.values_list("topic", flat=True)) == ["alarm_raised", "outage_opened"]
    assert not Delivery.objects.exclude(subscription=edds).exists()
    assert set(deliveries.values_list("state", flat=True)) == {DeliveryState.SENT}
    assert {m.to[0] for m in mail.outbox} == {"edds@example.org"}
    assert any("Котельная №7" in m.subject for m in mail.outbox)


def test_an_ended_outage_takes_no_more_appeals_and_names_with_brackets_are_fine(
    city, django_capture_on_commit_callbacks
):
    EngineeringObject.objects.filter(pk=city["boiler"].pk).update(name="Котельная <K7>")
    city["boiler"].refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        first = appeal(city, city["served"][0], city["heating"], hours_ago=1)
        fault(city["device"])
    outage = Outage.objects.get()
    assert list(outage.appeals.all()) == [first]  # linked despite the brackets in the name
    assert "«K7»" in first.events.get(kind=EventKind.OUTAGE_LINKED).reason

    dispatch_actions.end_outage(outage, UserFactory(), text="Восстановлено")
    late = appeal(city, city["served"][1], city["heating"])
    with pytest.raises(InvalidTransition, match="устранено"):
        dispatch_actions.link_appeal(outage, late)
    assert not late.outages.exists()


def test_the_services_notices_are_stored_with_the_change_not_after_it(
    city, django_capture_on_commit_callbacks
):
    """A process that dies right after the commit (the consumer killed, the connection lost) runs no
    on-commit callback: the notices must already be stored deliveries by then, for the sweep to send."""
    SubscriptionFactory(
        name="ЕДДС", address="edds@example.org",
        topics=["alarm_raised", "outage_opened", "outage_ended"], min_severity="warning",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False):  # the process dies after each commit
        first = appeal(city, city["served"][0], city["heating"], hours_ago=1)
        fault(city["device"])
        dispatch_actions.end_outage(Outage.objects.get(), UserFactory(), text="Восстановлено")

    services = Delivery.objects.filter(subscription__isnull=False)
    assert sorted(services.values_list("topic", flat=True)) == [
        "alarm_raised",
        "outage_ended",
        "outage_opened",
    ]
    assert Delivery.objects.filter(topic="appeal", address="resident@example.org").exists()  # the answer
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.PENDING}  # for the sweep
    opened = Delivery.objects.get(topic="outage_opened")
    assert opened.payload["outage"]["appeals"] == 1 and "Связано обращений: 1" in opened.text
    assert list(Outage.objects.get().appeals.all()) == [first]  # linked in the opening's transaction
