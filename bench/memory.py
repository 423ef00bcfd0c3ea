"""Memory: does a process of the platform keep growing under the soak's load, and where?

In this one process, on a fresh database (PostgreSQL by default) with the demo region's reference
data and the soak's controllers:

- `web`: the soak's mix (bench/soak.py's `Mix`: portal filings, a system's filings with their
  lifecycle, Open311 POSTs, operators' and Open311 reads) called through the WSGI application as a
  gunicorn worker calls it, one request at a time. The database is first filled with `--prefill`
  Open311 filings (published at once), so the pages that grow with the register (an Open311 list
  holds up to 1,000 requests) are already at their size when measuring starts.
- `mqtt`: the MQTT consumer (tsur/dispatch/mqtt.py, unchanged) connected to a minimal broker on a
  loopback socket that publishes the soak's controllers' messages (simulator.message, with faults)
  on a simulated clock: `--sim-minutes` of the fleet's telemetry, ending now, as fast as the
  consumer acknowledges them (the broker keeps `--inflight` unacknowledged, like Mosquitto).

After a warm-up, at the middle and at the end, the collector runs and the process is measured:
RSS, memory traced by tracemalloc, objects by type, the caches the platform keeps (their sizes and
bounds), and the allocation sites that grew in each half. Growth that continues in the second half
is a leak; growth that stops after the first is warm-up or a cache filling to its bound.

    .venv/bin/python bench/memory.py [--part web|mqtt|both] [--jobs 600] [--prefill 1100]
        [--devices 2000] [--readings 1000] [--sim-minutes 60] [--warmup-sim-minutes 12]
        [--database-url postgres://…/tsur_bench_memory] [--redis-url redis://…/N] [--no-trace]
"""

import argparse
import collections
import gc
import io
import json
import os
import random
import select
import socket
import struct
import sys
import tempfile
import time
import tracemalloc
import types
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import common  # noqa: E402 - bench/common.py, beside this script
import soak  # noqa: E402

MB = 1024 * 1024
PROJECT = (f"{ROOT}/tsur/", f"{ROOT}/config/")


# -- measuring


