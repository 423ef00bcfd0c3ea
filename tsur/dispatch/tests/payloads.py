"""Recorded controller payloads (`fixtures/mqtt/<case>.json`, the same body over MQTT and HTTP),
replayed with their times `{now}`, `{now-1m}`, `{now+2h}`… set relative to the test's clock."""

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

from django.utils import timezone

FIXTURES = Path(__file__).parent / "fixtures" / "mqtt"
_TIME = re.compile(rb"\{now(?:([+-])(\d+)([smhd]))?\}")
_UNITS = {b"s": "seconds", b"m": "minutes", b"h": "hours", b"d": "days"}


def payload(case: str, now: datetime | None = None) -> bytes:
    """The payload as a controller publishes it."""
    now = now or timezone.now()

    def at(match: re.Match) -> bytes:
        sign, amount, unit = match.groups()
        shift = timedelta(**{_UNITS[unit]: int(amount)}) if amount else timedelta()
        return (now + shift if sign == b"+" else now - shift).isoformat().encode()

    return _TIME.sub(at, (FIXTURES / f"{case}.json").read_bytes())


def readings(case: str, now: datetime | None = None) -> list:
    """The readings of a well-formed payload."""
    return json.loads(payload(case, now))["readings"]
