"""The citizen portal through its pages: filing with consent and photos, the complaint book's ticket,
joining an open appeal nearby instead of filing, the rate limit, the public status page and the
public map, which show no text and no person."""

import io
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from rest_framework.throttling import SimpleRateThrottle

from tsur.appeals import access, actions
from tsur.appeals.choices import Channel, ConsentSource, Status
from tsur.appeals.models import Appeal, AppealPhoto, Follower
from tsur.appeals.tests.factories import BlockFactory, RuleFactory, TicketFactory, TopicFactory
from tsur.core.choices import OrganisationKind, Role
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory, TerritoryFactory, user_with_role

from .conftest import HOSTILE, login

pytestmark = pytest.mark.django_db
NEW = reverse("web:portal-new")
MAP_DATA = reverse("web:portal-map-data")
PLANTED = (
    "Пантелеймонова",
    "+7 911 555-43-21",
    "pantelei517@example.org",
    "кв. 517",
    "Из крана течёт ржавая вода",
)


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def place():
    """A district with a yard topic routed to its housing agency, a house and the company managing it."""
    district = TerritoryFactory(name="Невский район")
    company = OrganisationFactory(name="УК «Уютный дом»", kind=OrganisationKind.MANAGEMENT_COMPANY)
    agency = OrganisationFactory(name="ЖА Невского района")
    housing = BlockFactory(code="zhkh", name="ЖКХ", order=1)
    roads = BlockFactory(code="roads", name="Дороги", order=2)
    yard = TopicFactory(code="yard-dirty", name="Неубранный двор", block=housing)
    pothole = TopicFactory(code="pothole", name="Яма на дороге", block=roads)
    roof = TopicFactory(code="roof-leak", name="Протечка кровли", block=housing, complaint_book=True)
    RuleFactory(topic=yard, territory=district, organisation=agency)
    RuleFactory(topic=pothole, territory=district, organisation=agency)
    RuleFactory(topic=roof, to_management_company=True, organisation=None)
    house = BuildingFactory(
        address="ул. Седова, д. 5",
        territory=district,
        latitude=59.9,
        longitude=30.4,
        management_company=company,
    )
    return {
        "district": district,
        "company": company,
        "yard": yard,
        "pothole": pothole,
        "roof": roof,
        "house": house,
        "housing": housing,
        "roads": roads,
    }


def png(name="yard.png", fmt="PNG") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "olive").save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def filing(**fields) -> dict:
    return {
        "text": "Во дворе третью неделю не убирают мусор у контейнеров",
        "name": "Мария",
        "email": "maria@example.org",
        "phone": "",
        "personal_data_consent": "on",
        "nearby_seen": "1",
        **fields,
    }


def private_link(page: str) -> tuple[str, str]:
    found = re.search(r'id="private-link">https?://[^/]+/a/([^/]+)/([^/<]+)/<', page)
    assert found, "no private link on the page"
    return found.group(1), found.group(2)


# ------------------------------------------------------------------ filing


def test_a_visitor_files_with_consent_and_gets_the_number_and_the_private_link(place):
    response = Client().post(NEW, filing(topic=place["yard"].pk, building=place["house"].pk, photos=[png()]))

    assert response.status_code == 201
    appeal = Appeal.objects.get()
    page = response.content.decode()
    number, key = private_link(page)
    assert number == appeal.number
    assert access.opens(appeal, key)
    assert f"№ {appeal.number}" in page
    assert "Сохраните ссылку" in page
    assert "no-store" in response["Cache-Control"]
    assert appeal.channel == Channel.PORTAL
    assert appeal.consent_source == ConsentSource.CITIZEN and appeal.consent_at is not None
    assert (appeal.author_name, appeal.author_email, appeal.author) == ("Мария", "maria@example.org", None)
    assert (appeal.topic, appeal.building, appeal.status) == (place["yard"], place["house"], Status.ASSIGNED)
    assert AppealPhoto.objects.filter(appeal=appeal).count() == 1


def test_the_same_form_sent_twice_is_one_appeal_and_the_link_is_shown_once(place):
    client = Client()
    data = filing(submission="form-1")
    first = client.post(NEW, data)
    again = client.post(NEW, data)

    assert (first.status_code, again.status_code) == (201, 200)
    assert Appeal.objects.count() == 1
    assert "private-link" not in again.content.decode()
    assert Appeal.objects.get().number in again.content.decode()


