"""Text-model benchmark: speed of classification, of place extraction, of near-duplicate search,
and how often the places named in texts are matched to the right building.

- classification alone and with place extraction: texts of the test split, one process pinned to
  one core, in batches (--batch) and one by one; texts per second per core;
- training time: from the model's manifest (what `tsur nlp_default` took on this machine);
- near-duplicates: a PostgreSQL database with the demo register and --open open appeals
  (default 100,000, real texts and points spread over the last 30 days), then --queries searches
  for the problem of a random appeal at its point: p50/p99 milliseconds;
- places: for test texts that name a street, the share matched to a building of the register and
  the share of those that are the appeal's own building (by its address in the export).

    .venv/bin/python bench/nlp.py [--model var/models/default] [--open 100000] [--queries 500]
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
import common  # noqa: E402 - bench/common.py, beside this script


def setup_django(database_url: str) -> None:
    common.fresh_database(database_url)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def rate(function, items, batch: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(items), batch):
        function(items[start : start + batch])
    return len(items) / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=ROOT / "var" / "models" / "default")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "spb_appeals.csv.gz")
    parser.add_argument("--texts", type=int, default=3000, help="test texts to classify")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--open", type=int, default=100_000, help="open appeals for the duplicate search")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tsur_bench_nlp"),
    )
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    setup_django(args.database_url)
    from django.utils import timezone

    from tsur.appeals import understanding
    from tsur.appeals.choices import FINAL_STATUSES, Channel, Status
    from tsur.appeals.models import Appeal
    from tsur.core.models import Building
    from tsur.demo import region as demo
    from tsur.nlp import duplicates, places
    from tsur.nlp.features import Example
    from tsur.nlp.model import TextModel

    commit = common.commit()
    print(f"commit {commit}  cores used 1 of {os.cpu_count()}  model {args.model}")

    rows = demo.read_rows(args.data)
    test = [r for r in rows if r.get("split") == "test"][: args.texts]
    model = TextModel.load(args.model)
    context_columns = model.context_columns
    examples = [Example(r["text"], {c: r.get(c, "") for c in context_columns}) for r in test]
    started = time.perf_counter()
    model.predict_proba(examples)
    print(
        f"classification, all targets, first pass (dictionaries and lemma cache cold): "
        f"{len(examples) / (time.perf_counter() - started):,.0f} texts/s"
    )
    places.extract_address("ул. Мебельная, д. 1")
    places.organisation_names("УК «Тест»")

    label_only = TextModel(
        model.featurizer, {k: v for k, v in model.classifiers.items() if k == "label"}, model.manifest
    )
    print(f"training (manifest): {model.manifest['train_seconds']} s for {', '.join(model.targets)}")
    print(
        f"classification, all {len(model.targets)} targets, batches of {args.batch}: "
        f"{rate(model.predict_proba, examples, args.batch):,.0f} texts/s per core"
    )
    if "label" in model.classifiers:
        print(
            f"classification, label only, batches of {args.batch}: "
            f"{rate(label_only.predict_proba, examples, args.batch):,.0f} texts/s per core"
        )
    single = examples[:500]
    print(
        f"classification, all targets, one text at a time: {rate(model.predict_proba, single, 1):,.0f} texts/s"
    )

    def with_places(batch):
        for example in batch:
            places.extract_address(example.text)
            places.organisation_names(example.text)
        model.predict_proba(batch)

    print(
        "classification + place and organisation extraction: "
        f"{rate(with_places, examples[:1000], args.batch):,.0f} texts/s per core"
    )

    # places matched to the register
    region = demo.DemoRegion(rows)
    region.build_reference()
    named = found = own = 0
    keys = {}
    for r in test:
        mention = places.locate(r["text"], understanding.building_index())
        if not mention.street:
            continue
        named += 1
        if mention.building_id:
            found += 1
            key = Building.key_for(r["address"])
            keys.setdefault(
                key, Building.objects.filter(address_key=key).values_list("pk", flat=True).first()
            )
            own += keys[key] == mention.building_id
    print(
        f"places: {named} of {len(test)} test texts name a street; {found} matched to a building, "
        f"{own} of those are the appeal's own building"
    )

    # near-duplicates among open appeals
    now = timezone.now()
    sample = [r for r in rows if r["latitude"] and r["longitude"]]
    rnd = random.Random(1)
    appeals = []
    for i in range(args.open):
        r = sample[i % len(sample)]
        at = now - timedelta(minutes=rnd.randint(0, 30 * 24 * 60))
        appeals.append(
            Appeal(
                number=f"99-{i:07d}",
                channel=Channel.IMPORT,
                text=r["text"],
                status=Status.IN_WORK,
                latitude=float(r["latitude"]) + rnd.uniform(-0.001, 0.001),
                longitude=float(r["longitude"]) + rnd.uniform(-0.002, 0.002),
                registered_at=at,
                clock_started_at=at,
            )
        )
    started = time.perf_counter()
    Appeal.objects.bulk_create(appeals, batch_size=5000)
    print(f"{args.open:,} open appeals stored in {time.perf_counter() - started:.0f} s")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE appeals_appeal")
    timings, hits = [], []
    for _ in range(args.queries):
        probe = rnd.choice(appeals)
        started = time.perf_counter()
        found_similar = duplicates.find(
            probe.text,
            queryset=Appeal.objects.exclude(status__in=FINAL_STATUSES),
            latitude=probe.latitude,
            longitude=probe.longitude,
            at=now,
        )
        timings.append((time.perf_counter() - started) * 1000)
        hits.append(len(found_similar))
    timings.sort()
    print(
        f"near-duplicates among {args.open:,} open appeals: p50 {statistics.median(timings):.1f} ms, "
        f"p99 {timings[int(len(timings) * 0.99) - 1]:.1f} ms, {statistics.mean(hits):.1f} similar found on average"
    )


if __name__ == "__main__":
    main()
