"""Soak: the platform under a realistic mix for many minutes on PostgreSQL + Redis.

Builds a fresh PostgreSQL database with the demo region's reference data, starts gunicorn, the job
worker (`tsur run_huey`, Huey on Redis), its own Mosquitto and the telemetry consumer, and drives:

- portal filings (anonymous) and filings by an agency's system (token, its own ids);
- the lifecycle of the system's appeals through the REST API: an executor takes and answers each,
  an operator closes it (the steps plan notices: stored deliveries sent by the worker);
- operators' list reads, Open311 GETs (the list and one request) and POSTs (with an api key);
- telemetry over MQTT from simulated controllers (`tsur dispatch_simulate`, a process of its own).

The filing rate is twice a large region's peak day (`--peak-day`, 15,000 appeals by default: a
snowfall in a region of several million), at its peak-hour rate held steady, the busiest hour
carrying the same share of the day as in the region's data (../shared/data/spb_appeals.csv.gz),
times `--scale`. It prints the commit, the error rate and p50/p99 per endpoint, the memory (RSS) of
each process at the start (after the warm-up) and the end, and the job queue's depth and the
deliveries waiting over time.

    .venv/bin/python bench/soak.py [--minutes 20] [--scale 1] [--readings 200] [--workers 3] [--prefill 1100]
"""

import argparse
import collections
import csv
import gzip
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TSUR = str(ROOT / ".venv/bin/tsur")
import common  # noqa: E402 - bench/common.py, beside this script
import intake  # noqa: E402
import telemetry  # noqa: E402

RUN = f"{time.time():.0f}"
BACKLOG = 48  # jobs waiting for the driver's 12 threads at most; beyond, a job is counted and dropped