def test_without_consent_the_appeal_is_refused_next_to_the_checkbox(place):
    response = Client().post(NEW, filing(personal_data_consent=""))

    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r'id="id_personal_data_consent-error">[^<]*согласие на обработку', page)
    assert Appeal.objects.count() == 0


def test_six_photos_are_refused_and_nothing_is_filed(place):
    response = Client().post(NEW, filing(photos=[png(f"p{i}.png") for i in range(6)]))

    assert response.status_code == 400
    assert re.search(r'id="id_photos-error">Не больше 5 фото', response.content.decode())
    assert Appeal.objects.count() == 0 and AppealPhoto.objects.count() == 0


def test_a_file_that_is_not_an_image_is_refused(place):
    fake = SimpleUploadedFile("yard.png", b"#!/bin/sh\necho not a picture\n", content_type="image/png")

    response = Client().post(NEW, filing(photos=[fake]))

    assert response.status_code == 400
    assert 'id="id_photos-error"' in response.content.decode()
    assert Appeal.objects.count() == 0


def test_markup_in_the_text_is_refused_and_a_broken_tag_shows_as_text(place):
    client = Client()
    refused = client.post(NEW, filing(text="Мусор <script>alert(1)</script> во дворе"))
    assert refused.status_code == 400
    assert "<script>alert(1)" not in refused.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in refused.content.decode()  # kept in the field, escaped

    sent = client.post(NEW, filing(text=HOSTILE, topic=place["yard"].pk, building=place["house"].pk))

    assert sent.status_code == 201
    page = sent.content.decode()
    assert "<img src=x" not in page and "<кровля>" not in page
    assert "&lt;img src=x onerror=&quot;window.pwned=1&quot;" in page
    number = Appeal.objects.get().number
    status = Client().get(reverse("web:portal-status", args=[number])).content.decode()
    assert "<img src=x" not in status and "Течёт крыша" not in status


def test_a_complaint_about_the_company_asks_for_its_ticket_first(place):
    client = Client()
    data = filing(text="Течёт крыша над квартирой", topic=place["roof"].pk, building=place["house"].pk)

    refused = client.post(NEW, data)

    assert refused.status_code == 400
    page = refused.content.decode()
    assert re.search(r'id="id_complaint_ticket_number-error">[^<]*книгу жалоб', page)
    assert 'id="ticket-block" hidden' not in page  # the ticket's field is shown with the refusal
    assert Appeal.objects.count() == 0

    TicketFactory(organisation=place["company"], number="УК-17", building=place["house"])
    accepted = client.post(NEW, {**data, "complaint_ticket_number": "УК-17"})

    assert accepted.status_code == 201
    appeal = Appeal.objects.get()
    assert appeal.organisation == place["company"] and appeal.complaint_ticket.number == "УК-17"


def test_a_signed_in_resident_files_as_the_author_with_the_contacts_prefilled(place):
    resident = user_with_role(
        Role.CITIZEN, first_name="Мария", last_name="Петрова", email="petrova@example.org"
    )
    client = login(resident)

    form = client.get(NEW).content.decode()
    response = client.post(NEW, filing(name="Мария Петрова", email="petrova@example.org"))

    assert 'value="petrova@example.org"' in form and 'value="Мария Петрова"' in form
    assert response.status_code == 201
    assert Appeal.objects.get().author == resident


def test_the_portal_form_flooded_past_its_limit_refuses_politely(place):
    old = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**old, "public_intake": "2/min"}
    try:
        client = Client()
        codes = [
            client.post(NEW, filing(text=f"Во дворе не убран мусор, день {i}")).status_code for i in range(3)
        ]
        refused = client.post(NEW, filing())
    finally:
        SimpleRateThrottle.THROTTLE_RATES = old

    assert codes == [201, 201, 429]
    assert refused.status_code == 429
    assert "Слишком много запросов" in refused.content.decode()
    assert Appeal.objects.count() == 2


# ------------------------------------------------------------------ nearby and joining


@pytest.fixture
def open_nearby(place):
    appeal, _ = actions.register(
        channel=Channel.PORTAL,
        text="Во дворе не убирают мусор у контейнеров уже две недели",
        topic=place["yard"],
        building=place["house"],
        author_name="Пантелеймонова",
        author_phone="+7 911 555-43-21",
        personal_data_consent=True,
    )
    assert appeal.status == Status.ASSIGNED
    return appeal


