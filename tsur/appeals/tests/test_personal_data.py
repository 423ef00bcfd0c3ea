"""Personal data under 152-ФЗ (issue 15, item 7): consent recorded at filing, a journal of staff
shown a citizen's contacts, erasure on request and at the end of retention, the appeal kept."""

import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from tsur.appeals import actions
from tsur.appeals.choices import ConsentSource, EventKind, Status
from tsur.appeals.models import Appeal, AppealPhoto, PersonalDataAccess
from tsur.appeals.tests.factories import AppealFactory, RuleFactory, TopicFactory
from tsur.core.choices import Role
from tsur.core.tests.factories import OrganisationFactory, UserFactory, user_with_role
from tsur.notify.models import Delivery
from tsur.open311.models import ApiClient

pytestmark = pytest.mark.django_db
URL = "/api/v1/appeals/"
NAME, PHONE, EMAIL = "Зябликова Аполлинария", "+79995175170", "zyablikova517@example.org"
CONTACTS = {"author_name": NAME, "author_phone": PHONE, "author_email": EMAIL}


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def routed():
    topic, organisation = TopicFactory(), OrganisationFactory()
    RuleFactory(topic=topic, organisation=organisation)
    return topic, organisation


# ---------------------------------------------------------------------------------- consent


@pytest.mark.parametrize("consent", [None, False, "нет"], ids=["absent", "false", "garbage"])
def test_a_citizen_filing_without_consent_is_refused_and_nothing_is_stored(routed, consent):
    payload = {"text": "Яма у дома", "topic": routed[0].code, **CONTACTS}
    if consent is not None:
        payload["personal_data_consent"] = consent

    response = APIClient().post(URL, payload, format="json")

    assert response.status_code == 400
    body = response.json()
    if consent == "нет":  # not a boolean at all: the serializer's own message
        assert list(body) == ["personal_data_consent"]
    else:
        assert (body["code"], body["field"]) == ("consent_required", "personal_data_consent")
        assert body["detail"].startswith("Чтобы подать обращение, подтвердите согласие на обработку")
    assert Appeal.objects.count() == 0


@pytest.mark.parametrize("channel", ["portal", "app"])
def test_a_citizens_consent_is_stored_with_its_moment(routed, channel):
    response = APIClient().post(
        URL,
        {"text": "Яма", "channel": channel, "personal_data_consent": True, **CONTACTS},
        format="json",
    )
    assert response.status_code == 201, response.content
    appeal = Appeal.objects.get()
    assert (appeal.consent_source, appeal.consent_at) == (ConsentSource.CITIZEN, appeal.registered_at)


def test_the_hotline_operator_records_consent_from_the_callers_words_or_files_without_it(routed):
    operator = client_for(user_with_role(Role.OPERATOR))
    asked = {"text": "Нет воды", "channel": "hotline", **CONTACTS}

    with_consent = operator.post(URL, {**asked, "personal_data_consent": True}, format="json")
    without = operator.post(URL, {**asked, "text": "Нет света"}, format="json")

    assert (with_consent.status_code, without.status_code) == (201, 201)
    first, second = (Appeal.objects.get(number=r.json()["number"]) for r in (with_consent, without))
    assert (first.consent_source, first.consent_at) == (ConsentSource.OPERATOR, first.registered_at)
    assert (second.consent_source, second.consent_at) == ("", None)  # 59-ФЗ: still considered


def test_a_system_passes_on_the_consent_it_took(routed):
    system = client_for(user_with_role(Role.SYSTEM))
    response = system.post(
        URL, {"text": "Нет воды", "channel": "agency", "personal_data_consent": True}, format="json"
    )
    assert response.status_code == 201
    assert Appeal.objects.get().consent_source == ConsentSource.SYSTEM


def test_open311_needs_the_applications_word_for_the_citizens_consent(routed):
    key = ApiClient.issue("Город", "FixMyStreet")[1]
    report = {"api_key": key, "service_code": routed[0].code, "lat": "59.9", "long": "30.3", "email": EMAIL}

    refused = Client().post("/open311/v2/requests.json", report)
    taken = Client().post("/open311/v2/requests.json", {**report, "personal_data_consent": "true"})

    assert refused.status_code == 400
    assert "согласие на обработку персональных данных" in refused.json()[0]["description"]
    assert taken.status_code == 200
    appeal = Appeal.objects.get()
    assert (appeal.consent_source, appeal.consent_at) == (ConsentSource.CITIZEN, appeal.registered_at)


# ---------------------------------------------------------------------------------- the journal


@pytest.fixture
def worked():
    """Three appeals of one organisation, two with the citizen's contacts, and its executor."""
    organisation = OrganisationFactory()
    with_contacts = [
        AppealFactory(organisation=organisation, status=Status.IN_WORK, **CONTACTS) for _ in "ab"
    ]
    AppealFactory(organisation=organisation, status=Status.IN_WORK)  # anonymous
    executor = user_with_role(Role.EXECUTOR, organisation=organisation)
    return with_contacts, executor


def journal():
    return sorted(PersonalDataAccess.objects.values_list("appeal__number", "username", "interface"))


