"""Telemetry benchmark: simulated controllers → Mosquitto → the consumer → PostgreSQL → alarms.

Builds a fresh PostgreSQL database with the standard metrics and alarm rules and a fleet of
simulated controllers, starts its own Mosquitto and `tsur dispatch_consume`, then runs
`tsur dispatch_simulate --faults` (a separate process) at the given rate. When every good reading is
stored it prints readings per second ingested end to end (from the first publish to the last
stored reading), the delay from a reading's time to its storage, and the latency from a reading
to the alarm it raised (p50/p99), with the commit it ran on.

    .venv/bin/python bench/telemetry.py [--devices 5000] [--rate 10000] [--seconds 30]
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TSUR = str(ROOT / ".venv/bin/tsur")
import common  # noqa: E402 - bench/common.py, beside this script


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_broker(directory: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    config = directory / "mosquitto.conf"
    # the broker holds what the consumer has not acknowledged yet; no limit for the benchmark
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nmax_inflight_messages 0\n"
    )
    broker = subprocess.Popen(  # noqa: S603
        [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return broker, port
        time.sleep(0.05)
    raise SystemExit("mosquitto did not start")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_TELEMETRY_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tsur_bench_telemetry"
        ),
    )
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=10000, help="readings per second published")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument(
        "--faults-per-minute", type=float, default=120, help="controller failures (alarms) a minute"
    )
    args = parser.parse_args()

    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": "bench-" + "x" * 40,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LOG_LEVEL": "WARNING",
        "HUEY_IMMEDIATE": "0",
        "TSUR_NLP_MODEL": "",
    }
    common.fresh_database(args.database_url)
    subprocess.run([TSUR, "migrate", "-v0"], check=True, cwd=ROOT, env=env)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection, connections

    from tsur.dispatch import simulator
    from tsur.dispatch.models import Reading

    started = time.monotonic()
    simulator.fleet(args.devices)
    print(f"fleet of {args.devices} controllers ready in {time.monotonic() - started:.1f} s")
    connections.close_all()

    directory = Path(tempfile.mkdtemp(prefix="tsur-bench-"))
    broker, port = start_broker(directory)
    url = f"mqtt://127.0.0.1:{port}"
    consumer = subprocess.Popen(  # noqa: S603
        [TSUR, "dispatch_consume", "--url", url, "--client-id", "tsur-bench"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        consumer.stdout.readline()  # «Телеметрия: …» once it runs
        time.sleep(2)
        simulate = subprocess.run(  # noqa: S603
            [TSUR, "dispatch_simulate", "--devices", str(args.devices), "--rate", str(args.rate),
             "--duration", str(args.seconds), "--faults", "--faults-per-minute", str(args.faults_per_minute),
             "--mqtt", url, "--seed", "7"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        print(simulate.stdout.strip().splitlines()[-1])
        good = int(simulate.stdout.rsplit("сообщений, ", 1)[1].split()[0])
        deadline = time.monotonic() + 120
        stored = 0
        while time.monotonic() < deadline:
            stored = Reading.objects.count()
            if stored >= good:
                break
            time.sleep(0.5)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT extract(epoch FROM max(received_at)), extract(epoch FROM min(measured_at)),"
                " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - measured_at)),"
                " percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - measured_at))"
                " FROM dispatch_reading"
            )
            last_stored, first_measured, delay50, delay99 = cursor.fetchone()
            cursor.execute(
                "SELECT count(*),"
                " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM e.recorded_at - a.raised_at)),"
                " percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM e.recorded_at - a.raised_at))"
                " FROM dispatch_alarmevent e JOIN dispatch_alarm a ON a.id = e.alarm_id WHERE e.kind = 'raised'"
            )
            alarms, alarm50, alarm99 = cursor.fetchone()
            cursor.execute(
                "SELECT reason, sum(count) FROM dispatch_rejection GROUP BY reason ORDER BY reason"
            )
            refused = dict(cursor.fetchall())
    finally:
        os.killpg(consumer.pid, signal.SIGTERM)
        consumer.wait(timeout=30)
        broker.terminate()
        broker.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)

    commit = common.commit()
    elapsed = float(last_stored) - float(first_measured)  # from the first reading sent to the last stored
    print(
        f"commit {commit}  cores {os.cpu_count()}  devices {args.devices}"
        f"  published {args.rate:g} readings/s for {args.seconds:g} s"
    )
    print(f"stored {stored} of {good} good readings; refused {refused}")
    print(f"throughput end to end: {stored / elapsed:.0f} readings/s")
    print(f"reading → stored: p50 {delay50 * 1000:.0f} ms  p99 {delay99 * 1000:.0f} ms")
    if alarms:
        print(f"reading → alarm ({alarms} alarms): p50 {alarm50 * 1000:.0f} ms  p99 {alarm99 * 1000:.0f} ms")
    else:
        print("no alarm was raised")


if __name__ == "__main__":
    main()