def test_before_sending_the_open_appeals_nearby_are_offered_to_join(place, open_nearby):
    data = filing(nearby_seen="", latitude="59.9003", longitude="30.4002")

    response = Client().post(NEW, data)

    assert response.status_code == 200
    page = response.content.decode()
    assert f"№ {open_nearby.number}" in page
    assert reverse("web:portal-join", args=[open_nearby.number]) in page
    assert "Подписаться" in page and "Пантелеймонова" not in page and "контейнеров уже две" not in page
    assert 'name="nearby_seen" id="id_nearby_seen" value="1"' in page
    assert Appeal.objects.count() == 1


def test_the_page_asks_for_the_nearby_list_as_one_writes(place, open_nearby):
    response = Client().post(
        reverse("web:portal-nearby"),
        {"text": "Не убирают мусор во дворе у контейнеров", "latitude": "59.9003", "longitude": "30.4002"},
    )
    bad = Client().post(reverse("web:portal-nearby"), {"text": "мусор", "latitude": "сто"})

    assert response.status_code == 200
    assert open_nearby.number in response.content.decode()
    assert bad.status_code == 400


def test_joining_an_appeal_nearby_adds_a_follower_instead_of_a_new_appeal(place, open_nearby):
    data = filing(latitude="59.9003", longitude="30.4002", email="neighbour@example.org", name="Сосед")

    response = Client().post(reverse("web:portal-join", args=[open_nearby.number]), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert f"№ {open_nearby.number}" in page and "Назначено исполнителю" in page
    follower = Follower.objects.get()
    assert (follower.appeal, follower.email, follower.name) == (open_nearby, "neighbour@example.org", "Сосед")
    assert follower.consent_source == ConsentSource.CITIZEN
    assert Appeal.objects.count() == 1
    status = Client().get(reverse("web:portal-status", args=[open_nearby.number])).content.decode()
    assert re.search(r'id="followers">1<', status)


def test_joining_without_consent_is_refused_on_the_filing_page(place, open_nearby):
    data = filing(personal_data_consent="", latitude="59.9003", longitude="30.4002")

    response = Client().post(reverse("web:portal-join", args=[open_nearby.number]), data)

    assert response.status_code == 400
    assert 'id="id_personal_data_consent-error"' in response.content.decode()
    assert Follower.objects.count() == 0


def test_an_appeal_not_open_to_the_public_cannot_be_joined(place):
    hidden, _ = actions.register(channel=Channel.HOTLINE, text="Мусор во дворе", moderate=True)

    response = Client().post(reverse("web:portal-join", args=[hidden.number]), filing())

    assert response.status_code == 404
    assert Follower.objects.count() == 0


# ------------------------------------------------------------------ status page


def test_the_status_page_shows_the_public_facts_and_steps_only(place, open_nearby):
    Appeal.objects.filter(pk=open_nearby.pk).update(
        address="ул. Седова, д. 5, кв. 517", author_email="pantelei517@example.org", text=PLANTED[-1]
    )

    response = Client().get(reverse("web:portal-status", args=[open_nearby.number]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Назначено исполнителю" in page and "Неубранный двор" in page and "ЖКХ" in page
    assert "ЖА Невского района" in page and "ул. Седова, д. 5" in page
    assert "Зарегистрировано" in page
    for value in PLANTED:
        assert value not in page


def test_a_number_typed_goes_to_its_status_page(place, open_nearby):
    response = Client().get(reverse("web:portal-status-lookup"), {"number": f"  {open_nearby.number} "})

    assert response.status_code == 302
    assert response["Location"] == reverse("web:portal-status", args=[open_nearby.number])


@pytest.mark.parametrize("typed", ["26/0001", "", "1" * 21, "<b>1</b>"])
def test_a_number_that_cannot_be_one_is_refused_on_the_form(typed):
    response = Client().get(reverse("web:portal-status-lookup"), {"number": typed})

    assert response.status_code == 400
    assert "<b>1</b>" not in response.content.decode()


def test_unknown_and_unpublished_numbers_are_not_found_alike(place):
    hidden, _ = actions.register(
        channel=Channel.PORTAL, text="Мусор", moderate=True, personal_data_consent=True
    )

    unknown = Client().get(reverse("web:portal-status", args=["26-9999999"]))
    unpublished = Client().get(reverse("web:portal-status", args=[hidden.number]))

    assert unknown.status_code == unpublished.status_code == 404
    assert "не найдено" in unpublished.content.decode()
    assert "Мусор" not in unpublished.content.decode()


# ------------------------------------------------------------------ map


def map_appeal(place, topic, lat, lon, status=Status.IN_WORK, **fields):
    appeal, _ = actions.register(
        channel=Channel.HOTLINE, text=PLANTED[-1], topic=topic, latitude=lat, longitude=lon, **fields
    )
    Appeal.objects.filter(pk=appeal.pk).update(status=status)
    return appeal


def test_the_map_counts_published_appeals_by_cell_and_block_without_their_points(place):
    map_appeal(
        place, place["yard"], 59.90011, 30.40017, author_name=PLANTED[0], address="ул. Седова, д. 5, кв. 517"
    )
    map_appeal(place, place["yard"], 59.90012, 30.40018)
    map_appeal(place, place["pothole"], 59.90013, 30.40019)
    map_appeal(place, place["yard"], 59.90014, 30.40016, status=Status.MODERATION)  # not published
    old = map_appeal(place, place["yard"], 59.9001, 30.4001, status=Status.CLOSED)
    Appeal.objects.filter(pk=old.pk).update(registered_at=timezone.now() - timezone.timedelta(days=90))

    response = Client().get(MAP_DATA, {"bbox": "30.3,59.85,30.5,59.95", "zoom": "15"})

    assert response.status_code == 200
    data = response.json()
    assert data["total"] == 3
    [cell] = data["cells"]
    assert (cell["n"], cell["blocks"], cell["block"]) == (3, {"zhkh": 2, "roads": 1}, "zhkh")
    assert abs(cell["lat"] - 59.90011) > 1e-5 or abs(cell["lon"] - 30.40017) > 1e-5
    assert [(b["code"], b["n"]) for b in data["blocks"]] == [("zhkh", 2), ("roads", 1)]
    body = response.content.decode("unicode_escape")
    for value in PLANTED:
        assert value not in body
    only_roads = Client().get(MAP_DATA, {"bbox": "30.3,59.85,30.5,59.95", "zoom": "15", "block": "roads"})
    assert only_roads.json()["total"] == 1


def test_a_lone_appeal_is_shown_at_its_cell_not_its_point_even_closest_in(place):
    map_appeal(place, place["yard"], 59.900123, 30.400456)

    data = Client().get(MAP_DATA, {"bbox": "30.399,59.899,30.402,59.901", "zoom": "20"}).json()

    [cell] = data["cells"]
    assert cell["n"] == 1
    assert abs(cell["lat"] - 59.900123) + abs(cell["lon"] - 30.400456) > 1e-4
    assert data["cell"]["lon"] >= 0.0013  # no finer than the finest zoom's grid, about a block


@pytest.mark.parametrize(
    "query",
    [
        {"bbox": "30.3,59.85,30.5", "zoom": "12"},
        {"bbox": "30.5,59.85,30.3,59.95", "zoom": "12"},
        {"bbox": "30.3,59.85,30.5,nan", "zoom": "12"},
        {"bbox": "30.3,59.85,30.5,99", "zoom": "12"},
        {"bbox": "30.3,59.85,30.5,59.95", "zoom": "21"},
        {"bbox": "30.3,59.85,30.5,59.95", "zoom": "ten"},
        {"bbox": "30.3,59.85,30.5,59.95"},
        {"bbox": "30.3,59.85,30.5,59.95", "zoom": "12", "block": "nothing"},
        {"bbox": "-180,-85,180,85", "zoom": "18"},
    ],
)
def test_bad_map_queries_are_refused(place, query):
    response = Client().get(MAP_DATA, query)

    assert response.status_code == 400
    assert "detail" in response.json()


def test_the_map_and_the_front_page_open_for_anybody(place, open_nearby):
    home = Client().get("/")
    page = Client().get(reverse("web:portal-map"))

    assert home.status_code == 200 and page.status_code == 200
    assert reverse("web:portal-new") in home.content.decode()
    assert "Узнать статус" in home.content.decode()
    assert "ЖКХ" in page.content.decode()
