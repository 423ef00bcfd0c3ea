"""Near-duplicates among the register's open appeals, and what operators and the portal see of them."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from tsur.appeals.choices import FINAL_STATUSES, Status
from tsur.appeals.models import Appeal
from tsur.appeals.tests.factories import AppealFactory, TopicFactory
from tsur.core.choices import Role
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory, user_with_role
from tsur.nlp import duplicates

pytestmark = pytest.mark.django_db
HERE = (59.9343, 30.3351)
TEXT = "Во дворе переполнены мусорные контейнеры, мусор не вывозят неделю"


def open_appeals():
    return Appeal.objects.exclude(status__in=FINAL_STATUSES)


def near(metres_north: float) -> tuple[float, float]:
    return HERE[0] + metres_north / duplicates.METRES_PER_DEGREE, HERE[1]


@pytest.fixture
def topic():
    return TopicFactory(name="Вывоз мусора")


def appeal_at(point, text=TEXT, **kwargs):
    kwargs.setdefault("status", Status.IN_WORK)
    return AppealFactory(latitude=point[0], longitude=point[1], text=text, **kwargs)


def test_the_same_problem_nearby_is_found_and_ranked(topic):
    same = appeal_at(near(40), "Мусорные контейнеры во дворе переполнены, не вывозят", topic=topic)
    similar_far = appeal_at(near(120), "Не вывозят мусор, контейнеры переполнены", topic=topic)
    appeal_at(near(400), TEXT, topic=topic)  # too far
    appeal_at(near(10), "Не горит фонарь у подъезда")  # another problem
    appeal_at(near(10), TEXT, topic=topic, status=Status.CLOSED)  # no longer open
    appeal_at(near(10), TEXT, topic=topic, registered_at=timezone.now() - timedelta(days=60))  # too old

    found = duplicates.find(
        TEXT, queryset=open_appeals(), latitude=HERE[0], longitude=HERE[1], topic_id=topic.pk
    )

    assert [f.number for f in found] == [same.number, similar_far.number]
    assert found[0].similarity > found[1].similarity >= 0.3
    assert found[0].distance_m == pytest.approx(40, abs=0.5)


def test_the_same_building_counts_even_without_a_point():
    building = BuildingFactory()
    other = AppealFactory(building=building, text=TEXT, status=Status.ASSIGNED)
    found = duplicates.find(TEXT, queryset=open_appeals(), building_id=building.pk)
    assert [f.number for f in found] == [other.number]
    assert found[0].distance_m is None


def test_without_a_place_there_is_nothing_to_compare():
    AppealFactory(text=TEXT, latitude=HERE[0], longitude=HERE[1])
    assert duplicates.find(TEXT, queryset=open_appeals()) == []


def test_a_different_topic_weighs_against_similar_words():
    a, b = TopicFactory(), TopicFactory()
    assert duplicates.similarity(TEXT, TEXT, same_topic=True) == 1.0
    assert duplicates.similarity(TEXT, TEXT, same_topic=False) == pytest.approx(0.6)
    assert duplicates.similarity(TEXT, "Яма на дороге") < 0.1
    assert a.pk != b.pk


# ------------------------------------------------------------------ API


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


def client_for(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_operators_see_candidates_for_merging_within_their_scope(topic):
    org, other_org = OrganisationFactory(), OrganisationFactory()
    mine = appeal_at(HERE, topic=topic, organisation=org)
    twin = appeal_at(near(30), topic=topic, organisation=org)
    hidden = appeal_at(near(20), topic=topic, organisation=other_org)
    executor = user_with_role(Role.EXECUTOR, organisation=org)

    response = client_for(executor).get(f"/api/v1/appeals/{mine.number}/similar/")

    assert response.status_code == 200
    assert [r["number"] for r in response.json()] == [twin.number]
    assert hidden.number not in response.content.decode()
    assert client_for(executor).get(f"/api/v1/appeals/{hidden.number}/similar/").status_code == 404


def test_the_portal_shows_similar_appeals_nearby_without_text_author_or_exact_place(topic):
    twin = appeal_at(near(30), topic=topic, author_name="Иванов Иван", author_phone="+79210000000")
    appeal_at(near(20), topic=topic, status=Status.MODERATION)  # not yet moderated: not shown

    response = client_for().post(
        "/api/v1/appeals/nearby/", {"text": TEXT, "lat": HERE[0], "lon": HERE[1]}, format="json"
    )

    assert response.status_code == 200
    [item] = response.json()
    assert item == {
        "number": twin.number,
        "status": "in_work",
        "status_display": "В работе",
        "topic": "Вывоз мусора",
        "registered_on": timezone.localdate(twin.registered_at).isoformat(),
        "distance": "рядом",
    }
    body = response.content.decode()
    assert "Иванов" not in body and "+7921" not in body and "неделю" not in body


def test_nearby_is_limited_for_signed_in_users_too(topic, settings):
    user = user_with_role(Role.CITIZEN)
    client = client_for(user)
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["public_lookup"].split("/")[0])
    codes = [
        client.post("/api/v1/appeals/nearby/", {"text": TEXT, "lat": 1, "lon": 1}, format="json").status_code
        for _ in range(rate + 1)
    ]
    assert codes[:rate] == [200] * rate
    assert codes[-1] == 429


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"text": TEXT, "lat": "abc", "lon": "30"},
        {"text": TEXT, "lat": "95", "lon": "30"},
        {"text": "", "lat": 1, "lon": 1},
        {"text": "я" * 4001, "lat": 1, "lon": 1},
    ],
)
def test_nearby_refuses_bad_queries(query):
    response = client_for().post("/api/v1/appeals/nearby/", query, format="json")
    assert response.status_code == 400


def test_nearby_is_not_a_get_with_the_text_in_the_url():
    client = client_for(user_with_role(Role.CITIZEN))
    response = client.get("/api/v1/appeals/nearby/", {"text": TEXT, "lat": 1, "lon": 1})
    assert response.status_code == 405