class Measure:
    """Measurements of this process at named points, and what grew between them."""

    def __init__(self, trace: bool, frames: int, caches):
        self.trace, self.caches = trace, caches
        self.frames = frames
        self.points: list[dict] = []

    def take(self, label: str) -> dict:
        if self.trace and not tracemalloc.is_tracing():
            # from the first point on: what grows after it is traced, and the warm-up runs at full speed
            tracemalloc.start(self.frames)
        gc.collect()
        point = {"label": label, "rss": soak.rss_mb(os.getpid())}
        point["types"] = collections.Counter(
            f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects()
        )
        point["caches"] = self.caches()
        if self.trace:
            point["traced"] = tracemalloc.get_traced_memory()[0] / MB
            point["tracing"] = tracemalloc.get_tracemalloc_memory() / MB
            point["snapshot"] = tracemalloc.take_snapshot().filter_traces(
                [
                    tracemalloc.Filter(False, tracemalloc.__file__),
                    tracemalloc.Filter(False, "<frozen importlib._bootstrap*>"),
                ]
            )
        self.points.append(point)
        return point

    def report(self, title: str, before: float | None = None) -> None:
        start, middle, end = self.points[-3:]
        print(f"\n== {title}")
        rss = f"{start['rss']:.1f} → {middle['rss']:.1f} → {end['rss']:.1f}"
        if before is not None:
            rss = f"(before warm-up {before:.1f}) " + rss
        print(
            f"RSS MB {rss}  first half {middle['rss'] - start['rss']:+.1f},"
            f" second half {end['rss'] - middle['rss']:+.1f}"
        )
        if self.trace:
            print(
                f"traced MB {start['traced']:.1f} → {middle['traced']:.1f} → {end['traced']:.1f}  first half "
                f"{middle['traced'] - start['traced']:+.2f}, second half {end['traced'] - middle['traced']:+.2f}"
                f"  (tracemalloc's own {end['tracing']:.1f} MB, in the RSS)"
            )
        print("caches (size at start → middle → end):")
        for name in end["caches"]:
            values = [p["caches"].get(name, "") for p in (start, middle, end)]
            print(f"  {name:58} {' → '.join(str(v) for v in values)}")
        for half, (a, b) in (("first half", (start, middle)), ("second half", (middle, end))):
            grown = [(n, b["types"][n] - a["types"].get(n, 0)) for n in b["types"]]
            grown = sorted((g for g in grown if g[1] > 0), key=lambda g: -g[1])[:8]
            print(f"objects that grew in the {half}: " + (", ".join(f"{n} +{d}" for n, d in grown) or "none"))
        if not self.trace:
            return
        first = {s.traceback: s for s in middle["snapshot"].compare_to(start["snapshot"], "traceback")}
        second = sorted(
            end["snapshot"].compare_to(middle["snapshot"], "traceback"), key=lambda s: -s.size_diff
        )
        print("allocation sites that grew in the second half (KiB second half / first half, blocks):")
        for stat in second[:10]:
            if stat.size_diff <= 0:
                break
            earlier = first.get(stat.traceback)
            print(
                f"  {stat.size_diff / 1024:+9.1f} / {(earlier.size_diff if earlier else 0) / 1024:+9.1f}"
                f"  {stat.count_diff:+7}  {where(stat.traceback)}"
            )
        total = sum(s.size_diff for s in second if s.size_diff > 0)
        print(f"  (all sites that grew in the second half: {total / MB:+.2f} MB)")
        print("allocation sites that grew most in the first half:")
        for stat in sorted(first.values(), key=lambda s: -s.size_diff)[:6]:
            if stat.size_diff <= 0:
                break
            print(f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7}  {where(stat.traceback)}")


def where(traceback) -> str:
    """The innermost frame, and the innermost one in the project's code when that is another."""
    frames = list(traceback)
    inner = frames[-1]  # tracemalloc lists the most recent call last
    text = f"{short(inner.filename)}:{inner.lineno}"
    for frame in reversed(frames):
        if frame.filename.startswith(PROJECT):
            if frame is not inner:
                text += f"  ← {short(frame.filename)}:{frame.lineno}"
            break
    return text


