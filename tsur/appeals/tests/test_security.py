"""Defects an attack found (issue 15): personal data for roles without the right to it, bodies that
broke the JSON parser, a photo whose file is gone."""

import io

import pytest
from django.core.cache import cache
from PIL import Image
from rest_framework.test import APIClient

from tsur.appeals.choices import Status
from tsur.appeals.models import Appeal, AppealPhoto
from tsur.appeals.tests.factories import AppealFactory, RuleFactory, TicketFactory, TopicFactory
from tsur.core.choices import OrganisationKind, Role
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory, user_with_role
from tsur.dispatch import reference
from tsur.dispatch.models import Device, EngineeringObject

pytestmark = pytest.mark.django_db
URL = "/api/v1/appeals/"
# Values planted in the fixture and looked for in whole response bodies.
NAME, SURNAME = "Аполлинария", "Зябликова"
PHONE = "+79995175170"
EMAIL = "zyablikova517@example.org"
FLAT = "кв. 517"
ADDRESS = f"ул. Ленина, д. 5, {FLAT}"
# the flat as written: a bare «517» turns up by chance in timestamps and ids
PLANTED = (NAME, SURNAME, PHONE, EMAIL, FLAT)
WITHOUT_THE_RIGHT = (Role.ANALYST, Role.LEADERSHIP, Role.DISPATCHER)


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def assert_absent(response, values=PLANTED):
    body = response.content.decode()
    assert [value for value in values if value in body] == []


# ---------------------------------------------------------------- personal data (defect 3)


