"""Suggestions while typing: addresses from the building register, topics from the text model; open
to anybody within the public lookup limit, and never about appeals or people."""

import shutil

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from tsur.appeals import actions
from tsur.appeals.choices import Channel
from tsur.appeals.tests.factories import TopicFactory
from tsur.core.choices import Role
from tsur.core.tests.factories import BuildingFactory, TerritoryFactory, user_with_role
from tsur.nlp import understanding as text_model
from tsur.nlp.tests import region

pytestmark = pytest.mark.django_db
ADDRESSES = reverse("web:suggest-addresses")
TOPICS = reverse("web:suggest-topics")


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="module")
def region_model(tmp_path_factory):
    export = region.write(tmp_path_factory.mktemp("region") / "appeals.csv")
    return region.train(export, tmp_path_factory.mktemp("models") / "region")


def test_an_address_is_found_by_its_words_in_any_order_and_case():
    district = TerritoryFactory(name="Невский район")
    BuildingFactory(
        address="Санкт-Петербург, Зелёная ул., д. 5", territory=district, latitude=59.9, longitude=30.4
    )
    BuildingFactory(address="Санкт-Петербург, Зелёная ул., д. 15", territory=district)
    BuildingFactory(address="Санкт-Петербург, Садовая ул., д. 5", territory=district)

    response = Client().get(ADDRESSES, {"q": "5 ЗЕЛЕНАЯ"})

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["address"] for r in results] == [
        "Санкт-Петербург, Зелёная ул., д. 15",
        "Санкт-Петербург, Зелёная ул., д. 5",
    ]
    assert results[1]["lat"] == 59.9 and results[1]["territory"] == "Невский район"


def test_too_little_or_too_much_typed_is_answered_without_a_search():
    BuildingFactory(address="ул. Ая, д. 1")
    client = Client()

    assert client.get(ADDRESSES, {"q": "а"}).json() == {"results": []}
    assert client.get(ADDRESSES, {"q": "x" * 201}).status_code == 400
    assert client.get(ADDRESSES).json() == {"results": []}


def test_topics_come_from_the_model_most_likely_first(settings, region_model, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(region_model, model_dir)
    settings.TSUR = {**settings.TSUR, "NLP_MODEL": str(model_dir)}
    text_model.forget_models()
    topics = {name: TopicFactory(name=name) for name in region.CLASSES}
    try:
        response = Client().post(TOPICS, {"text": "Не горит фонарь, на улице темно"})
        short = Client().post(TOPICS, {"text": "Фонарь"})
    finally:
        text_model.forget_models()

    results = response.json()["results"]
    assert results[0]["id"] == topics["Освещение"].pk
    assert 1 <= len(results) <= 3
    assert results == sorted(results, key=lambda r: -r["probability"])
    assert short.json() == {"results": []}


def test_without_a_model_no_topic_is_suggested_and_nothing_fails():
    assert Client().post(TOPICS, {"text": "Не горит фонарь во дворе"}).json() == {"results": []}


def test_the_text_is_never_taken_from_the_url():
    assert Client().get(TOPICS, {"text": "Не горит фонарь"}).status_code == 405


def test_suggestions_share_the_public_lookup_limit():
    old = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**old, "public_lookup": "3/min"}
    try:
        client = Client()
        codes = [client.get(ADDRESSES, {"q": "Садовая"}).status_code for _ in range(2)]
        codes += [client.post(TOPICS, {"text": "Не горит фонарь"}).status_code for _ in range(2)]
    finally:
        SimpleRateThrottle.THROTTLE_RATES = old
    assert codes == [200, 200, 200, 429]


def test_staff_typing_have_their_own_limit_apart_from_the_public_one():
    operator = user_with_role(Role.OPERATOR)
    old = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**old, "public_lookup": "2/min", "staff_suggest": "4/min"}
    try:
        visitor, staff = Client(), Client()
        staff.force_login(operator)
        public = [visitor.get(ADDRESSES, {"q": "Садовая"}).status_code for _ in range(3)]
        typing = [staff.get(ADDRESSES, {"q": "Садовая"}).status_code for _ in range(5)]
    finally:
        SimpleRateThrottle.THROTTLE_RATES = old
    assert public == [200, 200, 429]
    assert typing == [200, 200, 200, 200, 429]


def test_an_appeal_s_text_or_author_never_appears_in_a_suggestion():
    building = BuildingFactory(address="ул. Садовая, д. 3")
    actions.register(
        channel=Channel.PORTAL,
        text="Садовая 3 — у Ивановой течёт крыша",
        author_name="Иванова",
        building=building,
        personal_data_consent=True,
    )

    body = Client().get(ADDRESSES, {"q": "Садовая"}).content.decode()

    assert "Иванова" not in body and "крыша" not in body
