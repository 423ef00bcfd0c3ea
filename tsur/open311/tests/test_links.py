"""Links a client gives (`media_url`) never lead into the platform's own network: a literal internal
address or a name that resolves to one is refused at filing, through Open311 and through REST alike."""

import json
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tsur.appeals.models import Appeal, AppealEvent
from tsur.appeals.tests.factories import AppealFactory
from tsur.core import outbound
from tsur.open311.models import ApiClient

pytestmark = pytest.mark.django_db
FIXTURE = Path(__file__).parent / "fixtures" / "open311" / "fixmystreet_pothole.json"
INTERNAL = [
    "http://127.0.0.1/photo.jpg",
    "http://169.254.169.254/latest/meta-data/iam/",
    "http://10.1.2.3:8080/x.jpg",
    "http://[::1]/x.jpg",
    "http://[fd00:ec2::254]/latest/",
    "http://100.100.100.200/latest/meta-data/",
    "http://0.0.0.0/x.jpg",
    "http://[::ffff:169.254.169.254]/latest/",
    "http://[2002:7f00:1::1]/x.jpg",  # 6to4 around 127.0.0.1
    "http://photos.internal.example.org/x.jpg",  # resolves to 127.0.0.1 below
    "http://twofaced.example.org/x.jpg",  # one public address, one loopback
]


@pytest.fixture(autouse=True)
def _names(dns, monkeypatch):
    dns["photos.internal.example.org"] = "127.0.0.1"
    dns["photos.example.org"] = "93.184.215.14"
    real = outbound.getaddrinfo

    def two_addresses(host, port, *args, **kwargs):
        if host == "twofaced.example.org":
            return real("93.184.215.14", port, *args, **kwargs) + real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(outbound, "getaddrinfo", two_addresses)


@pytest.fixture
def app_key():
    return ApiClient.issue("Мобильное приложение «Город»", "FixMyStreet", rate_per_minute=100)[1]


def open311_report(app_key, **changes) -> dict:
    return {**json.loads(FIXTURE.read_text()), "api_key": app_key, **changes}


@pytest.mark.parametrize("url", INTERNAL)
def test_open311_refuses_a_link_into_the_internal_network(pothole, app_key, url):
    response = Client().post("/open311/v2/requests.json", open311_report(app_key, media_url=url))

    assert response.status_code == 400
    [error] = response.json()
    assert "внутреннюю сеть" in error["description"]
    assert Appeal.objects.count() == 0


def test_open311_takes_a_link_to_the_internet(pothole, app_key):
    response = Client().post("/open311/v2/requests.json", open311_report(app_key))
    assert response.status_code == 200, response.content
    assert Appeal.objects.get().media_url == "https://photos.example.org/pothole/123.jpeg"


@pytest.mark.parametrize("url", INTERNAL)
def test_rest_refuses_a_link_into_the_internal_network(lighting, url):
    response = APIClient().post(
        "/api/v1/appeals/",
        {"personal_data_consent": True, "text": "Не горит фонарь", "media_url": url},
        format="json",
    )

    assert response.status_code == 400
    assert "внутреннюю сеть" in json.dumps(response.json(), ensure_ascii=False)
    assert Appeal.objects.count() == 0


def test_rest_takes_a_link_to_the_internet_and_shows_it_to_staff(lighting):
    response = APIClient().post(
        "/api/v1/appeals/",
        {
            "personal_data_consent": True,
            "text": "Не горит фонарь",
            "media_url": "https://photos.example.org/1.jpg",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["media_url"] == "https://photos.example.org/1.jpg"


def test_an_update_with_a_link_into_the_internal_network_is_refused(app_key):
    client = ApiClient.objects.get()
    appeal = AppealFactory(submitted_by=client.user, status="in_work")
    response = Client().post(
        "/open311/v2/servicerequestupdates.json",
        {
            "api_key": app_key,
            "service_request_id": appeal.number,
            "status": "open",
            "updated_datetime": "2026-01-01T00:00:00Z",
            "description": "Фото по ссылке",
            "media_url": "http://169.254.169.254/latest/",
        },
    )
    assert response.status_code == 400
    assert "внутреннюю сеть" in response.json()[0]["description"]
    assert AppealEvent.objects.filter(appeal=appeal).count() == 0
