"""The server time of the workspace's main pages in one process, without HTTP or concurrency: the
same pages and URLs as `bench/web.py`, asked through Django's test client on the database
`bench/web.py` filled (run that once first). On a shared machine whose load changes by the minute,
run it for two commits at the same moment (one checkout each, `--root`) and compare them side by
side: both see the same load.

    .venv/bin/python bench/pages.py [--rounds 20] [--root DIR]
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tsur_bench_web"),
    )
    parser.add_argument("--rounds", type=int, default=20, help="requests per page (after one to warm up)")
    parser.add_argument("--static", type=Path, help="static files collected before (skips collectstatic)")
    args = parser.parse_args()
    root = args.root.resolve()
    static = str(args.static) if args.static else tempfile.mkdtemp(prefix="tsur-bench-pages-static-")
    env = {
        "DATABASE_URL": args.database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "bench-web-secret-key-" + "x" * 40,
        "DEBUG": "0",
        "TSUR_ENV_FILE": "",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
        "PUBLIC_LOOKUP_RATE": "1000000/min",
        "SECURE_COOKIES": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "STATIC_ROOT": static,
    }
    if not args.static:
        subprocess.run(
            [str(root / ".venv/bin/tsur"), "collectstatic", "--noinput", "-v0"],
            check=True,
            cwd=root,
            env={**os.environ, **env},
        )
    os.environ.update(env)
    os.chdir(root)
    sys.path.insert(0, str(root))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import django

    django.setup()
    import web  # bench/web.py: the pages and their URLs
    from django.test import Client

    from tsur.core.models import User

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
    ).stdout.strip()
    clients = {}
    print(f"bench/pages · commit {commit} · {args.rounds} requests per page · load {os.getloadavg()[0]:.1f}")
    print(f"{'page':28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  statuses")
    rng = random.Random(7)
    for name, who, urls in web.pages():
        if who not in clients:
            clients[who] = Client()
            if who:
                clients[who].force_login(User.objects.get(username=who))
        client = clients[who]
        client.get(urls[0])
        times, statuses = [], {}
        for _ in range(args.rounds):
            started = time.perf_counter()
            status = client.get(rng.choice(urls)).status_code
            times.append((time.perf_counter() - started) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(
            f"{name:28} {statistics.median(times):8.0f} {p95:8.0f} {times[-1]:8.0f}  {statuses}", flush=True
        )


if __name__ == "__main__":
    main()
