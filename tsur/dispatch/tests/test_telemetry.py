"""HTTP telemetry: good readings stored, every kind of bad one refused and counted, none blocking."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tsur.core.tests.factories import BuildingFactory
from tsur.dispatch.models import Device, Reading, Rejection
from tsur.dispatch.tests.factories import DeviceFactory, EngineeringObjectFactory, MetricFactory
from tsur.dispatch.tests.payloads import payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/telemetry/"


@pytest.fixture
def boiler():
    plant = EngineeringObjectFactory(
        code="kotelnaya-7", name="Котельная №7", serves=BuildingFactory.create_batch(2)
    )
    MetricFactory(code="t_supply")
    MetricFactory(code="fault", name="Авария контроллера", unit="flag", min_value=0, max_value=1)
    device = DeviceFactory(code="plc-7-1", object=plant)
    return device, device.token


def at(minutes_ago: float = 1) -> str:
    return (timezone.now() - timedelta(minutes=minutes_ago)).isoformat()


def send(token, body, raw=False):
    data = body if raw else json.dumps(body)
    return Client().post(URL, data, content_type="application/json", HTTP_AUTHORIZATION=f"Device {token}")


def counted() -> dict:
    return {(r.reason, r.device_code): r.count for r in Rejection.objects.all()}


def test_good_readings_are_stored_and_the_device_is_seen(boiler):
    device, token = boiler
    response = send(token, payload("heat_point_status"), raw=True)
    assert response.status_code == 202
    assert response.json() == {"accepted": 3, "rejected": []}
    assert sorted(Reading.objects.values_list("value", flat=True)) == [0.0, 71.5, 72.0]
    device.refresh_from_db()
    assert timezone.now() - device.last_seen_at < timedelta(minutes=2)
    assert counted() == {}


def test_every_kind_of_bad_reading_is_refused_and_counted_while_good_ones_pass(boiler):
    _, token = boiler
    # one good reading, then every way a reading can be wrong, then another good one
    response = send(token, payload("every_kind_of_bad_reading"), raw=True)

    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 2
    assert [(r["index"], r["reason"]) for r in body["rejected"]] == [
        (1, "unknown_metric"),
        (2, "wrong_unit"),
        (3, "out_of_range"),
        (4, "malformed"),
        (5, "malformed"),
        (6, "future"),
        (7, "too_old"),
        (8, "malformed"),
        (9, "malformed"),
        (10, "malformed"),
        (11, "malformed"),
        (12, "malformed"),
    ]
    assert Reading.objects.count() == 2
    assert counted() == {
        ("unknown_metric", "plc-7-1"): 1,
        ("wrong_unit", "plc-7-1"): 1,
        ("out_of_range", "plc-7-1"): 1,
        ("malformed", "plc-7-1"): 7,
        ("future", "plc-7-1"): 1,
        ("too_old", "plc-7-1"): 1,
    }


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("{not json", 400),
        ("[1, 2, 3]", 400),
        ('{"readings": "many"}', 400),
        (b"\xff\xfe\x00garbage", 400),
        ("[" * 100_000, 400),
    ],
)
def test_malformed_payloads_are_400_counted_and_store_nothing(boiler, body, status):
    _, token = boiler
    response = send(token, body, raw=True)
    assert response.status_code == status
    assert Reading.objects.count() == 0
    assert counted() == {("malformed", "plc-7-1"): 1}


def test_unknown_devices_and_tokens_are_401_and_counted(boiler):
    assert send("stolen-token", {"readings": []}).status_code == 401
    no_scheme = Client().post(URL, "{}", content_type="application/json", HTTP_AUTHORIZATION="Bearer x")
    assert no_scheme.status_code == 401
    device, token = boiler
    Device.objects.filter(pk=device.pk).update(is_active=False)
    assert send(token, {"readings": []}).status_code == 401
    assert counted() == {("unknown_device", ""): 3}
    assert Reading.objects.count() == 0


def test_batches_have_limits(boiler):
    _, token = boiler
    too_many = {"readings": [{"metric": "fault", "value": 0, "unit": "flag", "at": at()}] * 5001}
    assert send(token, too_many).status_code == 413
    huge = json.dumps({"readings": [], "padding": "x" * (1024 * 1024)})
    assert send(token, huge, raw=True).status_code == 413
    assert Reading.objects.count() == 0


def test_only_post(boiler):
    assert Client().get(URL).status_code == 405


def test_a_device_added_in_the_admin_gets_a_token_once(boiler, admin_client):
    device, _ = boiler
    response = admin_client.post(
        "/admin/dispatch/device/add/",
        {"code": "plc-7-2", "object": device.object_id, "is_active": "on"},
        follow=True,
    )
    assert response.status_code == 200
    text = " ".join(str(m) for m in response.context["messages"])
    token = text.split("Токен контроллера «plc-7-2»: ")[1].split(" ")[0]
    good = {"readings": [{"metric": "fault", "value": 0, "unit": "flag", "at": at()}]}
    assert send(token, good).json()["accepted"] == 1
    assert Reading.objects.get().device.code == "plc-7-2"
