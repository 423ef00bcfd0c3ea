"""A fleet of simulated automation controllers for demos, load tests and the benchmark.

Each simulated object (boiler houses, heat points, pumping stations, substations, lighting
cabinets around the region) has one controller that reports its kind's metrics in one message, as
real ones do: supply and return temperatures with a slow daily swing and sensor noise, pressure,
flow, voltage, the fault flag. With `faults`, some controllers fail for a while (the flag rises,
the temperature sinks, pressure or voltage drops) and a small share of messages is broken in the
ways real fleets break them, so the intake's refusals can be watched too.
"""

import heapq
import json
import logging
import math
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection
from queue import Queue
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from django.db import transaction

from tsur.core import keys
from tsur.core.choices import OrganisationKind
from tsur.core.models import Building, Organisation

from . import reference
from .choices import ObjectKind
from .models import Device, EngineeringObject

log = logging.getLogger(__name__)
K = ObjectKind
MIX = [
    (K.HEAT_POINT, 40),
    (K.BOILER_HOUSE, 15),
    (K.SUBSTATION, 20),
    (K.PUMPING_STATION, 10),
    (K.LIGHTING_CABINET, 15),
]
NAMES = {
    K.HEAT_POINT: "ИТП",
    K.BOILER_HOUSE: "Котельная",
    K.SUBSTATION: "ТП",
    K.PUMPING_STATION: "Насосная станция",
    K.LIGHTING_CABINET: "ШНО",
}
UNITS = {code: unit for code, (_name, unit, _low, _high) in reference.METRICS.items()}
BAD_KINDS = ["unknown_device", "malformed", "unknown_metric", "wrong_unit", "future", "out_of_range"]


@dataclass
class Controller:
    code: str
    kind: str
    metrics: list[str]
    token: str = ""
    phase: float = 0.0
    fault_until: float = 0.0  # monotonic time; 0: healthy
    state: dict = field(default_factory=dict)


def fleet(count: int, prefix: str = "sim", with_tokens: bool = False, seed: int = 1) -> list[Controller]:
    """The simulated objects and their controllers, created once and reused (`prefix`-00001, …);
    with tokens (for HTTP) every controller gets a new one, kept only in memory and as a hash."""
    reference.ensure()
    rng = random.Random(seed)
    owner = Organisation.objects.filter(kind=OrganisationKind.UTILITY).order_by("pk").first()
    if owner is None:
        owner, _ = Organisation.objects.get_or_create(
            name="ГУП «Теплоэнерго» (симуляция)", defaults={"kind": OrganisationKind.UTILITY}
        )
    buildings = list(
        Building.objects.exclude(latitude=None).values_list("pk", "latitude", "longitude")[:20000]
    )
    codes = [f"{prefix}-{n:05d}" for n in range(1, count + 1)]
    existing = set(EngineeringObject.objects.filter(code__in=codes).values_list("code", flat=True))
    kinds, weights = zip(*MIX, strict=True)
    new_objects = []
    for n, code in enumerate(codes, start=1):
        if code in existing:
            continue
        kind = rng.choices(kinds, weights)[0]
        if buildings:
            _pk, lat, lon = rng.choice(buildings)
            lat, lon = lat + rng.uniform(-0.002, 0.002), lon + rng.uniform(-0.003, 0.003)
        else:
            lat, lon = 59.93 + rng.uniform(-0.12, 0.12), 30.31 + rng.uniform(-0.2, 0.2)
        new_objects.append(
            EngineeringObject(
                code=code,
                name=f"{NAMES[kind]} №{n} (симуляция)",
                kind=kind,
                owner=owner,
                latitude=round(lat, 6),
                longitude=round(lon, 6),
                service_radius_m=400 if kind == K.LIGHTING_CABINET else 0,
            )
        )
    with transaction.atomic():
        EngineeringObject.objects.bulk_create(new_objects, batch_size=1000)
        objects = {o.code: o for o in EngineeringObject.objects.filter(code__in=codes)}
        if buildings and new_objects:
            through = EngineeringObject.serves.through
            links = []
            for obj in objects.values():
                if obj.code in existing or obj.kind == K.LIGHTING_CABINET:
                    continue
                nearest = heapq.nsmallest(  # the few nearest, not all of them sorted
                    rng.randint(3, 12),
                    buildings,
                    key=lambda b, o=obj: (b[1] - o.latitude) ** 2 + (b[2] - o.longitude) ** 2,
                )
                links += [through(engineeringobject_id=obj.pk, building_id=b[0]) for b in nearest]
            through.objects.bulk_create(links, batch_size=2000, ignore_conflicts=True)
        device_codes = {f"{code}-plc": code for code in codes}
        have = set(Device.objects.filter(code__in=device_codes).values_list("code", flat=True))
        Device.objects.bulk_create(
            [
                Device(code=dcode, object=objects[ocode], token_hash=keys.digest(keys.new_key(24)))
                for dcode, ocode in device_codes.items()
                if dcode not in have
            ],
            batch_size=1000,
        )
        controllers = []
        devices = Device.objects.filter(code__in=device_codes).select_related("object").order_by("code")
        updated = []
        for device in devices:
            token = ""
            if with_tokens:
                token = keys.new_key(24)
                device.token_hash = keys.digest(token)
                updated.append(device)
            controllers.append(
                Controller(
                    code=device.code,
                    kind=device.object.kind,
                    metrics=reference.PROFILES[device.object.kind],
                    token=token,
                    phase=rng.uniform(0, 2 * math.pi),
                )
            )
        Device.objects.bulk_update(updated, ["token_hash"], batch_size=1000)
    return controllers