@pytest.fixture
def citizens_appeal():
    """An appeal a citizen filed about their flat in a known house (their username is their phone),
    worked by an operator without a name in their account."""
    topic = TopicFactory()
    organisation = OrganisationFactory()
    RuleFactory(topic=topic, organisation=organisation)
    citizen = user_with_role(Role.CITIZEN, username=PHONE, first_name=NAME, last_name=SURNAME, email=EMAIL)
    house = BuildingFactory(address="ул. Ленина, д. 5")
    response = client_for(citizen).post(
        URL,
        {
            "personal_data_consent": True,
            "text": "Протекает потолок",
            "topic": topic.code,
            "address": ADDRESS,
            "building": house.pk,
            "author_name": f"{SURNAME} {NAME}",
            "author_phone": PHONE,
            "author_email": EMAIL,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    number = response.json()["number"]
    client_for(citizen).post(
        f"{URL}{number}/comment/", {"personal_data_consent": True, "text": "Течёт сильнее"}, format="json"
    )
    operator = user_with_role(Role.OPERATOR, username="operator-517")
    client_for(operator).post(
        f"{URL}{number}/comment/", {"personal_data_consent": True, "text": "Передано в УК"}, format="json"
    )
    return Appeal.objects.get(number=number), citizen, operator


@pytest.mark.parametrize("role", WITHOUT_THE_RIGHT)
def test_the_timeline_names_neither_the_citizen_nor_anyone_by_username(citizens_appeal, role):
    appeal, _, _ = citizens_appeal
    reader = client_for(user_with_role(role))

    response = reader.get(f"{URL}{appeal.number}/timeline/")

    assert response.status_code == 200
    assert_absent(response, (*PLANTED, "operator-517"))
    actors = [event["actor"] for event in response.json()]
    # registered by the citizen, routed by the platform, commented by the citizen and by the operator
    assert actors == ["Заявитель", None, "Заявитель", "Оператор ЦУР"]


def test_the_timeline_names_staff_by_their_full_name():
    appeal = AppealFactory(status=Status.ASSIGNED)
    operator = user_with_role(Role.OPERATOR, first_name="Пётр", last_name="Сидоров")
    client_for(operator).post(
        f"{URL}{appeal.number}/comment/", {"personal_data_consent": True, "text": "Принято"}, format="json"
    )

    events = client_for(user_with_role(Role.ANALYST)).get(f"{URL}{appeal.number}/timeline/").json()

    assert [event["actor"] for event in events] == ["Пётр Сидоров"]


@pytest.mark.parametrize("role", WITHOUT_THE_RIGHT)
def test_the_search_does_not_confirm_a_flat_to_those_without_the_right(citizens_appeal, role):
    appeal, _, _ = citizens_appeal
    reader = client_for(user_with_role(role))

    for query in ("517", FLAT, ADDRESS):
        response = reader.get(URL, {"q": query})
        assert (response.status_code, response.json()["count"]) == (200, 0), query
    # the house and the text are still found
    for query in ("Ленина, д. 5", "потолок", appeal.number):
        found = reader.get(URL, {"q": query})
        assert [a["number"] for a in found.json()["results"]] == [appeal.number], query
        assert_absent(found)


def test_the_search_finds_the_flat_for_those_who_work_with_the_citizen(citizens_appeal):
    appeal, citizen, operator = citizens_appeal
    for user in (operator, citizen):
        found = client_for(user).get(URL, {"q": "кв. 517"}).json()["results"]
        assert [a["number"] for a in found] == [appeal.number]


def test_the_search_by_address_for_a_user_with_the_right_in_one_organisation_only():
    mine, other = OrganisationFactory(), OrganisationFactory()
    own = AppealFactory(organisation=mine, status=Status.ASSIGNED, address=ADDRESS)
    AppealFactory(organisation=other, status=Status.ASSIGNED, address=ADDRESS)
    executor_and_analyst = user_with_role(Role.EXECUTOR, organisation=mine)
    executor_and_analyst.assignments.create(role=Role.ANALYST)  # and analyses the whole region

    found = client_for(executor_and_analyst).get(URL, {"q": "517"}).json()["results"]

    assert [a["number"] for a in found] == [own.number]


@pytest.fixture
def company():
    return OrganisationFactory(kind=OrganisationKind.MANAGEMENT_COMPANY)


@pytest.mark.parametrize("role", WITHOUT_THE_RIGHT)
def test_the_complaint_book_shows_the_house_not_the_flat_without_the_right(company, role):
    TicketFactory(
        organisation=company,
        address=ADDRESS,
        citizen_name=f"{SURNAME} {NAME}",
        citizen_phone=PHONE,
    )
    reader = client_for(user_with_role(role))

    response = reader.get("/api/v1/complaint-tickets/")

    assert response.status_code == 200
    assert response.json()["results"][0]["address"] == "ул. Ленина, д. 5"
    assert_absent(response)


def test_the_complaint_book_shows_the_flat_to_the_company(company):
    TicketFactory(organisation=company, address=ADDRESS, citizen_phone=PHONE)
    staff = client_for(user_with_role(Role.EXECUTOR, organisation=company))

    ticket = staff.get("/api/v1/complaint-tickets/").json()["results"][0]

    assert (ticket["address"], ticket["citizen_phone"]) == (ADDRESS, PHONE)


# ---------------------------------------------------------------- malformed bodies (defect 4)

DEEP = 1100
MALFORMED = {
    "nested arrays": "[" * DEEP + "]" * DEEP,
    "nested objects": '{"a":' * DEEP + "1" + "}" * DEEP,
    "nested inside a field": '{"text": ' + "[" * DEEP + "]" * DEEP + "}",
    "nested and cut off": "[" * DEEP,
    "not UTF-8": b'{"text": "\xff\xfe"}',
    "cut off": '{"text": "Яма",',
    "NaN": '{"text": "Яма", "lat": NaN, "lon": 30}',
}


def _body(value):
    return value if isinstance(value, bytes) else value.encode()


@pytest.fixture
def working_appeal():
    organisation = OrganisationFactory()
    appeal = AppealFactory(organisation=organisation, status=Status.ASSIGNED)
    return appeal, client_for(user_with_role(Role.EXECUTOR, organisation=organisation))


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_json_is_a_clear_400_anonymously(kind):
    anonymous = APIClient()
    for url in (URL, f"{URL}nearby/", "/api/v1/auth/token/"):
        response = anonymous.post(url, data=_body(MALFORMED[kind]), content_type="application/json")
        assert response.status_code == 400, (url, response.content[:200])
        assert response.json()["detail"].startswith("Тело запроса"), response.json()
    assert Appeal.objects.count() == 0


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_json_is_a_clear_400_on_lifecycle_steps(working_appeal, kind):
    appeal, executor = working_appeal
    for step in ("answer", "redirect", "request-clarification", "interim-answer"):
        response = executor.post(
            f"{URL}{appeal.number}/{step}/", data=_body(MALFORMED[kind]), content_type="application/json"
        )
        assert response.status_code == 400, (step, response.content[:200])
        assert response.json()["detail"].startswith("Тело запроса")
    appeal.refresh_from_db()
    assert appeal.status == Status.ASSIGNED


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_json_is_a_clear_400_on_the_complaint_book(company, kind):
    staff = client_for(user_with_role(Role.EXECUTOR, organisation=company))
    response = staff.post(
        "/api/v1/complaint-tickets/", data=_body(MALFORMED[kind]), content_type="application/json"
    )
    assert response.status_code == 400, response.content[:200]


def test_the_api_parses_json_with_the_projects_parser_everywhere():
    """A view that names its own parsers would bring the recursion back: none may name DRF's."""
    from django.urls import get_resolver
    from rest_framework.parsers import JSONParser

    from tsur.core.api.parsers import JSONParser as ProjectJSONParser

    def views(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from views(pattern.url_patterns)
            else:
                yield pattern.callback

    checked = 0
    for callback in views(get_resolver().url_patterns):
        cls = getattr(callback, "cls", None)
        if cls is None:
            continue
        actions = getattr(callback, "actions", None) or {}
        handlers = [getattr(cls, name, None) for name in actions.values()]
        for parsers in [cls.parser_classes] + [
            getattr(h, "kwargs", {}).get("parser_classes") for h in handlers
        ]:
            for parser in parsers or ():
                drf_own = issubclass(parser, JSONParser) and not issubclass(parser, ProjectJSONParser)
                assert not drf_own, cls
        checked += 1
    assert checked > 10


def test_deeply_nested_telemetry_is_a_400():
    reference.ensure()
    plant = EngineeringObject.objects.create(
        code="k1", name="Котельная", kind="boiler_house", owner=OrganisationFactory()
    )
    _, token = Device.issue("plc-1", plant)
    body = '{"readings": ' + "[" * DEEP + "]" * DEEP + "}"
    response = APIClient().post(
        "/api/v1/telemetry/", data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Device {token}"
    )
    assert response.status_code == 400


def test_json_up_to_the_depth_limit_is_parsed_and_beyond_it_refused():
    from rest_framework.exceptions import ParseError

    from tsur.core.api.parsers import MAX_DEPTH, JSONParser

    def nested(depth):  # `depth` containers, one inside the other, with brackets in strings
        return '{"a": "[[{{", "b": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"

    assert JSONParser().parse(io.BytesIO(nested(MAX_DEPTH).encode())) is not None
    with pytest.raises(ParseError):
        JSONParser().parse(io.BytesIO(nested(MAX_DEPTH + 1).encode()))


# ---------------------------------------------------------------- a photo without its file (defect 5)


def test_a_photo_whose_file_is_missing_is_a_404():
    organisation = OrganisationFactory()
    appeal = AppealFactory(organisation=organisation, status=Status.IN_WORK)
    executor = client_for(user_with_role(Role.EXECUTOR, organisation=organisation))
    upload = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(upload, "PNG")
    upload.seek(0)
    upload.name = "photo.png"
    assert (
        executor.post(f"{URL}{appeal.number}/photos/", {"photo": upload}, format="multipart").status_code
        == 200
    )
    photo = AppealPhoto.objects.get()
    photo.image.storage.delete(photo.image.name)  # lost from storage (a restore without media, a disk)

    response = executor.get(f"{URL}{appeal.number}/photos/{photo.pk}/")

    assert response.status_code == 404
    assert AppealPhoto.objects.filter(pk=photo.pk).exists()  # the record is kept for an operator to see


def test_a_photo_record_without_a_file_name_is_a_404():
    organisation = OrganisationFactory()
    appeal = AppealFactory(organisation=organisation, status=Status.IN_WORK)
    photo = AppealPhoto.objects.create(
        appeal=appeal,
        image="",
        content_type="image/png",
        size=0,
        width=1,
        height=1,
        uploaded_at=appeal.registered_at,
    )
    executor = client_for(user_with_role(Role.EXECUTOR, organisation=organisation))

    assert executor.get(f"{URL}{appeal.number}/photos/{photo.pk}/").status_code == 404