def test_opening_an_appeal_writes_who_when_which_and_how(worked):
    (appeal, _), executor = worked
    before = timezone.now()

    response = client_for(executor).get(f"{URL}{appeal.number}/")

    assert response.json()["author"]["phone"] == PHONE
    assert journal() == [(appeal.number, executor.username, "api")]
    row = PersonalDataAccess.objects.get()
    assert row.user == executor and before <= row.at <= timezone.now()


def test_a_list_page_is_journalled_with_one_insert_for_the_appeals_with_contacts(worked):
    appeals, executor = worked
    with CaptureQueriesContext(connection) as queries:
        response = client_for(executor).get(URL)

    assert response.status_code == 200 and len(response.json()["results"]) == 3
    inserts = [
        q["sql"] for q in queries if q["sql"].startswith("INSERT") and "personaldataaccess" in q["sql"]
    ]
    assert len(inserts) == 1
    assert journal() == sorted((a.number, executor.username, "api") for a in appeals)


def test_a_step_that_answers_with_the_appeal_is_journalled(worked):
    (appeal, _), executor = worked
    response = client_for(executor).post(f"{URL}{appeal.number}/answer/", {"text": "Сделано"}, format="json")
    assert response.status_code == 200
    assert journal() == [(appeal.number, executor.username, "api")]


def test_nothing_is_journalled_when_no_contacts_are_shown(worked):
    (appeal, _), _executor = worked
    analyst = client_for(user_with_role(Role.ANALYST))
    assert analyst.get(f"{URL}{appeal.number}/").json()["author"] is None
    analyst.get(URL)
    client_for(_executor).get(f"{URL}{appeal.number}/timeline/")  # the timeline names no citizen

    assert journal() == []


def test_the_citizen_reading_their_own_appeal_and_the_filer_reading_back_are_not_journalled(routed):
    citizen_user = user_with_role(Role.CITIZEN)
    citizen = client_for(citizen_user)
    created = citizen.post(
        URL,
        {"text": "Яма", "topic": routed[0].code, "personal_data_consent": True, **CONTACTS},
        format="json",
    )
    assert created.json()["author"]["email"] == EMAIL
    citizen.get(f"{URL}{created.json()['number']}/")
    system = client_for(user_with_role(Role.SYSTEM))
    system.post(URL, {"text": "Нет воды", "channel": "agency", **CONTACTS}, format="json")

    assert journal() == []


def test_the_admin_page_of_an_appeal_is_journalled():
    appeal = AppealFactory(**CONTACTS)
    admin = UserFactory(is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(admin)

    assert browser.get(f"/admin/appeals/appeal/{appeal.pk}/change/").status_code == 200

    assert journal() == [(appeal.number, admin.username, "admin")]


# ---------------------------------------------------------------------------------- erasure


def jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, "JPEG")
    return SimpleUploadedFile("p.jpg", buffer.getvalue(), "image/jpeg")


@pytest.fixture
def filed(routed):
    """A citizen's appeal with everything that names them: contacts, account, a flat, a phone and an
    e-mail in the text, a photo, a notice to their e-mail, and an executor's photo of the work."""
    topic, organisation = routed
    citizen = user_with_role(Role.CITIZEN)
    appeal, _ = actions.register(
        channel="portal",
        text=f"Течёт крыша над кв. 17, звоните 8 (999) 517-51-70 или пишите {EMAIL}",
        topic=topic,
        address="ул. Ленина, д. 5, кв. 17",
        submitted_by=citizen,
        author=citizen,
        photo_files=[jpeg()],
        personal_data_consent=True,
        **CONTACTS,
    )
    executor = user_with_role(Role.EXECUTOR, organisation=organisation)
    actions.take(appeal, executor)
    actions.add_photo(appeal, executor, jpeg())
    actions.answer(appeal, executor, text=f"Уважаемая заявительница, перезвоните на {PHONE}")
    Delivery.objects.create(channel="email", address=EMAIL, topic="appeal", subject="s", text="t",
                            payload={"appeal": appeal.number})  # fmt: skip
    return Appeal.objects.get(pk=appeal.pk), citizen, organisation


