"""Pages under load: the server time of the workspace's main pages on PostgreSQL with a register of
100,000 appeals, from several concurrent clients.

Builds (once; `--reuse` keeps it) a database with the demo region's reference data, replays
`--replay` appeals of the region's export through the actions (registration, taking, answers,
closing: real timelines), then copies them in SQL until the register holds `--appeals` appeals
(each copy with its own number and events, its moments a few minutes apart: a region whose
residents write ten times as much). Then it starts gunicorn and asks each page in turn from
`--clients` keep-alive clients for `--seconds`, signed in as the person who works there, and
prints p50/p95/max per page with the commit. Target (issue 16): p95 under 300 ms per page.

    .venv/bin/python bench/web.py [--appeals 100000] [--replay 10000] [--clients 8] [--seconds 20]
                                  [--workers 3] [--reuse]
"""

import argparse
import http.client
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import common  # noqa: E402 - bench/common.py, beside this script

PORT = 8417


def setup_django(env: dict) -> None:
    os.environ.update(env)
    import django

    django.setup()


def fill(data: Path, replay: int, target: int) -> None:
    """Reference data, `replay` appeals through the actions, then copies up to `target` in SQL."""
    from django.db import connection

    from tsur.appeals import actions
    from tsur.appeals.models import Appeal, AppealEvent
    from tsur.demo import region as demo

    region = demo.DemoRegion(demo.read_rows(data))
    region.build_reference()
    demo.write_users(ROOT / "var/bench-web-users.txt", region.users(password="bench-web-pass"))
    rows = region.sample(replay)
    started = time.perf_counter()
    region.replay(rows, progress=lambda n: None)
    actions.mark_deadlines()
    replayed = Appeal.objects.count()
    print(
        f"replayed {replayed} appeals through the actions in {time.perf_counter() - started:.0f} s",
        flush=True,
    )

    def columns(model):
        return [f.column for f in model._meta.concrete_fields if f.column != "id"]

    appeal_columns, event_columns = columns(Appeal), columns(AppealEvent)
    time_columns = {
        f.column for f in Appeal._meta.concrete_fields if f.get_internal_type() == "DateTimeField"
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM appeals_appeal")
        (appeal_top,) = cursor.fetchone()
        cursor.execute("SELECT max(id) FROM appeals_appealevent")
        (event_top,) = cursor.fetchone()
        copies = max(0, -(-target // replayed) - 1)
        started = time.perf_counter()
        for k in range(1, copies + 1):
            shift = f"interval '{k * 7} minutes'"
            values = []
            for column in appeal_columns:
                if column == "number":
                    values.append(f"number || '-{k}'")
                elif column in ("intake_key",):
                    values.append("NULL")
                elif column in time_columns:
                    values.append(f"{column} + {shift}")
                elif column == "merged_into_id":
                    values.append(f"merged_into_id + {k * appeal_top}")
                else:
                    values.append(column)
            limit = min(replayed, target - replayed * k)
            if limit <= 0:
                break
            cursor.execute(
                f"INSERT INTO appeals_appeal (id, {', '.join(appeal_columns)}) "  # noqa: S608 - our own columns
                f"SELECT id + {k * appeal_top}, {', '.join(values)} FROM appeals_appeal "
                f"WHERE id <= {appeal_top} ORDER BY id LIMIT {limit}"
            )
            event_values = [
                f"{c} + {shift}"
                if c == "at"
                else (f"appeal_id + {k * appeal_top}" if c == "appeal_id" else c)
                for c in event_columns
            ]
            cursor.execute(
                f"INSERT INTO appeals_appealevent (id, {', '.join(event_columns)}) "  # noqa: S608
                f"SELECT id + {k * event_top}, {', '.join(event_values)} FROM appeals_appealevent "
                f"WHERE appeal_id <= {appeal_top} AND appeal_id + {k * appeal_top} IN "
                f"(SELECT id FROM appeals_appeal WHERE id > {k * appeal_top})"
            )
        for table in ("appeals_appeal", "appeals_appealevent"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        cursor.execute("ANALYZE")
    print(
        f"copied to {Appeal.objects.count()} appeals, {AppealEvent.objects.count()} events "
        f"in {time.perf_counter() - started:.0f} s",
        flush=True,
    )


def session_for(username: str) -> str:
    """A signed-in session for the demo user, as the sign-in page would make it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from tsur.core.models import User

    user = User.objects.get(username=username)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def pages() -> list[tuple[str, str | None, list[str]]]:
    """(name, who is signed in, the URLs asked in turn) for each page measured."""
    from tsur.appeals.choices import Status
    from tsur.appeals.models import Appeal
    from tsur.core.choices import Role
    from tsur.core.models import RoleAssignment

    rng = random.Random(5)
    # the demo's executor works in the district housing agency, one of the busiest organisations
    executor = RoleAssignment.objects.get(user__username="executor", role=Role.EXECUTOR)
    organisation = executor.organisation_id
    numbers = list(Appeal.objects.order_by("?").values_list("number", flat=True)[:400])
    published = list(
        Appeal.objects.exclude(status__in=[Status.REGISTERED, Status.MODERATION, Status.REJECTED])
        .order_by("?")
        .values_list("number", flat=True)[:400]
    )
    org_numbers = list(
        Appeal.objects.filter(organisation=organisation).order_by("?").values_list("number", flat=True)[:400]
    )
    territories = list(
        Appeal.objects.exclude(territory=None).values_list("territory", flat=True).distinct()[:20]
    )
    words = ["мусор", "яма", "отопление", "освещение", "протечка", "парковка", "снег", "шум"]
    console = [
        f"/console/?queue=all&status=in_work&territory={rng.choice(territories)}&sort=resolution_due"
        for _ in range(50)
    ] + [f"/console/?queue=overdue&page={rng.randint(1, 5)}" for _ in range(50)]
    search = [f"/console/?queue=all&q={urllib.parse.quote(rng.choice(words))}" for _ in range(50)]
    boxes = []
    for _ in range(50):
        lat, lon, span = 59.8 + rng.random() * 0.2, 30.1 + rng.random() * 0.4, 0.05 + rng.random() * 0.3
        boxes.append(f"/map/data.json?bbox={lon:.4f},{lat:.4f},{lon + span:.4f},{lat + span / 2:.4f}&zoom=12")
    boxes += ["/map/data.json?bbox=29.4,59.6,30.9,60.2&zoom=10"] * 10
    return [
        ("console queue + filter", "operator", console),
        ("console search", "operator", search),
        ("appeal card (operator)", "operator", [f"/console/appeals/{n}/" for n in numbers]),
        ("executor queue", "executor", ["/work/", "/work/?page=2"]),
        ("executor card", "executor", [f"/work/appeals/{n}/" for n in org_numbers]),
        ("portal home", None, ["/"]),
        ("public status page", None, [f"/status/{n}/" for n in published]),
        ("public map data", None, boxes),
    ]


def measure(urls: list[str], cookie: str, clients: int, seconds: float) -> tuple[list[float], dict]:
    latencies, statuses, lock = [], {}, threading.Lock()
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        headers = {"Cookie": cookie} if cookie else {}
        while time.perf_counter() < deadline:
            url = urls[next(counter) % len(urls)]
            started = time.perf_counter()
            try:
                conn.request("GET", url, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
                status = 0
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, statuses


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tsur_bench_web"),
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/spb_appeals.csv.gz")
    parser.add_argument("--appeals", type=int, default=100_000)
    parser.add_argument("--replay", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep the database filled by an earlier run")
    args = parser.parse_args()

    env = {
        "DATABASE_URL": args.database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "bench-web-secret-key-" + "x" * 40,
        "DEBUG": "0",
        "TSUR_ENV_FILE": "",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
        "PUBLIC_LOOKUP_RATE": "1000000/min",
        "SECURE_COOKIES": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    env["STATIC_ROOT"] = tempfile.mkdtemp(prefix="tsur-bench-static-")
    tsur = [str(ROOT / ".venv/bin/tsur")]
    subprocess.run(
        [*tsur, "collectstatic", "--noinput", "-v0"], check=True, cwd=ROOT, env={**os.environ, **env}
    )
    if not args.reuse:
        common.fresh_database(args.database_url)
    # on a kept database too: what was added to the schema since it was filled
    subprocess.run([*tsur, "migrate", "-v0"], check=True, cwd=ROOT, env={**os.environ, **env})
    setup_django(env)
    from django.db import connections

    from tsur.appeals.models import Appeal

    if not args.reuse or Appeal.objects.count() < args.appeals:
        fill(args.data, args.replay, args.appeals)
    measured = pages()
    sessions = {who: session_for(who) for _, who, _ in measured if who}
    total = Appeal.objects.count()
    connections.close_all()

    log = Path(env["STATIC_ROOT"]).parent / "tsur-bench-web-server.log"
    print(f"static files in {env['STATIC_ROOT']} ({len(list(Path(env['STATIC_ROOT']).iterdir()))} entries)")
    server = subprocess.Popen(  # noqa: S603
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi",
            f"--bind=127.0.0.1:{PORT}",
            f"--workers={args.workers}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        start_new_session=True,
        stderr=open(log, "w"),  # noqa: SIM115 - the server's log, read if a page fails
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=2).request("GET", "/accounts/login/")
                break
            except OSError:
                time.sleep(0.3)
        print(
            f"bench/web · commit {common.commit()} · {total} appeals · {args.clients} clients · "
            f"{args.workers} gunicorn workers · {args.seconds:.0f} s per page",
            flush=True,
        )
        print(f"{'page':28} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  statuses")
        for name, who, urls in measured:
            cookie = f"sessionid={sessions[who]}" if who else ""
            measure(urls, cookie, args.clients, args.warmup)
            latencies, statuses = measure(urls, cookie, args.clients, args.seconds)
            latencies.sort()
            p50 = statistics.median(latencies) * 1000
            p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000
            mark = "" if p95 < 300 else "  ← over 300 ms"
            print(
                f"{name:28} {len(latencies):8d} {p50:8.0f} {p95:8.0f} {latencies[-1] * 1000:8.0f}  "
                f"{dict(sorted(statuses.items()))}{mark}",
                flush=True,
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
        print(f"server log: {log}")


if __name__ == "__main__":
    main()
