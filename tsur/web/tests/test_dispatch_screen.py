"""The dispatcher's screen over HTTP: who may look, who may act, scoping by organisation, CSRF,
and no citizen's personal data on it."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tsur.appeals import actions
from tsur.appeals.tests.factories import TopicFactory
from tsur.core.choices import Role
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory, user_with_role
from tsur.dispatch import actions as dispatch_actions
from tsur.dispatch import ingest, reference
from tsur.dispatch.choices import AlarmState, ObjectKind
from tsur.dispatch.models import Alarm, Device, EngineeringObject, Outage

pytestmark = pytest.mark.django_db


@pytest.fixture
def network(django_capture_on_commit_callbacks):
    reference.ensure()
    ours, theirs = OrganisationFactory(name="Теплосеть района"), OrganisationFactory(name="Чужая сеть")
    building = BuildingFactory(address="ул. Садовая, д. 5")
    plant = EngineeringObject.objects.create(
        code="k1",
        name="Котельная №1",
        kind=ObjectKind.BOILER_HOUSE,
        owner=ours,
        latitude=59.93,
        longitude=30.31,
    )
    plant.serves.set([building])
    other = EngineeringObject.objects.create(
        code="k2",
        name="Котельная №2",
        kind=ObjectKind.BOILER_HOUSE,
        owner=theirs,
        latitude=59.94,
        longitude=30.32,
    )
    heating = TopicFactory(code="zhkh-no-heating", name="Отсутствие отопления")
    appeal, _ = actions.register(
        channel="portal",
        text="Нет отопления второй день",
        author_name="Иванова Мария Петровна",
        author_email="ivanova@example.org",
        author_phone="+79110000000",
        building=building,
        topic=heating,
        organisation=ours,
        at=timezone.now() - timedelta(minutes=30),
    )
    with django_capture_on_commit_callbacks(execute=True):
        for obj in (plant, other):
            device, _ = Device.issue(f"plc-{obj.code}", obj)
            ingest.accept(
                device, [{"metric": "fault", "value": 1, "unit": "flag", "at": timezone.now().isoformat()}]
            )
    return {"ours": ours, "plant": plant, "other": other, "appeal": appeal}


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_only_staff_of_dispatch_see_the_board(network, client):
    assert client.get(reverse("web:dispatch-board")).status_code == 302  # to the login page
    assert login(user_with_role(Role.CITIZEN)).get(reverse("web:dispatch-board")).status_code == 403
    assert login(user_with_role(Role.OPERATOR)).get(reverse("web:dispatch-state")).status_code == 403
    page = login(user_with_role(Role.DISPATCHER)).get(reverse("web:dispatch-board"))
    assert page.status_code == 200
    assert "Активные тревоги" in page.content.decode()
    assert "leaflet/leaflet.js" in page.content.decode()  # served by the platform, not by a CDN


def test_a_dispatcher_sees_and_acts_on_their_own_organisation_only(network):
    dispatcher = login(user_with_role(Role.DISPATCHER, organisation=network["ours"]))
    state = dispatcher.get(reverse("web:dispatch-state")).json()
    assert [o["name"] for o in state["objects"]] == ["Котельная №1"]
    assert state["objects"][0]["state"] == "critical"
    assert [a["object"] for a in state["alarms"]] == ["Котельная №1"]
    assert [o["appeals"] for o in state["outages"]] == [1]

    theirs = Alarm.objects.get(object=network["other"])
    assert dispatcher.post(reverse("web:dispatch-acknowledge", args=[theirs.pk])).status_code == 404
    ours = Alarm.objects.get(object=network["plant"])
    response = dispatcher.post(
        reverse("web:dispatch-acknowledge", args=[ours.pk]), HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200
    ours.refresh_from_db()
    assert ours.state == AlarmState.ACKNOWLEDGED
    again = dispatcher.post(
        reverse("web:dispatch-acknowledge", args=[ours.pk]), HTTP_ACCEPT="application/json"
    )
    assert again.status_code == 409 and "активную" in again.json()["detail"]
    assert dispatcher.post(reverse("web:dispatch-clear", args=[ours.pk])).status_code == 302
    ours.refresh_from_db()
    assert ours.state == AlarmState.CLEARED


def test_leadership_looks_but_does_not_act(network):
    head = login(user_with_role(Role.LEADERSHIP))
    assert len(head.get(reverse("web:dispatch-state")).json()["objects"]) == 2
    alarm = Alarm.objects.get(object=network["plant"])
    assert head.post(reverse("web:dispatch-acknowledge", args=[alarm.pk])).status_code == 403
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.ACTIVE


def test_acting_needs_the_csrf_token(network):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user_with_role(Role.DISPATCHER))
    alarm = Alarm.objects.get(object=network["plant"])
    assert client.post(reverse("web:dispatch-acknowledge", args=[alarm.pk])).status_code == 403
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.ACTIVE


def test_the_outage_page_lists_appeals_without_personal_data_and_answers_them(network):
    outage = Outage.objects.get(object=network["plant"])
    neighbour, _ = actions.register(  # no known building: the address as the citizen wrote it
        channel="portal",
        text="Холодные батареи",
        address="ул. Садовая, д. 7, кв. 31",
        topic=network["appeal"].topic,
        organisation=network["ours"],
    )
    dispatch_actions.link_appeal(outage, neighbour)
    dispatcher = login(user_with_role(Role.DISPATCHER))
    page = dispatcher.get(reverse("web:dispatch-outage", args=[outage.pk])).content.decode()
    assert network["appeal"].number in page and "ул. Садовая, д. 5" in page
    assert neighbour.number in page and "ул. Садовая, д. 7" in page
    for private in ("Иванова", "ivanova@example.org", "+79110000000", "Нет отопления второй день", "кв. 31"):
        assert private not in page

    url = reverse("web:dispatch-outage-answer", args=[outage.pk])
    refused = dispatcher.post(url, {"text": "Идёт ремонт", "planned_at": "не дата"}, follow=True)
    assert "плановое время" in refused.content.decode()
    planned = (timezone.localtime() + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M")
    answered = dispatcher.post(url, {"text": "Идёт ремонт", "planned_at": planned}, follow=True)
    assert "Промежуточный ответ дан: 2" in answered.content.decode()
    network["appeal"].refresh_from_db()
    assert network["appeal"].status == "interim"

    ended = dispatcher.post(
        reverse("web:dispatch-outage-end", args=[outage.pk]), {"text": "Отопление дали"}, follow=True
    )
    assert "ответ дан: 2" in ended.content.decode()
    network["appeal"].refresh_from_db()
    assert network["appeal"].status == "answered"


def test_another_organisations_outage_is_not_found(network):
    dispatcher = login(user_with_role(Role.DISPATCHER, organisation=network["ours"]))
    theirs = Outage.objects.filter(object=network["other"]).first()
    assert (
        theirs is None or dispatcher.get(reverse("web:dispatch-outage", args=[theirs.pk])).status_code == 404
    )
    ours = Outage.objects.get(object=network["plant"])
    assert dispatcher.get(reverse("web:dispatch-outage", args=[ours.pk])).status_code == 200


def test_appeals_outside_the_dispatchers_scope_are_neither_shown_nor_answered(network):
    outage = Outage.objects.get(object=network["plant"])
    company = OrganisationFactory(name="Управляющая компания X")
    foreign, _ = actions.register(
        channel="portal",
        text="Холодно в квартире",
        building=outage.buildings.get(),
        topic=outage.topics.get(code="zhkh-no-heating"),
        organisation=company,
    )
    assert dispatch_actions.link_appeal(outage, foreign)
    dispatcher = login(user_with_role(Role.DISPATCHER, organisation=network["ours"]))
    page = dispatcher.get(reverse("web:dispatch-outage", args=[outage.pk])).content.decode()
    assert network["appeal"].number in page and foreign.number not in page
    assert "вне вашей зоны" in page

    planned = (timezone.localtime() + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M")
    dispatcher.post(
        reverse("web:dispatch-outage-answer", args=[outage.pk]), {"text": "Ремонт", "planned_at": planned}
    )
    foreign.refresh_from_db()
    network["appeal"].refresh_from_db()
    assert network["appeal"].status == "interim" and foreign.status == "assigned"


def test_an_impossible_date_is_a_message_not_a_crash(network):
    outage = Outage.objects.get(object=network["plant"])
    dispatcher = login(user_with_role(Role.DISPATCHER))
    url = reverse("web:dispatch-outage-answer", args=[outage.pk])
    for bad in ("2030-13-45T10:00", "2020-01-01T10:00"):  # no such month; in the past
        response = dispatcher.post(url, {"text": "Ремонт", "planned_at": bad}, follow=True)
        assert response.status_code == 200 and "alert error" in response.content.decode()
    network["appeal"].refresh_from_db()
    assert network["appeal"].status == "assigned"


def test_acting_never_redirects_elsewhere(network):
    alarm = Alarm.objects.get(object=network["plant"])
    dispatcher = login(user_with_role(Role.DISPATCHER))
    response = dispatcher.post(
        reverse("web:dispatch-acknowledge", args=[alarm.pk]), {"next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("web:dispatch-board")
