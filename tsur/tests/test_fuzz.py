"""Fuzzing in the suite (issue 15): the REST API from its own OpenAPI description at /api/schema/,
and Open311 from the GeoReport v2 description in fixtures/, in process, as every role, against
real appeal numbers and ids. No answer may be a 5xx or differ from what the description says."""

import json
from pathlib import Path

import pytest

from tsur.core.choices import Role

from . import region as fixture_region
from .fuzzing import Tally, fuzz, load

pytestmark = pytest.mark.django_db
GEOREPORT = Path(__file__).with_name("fixtures") / "open311" / "georeport-v2.json"


@pytest.fixture
def region():
    return fixture_region.build()


def test_the_rest_api_answers_every_fuzzed_request_as_its_schema_says(region):
    credentials = {
        role: ({"Authorization": f"Token {region.tokens[role]}"} if role in region.tokens else {}, {})
        for role in fixture_region.ROLES
    }
    sides = (region.inside, region.outside)
    real = {
        "number": [a.number for s in sides for a in (s.appeal, s.second_appeal)],
        "photo_id": [str(s.photo.pk) for s in sides],
        "id": [str(s.ticket.pk) for s in sides] + [str(s.building.pk) for s in sides],
        "code": [region.topic.code, region.topic.block.code],
    }

    tally = fuzz(load("/api/schema/"), credentials=credentials, real_parameters=real, tally=Tally())

    print(tally.report())
    assert list(tally.failures) == [], "\n\n".join(tally.failures.values()) + "\n" + tally.report()


def test_open311_answers_every_fuzzed_request_as_georeport_says(region):
    # Open311 knows no roles: a client with its key, or anybody without one
    credentials = {
        Role.SYSTEM: ({}, {"api_key": region.open311_key}),
        "anonymous": ({}, {}),
        "wrong key": ({}, {"api_key": "not-a-key"}),
    }
    sides = (region.inside, region.outside)
    real = {
        "service_request_id": [a.number for s in sides for a in (s.appeal, s.second_appeal)],
        "service_code": [region.topic.code],
    }

    tally = fuzz(
        load(json.loads(GEOREPORT.read_text(encoding="utf-8"))),
        credentials=credentials,
        real_parameters=real,
        tally=Tally(),
    )

    print(tally.report())
    assert list(tally.failures) == [], "\n\n".join(tally.failures.values()) + "\n" + tally.report()