def peak_rate(data: Path) -> tuple[int, int, float]:
    """(appeals on the peak day, in its busiest hour, filings per second to drive: 2 × that hour)."""
    days, hours = collections.Counter(), collections.Counter()
    with gzip.open(data, "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            days[row["created_at"][:10]] += 1
            hours[row["created_at"][:13]] += 1
    day, on_day = days.most_common(1)[0]
    in_hour = max(n for hour, n in hours.items() if hour.startswith(day))
    return on_day, in_hour, 2 * in_hour / 3600


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = collections.defaultdict(list)
        self.errors = collections.Counter()
        self.refused = collections.Counter()  # 4xx: counted apart, not errors of the platform
        self.first_errors = []

    def record(self, name: str, seconds: float, status: int, detail: str = ""):
        with self.lock:
            self.latency[name].append(seconds)
            if 400 <= status < 500:
                self.refused[name] += 1
            if status >= 500 or status == 0:
                self.errors[name] += 1
                if len(self.first_errors) < 5:
                    self.first_errors.append(f"{name} {status} {detail[:200]}")


class Client:
    def __init__(self, base: str, stats: Stats):
        self.base, self.stats = base, stats

    def call(self, name, method, path, body=None, token="", form=False, expect=(200, 201)):
        headers = {}
        data = None
        if body is not None:
            if form:
                data = urllib.parse.urlencode(body).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Token {token}"
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        started = time.perf_counter()
        status, answer = 0, None
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, answer = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, answer = error.code, error.read()
        except OSError as error:
            answer = str(error).encode()
        self.stats.record(
            name, time.perf_counter() - started, status, (answer or b"").decode(errors="replace")
        )
        if status in expect and answer:
            try:
                return json.loads(answer)
            except ValueError:
                return None
        return None


class Mix:
    """The soak's requests, called through `call(name, method, path, body=None, token="", form=False)`
    (HTTP in the soak, the WSGI application in one process in bench/memory.py). `pause()` runs
    between a system's appeal's steps (an executor takes a few seconds)."""

    def __init__(self, call, tokens: dict, payloads: list[dict], rng: random.Random, pause=lambda: None):
        self.call, self.tokens, self.payloads, self.rng, self.pause = call, tokens, payloads, rng, pause
        self.numbers = collections.deque(maxlen=500)  # public numbers for Open311 reads
        self.counter = itertools.count()

    def jobs(self) -> list[tuple]:
        """(job, share): per filing 0.5 portal, 0.4 system (each with its lifecycle), 0.1 Open311;
        6 reads per filing."""
        return [
            (self.portal, 0.5),
            (self.system_and_lifecycle, 0.4),
            (self.open311_post, 0.1),
            (self.reads, 6.0),
        ]

    def portal(self):
        p = self.rng.choice(self.payloads)
        body = {k: p[k] for k in ("text", "address", "latitude", "longitude")}
        body["personal_data_consent"] = True  # required on the portal (152-ФЗ)
        self.call("POST /api/v1/appeals/ (portal)", "POST", "/api/v1/appeals/", body)

    def system_and_lifecycle(self):
        n = next(
            self.counter
        )  # the citizen's e-mail: the steps notify them (stored deliveries, the worker sends)
        tokens = self.tokens
        body = {
            **self.rng.choice(self.payloads),
            "external_id": f"soak-{RUN}-{n}",
            "author_email": f"resident{n}@example.org",
        }
        answer = self.call(
            "POST /api/v1/appeals/ (system)", "POST", "/api/v1/appeals/", body, tokens["operator"]
        )
        if not answer or answer.get("status") != "assigned":
            return
        number = answer["number"]
        self.numbers.append(number)
        path = f"/api/v1/appeals/{number}"
        self.pause()
        self.call("POST {n}/take/", "POST", f"{path}/take/", {}, tokens["executor"])
        self.call("GET {n}/", "GET", f"{path}/", token=tokens["executor"])
        self.pause()
        self.call(
            "POST {n}/answer/", "POST", f"{path}/answer/", {"text": "Работы выполнены."}, tokens["executor"]
        )
        self.call("POST {n}/close/", "POST", f"{path}/close/", {"reason": "Проверено"}, tokens["operator"])

    def reads(self):
        self.call(
            "GET /api/v1/appeals/ (operator list)",
            "GET",
            "/api/v1/appeals/?status=assigned",
            token=self.tokens["operator"],
        )
        # an application with its key (anonymous readers are limited per address, and the bench is one address)
        key = f"?api_key={self.tokens['open311']}"
        self.call("GET /open311/v2/requests.json", "GET", f"/open311/v2/requests.json{key}")
        if self.numbers:
            number = self.rng.choice(self.numbers)
            self.call("GET /open311/v2/requests/{n}.json", "GET", f"/open311/v2/requests/{number}.json{key}")

    def open311_post(self):
        p = self.rng.choice(self.payloads)
        body = {"api_key": self.tokens["open311"], "service_code": p["topic"], "description": p["text"][:1000],
                "lat": p["latitude"], "long": p["longitude"], "personal_data_consent": "true"}  # fmt: skip
        self.call("POST /open311/v2/requests.json", "POST", "/open311/v2/requests.json", body, form=True)


def prepare(args, env):
    token, payloads = intake.prepare(args.database_url, args.data, env)
    from rest_framework.authtoken.models import Token

    from tsur.core.choices import Role
    from tsur.core.models import RoleAssignment, User
    from tsur.dispatch import simulator
    from tsur.open311.models import ApiClient

    admin, created = User.objects.get_or_create(username="bench-executor")
    if created:  # takes and answers appeals of every organisation (an executor is scoped to one)
        RoleAssignment.objects.create(user=admin, role=Role.ADMINISTRATOR)
    executor = Token.objects.get_or_create(user=admin)[0].key
    system, created = User.objects.get_or_create(username="bench-system")
    if created:
        RoleAssignment.objects.create(user=system, role=Role.SYSTEM)
    system_token = Token.objects.get_or_create(user=system)[0].key
    _client, key = ApiClient.issue(name="bench-open311", channel_name="Бенчмарк", rate_per_minute=100000)
    simulator.fleet(args.devices, prefix="soak")
    from django.db import connections

    connections.close_all()
    return {"operator": token, "executor": executor, "system": system_token, "open311": key}, payloads


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def processes(named: dict[str, subprocess.Popen]) -> dict[str, int]:
    """Each process and its children (gunicorn's workers), by a readable name."""
    found = {}
    for name, process in named.items():
        found[name] = process.pid
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        if children.exists():
            for n, child in enumerate(children.read_text().split()):
                found[f"{name} child {n + 1}"] = int(child)
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_SOAK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tsur_bench_soak"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_SOAK_REDIS_URL", "redis://127.0.0.1:6379/7")
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/spb_appeals.csv.gz")
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=30, help="seconds before the first memory reading")
    parser.add_argument("--scale", type=float, default=1.0, help="times the derived filing rate")
    parser.add_argument(
        "--peak-day",
        type=int,
        default=15000,
        help="appeals on a large region's peak day (the export is a sample of one city's portal, so its "
        "own peak day is far smaller); 0: the export's peak day itself",
    )
    parser.add_argument(
        "--prefill", type=int, default=1100, help="Open311 filings (published at once) before the warm-up"
    )
    parser.add_argument("--devices", type=int, default=200, help="simulated controllers")
    parser.add_argument("--readings", type=float, default=200, help="readings a second over MQTT")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()

    commit = common.commit()  # what the processes run, whatever is committed while they do
    on_day, in_hour, rate = peak_rate(args.data)
    if args.peak_day:
        # the region's peak day, shaped like the export's: its busiest hour carries the same share
        rate = 2 * args.peak_day * (in_hour / on_day) / 3600
        on_day, in_hour = args.peak_day, round(args.peak_day * in_hour / on_day)
    rate *= args.scale
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "HUEY_NAME": f"tsur-soak-{RUN}",
        "SECRET_KEY": "bench-" + "x" * 40,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LOG_LEVEL": "WARNING",
        "HUEY_IMMEDIATE": "0",
        "TSUR_NLP_MODEL": "",
        "PUBLIC_INTAKE_RATE": "100000/min",
        "PUBLIC_LOOKUP_RATE": "100000/min",
        # sent and forgotten: the locmem backend keeps every message in the worker's memory (its
        # `outbox` grows with each delivery), which is the bench's growth, not the platform's
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "TSUR_VAR_DIR": tempfile.mkdtemp(prefix="tsur-soak-"),
        "PYTHONPATH": str(ROOT),  # `tsur` imports this checkout, not the one the venv was installed from
    }
    tokens, payloads = prepare(args, env)
    directory = Path(tempfile.mkdtemp(prefix="tsur-soak-mqtt-"))
    broker, mqtt_port = telemetry.start_broker(directory)
    mqtt = f"mqtt://127.0.0.1:{mqtt_port}"
    started = {
        "gunicorn": subprocess.Popen(  # noqa: S603
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{args.port}",
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        ),  # fmt: skip
        "huey": subprocess.Popen(
            [TSUR, "run_huey"],
            cwd=ROOT,
            env=env,
            start_new_session=True,  # noqa: S603
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),  # fmt: skip
        "mqtt consumer": subprocess.Popen(  # noqa: S603
            [TSUR, "dispatch_consume", "--url", mqtt, "--client-id", f"tsur-soak-{RUN}"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
        ),  # fmt: skip
    }
    seconds = args.minutes * 60
    os.environ.update(env)
    from huey.contrib.djhuey import HUEY

    from tsur.notify.models import Delivery, DeliveryState

    stats = Stats()
    api = Client(f"http://127.0.0.1:{args.port}", stats)
    pool = ThreadPoolExecutor(max_workers=12)
    rng = random.Random(7)
    driver = Mix(api.call, tokens, payloads, rng, pause=lambda: time.sleep(rng.uniform(1, 5)))
    mix = driver.jobs()
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{args.port}/api/v1/blocks/", timeout=1)  # noqa: S310
            break
        except OSError:
            time.sleep(0.2)
    prefilled = time.monotonic()
    # the register at the size where its pages stop growing (an Open311 list shows up to 1,000
    # requests): otherwise a worker's memory follows the pages' growth through the whole soak
    list(pool.map(lambda _: driver.open311_post(), range(args.prefill)))
    prefilled = time.monotonic() - prefilled
    simulate = subprocess.Popen(  # noqa: S603
        [TSUR, "dispatch_simulate", "--devices", str(args.devices), "--rate", str(args.readings),
         "--duration", str(seconds + args.warmup), "--faults", "--faults-per-minute", "2", "--mqtt", mqtt,
         "--prefix", "soak"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    start = time.monotonic()
    memory_start, depth, memory_track = None, [], []
    in_flight, behind = set(), collections.Counter()
    next_at = {job: start for job, _ in mix}
    next_sample = start
    end = start + args.warmup + seconds
    try:
        while time.monotonic() < end:
            now = time.monotonic()
            for job, share in mix:
                if now >= next_at[job]:
                    if len(in_flight) < BACKLOG:
                        future = pool.submit(job)
                        in_flight.add(future)
                        future.add_done_callback(in_flight.discard)
                    else:  # the platform (or the machine) is slower than the mix: not queued without end
                        behind[job.__name__] += 1
                    next_at[job] = now + rng.expovariate(rate * share)
            if memory_start is None and now - start >= args.warmup:
                memory_start = {name: rss_mb(pid) for name, pid in processes(started).items()}
                stats.latency.clear()
                stats.errors.clear()
                stats.refused.clear()
            if now >= next_sample:
                waiting = Delivery.objects.filter(
                    state__in=[DeliveryState.PENDING, DeliveryState.RETRYING]
                ).count()
                depth.append((now - start, HUEY.pending_count(), waiting))
                if memory_start is not None:
                    memory_track.append({name: rss_mb(pid) for name, pid in processes(started).items()})
                    print(  # as it goes: a run stopped early still tells its memory
                        f"{now - start:6.0f} s  RSS MB "
                        + "  ".join(f"{n} {m:.1f}" for n, m in sorted(memory_track[-1].items()))
                        + f"  load {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
                next_sample = now + max(10.0, seconds / 30)
            time.sleep(max(0.0, min(min(next_at.values()), next_sample) - time.monotonic()))
        pool.shutdown(wait=True, cancel_futures=True)
        memory_end = {name: rss_mb(pid) for name, pid in processes(started).items()}
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM dispatch_reading")
            readings = cursor.fetchone()[0]
            cursor.execute("SELECT state, count(*) FROM notify_delivery GROUP BY state ORDER BY state")
            deliveries = dict(cursor.fetchall())
    finally:
        simulate.terminate()
        for process in started.values():
            os.killpg(process.pid, signal.SIGTERM)
        for process in started.values():
            process.wait(timeout=30)
        broker.terminate()
        broker.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)

    print(
        f"commit {commit}  cores {os.cpu_count()}  gunicorn workers {args.workers}  "
        f"{args.minutes:g} min after {args.warmup:g} s warm-up  PostgreSQL + Redis"
    )
    print(
        f"rate: peak day {on_day} appeals, its busiest hour {in_hour}; driven at 2 × that hour × {args.scale:g}"
        f" = {rate * 3600:.0f} filings/h ({rate:.3f}/s), each with 6 reads; telemetry {args.readings:g} readings/s"
        f" from {args.devices} controllers over MQTT"
    )
    if behind:
        print(f"not sent, the driver {BACKLOG} jobs behind: {dict(behind)}")
    print(
        f"register filled first with {args.prefill} Open311 filings in {prefilled:.0f} s (not counted below)"
    )
    total = sum(len(v) for v in stats.latency.values())
    failed = sum(stats.errors.values())
    print(f"requests {total}, server errors or no answer {failed} ({100 * failed / max(total, 1):.2f} %)")
    print(f"{'endpoint':42} {'n':>7} {'err':>5} {'4xx':>5} {'p50 ms':>8} {'p99 ms':>8}")
    for name in sorted(stats.latency):
        values = sorted(stats.latency[name])
        p50 = values[len(values) // 2] * 1000
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))] * 1000
        print(
            f"{name:42} {len(values):7} {stats.errors[name]:5} {stats.refused[name]:5} {p50:8.1f} {p99:8.1f}"
        )
    print(f"readings stored {readings}; deliveries by state {deliveries}")
    # the middle tells growth that levels off (caches and pools filling) from growth that goes on
    middle = memory_track[len(memory_track) // 2] if memory_track else {}
    print("memory RSS MB (start → middle → end; growth in the second half):")
    for name in sorted(memory_end):
        before, half = (memory_start or {}).get(name, 0.0), middle.get(name, 0.0)
        print(
            f"  {name:28} {before:7.1f} → {half:7.1f} → {memory_end[name]:7.1f}  "
            f"({memory_end[name] - before:+.1f}; second half {memory_end[name] - half:+.1f})"
        )
    if memory_track:  # every sample, to see where a curve flattens
        print("memory RSS MB over time (every sample after the warm-up):")
        for name in sorted(memory_end):
            print(f"  {name:28} " + " ".join(f"{m.get(name, 0.0):.0f}" for m in memory_track))
    print(f"load average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    print(
        "queue over time (s: jobs queued, deliveries waiting): "
        + ", ".join(f"{t:.0f}: {q}, {w}" for t, q, w in depth)
    )
    if stats.first_errors:
        print("first errors:", *stats.first_errors, sep="\n  ")


if __name__ == "__main__":
    main()
