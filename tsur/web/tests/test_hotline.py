"""The hotline over HTTP: an operator files a call (channel hotline, the caller's consent recorded as
the operator's, the number and the private link told), is shown similar open appeals at the place,
and adds the caller to one of them instead (no new appeal; a follower with the caller's contacts);
only operators may, and an appeal outside the operator's scope cannot be joined."""

import re

import pytest
from django.contrib.messages import get_messages

from tsur.appeals import access
from tsur.appeals.choices import Channel, ConsentSource, EventKind
from tsur.appeals.models import Appeal, Follower
from tsur.core.choices import Role
from tsur.core.tests.factories import TerritoryFactory, user_with_role

from .conftest import login

pytestmark = pytest.mark.django_db
CALL = {
    "call": "call-0001",
    "text": "В подвале течёт труба, вода на полу",
    "address": "ул. Седова, д. 5, кв. 3",
    "name": "Петров Пётр",
    "phone": "+79210000001",
    "email": "petrov@example.org",
    "consent": "on",
}


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_page_offers_the_suggestions_and_labels_every_field(region):
    page = login(region["operator"]).get("/console/new/")

    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-addresses="/suggest/addresses/"' in body and 'data-topics="/suggest/topics/"' in body
    assert 'role="combobox"' in body and 'aria-controls="address-options"' in body
    assert "Гражданин согласен на обработку персональных данных" in body
    assert re.search(r'name="call" value="[0-9a-f]{32}"', body)  # a fresh id for this call


def test_a_call_is_filed_as_a_hotline_appeal_with_the_operators_record_of_consent(region):
    client = login(region["operator"])
    before = Appeal.objects.count()

    response = client.post("/console/new/", {**CALL, "building": region["working"].building.pk})

    appeal = Appeal.objects.latest("pk")
    assert Appeal.objects.count() == before + 1
    assert response.status_code == 302 and response["Location"] == f"/console/appeals/{appeal.number}/"
    assert (appeal.channel, appeal.submitted_by, appeal.text) == (
        Channel.HOTLINE,
        region["operator"],
        CALL["text"],
    )
    assert (appeal.author_name, appeal.author_phone, appeal.author_email) == (
        "Петров Пётр",
        "+79210000001",
        "petrov@example.org",
    )
    assert (appeal.building, appeal.address) == (region["working"].building, "ул. Седова, д. 5, кв. 3")
    assert appeal.consent_source == ConsentSource.OPERATOR and appeal.consent_at is not None
    (told,) = messages_of(response)
    assert f"№ {appeal.number}" in told
    key = re.search(rf"http://testserver/a/{appeal.number}/([-\w]+)/", told).group(1)
    assert access.opens(appeal, key)  # the link read to the caller opens their appeal


def test_without_the_callers_consent_none_is_recorded_and_a_second_press_files_nothing(region):
    client = login(region["operator"])
    call = {**CALL, "consent": ""}

    first = client.post("/console/new/", call)
    again = client.post("/console/new/", call)

    appeal = Appeal.objects.get(external_id="call-0001")
    assert (appeal.consent_source, appeal.consent_at) == ("", None)
    assert first["Location"] == again["Location"] == f"/console/appeals/{appeal.number}/"
    assert messages_of(again)[-1] == f"Этот звонок уже зарегистрирован: обращение № {appeal.number}."


def test_similar_open_appeals_at_the_place_are_shown_while_typing(region):
    client = login(region["operator"])
    building = region["working"].building

    found = client.post(
        "/console/new/similar/", {"text": "Не вывозят мусор уже неделю", "building": building.pk}
    )
    by_address = client.post(
        "/console/new/", {"text": "Не вывозят мусор уже неделю", "address": "ул. Седова, д. 5", "check": "1"}
    )
    no_place = client.post("/console/new/similar/", {"text": "Не вывозят мусор уже неделю"})

    body = found.content.decode()
    assert found.status_code == 200 and "<html" not in body
    assert region["working"].number in body and 'name="join"' in body
    assert "Добавить звонящего к этому обращению" in body
    assert region["foreign"].number not in body  # elsewhere
    assert region["working"].number in by_address.content.decode()  # the page without its script
    assert region["working"].number not in no_place.content.decode()
    assert "Укажите суть и адрес" in no_place.content.decode()


def test_the_caller_joins_an_open_appeal_instead_of_a_new_one(region):
    client = login(region["operator"])
    working = region["working"]
    before = Appeal.objects.count()

    response = client.post("/console/new/", {**CALL, "join": working.number})

    assert Appeal.objects.count() == before
    assert response.status_code == 302 and response["Location"] == f"/console/appeals/{working.number}/"
    follower = Follower.objects.get(appeal=working)
    assert (follower.channel, follower.name, follower.phone, follower.email) == (
        Channel.HOTLINE,
        "Петров Пётр",
        "+79210000001",
        "petrov@example.org",
    )
    assert (follower.consent_source, follower.added_by) == (ConsentSource.OPERATOR, region["operator"])
    assert working.events.filter(kind=EventKind.SUBSCRIBED).count() == 1
    assert f"№ {working.number}" in messages_of(response)[0]


def test_joining_needs_a_way_to_reach_the_caller_and_changes_nothing_without_it(region):
    response = login(region["operator"]).post(
        "/console/new/", {"join": region["working"].number, "name": "Аноним"}
    )

    assert response.status_code == 400
    assert "Укажите e-mail или телефон" in response.content.decode()
    assert not Follower.objects.exists()


def test_bad_input_is_a_400_and_files_nothing(region):
    before = Appeal.objects.count()

    response = login(region["operator"]).post("/console/new/", {**CALL, "text": "", "email": "not-an-email"})

    assert response.status_code == 400
    assert Appeal.objects.count() == before


def test_an_appeal_outside_the_operators_scope_cannot_be_joined(region):
    district = user_with_role(Role.OPERATOR, territory=TerritoryFactory(name="Другой район"))

    response = login(district).post("/console/new/", {**CALL, "join": region["working"].number})

    assert response.status_code == 404
    assert not Follower.objects.exists()


def test_only_operators_take_calls(region):
    executor = login(region["executor"])
    before = Appeal.objects.count()

    assert executor.get("/console/new/").status_code == 403
    assert executor.post("/console/new/", CALL).status_code == 403
    assert executor.post("/console/new/", {**CALL, "join": region["working"].number}).status_code == 403
    assert executor.post("/console/new/similar/", {"text": "мусор"}).status_code == 403
    assert Appeal.objects.count() == before and not Follower.objects.exists()
