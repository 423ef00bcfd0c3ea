"""Intake benchmark: appeals created through the REST API on PostgreSQL.

Builds a fresh database with the demo region's reference data (territories, organisations,
buildings, routing rules), starts the platform under gunicorn, and posts real appeal texts as an
agency system would (token auth, channel id), from a keep-alive asyncio client on loopback.
Prints appeals per second, latency percentiles and the commit it ran on.

    .venv/bin/python bench/intake.py [--seconds 30] [--concurrency 6] [--workers 3] [--worker-class sync]
                                     [--understand]
"""

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = f"{time.time():.0f}"
sys.path.insert(0, str(ROOT))
import common  # noqa: E402 - bench/common.py, beside this script


def sh(*args, env=None):
    subprocess.run(args, check=True, cwd=ROOT, env=env)


def prepare(database_url: str, data: Path, env: dict, reuse: bool = False) -> tuple[str, list[dict]]:
    if not reuse:
        common.fresh_database(database_url)
        sh(str(ROOT / ".venv/bin/tsur"), "migrate", "-v0", env=env)
    os.environ.update(env)
    import django

    django.setup()
    from rest_framework.authtoken.models import Token

    from tsur.core.choices import Role
    from tsur.core.models import RoleAssignment, User
    from tsur.demo import region as demo

    rows = demo.read_rows(data)
    region = demo.DemoRegion(rows)
    region.build_reference()
    system, created = User.objects.get_or_create(username="bench-agency")
    if created:
        RoleAssignment.objects.create(user=system, role=Role.OPERATOR)
    token = Token.objects.get_or_create(user=system)[0].key
    payloads = []
    for row in random.Random(7).sample(rows, 5000):
        topic = region.topics.get((row["label"], row["subcategory"]))
        if not row["text"].strip() or topic is None:
            continue
        payloads.append(
            {
                "channel": "agency",
                "text": demo._plain(row["text"])[:4000],
                "address": row["address"],
                "topic": topic.code,
                "latitude": float(row["latitude"] or 59.9),
                "longitude": float(row["longitude"] or 30.3),
            }
        )
    from django.db import connections

    connections.close_all()
    return token, payloads


async def client(host, port, token, payloads, deadline, warmup_until, latencies, errors, counter):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            n = next(counter)
            body = json.dumps({**payloads[n % len(payloads)], "external_id": f"bench-{RUN}-{n}"}).encode()
            request = (
                f"POST /api/v1/appeals/ HTTP/1.1\r\nHost: {host}\r\nAuthorization: Token {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            started = time.perf_counter()
            writer.write(request)
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            close = False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                key, _, value = line.decode().partition(":")
                if key.lower() == "content-length":
                    length = int(value)
                elif key.lower() == "connection" and "close" in value.lower():
                    close = True
            await reader.readexactly(length)
            elapsed = time.perf_counter() - started
            if started >= warmup_until:
                if status_line.split()[1] != b"201":
                    errors.append(status_line)
                latencies.append(elapsed)
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    finally:
        writer.close()


async def load(host, port, token, payloads, seconds, warmup, concurrency):
    import itertools

    latencies, errors = [], []
    counter = itertools.count()
    start = time.perf_counter()
    warmup_until = start + warmup
    deadline = warmup_until + seconds
    await asyncio.gather(
        *(
            client(host, port, token, payloads, deadline, warmup_until, latencies, errors, counter)
            for _ in range(concurrency)
        )
    )
    return latencies, errors, time.perf_counter() - warmup_until


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tsur_bench"),
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/spb_appeals.csv.gz")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--reuse", action="store_true", help="keep the database of the previous run")
    parser.add_argument(
        "--understand",
        action="store_true",
        help="file without a topic: the text model (TSUR_NLP_MODEL, default var/models/default) decides",
    )
    args = parser.parse_args()

    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": "bench-" + "x" * 40,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "600",
        "HUEY_IMMEDIATE": "0",
        "BENCH_RUN": "1",
    }
    if not args.understand:
        env["TSUR_NLP_MODEL"] = ""
    token, payloads = prepare(args.database_url, args.data, env, reuse=args.reuse)
    if args.understand:
        payloads = [{k: v for k, v in p.items() if k != "topic"} for p in payloads]
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            args.worker_class,
            "--threads",
            str(args.threads),
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                import urllib.request

                urllib.request.urlopen(f"http://127.0.0.1:{args.port}/api/v1/blocks/", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        latencies, errors, elapsed = asyncio.run(
            load("127.0.0.1", args.port, token, payloads, args.seconds, args.warmup, args.concurrency)
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    commit = common.commit()
    ordered = sorted(latencies)

    def pct(p):
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    print(
        f"commit {commit}  cores {os.cpu_count()}  workers {args.workers}x{args.threads}  "
        f"concurrency {args.concurrency}  database PostgreSQL"
        + ("  (text model decides topic and executor)" if args.understand else "")
    )
    print(f"appeals created: {len(latencies) - len(errors)} in {elapsed:.1f} s, errors {len(errors)}")
    print(f"throughput: {len(latencies) / elapsed:.0f} appeals/s")
    print(
        f"latency ms: p50 {pct(50):.1f}  p90 {pct(90):.1f}  p99 {pct(99):.1f}  max {ordered[-1] * 1000:.1f}  "
        f"mean {statistics.mean(latencies) * 1000:.1f}"
    )
    if errors:
        print("first errors:", errors[:3])


if __name__ == "__main__":
    main()
