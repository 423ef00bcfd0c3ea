"""Social monitoring benchmark: posts per second through dedup, triage and incident merging on one
core, and the merge quality on a labelled feed.

The feed is the simulated city day of tsur/social/simulation.py: complaints as informal rewrites of
the shared appeals (several residents per problem: the truth of the merge is the appeal each post
rewrites), chatter, thanks, questions, abuse, a few percent actionable as in the regional centers'
figures. The triage model is trained first on another simulated feed (another seed, other appeals).

1. In memory (the work per post, no database): fingerprint dedup → triage (rules, then the model in
   batches) → merge into incidents (tsur.social.merging.Index: the register's near-duplicate measure
   behind an inverted index). Prints posts/s per stage and in all, and the time for the day (CPU
   time of the process: the machines are shared).
2. Merge quality on the actionable posts of the day: pairs precision and recall, two truths: one
   problem is one reason (the export's subcategory) at one address — the export holds one problem
   filed by several residents — or, stricter, the one appeal a post rewrites.
3. With --db N: N posts of the feed through the real path (actions.ingest in batches of 100, as a
   source's reading: stored, deduplicated, triaged, incidents registered through intake) on the
   database --database-url names (a fresh SQLite file by default; an empty database, migrated here),
   in posts/s of this process's CPU and on the clock.

    .venv/bin/python bench/social.py [--posts 100000] [--db 2000] [--threshold 0.3]
"""

import argparse
import hashlib
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
import common  # noqa: E402 - bench/common.py, beside this script


def setup(database_url: str, model_dir: Path) -> None:
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": "bench-" + "x" * 40,
            "TSUR_NLP_MODEL": "",
            "TSUR_SOCIAL_TRIAGE_MODEL": str(model_dir),
            "LOG_LEVEL": "WARNING",
            "BENCH_RUN": "1",
        }
    )
    import django

    django.setup()


