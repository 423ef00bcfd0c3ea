"""A list of requests is freed as soon as it is answered: a worker's memory does not follow the size
of the pages it has served (bench/memory.py)."""

import gc

import pytest
from django.test import Client

from tsur.appeals.models import Appeal, AppealEvent, Topic, TopicQuestion
from tsur.open311.models import ApiClient

from .test_georeport import BASE, fixture, post

pytestmark = pytest.mark.django_db


def left_to_the_collector(call) -> tuple[object, set[str]]:
    """What `call` returns, and the models of the register it left in reference cycles (objects only
    the cyclic collector would free; it is kept off while `call` runs)."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        result = call()
        gc.collect()
        left = {
            type(o).__name__
            for o in gc.garbage
            if isinstance(o, Appeal | AppealEvent | Topic | TopicQuestion)
        }
    finally:
        gc.garbage.clear()
        gc.set_debug(0)
        gc.enable()
    return result, left


@pytest.mark.parametrize("query", [{}, {"extensions": "true"}])
def test_a_page_of_requests_with_their_notes_is_not_left_in_reference_cycles(pothole, query):
    _, key = ApiClient.issue("FixMyStreet", "FixMyStreet", rate_per_minute=100)
    for n in range(3):
        post({**fixture("fixmystreet_pothole"), "api_key": key, "attribute[fixmystreet_id]": str(n)})

    response, left = left_to_the_collector(lambda: Client().get(f"{BASE}requests.json", query))

    assert response.status_code == 200
    assert len(response.json()) == 3
    if query:  # the page did carry the events and the topic's questions
        notes = [[n["summary"] for n in r["notes"]] for r in response.json()]
        assert notes == [["Зарегистрировано", "Назначено исполнителю"]] * 3
        assert {a["code"] for a in response.json()[0]["attributes"]} == {"size", "count", "hazards"}
    assert left == set()


def test_one_request_is_not_left_in_reference_cycles(pothole):
    _, key = ApiClient.issue("FixMyStreet", "FixMyStreet", rate_per_minute=100)
    number = post({**fixture("fixmystreet_pothole"), "api_key": key}).json()[0]["service_request_id"]

    response, left = left_to_the_collector(
        lambda: Client().get(f"{BASE}requests/{number}.json", {"extensions": "true"})
    )

    assert [r["service_request_id"] for r in response.json()] == [number]
    assert left == set()