def _value(controller: Controller, metric: str, now: float, faulty: bool, rng: random.Random) -> float:
    swing = math.sin(now / 3600 * 2 * math.pi / 24 + controller.phase)
    if metric == "fault":
        return 1 if faulty else 0
    if metric == "t_supply":
        base = 72 + 4 * swing + rng.gauss(0, 0.3)
        return round(max(35.0, base - 12 * controller.state.get("fault_age", 0)) if faulty else base, 2)
    if metric == "t_return":
        return round(52 + 2 * swing + rng.gauss(0, 0.3), 2)
    if metric == "p_supply":
        normal = 5.0 if controller.kind == K.PUMPING_STATION else 6.0
        return round(0.8 if faulty else normal + rng.gauss(0, 0.05), 3)
    if metric == "flow":
        return round(max(0.0, 300 + 60 * swing + rng.gauss(0, 5)), 1)
    if metric == "voltage":
        return round(180.0 if faulty else 230 + rng.gauss(0, 2), 1)
    return 0.0


def message(
    controller: Controller, rng: random.Random, faults: bool, fault_share: float
) -> tuple[str, bytes, int]:
    """(device code, payload, good readings in it) for one report of a controller."""
    now = time.monotonic()
    if faults and not controller.fault_until and rng.random() < fault_share:
        controller.fault_until = now + rng.uniform(20, 90)
    faulty = controller.fault_until > now
    if controller.fault_until and not faulty:
        controller.fault_until = 0.0
    controller.state["fault_age"] = controller.state.get("fault_age", 0) + 1 if faulty else 0
    at = datetime.now(UTC).isoformat()
    readings = [
        {"metric": m, "value": _value(controller, m, now, faulty, rng), "unit": UNITS[m], "at": at}
        for m in controller.metrics
    ]
    code, good = controller.code, len(readings)
    if faults and rng.random() < 0.005:
        bad = rng.choice(BAD_KINDS)
        if bad == "unknown_device":
            return f"ghost-{rng.randint(1, 999)}", json.dumps({"readings": readings}).encode(), 0
        if bad == "malformed":
            return code, b'{"readings": [{"metric": "t_supply", "value": ', 0
        victim = readings[0]
        if bad == "unknown_metric":
            victim["metric"] = "humidity"
        elif bad == "wrong_unit":
            victim["unit"] = "K" if victim["unit"] == "°C" else "mV"
        elif bad == "future":
            victim["at"] = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
        else:
            victim["value"] = 1e6
        good -= 1
    return code, _encode(readings), good