def pairs(groups: dict) -> int:
    return sum(n * (n - 1) // 2 for n in groups.values())


def half(problem: int) -> int:
    """0 for the dev half of the problems (what the merge was tuned on), 1 for the held-out half."""
    return int(hashlib.md5(str(problem).encode(), usedforsecurity=False).hexdigest(), 16) % 2


def quality(predicted: list, truth: list) -> tuple[float, float, int]:
    """Pairs precision and recall of a clustering against the truth."""
    both = Counter(zip(predicted, truth, strict=True))
    true_positive = pairs(both)
    said = pairs(Counter(predicted))
    real = pairs(Counter(truth))
    return (true_positive / said if said else 1.0), (true_positive / real if real else 1.0), real


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--db", type=int, default=0, help="posts through the real path with the database")
    parser.add_argument(
        "--threshold", type=float, default=None, help="merge similarity (default: the setting)"
    )
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    model_dir = Path(tempfile.mkdtemp()) / "triage"
    database_url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    setup(database_url, model_dir)
    from django.conf import settings

    from tsur.social import learning, merging, simulation, text, triage

    data = Path(settings.TSUR["DEMO_DATA"])
    print(f"commit {common.commit()}, {args.posts} posts, data {data.name}")

    started = time.perf_counter()
    examples = learning.simulated(6000, seed=101)
    model = triage.TriageModel.train([e.text for e in examples], [e.label for e in examples])
    model.save(model_dir)
    triage.forget_model()
    print(
        f"triage model: {len(examples)} simulated examples, trained in {time.perf_counter() - started:.1f} s"
    )

    appeals = simulation.read_appeals(data, limit=6000, seed=3)
    feed = simulation.feed(
        appeals,
        posts=args.posts,
        complaint_share=0.03,
        question_share=0.005,
        thanks_share=0.01,
        abuse_share=0.02,
        seed=3,
    )
    day = datetime(2026, 3, 3, tzinfo=UTC)
    labels = Counter(p.label for p in feed)
    print(
        f"feed: {dict(labels)}; actionable {100 * (labels['complaint'] + labels['question']) / len(feed):.1f} %"
    )
    for word in ("мусор", "двор"):  # pymorphy's dictionaries are loaded once per process, not per post
        merging.duplicates.signature(word)

    # 1. dedup
    t0 = time.process_time()
    wall = time.perf_counter()
    seen: dict[str, int] = {}
    fresh = []
    for i, post in enumerate(feed):
        print_ = text.fingerprint(post.text)
        if print_ and print_ in seen:
            continue
        seen[print_] = i
        fresh.append(post)
    t1 = time.process_time()
    # 2. triage, in batches as ingest does per source reading
    verdicts = []
    for start in range(0, len(fresh), 500):
        verdicts += triage.triage([p.text for p in fresh[start : start + 500]])
    t2 = time.process_time()
    # 3. merge
    index = merging.Index(threshold=args.threshold)
    keys = count = 0
    assigned, truth = [], []
    for post, verdict in zip(fresh, verdicts, strict=True):
        if verdict.label not in ("complaint", "question"):
            continue
        at = day + timedelta(hours=post.hour)
        signature = merging.duplicates.signature(post.text)
        place = text.place_key(post.text)
        match = index.match(post.text, at, signature=signature, place=place)
        if match is None:
            keys += 1
            key = keys
        else:
            key = match.key
        index.add(key, post.text, at, signature=signature, place=place)
        count += 1
        assigned.append(key)
        truth.append(post.problem if post.problem is not None else f"q{id(post)}")
    t3 = time.process_time()
    wall = time.perf_counter() - wall
    total = t3 - t0
    print(
        f"dedup:  {len(feed)} → {len(fresh)} posts in {t1 - t0:.2f} s ({len(feed) / (t1 - t0):,.0f} posts/s)\n"
        f"triage: {len(fresh)} posts in {t2 - t1:.2f} s ({len(fresh) / (t2 - t1):,.0f} posts/s); "
        f"{Counter(v.by or 'waiting' for v in verdicts)}\n"
        f"merge:  {count} actionable posts → {keys} incidents in {t3 - t2:.2f} s "
        f"({count / max(t3 - t2, 1e-9):,.0f} posts/s)\n"
        f"in all: {len(feed)} posts in {total:.1f} s of CPU = {len(feed) / total:,.0f} posts/s on one core "
        f"({wall:.1f} s on the clock of this shared machine; target: 1,000 posts/s, a day of 100,000 in < 120 s)"
    )

    # merge quality: the actionable posts the triage let through, clustered against the appeals they rewrite
    precision, recall, real = quality(assigned, truth)
    print(
        f"merge quality (posts the triage passed): pairs precision {precision:.3f}, recall {recall:.3f} "
        f"({real} true pairs; threshold {index.threshold})"
    )
    # and on the complaints alone, triage aside (the merge measured by itself)
    index = merging.Index(threshold=args.threshold)
    keys, assigned, truth = 0, [], []
    for post in feed:
        if post.problem is None:
            continue
        at = day + timedelta(hours=post.hour)
        place = text.place_key(post.text)
        match = index.match(post.text, at, place=place)
        key = match.key if match else (keys := keys + 1)
        index.add(key, post.text, at, place=place)
        assigned.append(key)
        truth.append(post.problem)
    precision, recall, real = quality(assigned, truth)
    print(
        f"merge quality (every complaint; one problem = one reason at one address): pairs precision "
        f"{precision:.3f}, recall {recall:.3f} ({real} true pairs)"
    )
    # the measure was tuned on the pairs of one half of the problems (dev) and is reported on the
    # other half too (held-out): the halves are fixed by a hash of the problem's number
    halves = [half(p.problem) for p in feed if p.problem is not None]
    for name, part in (("dev", 0), ("held-out", 1)):
        chosen = [i for i, h in enumerate(halves) if h == part]
        precision, recall, real = quality([assigned[i] for i in chosen], [truth[i] for i in chosen])
        print(
            f"  {name} half: pairs precision {precision:.3f}, recall {recall:.3f}, "
            f"F1 {2 * precision * recall / max(precision + recall, 1e-9):.3f} ({real} true pairs)"
        )
    precision, recall, real = quality(assigned, [p.appeal for p in feed if p.problem is not None])
    print(
        f"merge quality (every complaint; one problem = one appeal rewritten): pairs precision "
        f"{precision:.3f}, recall {recall:.3f} ({real} true pairs)"
    )
    missed = Counter(
        v.label or "waiting" for v, p in zip(verdicts, fresh, strict=True) if p.label == "complaint"
    )
    print(f"triage of complaints: {dict(missed)}")

    if args.db:
        run_db(feed[: args.db], database_url)


class Where:
    """Where the clock goes on the database path: in statements (from sending to the last row, the
    server's work and the trip), in commits (the server's flush of its log), and the rest — this
    process's own CPU or waiting for a core of a loaded machine. On PostgreSQL the server process's
    own CPU is read from /proc (the same machine)."""

    def __init__(self, connection):
        self.connection = connection
        self.statements = self.commits = 0
        self.in_statements = self.in_commits = 0.0
        self.server_cpu = None
        self.by_shape: dict[str, float] = {}

    def _execute(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - started
            self.in_statements += spent
            self.statements += 1
            shape = " ".join(sql.split())[:90]
            self.by_shape[shape] = self.by_shape.get(shape, 0.0) + spent

    def _server_ticks(self) -> int | None:
        if self.connection.vendor != "postgresql":
            return None
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks

    def __enter__(self):
        self.connection.ensure_connection()
        self._ticks = self._server_ticks()
        self._wrapper = self.connection.execute_wrapper(self._execute)
        self._wrapper.__enter__()
        commit = self.connection._commit

        def timed_commit():
            started = time.perf_counter()
            try:
                return commit()
            finally:
                self.in_commits += time.perf_counter() - started
                self.commits += 1

        self.connection._commit = timed_commit
        return self

    def __exit__(self, *exc):
        self._wrapper.__exit__(*exc)
        del self.connection._commit
        ticks = self._server_ticks()
        if ticks is not None and self._ticks is not None:
            self.server_cpu = (ticks - self._ticks) / os.sysconf("SC_CLK_TCK")

    def report(self, wall: float, cpu: float, load_before, load_after) -> str:
        rest = wall - self.in_statements - self.in_commits
        server = (
            "" if self.server_cpu is None else f"; the server's process used {self.server_cpu:.1f} s of CPU"
        )
        slowest = sorted(self.by_shape.items(), key=lambda kv: -kv[1])[:4]
        return (
            "  the statements that took longest: "
            + "; ".join(f"{seconds:.1f} s «{shape}…»" for shape, seconds in slowest)
            + "\n"
            f"  the clock: {self.statements:,} statements {self.in_statements:.1f} s, {self.commits:,} commits "
            f"{self.in_commits:.1f} s, the rest {rest:.1f} s (this process's CPU {cpu:.1f} s){server}; "
            f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after"
        )


ANALYSE_EVERY = 10_000  # posts: about autovacuum's default share (10 % changed) of a growing day


def autovacuum_off(connection):
    """On a PostgreSQL server without autovacuum (this machine's), a function that does what it
    would: ANALYZE the tables the path writes. Without it no table is ever analysed, and a
    statement prepared while the table was small keeps its plan for a table of any size (the
    lookup of a batch's ids by a sequential scan of every post); None where autovacuum runs."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        if cursor.fetchone()[0] == "on":
            return None

    def analyse():
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE social_post, appeals_appeal, appeals_appealevent, analytics_appealfact")

    return analyse


def run_db(posts, database_url: str) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from tsur.social import actions
    from tsur.social.connectors import Item
    from tsur.social.models import Source, WatchList

    call_command("migrate", verbosity=0)
    source = Source.objects.create(
        watchlist=WatchList.objects.create(name="bench"), network="vk", name="bench", token_env="NONE"
    )
    now = timezone.now()
    items = [
        Item(f"wall-1_{i}", p.text, now - timedelta(hours=24 - p.hour), author_handle=f"id{p.author}")
        for i, p in enumerate(posts)
    ]
    # the path reads the texts cold, as a worker meets new posts: the in-memory stages above read
    # the same texts' places already, and the caches of places would serve them
    from tsur.nlp import places
    from tsur.social import text

    text.place_key.cache_clear()
    places._read_address.cache_clear()
    where = Where(connection)
    load = os.getloadavg()
    started, wall = time.process_time(), time.perf_counter()
    analyse = autovacuum_off(connection)
    reports = []
    with where:
        for i in range(0, len(items), 100):
            reports.append(actions.ingest(source, items[i : i + 100], at=now))
            if analyse and (i + 100) % ANALYSE_EVERY == 0:
                analyse()
    spent, wall = time.process_time() - started, time.perf_counter() - wall
    incidents = sum(len(r.incidents) for r in reports)
    attached = sum(r.attached for r in reports)
    labels = Counter()
    for report in reports:
        labels.update(report.labels)
    print(
        f"database path ({database_url.split(':')[0]}): {len(items)} posts in {spent:.1f} s of CPU = "
        f"{len(items) / spent:,.0f} posts/s ({wall:.1f} s on the clock, the database's work included); "
        f"{dict(labels)}; {incidents} incidents registered through intake, {attached} posts attached to them"
    )
    print(where.report(wall, spent, load, os.getloadavg()))
    if analyse:
        print(f"  (autovacuum is off on this server: the tables were analysed every {ANALYSE_EVERY:,} posts)")


if __name__ == "__main__":
    main()
