"""The REST API: intake (anonymous and systems), scoping, lifecycle endpoints, bad input."""

import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from tsur.appeals.choices import Channel, EventKind, Status
from tsur.appeals.models import Appeal, AppealEvent, AppealPhoto
from tsur.appeals.tests.factories import AppealFactory, RuleFactory, TopicFactory
from tsur.core.choices import Role
from tsur.core.tests.factories import (
    BuildingFactory,
    OrganisationFactory,
    TerritoryFactory,
    UserFactory,
    user_with_role,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/appeals/"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


@pytest.fixture
def anonymous():
    return APIClient()


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def png(size=(8, 8), fmt="PNG") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buffer, fmt)
    buffer.seek(0)
    buffer.name = f"photo.{fmt.lower()}"
    return buffer


@pytest.fixture
def routed_topic():
    topic = TopicFactory()
    organisation = OrganisationFactory()
    RuleFactory(topic=topic, organisation=organisation)
    return topic, organisation


# ---------------------------------------------------------------- intake


def test_anonymous_citizen_files_an_appeal_and_it_routes_itself(anonymous, routed_topic):
    topic, organisation = routed_topic
    response = anonymous.post(
        URL,
        {
            "personal_data_consent": True,
            "text": "Яма на дороге у дома 5",
            "topic": topic.code,
            "author_email": "ivan@example.org",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    appeal = Appeal.objects.get(number=body["number"])
    assert (body["status"], body["organisation"]["id"]) == (Status.ASSIGNED, organisation.pk)
    assert body["author"] is None  # the anonymous filer is not entitled to read contacts back
    assert appeal.author_email == "ivan@example.org"
    assert list(appeal.events.values_list("kind", flat=True)) == [EventKind.REGISTERED, EventKind.ASSIGNED]


def test_without_topic_the_appeal_waits_in_moderation(anonymous):
    response = anonymous.post(
        URL, {"personal_data_consent": True, "text": "Что-то непонятное"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["status"] == Status.MODERATION


def test_same_submission_twice_yields_the_same_appeal(routed_topic):
    topic, _ = routed_topic
    system = client_for(user_with_role(Role.OPERATOR))
    payload = {"channel": "agency", "external_id": "MED-77", "text": "Нет воды", "topic": topic.code}
    first = system.post(URL, payload, format="json")
    second = system.post(URL, {**payload, "text": "Другой текст"}, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["number"] == second.json()["number"]
    assert Appeal.objects.count() == 1
    assert Appeal.objects.get().text == "Нет воды"


def test_channel_ids_are_per_submitter(routed_topic):
    topic, _ = routed_topic
    payload = {"channel": "agency", "external_id": "1", "text": "Нет воды", "topic": topic.code}
    first = client_for(user_with_role(Role.OPERATOR)).post(URL, payload, format="json")
    second = client_for(user_with_role(Role.OPERATOR)).post(URL, payload, format="json")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["number"] != second.json()["number"]


def test_anonymous_cannot_reach_another_appeal_by_guessing_its_id(anonymous):
    original = anonymous.post(
        URL, {"personal_data_consent": True, "text": "Яма у подъезда 3", "external_id": "42"}, format="json"
    )
    retry = anonymous.post(
        URL, {"personal_data_consent": True, "text": "Яма у подъезда 3", "external_id": "42"}, format="json"
    )
    guess = anonymous.post(
        URL,
        {"personal_data_consent": True, "text": "Покажите чужое обращение", "external_id": "42"},
        format="json",
    )
    assert (original.status_code, retry.status_code, guess.status_code) == (201, 200, 201)
    assert retry.json()["number"] == original.json()["number"]
    assert guess.json()["number"] != original.json()["number"]
    assert guess.json()["text"] == "Покажите чужое обращение"


def test_an_anonymous_retry_learns_nothing_new_and_a_different_sender_is_not_swallowed(anonymous):
    payload = {
        "personal_data_consent": True,
        "text": "Не горит фонарь",
        "external_id": "7",
        "author_email": "alice@example.org",
    }
    first = anonymous.post(URL, payload, format="json")
    retry = anonymous.post(URL, payload, format="json")
    other = anonymous.post(URL, {**payload, "author_email": "bob@example.org"}, format="json")
    assert (first.status_code, retry.status_code, other.status_code) == (201, 200, 201)
    assert retry.json() == {
        "number": first.json()["number"],
        "status": "moderation",
        "status_display": "На модерации",
    }
    assert sorted(Appeal.objects.values_list("author_email", flat=True)) == [
        "alice@example.org",
        "bob@example.org",
    ]


def test_forwarded_for_header_does_not_escape_the_rate_limit(anonymous, settings):
    from rest_framework.throttling import SimpleRateThrottle

    old = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**old, "public_intake": "2/min"}
    try:
        codes = [
            anonymous.post(
                URL,
                {"personal_data_consent": True, "text": f"Мусор {i}"},
                format="json",
                HTTP_X_FORWARDED_FOR=f"10.0.0.{i}",
            ).status_code
            for i in range(4)
        ]
    finally:
        SimpleRateThrottle.THROTTLE_RATES = old
    assert codes == [201, 201, 429, 429]


def test_token_endpoint_limits_password_guessing(anonymous):
    from rest_framework.throttling import SimpleRateThrottle

    old = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**old, "login": "3/min"}
    try:
        codes = [
            anonymous.post("/api/v1/auth/token/", {"username": "admin", "password": f"guess{i}"}).status_code
            for i in range(5)
        ]
    finally:
        SimpleRateThrottle.THROTTLE_RATES = old
    assert codes == [400, 400, 400, 429, 429]


def test_an_account_without_a_role_is_neither_a_system_nor_the_author(routed_topic):
    topic, _ = routed_topic
    nobody = client_for(user_with_role(Role.CITIZEN))
    nobody.force_authenticate(UserFactory())
    response = nobody.post(
        URL, {"personal_data_consent": True, "text": "Нет воды", "channel": "agency"}, format="json"
    )
    assert response.status_code == 400
    response = nobody.post(
        URL, {"personal_data_consent": True, "text": "Нет воды", "topic": topic.code}, format="json"
    )
    assert response.status_code == 201
    assert Appeal.objects.get().author is None


def test_a_system_files_on_its_channel_and_sees_only_what_it_filed(routed_topic):
    topic, _ = routed_topic
    AppealFactory()  # somebody else's
    system = client_for(user_with_role(Role.SYSTEM))
    response = system.post(
        URL,
        {
            "text": "Нет воды",
            "channel": "agency",
            "external_id": "A-1",
            "topic": topic.code,
            "author_phone": "+79990001122",
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["author"] is None  # a system is not entitled to the citizen's contacts
    assert [a["number"] for a in system.get(URL).json()["results"]] == [response.json()["number"]]


def test_anonymous_may_not_pose_as_an_agency(anonymous):
    response = anonymous.post(
        URL, {"personal_data_consent": True, "text": "Нет воды", "channel": "agency"}, format="json"
    )
    assert response.status_code == 400
    assert "channel" in response.json()
    assert Appeal.objects.count() == 0


def test_public_intake_is_rate_limited(anonymous, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"public_intake": "3/min", "public_lookup": "60/min"},
    }
    from rest_framework.throttling import SimpleRateThrottle

    old = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    try:
        codes = [
            anonymous.post(
                URL, {"personal_data_consent": True, "text": f"Мусор {i}"}, format="json"
            ).status_code
            for i in range(5)
        ]
    finally:
        SimpleRateThrottle.THROTTLE_RATES = old
    assert codes == [201, 201, 201, 429, 429]
    assert Appeal.objects.count() == 3


BAD_PAYLOADS = {
    "text missing": {},
    "text wrong type": {"text": ["список"]},
    "text too long": {"text": "а" * 4001},
    "html in text": {"text": "Смотрите <script>alert('x')</script>"},
    "html img in text": {"text": "<img src=x onerror=alert(1)>"},
    "unknown topic": {"text": "Яма", "topic": "no-such-topic"},
    "unknown territory": {"text": "Яма", "territory": 999999},
    "territory wrong type": {"text": "Яма", "territory": "центр"},
    "unknown building": {"text": "Яма", "building": 999999},
    "latitude wrong type": {"text": "Яма", "latitude": "север", "longitude": 30.1},
    "latitude out of range": {"text": "Яма", "latitude": 91, "longitude": 30.1},
    "only one coordinate": {"text": "Яма", "latitude": 59.9},
    "bad e-mail": {"text": "Яма", "author_email": "not-an-email"},
    "bad phone": {"text": "Яма", "author_phone": "<b>1</b>"},
    "html in address": {"text": "Яма", "address": "<a href=x>дом</a>"},
    "unknown channel": {"text": "Яма", "channel": "telegraph"},
}


@pytest.mark.parametrize("payload", BAD_PAYLOADS.values(), ids=BAD_PAYLOADS.keys())
def test_bad_input_is_refused_and_changes_nothing(anonymous, payload):
    response = anonymous.post(URL, payload, format="json")
    assert response.status_code == 400, response.content
    assert Appeal.objects.count() == 0
    assert AppealEvent.objects.count() == 0


def test_malformed_json_is_a_400(anonymous):
    response = anonymous.post(
        URL, data='{"personal_data_consent": True, "text": "Яма",', content_type="application/json"
    )
    assert response.status_code == 400
    assert Appeal.objects.count() == 0


def test_json_that_is_not_an_object_is_a_400(anonymous):
    response = anonymous.post(URL, data='["text"]', content_type="application/json")
    assert response.status_code == 400
    assert Appeal.objects.count() == 0


def test_photo_is_stored_with_its_type(anonymous):
    response = anonymous.post(
        URL,
        {"personal_data_consent": True, "text": "Граффити на фасаде", "photos": [png()]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    photo = AppealPhoto.objects.get()
    assert (photo.content_type, photo.width, photo.height) == ("image/png", 8, 8)
    number = response.json()["number"]
    assert response.json()["photos"] == [f"http://testserver/api/v1/appeals/{number}/photos/{photo.pk}/"]


def test_photos_are_served_only_to_those_who_see_the_appeal_and_without_their_metadata(anonymous):
    original = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (59.0, 56.0, 0.0)}  # GPS latitude
    Image.new("RGB", (16, 16), (10, 200, 10)).save(original, "JPEG", exif=exif)
    original.seek(0)
    original.name = "street.jpg"
    assert b"PhoneMaker" in original.getvalue()
    number = anonymous.post(
        URL, {"personal_data_consent": True, "text": "Яма", "photos": [original]}, format="multipart"
    ).json()["number"]
    url = f"{URL}{number}/photos/{AppealPhoto.objects.get().pk}/"

    assert anonymous.get(url).status_code == 401
    outsider = client_for(user_with_role(Role.EXECUTOR, organisation=OrganisationFactory()))
    assert outsider.get(url).status_code == 404
    operator = client_for(user_with_role(Role.OPERATOR))
    response = operator.get(url)
    assert (response.status_code, response["Content-Type"]) == (200, "image/jpeg")
    served = b"".join(response.streaming_content)
    assert b"PhoneMaker" not in served
    with Image.open(io.BytesIO(served)) as image:
        assert (image.size, dict(image.getexif())) == ((16, 16), {})
    assert number not in AppealPhoto.objects.get().image.name  # stored under a random name


@pytest.mark.parametrize("kind", ["not an image", "oversized", "gif"])
def test_bad_photos_are_refused_and_nothing_is_registered(anonymous, settings, kind):
    settings.TSUR = {**settings.TSUR, "PHOTO_MAX_BYTES": 1000}
    if kind == "not an image":
        upload = io.BytesIO(b"%PDF-1.4 this is not a picture")
        upload.name = "photo.jpg"
    elif kind == "oversized":
        upload = png(size=(400, 400), fmt="BMP")
        upload.name = "big.png"
    else:
        upload = png(fmt="GIF")
    response = anonymous.post(
        URL, {"personal_data_consent": True, "text": "Граффити", "photos": [upload]}, format="multipart"
    )
    assert response.status_code == 400, response.content
    assert response.json()["field"] == "photos"
    assert (Appeal.objects.count(), AppealPhoto.objects.count()) == (0, 0)


# ---------------------------------------------------------------- scope


@pytest.fixture
def two_orgs():
    mine, other = OrganisationFactory(), OrganisationFactory()
    return (
        mine,
        other,
        AppealFactory(organisation=mine, status=Status.ASSIGNED),
        AppealFactory(organisation=other, status=Status.ASSIGNED),
    )


def test_executor_sees_only_their_organisation(two_orgs):
    mine, other, my_appeal, other_appeal = two_orgs
    executor = client_for(user_with_role(Role.EXECUTOR, organisation=mine))
    listed = [a["number"] for a in executor.get(URL).json()["results"]]
    assert listed == [my_appeal.number]
    assert executor.get(f"{URL}{other_appeal.number}/").status_code == 404
    assert executor.get(f"{URL}{other_appeal.number}/timeline/").status_code == 404


def test_step_on_someone_elses_appeal_is_404_and_changes_nothing(two_orgs):
    mine, other, _, other_appeal = two_orgs
    executor = client_for(user_with_role(Role.EXECUTOR, organisation=mine))
    response = executor.post(f"{URL}{other_appeal.number}/take/", {}, format="json")
    assert response.status_code == 404
    other_appeal.refresh_from_db()
    assert other_appeal.status == Status.ASSIGNED
    assert other_appeal.events.count() == 0


def test_subordinate_organisations_are_in_the_supervisors_scope():
    parent = OrganisationFactory()
    child = OrganisationFactory(parent=parent)
    appeal = AppealFactory(organisation=child)
    supervisor = client_for(user_with_role(Role.SUPERVISOR, organisation=parent))
    assert supervisor.get(f"{URL}{appeal.number}/").status_code == 200


def test_territory_scope_covers_what_lies_inside():
    district = TerritoryFactory()
    okrug = TerritoryFactory(parent=district)
    inside, outside = AppealFactory(territory=okrug), AppealFactory(territory=TerritoryFactory())
    head = client_for(user_with_role(Role.LEADERSHIP, territory=district))
    assert [a["number"] for a in head.get(URL).json()["results"]] == [inside.number]
    assert head.get(f"{URL}{outside.number}/").status_code == 404


def test_visible_but_not_allowed_is_403_and_changes_nothing(two_orgs):
    _, _, appeal, _ = two_orgs
    analyst = client_for(user_with_role(Role.ANALYST))
    assert analyst.get(f"{URL}{appeal.number}/").status_code == 200
    response = analyst.post(f"{URL}{appeal.number}/reject/", {"reason": "спам"}, format="json")
    assert response.status_code == 403
    appeal.refresh_from_db()
    assert appeal.status == Status.ASSIGNED


def test_personal_data_only_for_those_who_work_with_the_citizen(two_orgs):
    mine, _, appeal, _ = two_orgs
    appeal.author_name, appeal.author_phone = "Иванов И. И.", "+79990001122"
    appeal.address = "ул. Ленина, д. 5, кв. 12"
    appeal.save()
    executor = client_for(user_with_role(Role.EXECUTOR, organisation=mine))
    analyst = client_for(user_with_role(Role.ANALYST))
    seen = executor.get(f"{URL}{appeal.number}/").json()
    assert (seen["author"]["phone"], seen["address"]) == ("+79990001122", "ул. Ленина, д. 5, кв. 12")
    seen = analyst.get(f"{URL}{appeal.number}/").json()
    assert (seen["author"], seen["address"]) == (None, "ул. Ленина, д. 5")  # the house, not the flat
    listed = {a["number"]: a for a in analyst.get(URL).json()["results"]}
    assert all(a["author"] is None for a in listed.values())
    assert listed[appeal.number]["address"] == "ул. Ленина, д. 5"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("ул. Ленина, д. 5, кв. 12", "ул. Ленина, д. 5"),
        ("ул. Ленина 5 кв.12", "ул. Ленина 5"),
        ("Невский пр., 1, Квартира 3", "Невский пр., 1"),
        ("пр. Мира, 7, комн. 4", "пр. Мира, 7"),
        ("ул. Садовая, 2, пом. 12-Н", "ул. Садовая, 2"),
        ("ул. Садовая, 2, офис 301", "ул. Садовая, 2"),
        ("ул. Ленина, 5, кв 7а", "ул. Ленина, 5"),
        ("ул. Ленина, 5, кв12", "ул. Ленина, 5"),
        ("ул. Ленина, 5, квартира12", "ул. Ленина, 5"),
        ("ул. Ленина, 5, кв.№12", "ул. Ленина, 5"),
        ("ул. Ленина, 5, кв-ра 12", "ул. Ленина, 5"),
        ("ул. Ленина, 5, кварт. 12", "ул. Ленина, 5"),
        ("ул. Ленина, 5, помещ. 3-Н", "ул. Ленина, 5"),
        ("ул. Ленина, 5, пом. Н-3", "ул. Ленина, 5"),
        ("ул. Ленина, 5, пом. IV", "ул. Ленина, 5"),
        ("ул. Ленина, 5, ап. 12", "ул. Ленина, 5"),
        ("ул. Ленина, 5, каб. 12", "ул. Ленина, 5"),
        ("Тольятти, кв. 5, ул. Ленина, 12", "Тольятти, кв. 5, ул. Ленина, 12"),  # a quarter: before the house
        # words that begin like those parts, and a building's corpus, stay
        ("ул. Комсомола, 5", "ул. Комсомола, 5"),
        ("Офицерский пер., 3", "Офицерский пер., 3"),
        ("ул. Помяловского, 4, к. 2", "ул. Помяловского, 4, к. 2"),
        ("12-й квартал, д. 3", "12-й квартал, д. 3"),
    ],
)
def test_public_address_drops_the_flat_and_keeps_the_house(address, public):
    from tsur.appeals.policies import public_address

    assert public_address(address) == public


def test_anonymous_cannot_list_or_read(two_orgs, anonymous):
    _, _, appeal, _ = two_orgs
    assert anonymous.get(URL).status_code == 401
    assert anonymous.get(f"{URL}{appeal.number}/").status_code == 401


def test_public_status_shows_no_text_and_no_person(two_orgs, anonymous):
    _, _, appeal, _ = two_orgs
    appeal.author_name = "Иванов"
    appeal.save()
    body = anonymous.get(f"{URL}{appeal.number}/status/").json()
    assert set(body) == {
        "number",
        "status",
        "status_display",
        "topic",
        "registered_at",
        "resolution_due",
        "events",
    }
    assert anonymous.get(f"{URL}99-9999999/status/").status_code == 404


# ---------------------------------------------------------------- lifecycle over the API


def test_full_cycle_through_the_api(routed_topic):
    topic, organisation = routed_topic
    citizen_user = user_with_role(Role.CITIZEN)
    citizen = client_for(citizen_user)
    executor = client_for(user_with_role(Role.EXECUTOR, organisation=organisation))
    number = citizen.post(
        URL, {"personal_data_consent": True, "text": "Не горит фонарь", "topic": topic.code}, format="json"
    ).json()["number"]
    assert Appeal.objects.get(number=number).author == citizen_user

    def step(client, name, payload=None):
        response = client.post(f"{URL}{number}/{name}/", payload or {}, format="json")
        assert response.status_code == 200, (name, response.content)
        return response.json()

    step(executor, "take")
    assert (
        step(executor, "request-clarification", {"question": "Какой подъезд?"})["status"]
        == Status.CLARIFICATION
    )
    assert step(citizen, "citizen-reply", {"text": "Третий"})["status"] == Status.IN_WORK
    planned = (timezone.now() + timedelta(days=3)).isoformat()
    assert (
        step(executor, "interim-answer", {"text": "Заказана лампа", "planned_at": planned})["status"]
        == "interim"
    )
    assert step(executor, "answer", {"text": "Лампа заменена"})["status"] == Status.ANSWERED
    assert step(citizen, "reopen", {"reason": "Опять не горит"})["reopen_count"] == 1
    step(executor, "answer", {"text": "Заменён светильник"})
    assert step(citizen, "close", {})["status"] == Status.CLOSED

    timeline = citizen.get(f"{URL}{number}/timeline/").json()
    assert [e["kind"] for e in timeline] == [
        "registered",
        "assigned",
        "taken",
        "clarification_requested",
        "citizen_replied",
        "interim_answer",
        "answered",
        "reopened",
        "answered",
        "closed",
    ]


def test_citizen_cannot_act_for_the_executor(routed_topic):
    topic, _ = routed_topic
    citizen = client_for(user_with_role(Role.CITIZEN))
    number = citizen.post(
        URL, {"personal_data_consent": True, "text": "Не горит фонарь", "topic": topic.code}, format="json"
    ).json()["number"]
    assert (
        citizen.post(
            f"{URL}{number}/answer/", {"personal_data_consent": True, "text": "Сам починил"}, format="json"
        ).status_code
        == 403
    )
    assert Appeal.objects.get(number=number).status == Status.ASSIGNED


def test_illegal_transition_is_a_409_with_a_message():
    organisation = OrganisationFactory()
    appeal = AppealFactory(organisation=organisation, status=Status.ASSIGNED)
    executor = client_for(user_with_role(Role.EXECUTOR, organisation=organisation))
    response = executor.post(
        f"{URL}{appeal.number}/answer/", {"personal_data_consent": True, "text": "Готово"}, format="json"
    )
    assert response.status_code == 409
    assert "Назначено исполнителю" in response.json()["detail"]
    appeal.refresh_from_db()
    assert appeal.status == Status.ASSIGNED


STEP_BAD_INPUT = [
    ("assign", {"organisation": 999999}),
    ("assign", {"organisation": "абв"}),
    ("assign", {"topic": "no-such"}),
    ("reject", {}),
    ("reject", {"reason": "<b>спам</b>"}),
    ("merge", {"into": "99-0000000"}),
    ("extend", {"until": "завтра", "reason": "подрядчик"}),
]


@pytest.mark.parametrize(
    ("name", "payload"), STEP_BAD_INPUT, ids=[f"{n}-{i}" for i, (n, _) in enumerate(STEP_BAD_INPUT)]
)
def test_bad_input_on_steps_is_a_400_and_changes_nothing(name, payload):
    appeal = AppealFactory(
        status=Status.MODERATION if name in ("assign", "reject", "merge") else Status.IN_WORK,
        resolution_due=timezone.now() + timedelta(days=5),
    )
    operator = client_for(user_with_role(Role.OPERATOR))
    response = operator.post(f"{URL}{appeal.number}/{name}/", payload, format="json")
    assert response.status_code == 400, response.content
    before = appeal.status
    appeal.refresh_from_db()
    assert (appeal.status, appeal.events.count()) == (before, 0)


def test_merge_into_an_appeal_outside_scope_is_refused():
    organisation = OrganisationFactory()
    appeal = AppealFactory(organisation=organisation, status=Status.IN_WORK)
    hidden = AppealFactory(status=Status.IN_WORK)
    operator = client_for(user_with_role(Role.OPERATOR, organisation=organisation))
    response = operator.post(f"{URL}{appeal.number}/merge/", {"into": hidden.number}, format="json")
    assert response.status_code == 400
    appeal.refresh_from_db()
    assert appeal.status == Status.IN_WORK


def test_photo_endpoint_checks_files():
    organisation = OrganisationFactory()
    appeal = AppealFactory(organisation=organisation, status=Status.IN_WORK)
    executor = client_for(user_with_role(Role.EXECUTOR, organisation=organisation))
    bad = io.BytesIO(b"GIF89a not really")
    bad.name = "x.png"
    assert (
        executor.post(f"{URL}{appeal.number}/photos/", {"photo": bad}, format="multipart").status_code == 400
    )
    ok = executor.post(f"{URL}{appeal.number}/photos/", {"photo": png(fmt="JPEG")}, format="multipart")
    assert ok.status_code == 200
    assert AppealPhoto.objects.get().content_type == "image/jpeg"


# ---------------------------------------------------------------- filters, reference data, guards


def test_filters_and_search():
    operator = client_for(user_with_role(Role.OPERATOR))
    topic = TopicFactory()
    hit = AppealFactory(topic=topic, status=Status.IN_WORK, text="Открыт люк колодца")
    AppealFactory(status=Status.CLOSED, text="Мусор")
    assert [a["number"] for a in operator.get(URL, {"status": "in_work"}).json()["results"]] == [hit.number]
    assert [a["number"] for a in operator.get(URL, {"q": "люк"}).json()["results"]] == [hit.number]
    assert [a["number"] for a in operator.get(URL, {"topic": topic.code}).json()["results"]] == [hit.number]
    assert operator.get(URL, {"status": "nonsense"}).status_code == 400


def test_list_query_count_does_not_grow_with_rows(django_assert_max_num_queries):
    operator = client_for(user_with_role(Role.OPERATOR))
    AppealFactory.create_batch(30, territory=TerritoryFactory(), building=BuildingFactory())
    with django_assert_max_num_queries(6):
        response = operator.get(URL)
    assert response.json()["count"] == 30


def test_reference_data_is_public(anonymous):
    TopicFactory(name="Открытый люк")
    assert anonymous.get("/api/v1/topics/").json()["results"][0]["name"] == "Открытый люк"
    assert anonymous.get("/api/v1/territories/").status_code == 200
    assert anonymous.get("/api/v1/organisations/").status_code == 200
    assert anonymous.get("/api/v1/routing-rules/").status_code == 401


def test_openapi_schema_builds_without_warnings():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_no_missing_migrations():
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_interactive_docs_are_served_without_a_cdn(anonymous):
    page = anonymous.get("/api/docs/").content.decode()
    assert "swagger-ui" in page
    assert "cdn" not in page.lower()


ODD_VALUES = ["a\x00b", "\x00", 10**30, -1, {"x": 1}, ["a"], None, "x" * 100_000]


@pytest.mark.parametrize("value", ODD_VALUES, ids=[repr(v)[:20] for v in ODD_VALUES])
def test_odd_values_in_references_are_400_never_500(anonymous, value):
    assert anonymous.post(
        URL, {"personal_data_consent": True, "text": "Яма", "topic": value}, format="json"
    ).status_code in (201, 400)
    assert anonymous.post(
        URL, {"personal_data_consent": True, "text": "Яма", "territory": value}, format="json"
    ).status_code in (201, 400)
    operator = client_for(user_with_role(Role.OPERATOR))
    appeal = AppealFactory(status=Status.MODERATION)
    for name, field in [("assign", "topic"), ("assign", "organisation"), ("merge", "into")]:
        response = operator.post(f"{URL}{appeal.number}/{name}/", {field: value}, format="json")
        assert response.status_code in (200, 400, 409), (name, field, response.status_code)


@pytest.mark.parametrize(
    "query",
    [
        {"organisation": "99999999999999999999999"},
        {"territory": "-5"},
        {"organisation": "1e5"},
        {"registered_after": "вчера"},
    ],
)
def test_odd_filters_are_400(query):
    operator = client_for(user_with_role(Role.OPERATOR))
    assert operator.get(URL, query).status_code == 400


def test_odd_codes_in_urls_are_404(anonymous):
    assert anonymous.get("/api/v1/topics/a%00b/").status_code == 404
    assert anonymous.get("/api/v1/blocks/a%00b/").status_code == 404
    assert anonymous.get("/api/v1/territories/?parent=99999999999999999999999").status_code == 400


def test_hand_written_answer_matches_the_declared_fields():
    """The appeal's answer is written by hand for speed; it must be exactly what the declared fields
    (and the OpenAPI schema built from them) say, for a bare appeal and a full one, seen by those
    entitled to the author and by those who are not."""
    from rest_framework import serializers as drf
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from tsur.appeals.api.serializers import AppealDetailSerializer, AppealSerializer

    organisation = OrganisationFactory()
    territory = TerritoryFactory()
    target = AppealFactory(organisation=organisation)
    now = timezone.now()
    full = AppealFactory(
        organisation=organisation,
        territory=territory,
        building=BuildingFactory(territory=territory),
        status=Status.CLOSED,
        author_name="Иванов И. И.",
        author_phone="+79990001122",
        latitude=59.93,
        longitude=30.31,
        address="Невский пр., 1",
        first_response_due=now,
        resolution_due=now + timedelta(days=3),
        first_responded_at=now,
        answered_at=now,
        closed_at=now,
        planned_at=now + timedelta(days=1),
        paused_since=now,
        merged_into=target,
        reopen_count=2,
        extension_reason="Нужна экспертиза",
    )
    AppealPhoto.objects.create(
        appeal=full, image="p.jpg", content_type="image/jpeg", size=1, width=1, height=1, uploaded_at=now
    )
    bare = AppealFactory(topic=None, organisation=None)
    executor = user_with_role(Role.EXECUTOR, organisation=organisation)
    analyst = user_with_role(Role.ANALYST)
    compared = 0
    for user in (executor, analyst):
        request = Request(APIRequestFactory().get("/"))
        request.user = user
        for appeal in Appeal.objects.select_related(
            "topic__block", "organisation", "territory", "merged_into"
        ):
            for cls in (AppealSerializer, AppealDetailSerializer):
                serializer = cls(appeal, context={"request": request})
                assert serializer.data == drf.Serializer.to_representation(serializer, appeal)
                compared += 1
    assert compared == 12
    assert AppealSerializer(full, context={"request": request}).data["author"] is None  # analyst
    assert bare.pk and full.merged_into_id == target.pk


def test_prebuilt_fields_are_each_serializers_own():
    """The intake serializer copies fields built once per class: two serializers in turn keep their
    own fields, bound to themselves, and their own errors."""
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from tsur.appeals.api.serializers import AppealCreateSerializer

    request = Request(APIRequestFactory().post("/"))
    request.user = user_with_role(Role.OPERATOR)
    good = AppealCreateSerializer(
        data={"personal_data_consent": True, "text": "Яма на дороге"}, context={"request": request}
    )
    bad = AppealCreateSerializer(
        data={"text": "", "latitude": "north", "photos": ["x"]}, context={"request": request}
    )
    assert good.is_valid() and not bad.is_valid()
    assert set(bad.errors) == {"text", "latitude", "photos"} and good.errors == {}
    for serializer in (good, bad):
        assert all(field.parent is serializer for field in serializer.fields.values())
        assert serializer.fields["photos"].child.parent is serializer.fields["photos"]
    assert all(good.fields[name] is not bad.fields[name] for name in good.fields)
    assert good.validated_data["text"] == "Яма на дороге"


def test_the_browsable_form_offers_a_resident_only_their_channels_in_russian():
    def channels_offered(user):
        client = Client()
        client.force_login(user)
        page = client.get(URL, HTTP_ACCEPT="text/html").content.decode()
        form = page[page.index('name="channel"') :]
        form = form[: form.index("</select>")]
        return {value for value, _label in Channel.choices if f'value="{value}"' in form}, page

    resident, page = channels_offered(user_with_role(Role.CITIZEN))
    operator, _page = channels_offered(user_with_role(Role.OPERATOR))

    assert resident == {Channel.PORTAL, Channel.APP}
    assert operator == set(Channel.values)
    assert "Текст обращения" in page and "Согласие на обработку персональных данных" in page
    assert "External id" not in page and ">Text<" not in page