def _encode(readings: list[dict]) -> bytes:
    """The payload, formatted directly (json.dumps cost the simulator a tenth of its time)."""
    items = ",".join(
        f'{{"metric":"{r["metric"]}","value":{r["value"]},"unit":{json.dumps(r["unit"])},"at":"{r["at"]}"}}'
        for r in readings
    )
    return f'{{"readings":[{items}]}}'.encode()


class MqttSink:
    def __init__(self, url: str):
        parts = urlsplit(url)
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=f"tsur-sim-{random.randrange(1 << 30)}"
        )
        if parts.username:
            self.client.username_pw_set(parts.username, parts.password)
        self.client.max_inflight_messages_set(2000)
        self.client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
        self.client.loop_start()
        self.last = None

    def send(self, controller: Controller, code: str, payload: bytes) -> None:
        self.last = self.client.publish(f"tsur/v1/{code}/readings", payload, qos=1)

    def close(self) -> None:
        if self.last is not None:
            self.last.wait_for_publish(timeout=60)
        self.client.loop_stop()
        self.client.disconnect()


class HttpSink:
    """Posts to /api/v1/telemetry/ from a few keep-alive connections."""

    def __init__(self, url: str, connections: int = 4):
        parts = urlsplit(url)
        self.host, self.port, self.path = (
            parts.hostname,
            parts.port or 80,
            parts.path.rstrip("/") + "/api/v1/telemetry/",
        )
        self.queue: Queue = Queue(maxsize=1000)
        self.errors = 0
        self.threads = [threading.Thread(target=self._post_loop, daemon=True) for _ in range(connections)]
        for thread in self.threads:
            thread.start()

    def _post_loop(self):
        connection = HTTPConnection(self.host, self.port, timeout=30)
        while True:
            item = self.queue.get()
            if item is None:
                return
            token, payload = item
            try:
                connection.request(
                    "POST",
                    self.path,
                    payload,
                    {"Authorization": f"Device {token}", "Content-Type": "application/json"},
                )
                response = connection.getresponse()
                response.read()
                if response.status >= 500:
                    self.errors += 1
            except OSError:
                self.errors += 1
                connection.close()
                connection = HTTPConnection(self.host, self.port, timeout=30)

    def send(self, controller: Controller, code: str, payload: bytes) -> None:
        self.queue.put((controller.token if code == controller.code else "not-a-token", payload))

    def close(self) -> None:
        for _ in self.threads:
            self.queue.put(None)
        for thread in self.threads:
            thread.join(timeout=60)


@dataclass
class Totals:
    messages: int = 0
    readings: int = 0  # good ones
    bad_messages: int = 0
    seconds: float = 0.0


def run(
    controllers,
    sink,
    rate: float,
    duration: float,
    faults: bool = False,
    faults_per_minute: float = 0,
    seed: int = 1,
    report=None,
) -> Totals:
    """Send reports round-robin so that `rate` readings a second leave in all; stop after `duration`
    seconds. With faults, about `faults_per_minute` controllers of the fleet fail each minute (by
    default one controller in 100 each hour). `report(totals)` is called about every five seconds."""
    rng = random.Random(seed)
    per_message = sum(len(c.metrics) for c in controllers) / max(1, len(controllers))
    messages_per_minute = rate / per_message * 60
    faults_per_minute = faults_per_minute or len(controllers) / 100 / 60
    fault_share = faults_per_minute / messages_per_minute if faults else 0
    totals, started, next_report, index, sent_readings = Totals(), time.monotonic(), 5.0, 0, 0
    while True:
        elapsed = time.monotonic() - started
        if elapsed >= duration:
            break
        while sent_readings < rate * elapsed:
            controller = controllers[index % len(controllers)]
            index += 1
            code, payload, good = message(controller, rng, faults, fault_share)
            sink.send(controller, code, payload)
            totals.messages += 1
            totals.readings += good
            sent_readings += len(controller.metrics)
            if good < len(controller.metrics):
                totals.bad_messages += 1
        if report and elapsed >= next_report:
            totals.seconds = elapsed
            report(totals)
            next_report += 5
        time.sleep(0.01)
    sink.close()
    totals.seconds = time.monotonic() - started
    return totals
