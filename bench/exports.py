"""Exports benchmark: the appeal list as CSV and XLSX through the export view, memory and speed.

Needs a PostgreSQL register with at least --rows appeals (`tsur demo_generate --appeals N` into
BENCH_DATABASE_URL, default …/tsur_bench_generate, as bench/generate.py leaves it; --generate N
writes them first into an empty database). The newest --rows appeals are exported (the console's
filter «поступило с» set to the day that many reach back) for an operator (with the citizens'
contacts, journaled) and an analyst (none), and the script prints, with the commit: rows, seconds,
rows per second, the file's size, the peak of Python's allocations (tracemalloc) and the peak
resident memory above the start (VmHWM, reset before each export). The point: the peak stays flat
whatever the number of rows.

    .venv/bin/python bench/exports.py [--rows 200000] [--generate 0]
"""

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import common  # noqa: E402 - bench/common.py, beside this script


def rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM starts again from VmRSS


def measure(label, request_for, view, fmt, trace=True):
    request = request_for()
    reset_peak()
    start_rss = rss_kb("VmRSS")
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    response = view(request, fmt=fmt)
    size = 0
    for chunk in response.streaming_content:
        size += len(chunk)
    seconds = time.perf_counter() - started
    peak = float("nan")
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    peak_rss = rss_kb("VmHWM") - start_rss
    return {"label": label, "fmt": fmt, "seconds": seconds, "bytes": size, "peak": peak, "rss": peak_rss}


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--roles", default="analyst,operator")
    parser.add_argument(
        "--tracemalloc",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="trace Python's allocations (slow)",
    )
    parser.add_argument(
        "--generate", type=int, default=0, help="write this many appeals into a fresh database first"
    )
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tsur_bench_generate")
    if args.generate:
        common.fresh_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import RequestFactory
    from django.utils import timezone

    from tsur.appeals.models import Appeal, PersonalDataAccess
    from tsur.core.choices import Role
    from tsur.core.models import RoleAssignment, User
    from tsur.web import export_views

    if args.generate:
        call_command("migrate", verbosity=0)
        call_command("demo_generate", "--appeals", str(args.generate), verbosity=0)
    total = Appeal.objects.count()
    if total < args.rows:
        sys.exit(f"{total} appeals in {url}: fewer than --rows {args.rows} (use --generate N)")
    newest = Appeal.objects.order_by("-registered_at").values_list("registered_at", flat=True)
    since = timezone.localtime(newest[args.rows - 1]).date()
    users = {}
    for role in (Role.OPERATOR, Role.ANALYST):
        user, created = User.objects.get_or_create(username=f"bench-export-{role}")
        if created:
            RoleAssignment.objects.create(user=user, role=role)
        users[role] = user
    rows = Appeal.objects.filter(
        registered_at__gte=timezone.make_aware(timezone.datetime.combine(since, timezone.datetime.min.time()))
    ).count()

    def request_for(user):
        def make():
            request = RequestFactory().get(
                "/export/appeals.csv", {"queue": "all", "since": since.isoformat()}
            )
            request.user = user
            return request

        return make

    print(
        f"commit {common.commit()}  register {total:,} appeals  exported {rows:,} (since {since})  "
        f"load {os.getloadavg()[0]:.1f}"
    )
    journal_before = PersonalDataAccess.objects.count()
    results = []
    roles = {"analyst": Role.ANALYST, "operator": Role.OPERATOR}
    for label in args.roles.split(","):
        for fmt in args.formats.split(","):
            results.append(
                measure(label, request_for(users[roles[label]]), export_views.appeals, fmt, args.tracemalloc)
            )
    for r in results:
        print(
            f"{r['label']:9} {r['fmt']:4}  {r['seconds']:7.1f} s  {rows / r['seconds']:8,.0f} rows/s  "
            f"{r['bytes'] / 2**20:7.1f} MB  Python peak {r['peak'] / 2**20:6.1f} MB  "
            f"RSS peak +{r['rss'] / 1024:6.1f} MB"
        )
    print(
        f"journal rows written for the operator's exports: {PersonalDataAccess.objects.count() - journal_before:,}"
    )


if __name__ == "__main__":
    main()