def test_an_administrator_erases_the_person_and_keeps_the_appeal(filed, django_capture_on_commit_callbacks):
    appeal, citizen, organisation = filed
    citizens_photo, executors_photo = AppealPhoto.objects.order_by("uploaded_at")
    storage = citizens_photo.image.storage
    administrator = user_with_role(Role.ADMINISTRATOR)

    with django_capture_on_commit_callbacks(execute=True):  # the citizen's files go after commit
        response = client_for(administrator).post(
            f"{URL}{appeal.number}/erase-personal-data/", {"reason": "Запрос гражданина № 12"}, format="json"
        )

    assert response.status_code == 200, response.content
    appeal.refresh_from_db()
    assert (appeal.author_name, appeal.author_email, appeal.author_phone) == ("", "", "")
    assert (appeal.author_id, appeal.submitted_by_id, appeal.intake_key) == (None, None, None)
    assert appeal.address == "ул. Ленина, д. 5"
    assert appeal.text == "Течёт крыша над [удалено], звоните [удалено] или пишите [удалено]"
    assert appeal.personal_data_erased_at is not None
    # kept for statistics
    assert (appeal.status, appeal.topic_id, appeal.organisation, appeal.number) == (
        Status.ANSWERED, filed[0].topic_id, organisation, filed[0].number
    )  # fmt: skip
    assert list(AppealPhoto.objects.all()) == [executors_photo]
    assert not storage.exists(citizens_photo.image.name) and storage.exists(executors_photo.image.name)
    assert not Delivery.objects.filter(address=EMAIL).exists()
    answered = appeal.events.get(kind=EventKind.ANSWERED)
    assert answered.reason == "Уважаемая заявительница, перезвоните на [удалено]"
    assert not appeal.events.filter(actor=citizen).exists()
    erased = appeal.events.get(kind=EventKind.PERSONAL_DATA_ERASED)
    assert (erased.actor, erased.reason, erased.data) == (
        administrator, "Запрос гражданина № 12", {"photos": 1, "deliveries": 2}  # the answer's notice, and one more
    )  # fmt: skip
    assert PHONE not in response.content.decode() and EMAIL not in response.content.decode()


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.EXECUTOR, Role.SUPERVISOR, Role.ANALYST])
def test_no_one_but_an_administrator_may_erase_and_a_refusal_changes_nothing(filed, role):
    appeal, _, organisation = filed
    user = user_with_role(role, organisation=organisation if role != Role.OPERATOR else None)

    response = client_for(user).post(
        f"{URL}{appeal.number}/erase-personal-data/", {"reason": "хочу"}, format="json"
    )

    assert response.status_code in (403, 404)
    after = Appeal.objects.get(pk=appeal.pk)
    assert (after.author_email, after.text, after.personal_data_erased_at) == (EMAIL, appeal.text, None)
    assert not after.events.filter(kind=EventKind.PERSONAL_DATA_ERASED).exists()


def test_erasure_needs_a_reason(filed):
    appeal = filed[0]
    response = client_for(user_with_role(Role.ADMINISTRATOR)).post(
        f"{URL}{appeal.number}/erase-personal-data/", {"reason": ""}, format="json"
    )
    assert response.status_code == 400
    assert Appeal.objects.get(pk=appeal.pk).author_email == EMAIL


def test_an_administrator_erases_in_the_admin_with_a_reason(filed):
    appeal = filed[0]
    admin = UserFactory(is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(admin)
    chosen = {"action": "erase_personal_data", "_selected_action": [appeal.pk]}

    asked = browser.post("/admin/appeals/appeal/", chosen)
    assert asked.status_code == 200 and "Основание" in asked.content.decode()
    assert Appeal.objects.get(pk=appeal.pk).author_email == EMAIL  # not before it is confirmed

    browser.post("/admin/appeals/appeal/", {**chosen, "confirmed": "1", "reason": "Запрос № 5"})

    appeal.refresh_from_db()
    assert (appeal.author_email, appeal.personal_data_erased_at is not None) == ("", True)
    assert appeal.events.get(kind=EventKind.PERSONAL_DATA_ERASED).actor == admin


# ---------------------------------------------------------------------------------- retention


def test_finished_appeals_past_retention_are_anonymised_and_others_kept(settings):
    settings.TSUR = {**settings.TSUR, "PERSONAL_DATA_RETENTION_DAYS": 30}
    now = timezone.now()
    old = now - timedelta(days=31)
    expired = AppealFactory(
        status=Status.CLOSED, closed_at=old, address="ул. Ленина, д. 5, кв. 3", **CONTACTS
    )
    rejected = AppealFactory(status=Status.REJECTED, closed_at=old, **CONTACTS)
    recent = AppealFactory(status=Status.CLOSED, closed_at=now - timedelta(days=29), **CONTACTS)
    still_open = AppealFactory(status=Status.IN_WORK, registered_at=old, **CONTACTS)

    assert actions.erase_expired_personal_data(now) == 2

    emails = dict(Appeal.objects.values_list("pk", "author_email"))
    assert emails == {expired.pk: "", rejected.pk: "", recent.pk: EMAIL, still_open.pk: EMAIL}
    assert Appeal.objects.get(pk=expired.pk).address == "ул. Ленина, д. 5"
    event = Appeal.objects.get(pk=expired.pk).events.get(kind=EventKind.PERSONAL_DATA_ERASED)
    assert (event.actor, event.reason) == (
        None,
        "Истёк срок хранения персональных данных (30 дн. после завершения)",
    )
    assert actions.erase_expired_personal_data(now) == 0  # once


def test_retention_zero_keeps_everything(settings):
    settings.TSUR = {**settings.TSUR, "PERSONAL_DATA_RETENTION_DAYS": 0}
    AppealFactory(status=Status.CLOSED, closed_at=timezone.now() - timedelta(days=10000), **CONTACTS)
    assert actions.erase_expired_personal_data() == 0
    assert Appeal.objects.get().author_email == EMAIL
