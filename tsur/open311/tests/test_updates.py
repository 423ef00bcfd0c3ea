"""mySociety's servicerequestupdates and Chicago's extensions, and a FixMyStreet-style round trip."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tsur.appeals.choices import EventKind, Status
from tsur.appeals.models import Appeal, AppealEvent
from tsur.core.choices import Role
from tsur.core.tests.factories import user_with_role
from tsur.open311.models import ApiClient

from .test_georeport import BASE, fixture, post, tags, xml

pytestmark = pytest.mark.django_db
UPDATE_FIELDS = [
    "update_id", "service_request_id", "status", "updated_datetime", "description", "media_url",
    "external_status_code",
]  # fmt: skip
AUTHOR = "reporter@example.org"  # the e-mail of the fixture's reporter


@pytest.fixture
def app():
    return ApiClient.issue("FixMyStreet Санкт-Петербург", "FixMyStreet", rate_per_minute=100)


def staff(role, **kwargs):
    client = APIClient()
    client.force_authenticate(user_with_role(role, **kwargs))
    return client


def updates(**query):
    return Client().get(f"{BASE}servicerequestupdates.json", query).json()


def post_update(key, number, status, description="", **extra):
    data = {
        "api_key": key,
        "service_request_id": number,
        "status": status,
        "updated_datetime": timezone.now().isoformat(),
        "description": description,
        **extra,
    }
    return Client().post(f"{BASE}servicerequestupdates.json", data)


def test_fixmystreet_round_trip(pothole, app):
    # create through Open311
    client, key = app
    number = post({**fixture("fixmystreet_pothole"), "api_key": key}).json()[0]["service_request_id"]
    appeal = Appeal.objects.get(number=number)
    since = (timezone.now() - timedelta(minutes=1)).isoformat()

    # change status in the console (the organisation's executor works it through the REST API)
    executor = staff(Role.EXECUTOR, organisation=appeal.organisation)
    assert executor.post(f"/api/v1/appeals/{number}/take/").status_code == 200
    planned = (timezone.now() + timedelta(days=3)).isoformat()
    response = executor.post(
        f"/api/v1/appeals/{number}/interim-answer/", {"text": "Ремонт в четверг", "planned_at": planned}
    )
    assert response.status_code == 200
    assert executor.post(f"/api/v1/appeals/{number}/answer/", {"text": "Яма заделана"}).status_code == 200

    # read it back through servicerequestupdates
    seen = [(u["service_request_id"], u["status"], u["description"]) for u in updates(start_date=since)]
    assert seen == [
        (number, "open", seen[0][2]),
        (number, "in_progress", ""),
        (number, "action_scheduled", "Ремонт в четверг"),
        (number, "fixed", "Яма заделана"),
    ]
    [request] = Client().get(f"{BASE}requests/{number}.json").json()
    assert request["status_notes"] == "Яма заделана"

    # the citizen confirms in the app: the appeal closes as satisfied
    response = post_update(key, number, "FIXED", "Спасибо, всё сделано", update_id="fms-1", email=AUTHOR)
    assert response.status_code == 200
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED and appeal.close_reason == "satisfied"
    # the app does not hear its own update back, with its key or without
    assert [u["status"] for u in updates(start_date=since)][-1] == "fixed"
    assert [u["status"] for u in updates(start_date=since, api_key=key)][-1] == "fixed"
    closed = AppealEvent.objects.get(appeal=appeal, kind=EventKind.CLOSED)
    assert closed.actor == client.user and closed.reason == "Спасибо, всё сделано"

    # posted twice (a retry), recorded once
    again = post_update(key, number, "FIXED", "Спасибо, всё сделано", update_id="fms-1", email=AUTHOR)
    assert again.status_code == 200
    assert again.json() == response.json()
    assert AppealEvent.objects.filter(appeal=appeal, kind=EventKind.CLOSED).count() == 1


def test_not_fixed_reopens_and_a_remark_while_in_work_is_a_comment(pothole, app):
    client, key = app
    number = post({**fixture("fixmystreet_pothole"), "api_key": key}).json()[0]["service_request_id"]
    appeal = Appeal.objects.get(number=number)
    executor = staff(Role.EXECUTOR, organisation=appeal.organisation)
    executor.post(f"/api/v1/appeals/{number}/take/")

    assert post_update(key, number, "open", "Яма стала больше").status_code == 200
    appeal.refresh_from_db()
    assert appeal.status == Status.IN_WORK
    comment = AppealEvent.objects.get(appeal=appeal, kind=EventKind.COMMENTED)
    assert (comment.reason, comment.actor) == ("Яма стала больше", client.user)

    executor.post(f"/api/v1/appeals/{number}/answer/", {"text": "Сделано"})
    assert post_update(key, number, "reopen", "Ничего не сделано", email=AUTHOR).status_code == 200
    appeal.refresh_from_db()
    assert (appeal.status, appeal.reopen_count) == (Status.IN_WORK, 1)


def test_updates_in_xml_keep_the_extensions_order(pothole, app):
    _, key = app
    number = post({**fixture("fixmystreet_pothole"), "api_key": key}).json()[0]["service_request_id"]
    root = xml(Client().get(f"{BASE}servicerequestupdates.xml"))
    assert root.tag == "service_request_updates"
    [update] = root
    assert update.tag == "request_update"
    assert tags(update) == UPDATE_FIELDS
    assert update.find("service_request_id").text == number

    response = post_update(key, number, "in_progress", "Уточнение: яма у трамвайных путей")
    response = Client().post(
        f"{BASE}servicerequestupdates.xml",
        {
            "api_key": key,
            "service_request_id": number,
            "status": "OPEN",
            "updated_datetime": timezone.now().isoformat(),
            "description": "Ещё одно уточнение",
        },
    )
    assert response.status_code == 200
    [item] = xml(response)
    assert tags(item) == ["update_id"]


def _fields(extra=None):
    return {
        "service_request_id": None,
        "status": "open",
        "updated_datetime": timezone.now().isoformat(),
        "description": "Уточнение",
        **(extra or {}),
    }


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"api_key": "wrong"}, 403, "api_key"),
        ({"service_request_id": "26-9999999"}, 404, "not found"),
        ({"service_request_id": ""}, 400, "service_request_id is required"),
        ({"status": ""}, 400, "status is required"),
        ({"updated_datetime": ""}, 400, "updated_datetime is required"),
        ({"updated_datetime": "вчера"}, 400, "updated_datetime must be a w3"),
        ({"description": "<b>жирный</b>"}, 400, "without HTML"),
        ({"description": "я" * 4001}, 400, "4000"),
    ],
)
def test_bad_updates_are_refused_and_change_nothing(pothole, app, change, status, message):
    _, key = app
    number = post({**fixture("fixmystreet_pothole"), "api_key": key}).json()[0]["service_request_id"]
    data = {**_fields({"service_request_id": number}), "api_key": key, **change}
    events = AppealEvent.objects.count()
    response = Client().post(f"{BASE}servicerequestupdates.json", data)
    assert response.status_code == status
    [error] = response.json()
    assert message in error["description"]
    assert AppealEvent.objects.count() == events


def test_an_app_cannot_update_another_apps_request(pothole, app):
    _, key = app
    _, other_key = ApiClient.issue("Другое приложение", "Other")
    number = post({**fixture("fixmystreet_pothole"), "api_key": key}).json()[0]["service_request_id"]
    response = post_update(other_key, number, "fixed", "Закройте")
    assert response.status_code == 404
    assert not AppealEvent.objects.filter(kind=EventKind.COMMENTED).exists()


def test_an_update_on_a_finished_appeal_is_refused_clearly(pothole, app):
    _, key = app
    number = post({**fixture("fixmystreet_pothole"), "api_key": key}).json()[0]["service_request_id"]
    Appeal.objects.filter(number=number).update(status=Status.REJECTED)
    response = post_update(key, number, "open", "Почему отклонили?")
    assert response.status_code == 400


def test_chicago_extensions_add_attributes_channel_and_notes(pothole, app):
    _, key = app
    number = post({**fixture("fixmystreet_pothole"), "api_key": key}).json()[0]["service_request_id"]

    plain = Client().get(f"{BASE}requests/{number}.json").json()[0]
    assert "notes" not in plain
    [extended] = Client().get(f"{BASE}requests/{number}.json", {"extensions": "true"}).json()
    assert {a["code"]: a["value"] for a in extended["attributes"]} == {
        "size": "large", "count": "2", "hazards": "tram, bus"
    }  # fmt: skip
    # the client's own attributes go back only to that client
    [own] = Client().get(f"{BASE}requests/{number}.json", {"extensions": "true", "api_key": key}).json()
    assert {a["code"] for a in own["attributes"]} == {"size", "count", "hazards", "fixmystreet_id"}
    assert extended["extended_attributes"]["channel"] == "Open311"
    assert [n["summary"] for n in extended["notes"]] == ["Зарегистрировано", "Назначено исполнителю"]

    root = xml(Client().get(f"{BASE}requests/{number}.xml", {"extensions": "true"}))
    request = root[0]
    assert tags(request)[-3:] == ["attributes", "extended_attributes", "notes"]
    assert [n.tag for n in request.find("notes")] == ["note", "note"]
    assert tags(request.find("notes")[0]) == ["datetime", "summary", "type", "description"]


def test_chicago_paging(pothole, app):
    _, key = app
    numbers = [
        post({**fixture("fixmystreet_pothole"), "api_key": key, "attribute[fixmystreet_id]": str(i)}).json()[
            0
        ]["service_request_id"]
        for i in range(5)
    ]
    newest_first = list(reversed(numbers))

    def page(**query):
        return [r["service_request_id"] for r in Client().get(f"{BASE}requests.json", query).json()]

    assert page(page_size=2) == newest_first[:2]
    assert page(page_size=2, page=3) == newest_first[4:]
    assert page(page_size=2, page=4) == []
    for bad in ({"page_size": "0"}, {"page_size": "501"}, {"page": "-1"}, {"page": "два"}):
        assert Client().get(f"{BASE}requests.json", bad).status_code == 400


def test_open_and_closed_from_the_app_are_comments_unless_the_author_says_fixed(pothole, app):
    _, key = app
    number = post({**fixture("fixmystreet_pothole"), "api_key": key}).json()[0]["service_request_id"]
    appeal = Appeal.objects.get(number=number)
    executor = staff(Role.EXECUTOR, organisation=appeal.organisation)
    executor.post(f"/api/v1/appeals/{number}/take/")
    executor.post(f"/api/v1/appeals/{number}/answer/", {"text": "Сделано"})

    # a neighbour comments on FixMyStreet; FMS sends its report state, OPEN or CLOSED
    assert post_update(key, number, "OPEN", "Есть новости?", email="neighbour@example.org").status_code == 200
    assert (
        post_update(key, number, "CLOSED", "Вроде сделали", email="neighbour@example.org").status_code == 200
    )
    # somebody else claims it fixed
    assert post_update(key, number, "FIXED", "Починили", email="other@example.org").status_code == 200

    appeal.refresh_from_db()
    assert (appeal.status, appeal.reopen_count) == (Status.ANSWERED, 0)
    assert AppealEvent.objects.filter(appeal=appeal, kind=EventKind.COMMENTED).count() == 3


def test_the_app_learns_its_report_was_rejected_without_a_key(pothole, app):
    _, key = app
    number = post({**fixture("fixmystreet_pothole"), "api_key": key}).json()[0]["service_request_id"]
    appeal = Appeal.objects.get(number=number)
    operator = staff(Role.OPERATOR)
    assert (
        operator.post(f"/api/v1/appeals/{number}/reject/", {"reason": "Дубль обращения"}).status_code == 200
    )
    appeal.refresh_from_db()
    assert appeal.status == Status.REJECTED

    seen = [(u["service_request_id"], u["status"], u["external_status_code"]) for u in updates()]
    assert (number, "no_further_action", "rejected") in seen
