"""Analytics benchmark (PostgreSQL): the quarter's KPI table over all organisations, the ratings, the
wall screen's figures (bench/wall.py's naive count, on this register) and one drill-down list,
each read from the per-appeal facts and computed naively from the raw tables (appeals and their
timeline events) in the same run, while appeals keep being filed; at the end the KPI table is
checked against a naive recount.

- a fresh database (`--database-url`, default …/tsur_bench_analytics) gets N generated appeals from
  `tsur demo_generate --appeals N` (run in `--generator`, a checkout that has the command: this one
  once it is merged, or the s7-scale worktree), then `tsur analytics_rebuild` builds the facts
  (the generator writes the history around the actions, so the facts are built afterwards, timed);
- a second process files appeals through `actions.register` (and takes and answers some) during the
  whole measurement, `--rate` a second; their facts follow in the same transaction;
- measured: p50/p95 of `--runs` reads of each figure from the facts, and of `--naive-runs` naive
  computations (every appeal of the period read with its events, derived and counted in Python);
- checked: after the filing stops, the KPI table from the facts equals the naive recount, group by
  group and count by count (percentiles to 1e-6).

    .venv/bin/python bench/analytics.py --appeals 100000 [--generator /work/wt-s7-scale] [--reuse]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import common  # noqa: E402 - bench/common.py, beside this script

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tsur_bench_analytics"


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["TSUR_NLP_MODEL"] = ""  # the filer routes by the organisation it names
    import django

    django.setup()


def generate(args) -> None:
    common.fresh_database(args.database_url)
    env = {**os.environ, "DATABASE_URL": args.database_url, "DEBUG": "1", "TSUR_NLP_MODEL": ""}
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    started = time.perf_counter()
    command = [python, "manage.py", "demo_generate", "--appeals", str(args.appeals), "--days", str(args.days)]
    subprocess.run(command, cwd=args.generator, env=env, check=True)
    print(f"generated {args.appeals:,} appeals in {time.perf_counter() - started:.0f} s ({args.generator})")
    started = time.perf_counter()
    subprocess.run([python, "manage.py", "analytics_rebuild", "-v", "0"], cwd=ROOT, env=env, check=True)
    print(f"facts rebuilt in {time.perf_counter() - started:.1f} s")


# ------------------------------------------------------------------ filing during the measurement


def filer(args) -> None:
    """Another process: appeals filed, some taken and answered, at `--rate` a second."""
    setup_django(args.database_url)
    import random

    from tsur.appeals import actions
    from tsur.appeals.choices import Channel
    from tsur.appeals.models import Topic
    from tsur.core.errors import DomainError
    from tsur.core.models import Organisation, Territory

    rng = random.Random(7)
    topics = list(Topic.objects.all()[:200])
    organisations = list(Organisation.objects.all()[:200])
    territories = list(Territory.objects.exclude(parent=None)[:200])
    filed, stop = 0, time.monotonic() + args.seconds
    while time.monotonic() < stop:
        try:
            appeal, _ = actions.register(
                channel=Channel.PORTAL,
                text="Во дворе не убран мусор, контейнеры переполнены",
                topic=rng.choice(topics),
                organisation=rng.choice(organisations),
                territory=rng.choice(territories),
                address=f"ул. Бенчмарка, д. {rng.randint(1, 400)}",
            )
        except DomainError:  # a management company's topic asks for the complaint book's ticket first
            continue
        filed += 1
        if rng.random() < 0.3:
            actions.take(appeal, None)
            actions.answer(appeal, None, text="Мусор вывезен")
        time.sleep(max(0.0, 1 / args.rate - 0.005))
    print(filed, flush=True)


# ------------------------------------------------------------------ the naive computation


def timelines(appeals: dict) -> dict[int, list]:
    """The events of the appeals that match `appeals` (an Appeal filter), in time order, by appeal."""
    from tsur.analytics import facts
    from tsur.appeals.models import AppealEvent

    found = defaultdict(list)
    for appeal_id, *rest in (
        AppealEvent.objects.filter(**{f"appeal__{k}": v for k, v in appeals.items()})
        .order_by("appeal_id", "at", "pk")
        .values_list("appeal_id", *facts.EVENT_FIELDS)
        .iterator(chunk_size=20_000)
    ):
        found[appeal_id].append(facts.Event(*rest))
    return found


def naive_counts(period, column: str, now) -> dict:
    """The KPI counts per group straight from the appeals and their events: every appeal of the
    period read with its timeline, derived and counted here."""
    from tsur.analytics import facts, kpi
    from tsur.appeals.choices import RUNNING_STATUSES
    from tsur.appeals.models import Appeal

    within = {"registered_at__gte": period.start, "registered_at__lt": period.end}
    events = timelines(within)
    earlier = defaultdict(list)  # (topic, place) → registration moments, for the repeats
    for topic, building, address, at in (
        Appeal.objects.filter(
            registered_at__gte=period.start - facts.REPEAT_WINDOW, registered_at__lt=period.end
        )
        .values_list("topic_id", "building_id", "address", "registered_at")
        .iterator(chunk_size=20_000)
    ):
        earlier[topic, facts.place_key(building, address)].append(at)
    for moments in earlier.values():
        moments.sort()
    groups = defaultdict(lambda: defaultdict(int))
    times = defaultdict(lambda: defaultdict(list))
    for row in Appeal.objects.filter(**within).values(*facts.APPEAL_FIELDS).iterator(chunk_size=20_000):
        f = facts.derive(row, events.get(row["pk"], []), now)
        key = f[column]
        repeat = bool(f["place_key"] and f["topic_id"]) and any(
            f["registered_at"] - facts.REPEAT_WINDOW <= t < f["registered_at"]
            for t in earlier[f["topic_id"], f["place_key"]]
        )
        flags = {
            "received": True,
            "answered": f["answered"],
            "answered_on_time": f["answered"] and f["answered_on_time"],
            "answered_late": f["answered"] and not f["answered_on_time"],
            # the register's «просрочено» (decision 0025), recounted here by hand
            "overdue_now": f["status"] in RUNNING_STATUSES
            and (
                (f["resolution_due"] is not None and f["resolution_due"] < now)
                or (
                    f["first_response_at"] is None
                    and f["first_response_due"] is not None
                    and f["first_response_due"] < now
                )
            ),
            "ever_answered": f["ever_answered"],
            "reopened": f["reopened"] > 0,
            "redirected": f["redirected"] > 0,
            "auto_routed": f["auto_routed"],
            "rated": f["rating"] is not None,
            "confirmed": f["confirmed"],
            "repeat": repeat,
            "first_responded": f["first_response_wsec"] is not None,
            "resolved": f["resolution_wsec"] is not None,
        }
        group = groups[key]
        for name, flag in flags.items():
            group[name] += bool(flag)
        group["rating_sum"] += f["rating"] or 0
        for col in ("first_response_wsec", "resolution_wsec"):
            if f[col] is not None:
                times[key][col].append(f[col])
    for key, group in groups.items():
        for name, (col, fraction) in kpi.PERCENTILES.items():
            group[name] = kpi.percentile(sorted(times[key][col]), fraction)
    return {k: dict(v) for k, v in groups.items()}


def naive_table(period, dimension: str, now) -> dict:
    from tsur.analytics import kpi

    column = kpi.DIMENSIONS[dimension].column
    return {k: (c, kpi.evaluate(c)) for k, c in naive_counts(period, column, now).items()}


def naive_ratings(period, now) -> list:
    from tsur.analytics import ratings

    w = ratings.weights()
    current, before = (
        naive_table(period, "municipality", now),
        naive_table(period.previous(), "municipality", now),
    )
    found = []
    for key, (counts, values) in current.items():
        previous = None
        if key in before:
            previous = ratings.index(before[key][1], before[key][0], w)[0]
        found.append((key, ratings.index(values, counts, w)[0], previous))
    return sorted(found, key=lambda x: -(x[1] or 0))


# ------------------------------------------------------------------ measuring


def timed(function, runs: int) -> tuple[list[float], object]:
    result, laps = None, []
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        laps.append((time.perf_counter() - started) * 1000)
    return laps, result


def p(laps: list[float], q: float) -> float:
    ordered = sorted(laps)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def line(name: str, fast: list[float], naive: list[float]) -> str:
    ratio = statistics.median(naive) / statistics.median(fast)
    return (
        f"{name:<34} facts p50 {p(fast, 0.5):8.1f} ms  p95 {p(fast, 0.95):8.1f} ms   "
        f"naive p50 {p(naive, 0.5):9.1f} ms  p95 {p(naive, 0.95):9.1f} ms   ×{ratio:,.0f}"
    )


def measure(args) -> None:
    setup_django(args.database_url)
    from django.core.cache import cache
    from django.db import connection
    from django.db.models import Exists, OuterRef
    from django.test import Client
    from django.utils import timezone

    from bench import wall  # its naive count of the wall's figures
    from tsur.analytics import kpi, live, ratings
    from tsur.analytics.models import AppealFact
    from tsur.appeals.choices import EventKind
    from tsur.appeals.models import Appeal, AppealEvent
    from tsur.core.choices import Role
    from tsur.core.models import RoleAssignment, User
    from tsur.web import queues

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would have done after the bulk load
    appeals, facts_n = Appeal.objects.count(), AppealFact.objects.count()
    quarter = kpi.Period.quarter_of(timezone.localdate())
    in_quarter = Appeal.objects.filter(
        registered_at__gte=quarter.start, registered_at__lt=quarter.end
    ).count()
    print(
        f"commit {common.commit()}  appeals {appeals:,}  facts {facts_n:,}  quarter {quarter}: {in_quarter:,}"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_total_relation_size('analytics_appealfact'), "
            "pg_total_relation_size('appeals_appeal'), pg_total_relation_size('appeals_appealevent')"
        )
        sizes = cursor.fetchone()
    print("sizes MB: facts {:.0f}, appeals {:.0f}, events {:.0f}".format(*(s / 2**20 for s in sizes)))

    from django.db.models import Count

    org = (
        AppealFact.objects.filter(registered_at__gte=quarter.start, registered_at__lt=quarter.end)
        .exclude(organisation=None)
        .values("organisation")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()["organisation"]
    )
    from tsur.core.models import Organisation

    organisation = Organisation.objects.get(pk=org)
    drill_data = {
        "kpi": "reopened",
        "organisation": organisation,
        "since": quarter.first,
        "until": quarter.last,
    }

    def drill_facts(kpi_name="reopened"):
        return list(
            queues.filtered(Appeal.objects.all(), {**drill_data, "kpi": kpi_name}, None).values_list(
                "number", flat=True
            )[:50]
        )

    def late_naive():
        """The organisation's quarter read with its timelines, each appeal derived: the answers in
        force that came late (a figure no single column of the raw tables says)."""
        from tsur.analytics import facts

        mine = {
            "organisation": organisation,
            "registered_at__gte": quarter.start,
            "registered_at__lt": quarter.end,
        }
        events = timelines(mine)
        now, late = timezone.now(), []
        for row in Appeal.objects.filter(**mine).values(*facts.APPEAL_FIELDS, "number"):
            f = facts.derive(row, events.get(row["pk"], []), now)
            if f["answered"] and not f["answered_on_time"]:
                late.append((row["registered_at"], row["pk"], row["number"]))
        return [number for *_, number in sorted(late, reverse=True)[:50]]

    def drill_naive():
        reopened = AppealEvent.objects.filter(appeal=OuterRef("pk"), kind=EventKind.REOPENED)
        return list(
            Appeal.objects.filter(
                organisation=organisation, registered_at__gte=quarter.start, registered_at__lt=quarter.end
            )
            .filter(Exists(reopened))
            .order_by("-registered_at", "-pk")
            .values_list("number", flat=True)[:50]
        )

    process = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--filer",
            "--database-url",
            args.database_url,
            "--rate",
            str(args.rate),
            "--seconds",
            "100000",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)
    try:
        print(f"filing {args.rate}/s during the measurement (pid {process.pid})")
        fast, _ = timed(lambda: kpi.table(None, "organisation", quarter), args.runs)
        naive, _ = timed(lambda: naive_table(quarter, "organisation", timezone.now()), args.naive_runs)
        print(line("quarter's KPI table by organisation", fast, naive))
        fast, _ = timed(lambda: ratings.league(None, "municipality", quarter), args.runs)
        naive, _ = timed(lambda: naive_ratings(quarter, timezone.now()), args.naive_runs)
        print(line("ratings of municipalities", fast, naive))
        # the region's analyst: the wall of the whole region (the generated register has no users)
        analyst, _ = User.objects.get_or_create(username="bench-analyst")
        RoleAssignment.objects.get_or_create(
            user=analyst, role=Role.ANALYST, organisation=None, territory=None
        )
        wall_client = Client()
        wall_client.force_login(analyst)
        live.FRESH = 0  # every poll computes anew (the filer moves the register meanwhile)

        def poll():  # the city at the wall's zoom: its figures and its map of hexagons
            cache.clear()
            response = wall_client.get("/situation/data.json", {"res": 7, "bbox": "30.05,59.78,30.60,60.08"})
            assert response.status_code == 200, response.status_code

        fast, _ = timed(poll, args.runs)
        naive, _ = timed(lambda: wall.naive(timezone.now()), args.naive_runs)
        print(line("wall screen's data.json (city map)", fast, naive))
        fast, listed = timed(drill_facts, args.runs)
        naive, listed_naive = timed(drill_naive, args.runs)
        print(line(f"drill-down: reopened of one org ({len(listed)})", fast, naive))
        fast, late = timed(lambda: drill_facts("answered_late"), args.runs)
        naive, late_recount = timed(late_naive, args.naive_runs)
        print(line(f"drill-down: answered late, one org ({len(late)})", fast, naive))
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=60)
    filed = Appeal.objects.count() - appeals
    print(f"filed during the measurement: {filed}")

    now = timezone.now()
    rows, _total = kpi.table(None, "organisation", quarter, now=now)
    recount = naive_counts(quarter, "organisation_id", now)
    mismatches = []
    for row in rows:
        expected = recount.get(row.key)
        for name, value in row.counts.items():
            other = (expected or {}).get(name, 0 if name not in kpi.PERCENTILES else None)
            same = value == other or (
                isinstance(value, float) and other is not None and abs(value - other) < 1e-6
            )
            if not same:
                mismatches.append((row.label, name, value, other))
    missing = set(recount) - {r.key for r in rows}
    print(f"drill-down lists equal: {listed == listed_naive}, {late == late_recount}")
    print(
        f"KPI table vs naive recount: {len(rows)} groups, {len(mismatches)} differences, "
        f"{len(missing)} groups missing" + ("" if not mismatches else f": {mismatches[:5]}")
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--appeals", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--generator", type=Path, default=ROOT, help="a checkout with `tsur demo_generate`")
    parser.add_argument("--reuse", action="store_true", help="measure the database as it is")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--naive-runs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=10.0, help="appeals filed a second meanwhile")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_ANALYTICS_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--filer", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=60, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.filer:
        return filer(args)
    if not args.reuse:
        generate(args)
    measure(args)


if __name__ == "__main__":
    main()
