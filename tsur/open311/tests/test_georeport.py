"""GeoReport v2 against the spec's documented shapes, in both formats, with every error case."""

import json
import re
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tsur.appeals import actions
from tsur.appeals.choices import Channel, EventKind, Status
from tsur.appeals.models import Appeal, AppealEvent, TopicQuestion
from tsur.appeals.tests.factories import AppealFactory
from tsur.core.choices import Role, TerritoryKind
from tsur.core.tests.factories import BuildingFactory, TerritoryFactory, user_with_role
from tsur.open311 import views
from tsur.open311.models import ApiClient

pytestmark = pytest.mark.django_db
BASE = "/open311/v2/"
FIXTURES = Path(__file__).parent / "fixtures" / "open311"


@pytest.fixture
def app_key():
    client, key = ApiClient.issue("Мобильное приложение «Город»", "FixMyStreet", rate_per_minute=100)
    return key


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def xml(response) -> ET.Element:
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 - our own response


def tags(element: ET.Element) -> list[str]:
    return [child.tag for child in element]


def post(data: dict, fmt: str = "json"):
    return Client().post(f"{BASE}requests.{fmt}", data)


REQUEST_FIELDS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
]  # fmt: skip


# ----------------------------------------------------------------------------- discovery, services


def test_discovery_in_both_formats():
    root = xml(Client().get(f"{BASE}discovery.xml"))
    assert root.tag == "discovery"
    assert tags(root) == ["changeset", "contact", "key_service", "endpoints"]
    [endpoint] = root.find("endpoints")
    assert tags(endpoint) == ["specification", "url", "changeset", "type", "formats"]
    assert [f.text for f in endpoint.find("formats")] == ["text/xml", "application/json"]
    assert endpoint.find("url").text == "http://testserver/open311/v2/"

    body = Client().get(f"{BASE}discovery.json").json()
    assert body["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert body["endpoints"][0]["formats"] == ["text/xml", "application/json"]


def test_services_list_every_topic_grouped_by_block(pothole, lighting):
    root = xml(Client().get(f"{BASE}services.xml"))
    assert root.tag == "services"
    by_code = {s.find("service_code").text: s for s in root}
    assert set(by_code) == {"roads-pothole", "light-out"}
    service = by_code["roads-pothole"]
    assert tags(service) == [
        "service_code", "service_name", "description", "metadata", "type", "keywords", "group"
    ]  # fmt: skip
    assert service.find("metadata").text == "true"
    assert by_code["light-out"].find("metadata").text == "false"
    assert service.find("group").text == "Дороги"
    assert service.find("type").text == "realtime"

    listed = Client().get(f"{BASE}services.json").json()
    assert {s["service_code"]: s["metadata"] for s in listed} == {"roads-pothole": True, "light-out": False}


def test_service_definition_lists_the_questions_in_order(pothole):
    root = xml(Client().get(f"{BASE}services/roads-pothole.xml"))
    assert root.tag == "service_definition"
    assert tags(root) == ["service_code", "attributes"]
    first, second, third = root.find("attributes")
    assert tags(first) == [
        "variable", "code", "datatype", "required", "datatype_description", "order", "description", "values"
    ]  # fmt: skip
    assert [first.find("code").text, first.find("datatype").text, first.find("required").text] == [
        "size", "singlevaluelist", "true"
    ]  # fmt: skip
    assert [(v.find("key").text, v.find("name").text) for v in first.find("values")] == [
        ("small", "Меньше 30 см"), ("large", "Больше 30 см")
    ]  # fmt: skip
    assert second.find("datatype").text == "number" and second.find("values") is None
    assert third.find("datatype").text == "multivaluelist"

    body = Client().get(f"{BASE}services/roads-pothole.json").json()
    assert [a["code"] for a in body["attributes"]] == ["size", "count", "hazards"]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_unknown_service_is_404_with_the_error_document(fmt):
    response = Client().get(f"{BASE}services/no-such-thing.{fmt}")
    assert response.status_code == 404
    if fmt == "xml":
        root = xml(response)
        assert root.tag == "errors"
        [error] = root
        assert tags(error) == ["code", "description"]
        assert error.find("code").text == "404"
    else:
        [error] = response.json()
        assert error["code"] == 404 and "no-such-thing" in error["description"]


def test_unknown_format_is_not_served():
    assert Client().get(f"{BASE}services.html").status_code == 404


# ---------------------------------------------------------------------------------- POST requests


def test_a_fixmystreet_report_becomes_an_appeal_through_the_actions(pothole, app_key):
    response = post({**fixture("fixmystreet_pothole"), "api_key": app_key}, "xml")

    assert response.status_code == 200
    root = xml(response)
    [item] = root
    assert tags(item) == ["service_request_id", "token", "service_notice", "account_id"]
    appeal = Appeal.objects.get(number=item.find("service_request_id").text)
    assert appeal.channel == Channel.OPEN311
    assert appeal.topic == pothole
    assert appeal.organisation.name == "Дорожное управление"
    assert appeal.status == Status.ASSIGNED
    assert appeal.attributes == {
        "size": "large", "count": "2", "hazards": ["tram", "bus"], "fixmystreet_id": "4321"
    }  # fmt: skip
    assert appeal.media_url == "https://photos.example.org/pothole/123.jpeg"
    assert (appeal.author_name, appeal.author_email, appeal.author_phone) == (
        "Анна Смирнова", "reporter@example.org", "+79210000001"
    )  # fmt: skip
    assert (appeal.latitude, appeal.longitude) == (59.93431, 30.3351)
    registered = AppealEvent.objects.get(appeal=appeal, kind=EventKind.REGISTERED)
    assert registered.data["channel"] == "open311"
    assert registered.actor.first_name == "FixMyStreet"
    assert registered.actor.open311_client.name == "Мобильное приложение «Город»"


def test_the_token_leads_to_the_request(pothole, app_key):
    created = post({**fixture("fixmystreet_pothole"), "api_key": app_key}).json()[0]

    for fmt in ("json", "xml"):
        response = Client().get(f"{BASE}tokens/{created['token']}.{fmt}")
        assert response.status_code == 200
    [item] = Client().get(f"{BASE}tokens/{created['token']}.json").json()
    assert item == {"service_request_id": created["service_request_id"], "token": created["token"]}
    assert Client().get(f"{BASE}tokens/00000000-0000-0000-0000-000000000000.json").status_code == 404
    assert Client().get(f"{BASE}tokens/not-a-token.xml").status_code == 404


def _without(data: dict, *keys) -> dict:
    return {k: v for k, v in data.items() if k not in keys}


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        (lambda d, key: _without(d, "api_key"), 403, "api_key is required"),
        (lambda d, key: {**d, "api_key": "wrong"}, 403, "not valid"),
        (lambda d, key: {**d, "service_code": "nothing-like-it"}, 404, "not found"),
        (lambda d, key: _without(d, "service_code"), 400, "service_code is required"),
        (lambda d, key: _without(d, "lat", "long", "address_string"), 400, "location is required"),
        (lambda d, key: {**d, "lat": "север"}, 400, "lat must be a number"),
        (lambda d, key: {**d, "address_id": "999999"}, 400, "not known"),
        (lambda d, key: {**d, "description": "я" * 4001}, 400, "4000"),
        (lambda d, key: {**d, "description": "Яма <script>alert(1)</script>"}, 400, "without HTML"),
        (lambda d, key: {**d, "attribute[size": "large"}, 400, "malformed attribute"),
        (lambda d, key: {**d, **{f"attribute[x{i}]": "1" for i in range(21)}}, 400, "too many attributes"),
        (lambda d, key: {**d, "attribute[fixmystreet_id]": "я" * 1001}, 400, "too long"),
        (lambda d, key: _without(d, "attribute[size]"), 400, "'size' is required"),
        (lambda d, key: {**d, "attribute[size]": "huge"}, 400, "must be one of"),
        (lambda d, key: {**d, "attribute[count]": "две"}, 400, "must be a number"),
        (lambda d, key: {**d, "attribute[hazards][]": ["tram", "ship"]}, 400, "must be among"),
        (lambda d, key: {**d, "email": "not-an-email"}, 400, "email"),
        (lambda d, key: {**d, "media_url": "javascript:alert(1)"}, 400, "media_url"),
        (lambda d, key: {**d, "jurisdiction_id": "atlantis"}, 404, "jurisdiction_id"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(pothole, app_key, change, status, message):
    data = change({**fixture("fixmystreet_pothole"), "api_key": app_key}, app_key)
    for fmt in ("json", "xml"):
        response = post(data, fmt)
        assert response.status_code == status
        if fmt == "json":
            [error] = response.json()
            assert error["code"] == status
            assert message in error["description"]
        else:
            assert xml(response).tag == "errors"
    assert Appeal.objects.count() == 0


def test_each_client_has_its_own_rate(pothole):
    _, slow = ApiClient.issue("Медленный", "Slow", rate_per_minute=2)
    _, other = ApiClient.issue("Другой", "Other", rate_per_minute=2)
    data = fixture("fixmystreet_pothole")
    codes = [post({**data, "api_key": slow}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert post({**data, "api_key": other}).status_code == 200


def test_a_disabled_client_is_refused(pothole, app_key):
    ApiClient.objects.update(is_active=False)
    assert post({**fixture("fixmystreet_pothole"), "api_key": app_key}).status_code == 403


def test_description_is_optional_and_the_topic_names_the_problem(lighting, app_key):
    response = post(
        {
            "api_key": app_key,
            "personal_data_consent": "1",
            "service_code": "light-out",
            "lat": "59.9",
            "long": "30.3",
        }
    )
    assert response.status_code == 200
    assert Appeal.objects.get().text == "Не горит фонарь"


def test_address_id_is_a_building_of_the_register(lighting, app_key):
    building = BuildingFactory()
    response = post(
        {
            "api_key": app_key,
            "personal_data_consent": "1",
            "service_code": "light-out",
            "address_id": str(building.pk),
        }
    )
    assert response.status_code == 200
    appeal = Appeal.objects.get()
    assert appeal.building == building and appeal.territory == building.territory


# ----------------------------------------------------------------------------------- GET requests


def _appeal(topic, days_ago=1, **kwargs):
    at = timezone.now() - timedelta(days=days_ago)
    kwargs.setdefault("status", Status.IN_WORK)
    return AppealFactory(
        topic=topic, registered_at=at, clock_started_at=at, resolution_due=at + timedelta(days=10), **kwargs
    )


def test_requests_are_listed_in_the_spec_order_in_both_formats(pothole):
    appeal = _appeal(pothole, address="Невский пр., 28", latitude=59.93, longitude=30.33)

    root = xml(Client().get(f"{BASE}requests.xml"))
    assert root.tag == "service_requests"
    [item] = root
    assert tags(item) == REQUEST_FIELDS
    assert item.find("service_request_id").text == appeal.number
    assert item.find("status").text == "open"
    assert item.find("expected_datetime").text == timezone.localtime(appeal.resolution_due).isoformat(
        timespec="seconds"
    )

    [body] = Client().get(f"{BASE}requests.json").json()
    assert list(body) == REQUEST_FIELDS
    assert body["agency_responsible"] == appeal.organisation.name
    assert body["lat"] == 59.93


def test_filters_of_get_requests(pothole, lighting):
    open_pothole = _appeal(pothole, days_ago=2)
    closed_pothole = _appeal(pothole, days_ago=3, status=Status.CLOSED)
    light = _appeal(lighting, days_ago=5)
    old = _appeal(lighting, days_ago=120)

    def numbers(**query):
        return [r["service_request_id"] for r in Client().get(f"{BASE}requests.json", query).json()]

    assert numbers() == [open_pothole.number, closed_pothole.number, light.number]  # last 90 days
    assert numbers(service_code="roads-pothole") == [open_pothole.number, closed_pothole.number]
    assert numbers(service_code="roads-pothole,light-out", status="closed") == [closed_pothole.number]
    assert numbers(status="open") == [open_pothole.number, light.number]
    start = (timezone.now() - timedelta(days=4)).isoformat()
    assert numbers(start_date=start) == [open_pothole.number, closed_pothole.number]
    since = timezone.now() - timedelta(days=130)
    assert numbers(start_date=since.isoformat(), end_date=(since + timedelta(days=20)).isoformat()) == [
        old.number
    ]
    # service_request_id overrides every other filter
    assert numbers(service_request_id=f"{old.number},{light.number}", service_code="roads-pothole") == [
        light.number, old.number
    ]  # fmt: skip


def test_get_requests_returns_at_most_the_limit(pothole, monkeypatch):
    monkeypatch.setattr(views, "MAX_REQUESTS", 2)
    for days in (1, 2, 3):
        _appeal(pothole, days_ago=days)
    assert len(Client().get(f"{BASE}requests.json").json()) == 2


@pytest.mark.parametrize(
    "query",
    [
        {"start_date": "23.11.2026"},
        {"start_date": "2026-11-01T00:00:00"},  # no time zone
        {"end_date": "yesterday"},
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},  # over 90 days
        {"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
        {"status": "pending"},
    ],
)
def test_wrong_dates_and_statuses_are_400(query):
    for fmt in ("json", "xml"):
        assert Client().get(f"{BASE}requests.{fmt}", query).status_code == 400


def test_appeals_not_yet_moderated_are_hidden_from_the_public_but_not_from_their_client(pothole, app_key):
    client = ApiClient.objects.get()
    mine = _appeal(pothole, status=Status.MODERATION, submitted_by=client.user)
    _appeal(pothole, status=Status.MODERATION)

    assert Client().get(f"{BASE}requests.json").json() == []
    assert Client().get(f"{BASE}requests/{mine.number}.json").status_code == 404
    assert [
        r["service_request_id"] for r in Client().get(f"{BASE}requests.json", {"api_key": app_key}).json()
    ] == [mine.number]
    assert Client().get(f"{BASE}requests/{mine.number}.xml", {"api_key": app_key}).status_code == 200


def test_jurisdiction_selects_a_territory(pothole):
    region = TerritoryFactory(code="spb", kind=TerritoryKind.REGION)
    district = TerritoryFactory(code="spb-01", parent=region)
    other = TerritoryFactory(code="lo")
    inside = _appeal(pothole, territory=district)
    _appeal(pothole, territory=other)

    found = Client().get(f"{BASE}requests.json", {"jurisdiction_id": "spb"}).json()
    assert [r["service_request_id"] for r in found] == [inside.number]
    assert Client().get(f"{BASE}requests.json", {"jurisdiction_id": "atlantis"}).status_code == 404


def test_status_notes_are_the_last_public_answer(pothole):
    appeal, _ = actions.register(
        channel=Channel.PORTAL, text="Яма", topic=pothole, latitude=59.9, longitude=30.3
    )
    executor = user_with_role(Role.EXECUTOR, organisation=appeal.organisation)
    actions.take(appeal, executor)
    actions.answer(appeal, executor, text="Яма заделана 20 ноября")

    [item] = Client().get(f"{BASE}requests/{appeal.number}.json").json()
    assert item["status_notes"] == "Яма заделана 20 ноября"
    assert item["status"] == "open"  # answered, waiting for the citizen


def test_rest_and_open311_agree_on_the_same_appeal(pothole, app_key):
    created = post({**fixture("fixmystreet_pothole"), "api_key": app_key}).json()[0]
    number = created["service_request_id"]
    operator = user_with_role(Role.OPERATOR)
    rest = APIClient()
    rest.force_authenticate(operator)

    through_rest = rest.get(f"/api/v1/appeals/{number}/").json()
    [through_open311] = Client().get(f"{BASE}requests/{number}.json", {"api_key": app_key}).json()

    assert through_open311["service_request_id"] == through_rest["number"]
    assert through_open311["service_code"] == through_rest["topic"]["code"]
    assert through_open311["service_name"] == through_rest["topic"]["name"]
    assert through_open311["agency_responsible"] == through_rest["organisation"]["name"]
    assert through_open311["description"] == through_rest["text"]
    assert through_open311["address"] == through_rest["address"]
    assert (through_open311["lat"], through_open311["long"]) == (
        through_rest["latitude"],
        through_rest["longitude"],
    )
    assert _same_moment(through_open311["expected_datetime"], through_rest["resolution_due"])
    assert _same_moment(through_open311["requested_datetime"], through_rest["registered_at"])


def _same_moment(a: str, b: str) -> bool:
    from django.utils.dateparse import parse_datetime

    return abs(parse_datetime(a) - parse_datetime(b)) < timedelta(seconds=1)


def test_a_client_is_added_in_the_admin_and_its_key_shown_once(pothole, admin_client):
    response = admin_client.post(
        "/admin/open311/apiclient/add/",
        {
            "name": "Городское приложение",
            "channel_name": "Наш город",
            "rate_per_minute": "30",
            "is_active": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    messages = " ".join(str(m) for m in response.context["messages"])
    key = re.search(r"Ключ API для «Городское приложение»: (\S+)", messages).group(1)
    client = ApiClient.objects.get()
    assert (client.channel_name, client.rate_per_minute) == ("Наш город", 30)
    assert key not in client.key_hash and client.key_prefix == key[:8]
    assert client.user.assignments.get().role == Role.SYSTEM

    created = post({**fixture("fixmystreet_pothole"), "api_key": key})
    assert created.status_code == 200
    page = admin_client.get(f"/admin/open311/apiclient/{client.pk}/change/").content.decode()
    assert key not in page


def test_the_public_sees_no_citizen_text_and_clients_with_a_key_do(pothole, app_key):
    number = post({**fixture("fixmystreet_pothole"), "api_key": app_key}).json()[0]["service_request_id"]
    [public] = Client().get(f"{BASE}requests/{number}.json").json()
    [keyed] = Client().get(f"{BASE}requests/{number}.json", {"api_key": app_key}).json()
    assert public["description"] == ""
    assert keyed["description"].startswith("Глубокая яма")
    Appeal.objects.filter(number=number).update(address="ул. Гороховая, д. 2, кв. 17")
    [public] = Client().get(f"{BASE}requests/{number}.json").json()
    [keyed] = Client().get(f"{BASE}requests/{number}.json", {"api_key": app_key}).json()
    assert (public["address"], keyed["address"]) == ("ул. Гороховая, д. 2", "ул. Гороховая, д. 2, кв. 17")


def test_a_retry_with_the_same_report_id_finds_the_first_appeal(pothole, app_key):
    data = {**fixture("fixmystreet_pothole"), "api_key": app_key}
    first = post(data).json()[0]
    again = post(data).json()[0]
    assert again == first
    assert Appeal.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"attribute[when]": "2026-13-01T00:00:00"}, "w3 date"),
        ({"phone": "+7921\x00"}, "NUL"),
        ({"media_url": "https://example.org/" + "a" * 1000}, "1000"),
    ],
)
def test_odd_values_are_400_not_500(pothole, app_key, change, message):
    TopicQuestion.objects.create(
        topic=pothole, code="when", description="Когда", datatype="datetime", order=9
    )
    response = post({**fixture("fixmystreet_pothole"), "api_key": app_key, **change})
    assert response.status_code == 400
    assert message in response.json()[0]["description"]
    assert Appeal.objects.count() == 0


def test_odd_tokens_are_404_not_500():
    for value in ["------------------------------------", "0" * 32, "zz"]:
        assert Client().get(f"{BASE}tokens/{value}.json").status_code == 404


def test_control_characters_never_break_the_xml(pothole, app_key):
    data = {**fixture("fixmystreet_pothole"), "api_key": app_key, "description": "Яма\x0bглубокая\x01"}
    number = post(data).json()[0]["service_request_id"]
    root = xml(Client().get(f"{BASE}requests/{number}.xml", {"api_key": app_key}))
    assert root[0].find("description").text == "Ямаглубокая"


def test_repeated_status_and_a_lone_old_start_date(pothole):
    recent, older = _appeal(pothole, days_ago=1), _appeal(pothole, days_ago=150, status=Status.CLOSED)
    both = Client().get(f"{BASE}requests.json?status=open&status=closed").json()
    assert [r["service_request_id"] for r in both] == [recent.number]
    since = (timezone.now() - timedelta(days=160)).isoformat()
    found = Client().get(f"{BASE}requests.json", {"start_date": since}).json()
    assert [r["service_request_id"] for r in found] == [older.number]  # the 90 days after start_date


def test_missing_numbers_are_null_in_json_and_empty_in_xml(lighting):
    appeal = _appeal(lighting, latitude=None, longitude=None)
    [item] = Client().get(f"{BASE}requests/{appeal.number}.json").json()
    assert (item["lat"], item["long"], item["address_id"]) == (None, None, None)
    root = xml(Client().get(f"{BASE}requests/{appeal.number}.xml"))
    assert root[0].find("lat").text is None


def test_the_timeline_shows_the_channel_and_the_application(pothole, app_key):
    number = post({**fixture("fixmystreet_pothole"), "api_key": app_key}).json()[0]["service_request_id"]
    operator = APIClient()
    operator.force_authenticate(user_with_role(Role.OPERATOR))

    detail = operator.get(f"/api/v1/appeals/{number}/").json()
    [registered, *_] = operator.get(f"/api/v1/appeals/{number}/timeline/").json()

    assert detail["channel"] == "open311"
    assert (registered["kind"], registered["actor"], registered["data"]["channel"]) == (
        "registered", "FixMyStreet", "open311"
    )  # fmt: skip


def test_token_document_in_xml(pothole, app_key):
    created = post({**fixture("fixmystreet_pothole"), "api_key": app_key}).json()[0]
    root = xml(Client().get(f"{BASE}tokens/{created['token']}.xml"))
    assert root.tag == "service_requests"
    [item] = root
    assert tags(item) == ["service_request_id", "token"]
    assert item.find("service_request_id").text == created["service_request_id"]


@pytest.mark.parametrize(
    "path",
    [
        "/open311/v2/services.json?jurisdiction_id=%00spb",
        "/open311/v2/services/light-out.json?jurisdiction_id=sp%00b",
        "/open311/v2/requests.json?service_request_id=26-0000001%00",
        "/open311/v2/servicerequestupdates.json?jurisdiction_id=%00",
        "/open311/v2/requests.json?%00=1",
    ],
)
def test_a_nul_anywhere_in_the_query_is_a_400(lighting, path):
    """Fuzzing found `jurisdiction_id` with a NUL a 500 on PostgreSQL, which cannot hold one (issue 15)."""
    response = Client().get(path)

    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": "parameters may not contain NUL characters"}]
