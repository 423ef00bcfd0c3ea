"""Generator benchmark: `tsur demo_generate` into an empty PostgreSQL register, in steps (default
100,000 then on to 1,000,000), and what the steps predict for 10,000,000.

For each step it prints, with the commit and the machine's load: appeals and events written, the
seconds spent writing (appeals per second), rebuilding the secondary indexes and in all; the
generator's own CPU seconds (the Python side: simulation and encoding); the CPU seconds of all of
PostgreSQL's processes (a local server); the database's size and bytes per appeal. From the last
step it extrapolates 10,000,000 appeals: writing linearly, the index rebuild as n·log n, the size
linearly (measured growth between the steps is printed beside it).

    BENCH_DATABASE_URL=postgres://…/tsur_bench_generate .venv/bin/python bench/generate.py [--steps 100000,1000000]
"""

import argparse
import math
import os
import resource
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import common  # noqa: E402 - bench/common.py, beside this script


class ServerCPU:
    """CPU seconds of the processes of this connection's PostgreSQL server (the children of its
    postmaster: backends, the index builds' parallel workers, the writers; a local server), sampled
    from /proc every 0.2 s while running: a backend ends with its connection, so a process is counted
    up to its last sample, and one that lived less than 0.2 s not at all."""

    def __init__(self, connection):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (backend,) = cursor.fetchone()
        self.postmaster = _stat(Path(f"/proc/{backend}/stat"))[1]
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self):
        self._sample(self.first)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join()
        self._sample(self.last)

    @property
    def seconds(self) -> float:
        total = 0.0
        for pid, cpu in self.last.items():
            before = self.first.get(pid, 0.0)
            total += cpu - before if cpu >= before else cpu  # less than before: a new process, same pid
        return total

    def _watch(self):
        while not self.stopped.wait(0.2):
            self._sample(self.last)

    def _sample(self, into: dict) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        for path in Path("/proc").glob("[0-9]*/stat"):
            fields = _stat(path)
            if fields and fields[1] == self.postmaster:
                into[path.parent.name] = max(
                    into.get(path.parent.name, 0.0), (fields[11] + fields[12]) / tick
                )


def _stat(path: Path) -> list[int]:
    """The numeric fields of a /proc/<pid>/stat after the name (state as 0): [1] is the parent's
    pid, [11] and [12] the user and system CPU in ticks; [] when the process is gone."""
    try:
        rest = path.read_text().rpartition(")")[2].split()
    except OSError:
        return []
    return [0 if not f.lstrip("-").isdigit() else int(f) for f in rest]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", default="100000,1000000", help="register sizes to reach, comma-separated")
    parser.add_argument("--target", type=int, default=10_000_000, help="the size to predict")
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tsur_bench_generate")
    common.fresh_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from tsur.demo import generate

    call_command("migrate", verbosity=0)
    generator = generate.Generator(generate.load_region(Path(settings.TSUR["DEMO_DATA"])))
    print(f"commit {common.commit()}  PostgreSQL {connection.pg_version}  cores {os.cpu_count()}")
    done, rows = 0, []
    for size in steps:
        load = os.getloadavg()[0]
        cpu = cpu_seconds()
        with ServerCPU(connection) as server:
            report = generator.run(size - done, rebuild_indexes=True)
        cpu = cpu_seconds() - cpu
        database_cpu = server.seconds
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            (size_bytes,) = cursor.fetchone()
        rows.append((size, report, cpu, size_bytes, load))
        done = size
        print(
            f"{size:>10,} appeals (+{report.appeals:,}, {report.events:,} events): write {report.seconds:7.1f} s "
            f"({report.rate:,.0f}/s), indexes {report.index_seconds:6.1f} s, all {report.total_seconds:7.1f} s "
            f"({report.appeals / report.total_seconds:,.0f}/s); generator CPU {cpu:6.1f} s "
            f"({report.appeals / cpu:,.0f} appeals per CPU-second); PostgreSQL CPU {database_cpu:6.1f} s "
            f"(all its processes: writing and indexes); database {size_bytes / 2**30:5.2f} GiB "
            f"({size_bytes / size:,.0f} B/appeal); load {load:.1f}"
        )
    size, report, cpu, size_bytes, _ = rows[-1]
    target = args.target
    write = report.seconds / report.appeals * (target - size)
    indexes = report.index_seconds * (target / size) * math.log(target) / math.log(size)
    if len(rows) > 1:
        growth = (rows[-1][3] - rows[-2][3]) / (rows[-1][0] - rows[-2][0])
        print(f"measured growth {rows[-2][0]:,} → {size:,}: {growth:,.0f} B per appeal")
    print(
        f"predicted for {target:,}: writing the remaining {target - size:,} {write / 60:,.1f} min, "
        f"indexes {indexes / 60:,.1f} min, database {size_bytes / size * target / 2**30:,.1f} GiB"
    )


if __name__ == "__main__":
    main()
