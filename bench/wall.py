"""The wall screen's data at scale: p50/p95 of /situation/'s figures at 100,000 and 1,000,000 appeals
on PostgreSQL, beside the same figures computed naively (every appeal read into Python) in the same
run, and checked equal to them.

    .venv/bin/python bench/wall.py [--sizes 100000,1000000] [--runs 15]

It builds its own database (BENCH_WALL_DATABASE_URL, default …/tsur_s7wall_bench): the default
rubricator, 18 districts, 150 organisations, 30,000 places, and appeals written by one INSERT … SELECT
per 100,000 (two years, denser lately; about 7 % open, a third of those overdue; an event for each
registration and answer) — the same shape `tsur demo_generate` writes, without its texts. Measured:

- `figures`: what a poll computes when the register moved (cache cleared before each run), and the
  map of a view;
- `data.json`: the whole request through Django when the register moved since the client's ETag,
  and when it did not (304);
- `naive`: the counters, overdue by organisation and the map's hexagons from every appeal's row in
  Python (the loop the module avoids).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, commit, fresh_database  # noqa: E402

DATABASE = os.environ.get("BENCH_WALL_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tsur_s7wall_bench")
BATCH = 100_000
PLACES = 30_000
CITY = (59.78, 30.05, 60.08, 30.60)  # south, west, north, east: the screen at zoom 11
ZOOMED = (59.92, 30.29, 59.95, 30.35)  # about 3 km around the centre at zoom 14


def prepare() -> None:
    fresh_database(DATABASE)
    env = {**os.environ, "DATABASE_URL": DATABASE, "TSUR_ENV_FILE": "", "SECRET_KEY": "bench", "DEBUG": "0"}
    env.pop("REDIS_URL", None)
    for command in (["migrate", "-v0"], ["load_rubricator"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)


def setup_django() -> None:
    os.environ.update({"DATABASE_URL": DATABASE, "TSUR_ENV_FILE": "", "SECRET_KEY": "bench", "DEBUG": "0"})
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1")
    import django

    django.setup()


def reference():
    import random

    from tsur.core.choices import OrganisationKind, Role, TerritoryKind
    from tsur.core.models import Organisation, RoleAssignment, Territory, User

    rng = random.Random(7)
    region = Territory.objects.create(name="Регион", kind=TerritoryKind.REGION, code="bench-region")
    districts = [
        Territory.objects.create(
            name=f"Район {i}", kind=TerritoryKind.CITY_DISTRICT, code=f"bench-{i}", parent=region
        )
        for i in range(18)
    ]
    organisations = [
        Organisation.objects.create(name=f"Организация {i}", kind=OrganisationKind.AGENCY) for i in range(150)
    ]
    analyst = User.objects.create(username="bench-analyst")
    RoleAssignment.objects.create(user=analyst, role=Role.ANALYST)
    # places clustered like a city's houses: denser in the centre
    places = []
    for _ in range(PLACES):
        places.append((59.93 + rng.gauss(0, 0.045), 30.32 + rng.gauss(0, 0.09)))
    return districts, organisations, places


def fill(start: int, stop: int, districts, organisations, places) -> None:
    from django.db import connection

    from tsur.appeals.models import Appeal, Topic

    topics = list(Topic.objects.values_list("pk", flat=True))
    explicit = {
        "number": "'B-' || g",
        "channel": "'portal'",
        "text": "'Обращение ' || g",
        "latitude": "lats[1 + (pidx %% @places@)]",
        "longitude": "lons[1 + (pidx %% @places@)]",
        "territory_id": "tids[1 + (pidx %% @districts@)]",
        "topic_id": "topics[1 + floor(r3 * @topics@)::int]",
        "organisation_id": "orgs[1 + floor(r4 * @orgs@)::int]",
        "priority": "'normal'",
        "status": "status",
        "registered_at": "reg",
        "clock_started_at": "reg",
        "resolution_due": "reg + interval '10 days'",
        "answered_at": "CASE WHEN status IN ('answered', 'closed') THEN reg + interval '4 days' END",
        "closed_at": "CASE WHEN status = 'closed' THEN reg + interval '9 days' END",
        "deadline_state": (
            "CASE WHEN status NOT IN ('closed', 'rejected', 'answered') AND reg < now() - interval '14 days' "
            "THEN 'overdue' ELSE 'ok' END"
        ),
        "updated_at": "now()",
        "attributes": "'{}'::jsonb",
    }
    columns, values = [], []
    for field in Appeal._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(f'"{field.column}"')
        if field.name in explicit or field.column in explicit:
            values.append(explicit.get(field.name) or explicit[field.column])
        elif field.null:
            values.append("NULL")
        elif field.get_internal_type() in ("CharField", "TextField", "EmailField", "URLField", "SlugField"):
            values.append("''")
        elif field.get_internal_type() == "JSONField":
            values.append("'{}'::jsonb")
        elif field.get_internal_type() == "BooleanField":
            values.append("false")
        else:
            values.append("0")
    sizes = {
        "places": len(places),
        "districts": len(districts),
        "topics": len(topics),
        "orgs": len(organisations),
    }
    select = ", ".join(values)
    for name, n in sizes.items():
        select = select.replace(f"@{name}@", str(n))
    # age: two years, denser lately; the last month's appeals are still being worked
    sql = f"""
    INSERT INTO appeals_appeal ({", ".join(columns)})
    SELECT {select} FROM (
      SELECT g, pidx, r3, r4, reg,
        CASE
          WHEN reg > now() - interval '30 days' THEN
            CASE WHEN r1 < 0.08 THEN 'moderation' WHEN r1 < 0.40 THEN 'in_work' WHEN r1 < 0.55 THEN 'assigned'
                 WHEN r1 < 0.70 THEN 'answered' ELSE 'closed' END
          ELSE CASE WHEN r1 < 0.03 THEN 'rejected' WHEN r1 < 0.045 THEN 'in_work' ELSE 'closed' END
        END AS status
      FROM (
        SELECT g, floor(random() * 1e9)::bigint AS pidx, random() AS r1, random() AS r3, random() AS r4,
               now() - power(random(), 1.7) * interval '730 days' AS reg
        FROM generate_series(%(start)s, %(stop)s - 1) g
      ) raw
    ) s,
    (SELECT %(lats)s::float8[] AS lats, %(lons)s::float8[] AS lons, %(tids)s::int[] AS tids,
            %(topics)s::int[] AS topics, %(orgs)s::int[] AS orgs) arrays
    """
    params = {
        "start": start,
        "stop": stop,
        "lats": [p[0] for p in places],
        "lons": [p[1] for p in places],
        "tids": [d.pk for d in districts],
        "topics": topics,
        "orgs": [o.pk for o in organisations],
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.execute(
            """
            INSERT INTO appeals_appealevent (appeal_id, kind, at, status_from, status_to, reason, data, public)
            SELECT id, 'registered', registered_at, '', 'registered', '', '{}'::jsonb, false FROM appeals_appeal
            WHERE id > coalesce((SELECT max(appeal_id) FROM appeals_appealevent), 0)
            UNION ALL
            SELECT id, 'answered', answered_at, 'in_work', 'answered', '', '{}'::jsonb, true FROM appeals_appeal
            WHERE answered_at IS NOT NULL AND id > coalesce((SELECT max(appeal_id) FROM appeals_appealevent), 0)
            """
        )


def percentiles(samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return f"p50 {statistics.median(samples) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms"


def timed(function, runs: int, before=None) -> tuple[list[float], object]:
    samples, result = [], None
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        result = function()
        samples.append(time.perf_counter() - started)
    return samples, result


def naive(now):
    """The same figures from every appeal's row, in Python."""
    import h3

    from tsur.analytics import live
    from tsur.appeals.choices import RUNNING_STATUSES
    from tsur.appeals.lifecycle import OPEN_STATUSES
    from tsur.appeals.models import Appeal, AppealEvent

    start, end = live.today(now)
    counts = {"received": 0, "open": 0, "overdue": 0, "moderation": 0}
    by_org: dict[int, int] = {}
    cells: dict[str, int] = {}
    fields = ("status", "resolution_due", "first_response_due", "first_responded_at")
    for status, due, first_due, responded, registered, org, lat, lon in Appeal.objects.values_list(
        *fields, "registered_at", "organisation", "latitude", "longitude"
    ).iterator(chunk_size=20_000):
        if start <= registered < end:
            counts["received"] += 1
        if status in OPEN_STATUSES:
            counts["open"] += 1
            # «просрочено» as the register defines it (decision 0025), recounted by hand
            late = (due is not None and due < now) or (
                responded is None and first_due is not None and first_due < now
            )
            if status in RUNNING_STATUSES and late:
                counts["overdue"] += 1
                if org is not None:
                    by_org[org] = by_org.get(org, 0) + 1
            if status in ("registered", "moderation"):
                counts["moderation"] += 1
            if lat is not None:
                cell = h3.latlng_to_cell(lat, lon, 8)
                cells[cell] = cells.get(cell, 0) + 1
    answered = {
        a
        for a, at in AppealEvent.objects.filter(kind="answered").values_list("appeal_id", "at").iterator()
        if start <= at < end
    }
    counts["answered"] = len(answered)
    return counts, sorted(by_org.values(), reverse=True)[: live.TOP], cells