def short(filename: str) -> str:
    for marker in (f"{ROOT}/", "site-packages/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def caches() -> dict[str, object]:
    """The sizes of what the platform keeps in a process (its bound in the name)."""
    from django.db import connections

    from tsur.core import memo

    found = {}
    for o in gc.get_objects():
        if type(o) is memo.RememberedByKey:  # not isinstance: that would evaluate Django's lazy objects
            name = getattr(o._load, "__qualname__", repr(o._load))
            found[f"memo.RememberedByKey {name} (≤ {o.max_items})"] = len(o._kept)
    for alias in connections:
        raw = getattr(connections[alias], "connection", None)
        prepared = getattr(raw, "_prepared", None)
        if prepared is not None:
            found[f"psycopg prepared statements, {alias} (≤ {prepared.prepared_max})"] = len(prepared._names)
    for consumer in CONSUMERS:
        evaluator = consumer.intake.evaluator
        found["consumer: devices (active devices)"] = len(consumer._devices)
        found["consumer: «last seen» written (devices)"] = len(consumer.intake._seen)
        found["evaluator: series (devices × metrics with rules)"] = len(evaluator._series)
        found["evaluator: readings remembered (rate window)"] = sum(
            len(s.history) for s in evaluator._series.values()
        )
        found["evaluator: rules by (object, metric)"] = len(evaluator._by_object)
    return found


CONSUMERS: list = []


# -- the web part


class InProcess:
    """Calls the WSGI application as a gunicorn sync worker does: one request at a time, the
    response read and closed (which ends the request: signals, connections)."""

    def __init__(self):
        from config.wsgi import application

        self.application = application
        self.statuses: collections.Counter = collections.Counter()
        self.first_errors: list[str] = []

    def call(self, name, method, path, body=None, token="", form=False, expect=(200, 201)):
        path, _, query = path.partition("?")
        data = b""
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if body is not None:
            if form:
                data = urllib.parse.urlencode(body).encode()
                environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                environ["CONTENT_TYPE"] = "application/json"
            environ["CONTENT_LENGTH"] = str(len(data))
        environ["wsgi.input"] = io.BytesIO(data)
        if token:
            environ["HTTP_AUTHORIZATION"] = f"Token {token}"
        status = []

        def start_response(line, headers, exc_info=None):
            status.append(int(line.split()[0]))
            return lambda chunk: None

        result = self.application(environ, start_response)
        try:
            answer = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        code = status[0]
        self.statuses[name, code // 100 * 100] += 1
        if code >= 500 and len(self.first_errors) < 5:
            self.first_errors.append(f"{name} {code} {answer[:200]!r}")
        if code in expect and answer:
            try:
                return json.loads(answer)
            except ValueError:
                return None
        return None


def web(args, tokens, payloads, measure: Measure):
    client = InProcess()
    rng = random.Random(7)
    mix = soak.Mix(client.call, tokens, payloads, rng)
    jobs, shares = zip(*mix.jobs(), strict=True)
    started = time.monotonic()
    for _ in range(args.prefill):  # the register at the size where its pages stop growing
        mix.open311_post()  # published at once (a portal filing waits in moderation without a model)
    prefilled = time.monotonic() - started

    def run(n):
        for _ in range(n):
            rng.choices(jobs, shares)[0]()

    before = soak.rss_mb(os.getpid())
    run(args.warmup_jobs)
    measure.take("web: after warm-up")
    started = time.monotonic()
    run(args.jobs // 2)
    measure.take("web: middle")
    run(args.jobs - args.jobs // 2)
    measure.take("web: end")
    elapsed = time.monotonic() - started
    requests = sum(client.statuses.values())
    errors = sum(n for (_name, status), n in client.statuses.items() if status >= 500)
    print(
        f"\nweb: {args.prefill} Open311 filings first ({prefilled:.0f} s), then {args.warmup_jobs} jobs of warm-up and"
        f" {args.jobs} measured ({elapsed:.0f} s); {requests} requests in all, {errors} server errors"
    )
    by_name = collections.Counter()
    for (name, _status), n in client.statuses.items():
        by_name[name] += n
    print("  " + ", ".join(f"{name} {n}" for name, n in sorted(by_name.items())))
    if client.first_errors:
        print("  first errors:", *client.first_errors, sep="\n    ")
    measure.report("web (one gunicorn worker's work)", before)


# -- the MQTT part


class Clock:
    """The simulated time the controllers read: `at` is an aware datetime, `monotonic()` seconds."""

    def __init__(self, start: datetime):
        self.start, self.seconds = start, 0.0

    def monotonic(self) -> float:
        return self.seconds

    @property
    def at(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds)


class Broker:
    """A broker of one subscriber on a loopback socket: answers the consumer's CONNECT and
    SUBSCRIBE, publishes what `next_message()` gives with QoS 1 while fewer than `inflight` wait
    for their PUBACK, answers pings. `publish_until(t)` sends until the simulated clock reaches t and
    every message is acknowledged."""

    def __init__(self, next_message, clock: Clock, inflight: int):
        from tsur.dispatch import wire

        self.wire, self.next_message, self.clock, self.inflight = wire, next_message, clock, inflight
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sock: socket.socket | None = None
        self.buffer = bytearray()
        self.waiting: set[int] = set()
        self.packet_id = 0
        self.published = 0

    def accept(self) -> None:
        self.sock, _ = self.listener.accept()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        wire = self.wire
        kind, _flags, _body = self._packet()
        assert kind == wire.CONNECT, kind
        # no session kept, success; the server's keep-alive at its longest: while this process is
        # being measured nobody answers the consumer's pings, and it must not give up on the broker
        connack = b"\x00\x00" + bytes([3, wire.PROP_SERVER_KEEP_ALIVE]) + struct.pack("!H", 65535)
        self.sock.sendall(wire._packet(wire.CONNACK, 0, connack))
        kind, _flags, body = self._packet()
        assert kind == wire.SUBSCRIBE, kind
        self.sock.sendall(wire._packet(wire.SUBACK, 0, body[:2] + b"\x00\x01"))  # QoS 1 granted

    def _packet(self, block: bool = True) -> tuple[int, int, bytes] | None:
        while True:
            if len(self.buffer) >= 2:
                parsed = self.wire._read_varint(self.buffer, 1)
                if parsed is not None and parsed[1] + parsed[0] <= len(self.buffer):
                    length, start = parsed
                    first, body = self.buffer[0], bytes(self.buffer[start : start + length])
                    del self.buffer[: start + length]
                    return first >> 4, first & 0x0F, body
            if not block and not select.select([self.sock], [], [], 0)[0]:
                return None
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("the consumer closed the connection")
            self.buffer += chunk

    def _read_acks(self, block: bool) -> None:
        wire = self.wire
        while True:
            packet = self._packet(block)
            if packet is None:
                return
            kind, _flags, body = packet
            if kind == wire.PUBACK:
                self.waiting.discard(struct.unpack_from("!H", body)[0])
            elif kind == wire.PINGREQ:
                self.sock.sendall(wire._packet(wire.PINGRESP, 0, b""))
            block = False

    def publish_until(self, seconds: float) -> None:
        wire = self.wire
        while self.clock.seconds < seconds or self.waiting:
            if self.clock.seconds < seconds and len(self.waiting) < self.inflight:
                out = []
                while self.clock.seconds < seconds and len(self.waiting) < self.inflight and len(out) < 200:
                    topic, payload = self.next_message()
                    self.packet_id = self.packet_id % 65535 + 1
                    self.waiting.add(self.packet_id)
                    body = wire._string(topic) + struct.pack("!H", self.packet_id) + b"\x00" + payload
                    out.append(wire._packet(wire.PUBLISH, 0b0010, body))
                    self.published += 1
                self.sock.sendall(b"".join(out))
                self._read_acks(block=False)
            else:
                self._read_acks(block=True)

    def close(self) -> None:
        for sock in (self.sock, self.listener):
            if sock is not None:
                sock.close()


def mqtt(args, measure: Measure):
    from django.db import connection

    from tsur.dispatch import simulator
    from tsur.dispatch.models import Reading
    from tsur.dispatch.mqtt import Consumer

    controllers = simulator.fleet(args.devices, prefix="soak")
    span = args.sim_minutes * 60
    clock = Clock(datetime.now(UTC) - timedelta(seconds=span))  # ends by now: nothing from the future
    # the simulator reads the simulated clock (its faults last 20–90 simulated seconds)
    simulator.time = types.SimpleNamespace(monotonic=clock.monotonic, sleep=time.sleep)
    simulator.datetime = type(
        "SimulatedDatetime", (datetime,), {"now": staticmethod(lambda tz=None: clock.at)}
    )
    per_message = sum(len(c.metrics) for c in controllers) / len(controllers)
    messages_per_second = args.readings / per_message
    fault_share = 2 / (messages_per_second * 60)  # two controllers fail a minute, as in the soak
    rng = random.Random(7)
    index = 0

    def next_message() -> tuple[str, bytes]:
        nonlocal index
        controller = controllers[index % len(controllers)]
        index += 1
        clock.seconds += 1 / messages_per_second
        code, payload, _good = simulator.message(controller, rng, True, fault_share)
        return f"tsur/v1/{code}/readings", payload

    broker = Broker(next_message, clock, args.inflight)
    consumer = Consumer(f"mqtt://127.0.0.1:{broker.port}", client_id="tsur-bench-memory")
    CONSUMERS.append(consumer)
    consumer.start()
    broker.accept()
    before = soak.rss_mb(os.getpid())
    warmup, rest = args.warmup_sim_minutes * 60, span - args.warmup_sim_minutes * 60
    started = time.monotonic()
    try:
        broker.publish_until(warmup)
        measure.take("mqtt: after warm-up")
        measured_from = time.monotonic()
        broker.publish_until(warmup + rest / 2)
        measure.take("mqtt: middle")
        broker.publish_until(span)
        measure.take("mqtt: end")
    finally:
        consumer.stop()
        broker.close()
    elapsed = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM dispatch_alarm")
        alarms = cursor.fetchone()[0]
    print(
        f"\nmqtt: {args.devices} controllers, {args.readings:g} readings a simulated second, {args.sim_minutes:g}"
        f" simulated minutes ({args.warmup_sim_minutes:g} of warm-up) in {elapsed:.0f} s"
        f" ({time.monotonic() - measured_from:.0f} s measured): {broker.published} messages,"
        f" {consumer.stored} readings stored ({Reading.objects.count()} in the table), {alarms} alarms"
    )
    measure.report("mqtt consumer", before)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=["web", "mqtt", "both"], default="both")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_MEMORY_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tsur_bench_memory"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_MEMORY_REDIS_URL", ""), help="cache and queue"
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/spb_appeals.csv.gz")
    parser.add_argument("--prefill", type=int, default=1100, help="Open311 filings before the warm-up")
    parser.add_argument("--warmup-jobs", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=600, help="jobs of the mix measured (a filing or reads)")
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--readings", type=float, default=1000, help="readings a simulated second")
    parser.add_argument("--sim-minutes", type=float, default=60)
    parser.add_argument("--warmup-sim-minutes", type=float, default=12, help="past the rate rules' window")
    parser.add_argument(
        "--inflight", type=int, default=2000, help="unacknowledged messages the broker allows"
    )
    parser.add_argument("--frames", type=int, default=12, help="frames tracemalloc keeps per allocation")
    parser.add_argument(
        "--no-trace", action="store_true", help="RSS and objects only (tracemalloc costs time)"
    )
    args = parser.parse_args()

    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "HUEY_NAME": f"tsur-memory-{soak.RUN}",
        "SECRET_KEY": "bench-" + "x" * 40,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "HUEY_IMMEDIATE": "0",  # jobs wait in the queue (Redis or SQLite): the worker is another process
        "TSUR_NLP_MODEL": "",
        "PUBLIC_INTAKE_RATE": "100000/min",
        "PUBLIC_LOOKUP_RATE": "100000/min",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "TSUR_VAR_DIR": tempfile.mkdtemp(prefix="tsur-memory-"),
        "PYTHONPATH": str(ROOT),
    }
    prepared = argparse.Namespace(database_url=args.database_url, data=args.data, devices=args.devices)
    tokens, payloads = soak.prepare(prepared, env)
    print(
        f"commit {common.commit()}  python {sys.version.split()[0]}  database {args.database_url.split(':')[0]}"
        f"  cache {'Redis' if args.redis_url else 'local memory'}"
        f"  tracemalloc {'off' if args.no_trace else args.frames}"
        f"  load {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    measure = Measure(not args.no_trace, args.frames, caches)
    try:
        if args.part in ("web", "both"):
            web(args, tokens, payloads, measure)
        if args.part in ("mqtt", "both"):
            mqtt(args, measure)
    finally:
        if args.redis_url:
            from huey.contrib.djhuey import HUEY

            HUEY.flush()  # the jobs the requests queued: no worker here


if __name__ == "__main__":
    main()