def measure(size: int, runs: int, naive_runs: int) -> dict:
    from django.core.cache import cache
    from django.test import Client
    from django.utils import timezone

    from tsur.analytics import live
    from tsur.appeals.models import Appeal, AppealEvent
    from tsur.core.models import User

    analyst = User.objects.get(username="bench-analyst")
    now = timezone.now()
    results = {}
    samples, figures = timed(lambda: live.figures(analyst, timezone.now()), runs, before=cache.clear)
    results["figures"] = samples
    for part, function in (
        ("  counters", lambda: live.counters(Appeal.objects.all(), now)),
        ("  rising", lambda: live.rising(Appeal.objects.all(), now)),
        ("  overdue by organisation", lambda: live.overdue_by_organisation(Appeal.objects.all(), now)),
        ("  map, the city at resolution 7", lambda: live.map_cells(Appeal.objects.all(), 7, CITY)),
        ("  map, the city at resolution 8", lambda: live.map_cells(Appeal.objects.all(), 8, CITY)),
        ("  map, 3 km at resolution 9", lambda: live.map_cells(Appeal.objects.all(), 9, ZOOMED)),
    ):
        results[part] = timed(function, max(5, runs // 3))[0]

    client = Client()
    client.force_login(analyst)
    live.FRESH = 0
    appeal_id = AppealEvent.objects.values_list("appeal_id", flat=True).first()

    def moved():  # the register moves between two polls: a new timeline event
        AppealEvent.objects.create(appeal_id=appeal_id, kind="commented", at=timezone.now())

    etag = {"value": ""}

    def poll():
        view = {"res": 7, "bbox": "30.05,59.78,30.60,60.08"}
        response = client.get("/situation/data.json", view, headers={"if-none-match": etag["value"]})
        assert response.status_code in (200, 304), response.status_code
        etag["value"] = response["ETag"]
        return response

    poll()
    results["data.json, register moved"] = timed(poll, runs, before=moved)[0]
    poll()
    results["data.json, nothing changed (304)"] = timed(poll, runs)[0]
    assert poll().status_code == 304

    naive_samples, (counts, by_org, cells) = timed(lambda: naive(now), naive_runs)
    results["naive (every appeal in Python)"] = naive_samples
    # at the naive count's own moment: «overdue» moves with the clock
    ours = {c["key"]: c["value"] for c in live.counters(Appeal.objects.all(), now)}
    ours_by_org = [o["value"] for o in live.overdue_by_organisation(Appeal.objects.all(), now)]
    ours_cells = {cell: n for cell, (n, _, _) in live.cells(Appeal.objects.all(), 8).items()}
    exact = sum(1 for cell, n in cells.items() if ours_cells.get(cell) == n) / max(len(cells), 1)
    print(f"  check: counters equal to the naive ones: {ours == counts} ({ours})")
    print(f"  check: overdue by organisation equal: {ours_by_org == by_org}")
    print(
        f"  check: map at resolution 8: {sum(ours_cells.values())} appeals in {len(ours_cells)} cells "
        f"(naive {sum(cells.values())} in {len(cells)}); {exact:.1%} of cells with the same count "
        "(the rest differ by appeals within an eighth of an edge of a border)"
    )
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--reuse", action="store_true", help="measure the database a previous run filled")
    parser.add_argument("--naive-runs", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"bench/wall.py at commit {commit()}, PostgreSQL {DATABASE.rsplit('/', 1)[0]}/…")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    if not args.reuse:
        prepare()
    setup_django()
    from django.db import connection

    from tsur.appeals.models import Appeal

    if args.reuse:
        districts = organisations = places = None
        filled = Appeal.objects.count()
    else:
        districts, organisations, places = reference()
        filled = 0
    table = []
    for size in sizes:
        started = time.perf_counter()
        while filled < size:
            step = min(BATCH, size - filled)
            fill(filled, filled + step, districts, organisations, places)
            filled += step
            print(f"  {filled:,} appeals written", end="\r", flush=True)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE appeals_appeal")
            cursor.execute("VACUUM ANALYZE appeals_appealevent")
            cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('appeals_appeal'))")
            table_size = cursor.fetchone()[0]
        print(
            f"\n{size:,} appeals (written in {time.perf_counter() - started:.0f} s; appeals table {table_size}):"
        )
        print(f"  load average {os.getloadavg()[0]:.1f}")
        results = measure(size, args.runs, args.naive_runs)
        for name, samples in results.items():
            print(f"  {name:38s} {percentiles(samples)}")
        table.append((size, results))
    if len(table) > 1:
        (a, ra), (b, rb) = table[0], table[-1]
        for name in ("figures", "data.json, register moved", "naive (every appeal in Python)"):
            grow = statistics.median(rb[name]) / statistics.median(ra[name])
            print(f"growth {a:,} → {b:,}: {name}: ×{grow:.1f} for ×{b / a:.0f} appeals")


if __name__ == "__main__":
    main()
