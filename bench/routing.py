"""Routing benchmark: how often intake routes an appeal with no person's step, and how often it is right.

Builds a PostgreSQL database with the demo region's reference data (its routing rules learned from
the train split only), puts the train split in the register as its history (who took and answered
what, where: the last --replay appeals through the real actions, the rest stored as the replay
leaves them), measures the rules and calibrates the routing decision on the
dev split (`tsur routing_measure`), then files appeals of the test split through the REST API as a
portal would (text, address, point, kind of place; no topic) and compares where each went with the
organisation that really answered it. Prints, with the commit:

- the share routed with no person's step and the precision of those against the real executor,
  in all and per path (executor model, topic and rule, history of the place, ...);
- the share sent to moderation, and how often the real executor is among the top 3 suggestions.

    .venv/bin/python bench/routing.py [--test 2000] [--reuse] [--model var/models/default]
        [--database-url postgres://…/tsur_bench_routing] [--register-days 30] [--cross-fit 5]

--reuse keeps the database of the previous run (the replay takes minutes); appeals filed by an
earlier run were never taken nor answered, so they are not part of the history the next run reads.
"""

import argparse
import os
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
import common  # noqa: E402 - bench/common.py, beside this script


def setup(database_url: str, model: Path, reuse: bool) -> None:
    if not reuse:
        common.fresh_database(database_url)
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": "bench-" + "x" * 40,
            "TSUR_NLP_MODEL": str(model),
            "LOG_LEVEL": "WARNING",
            "HUEY_IMMEDIATE": "0",
            "BENCH_RUN": "1",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_history(rows: list[dict], train: list[dict], replay: int) -> None:
    """The demo region with its rules learned from the train split, and the train split as the
    register's history: the last `replay` appeals through the real actions (as `load_demo` does), the
    others stored directly as the replay leaves them (topic, place, the organisation that took them
    up, the final status), which takes seconds instead of an hour."""
    from django.conf import settings

    from tsur.appeals.choices import Channel, Status
    from tsur.appeals.models import Appeal
    from tsur.core.models import Building
    from tsur.demo import region as demo

    region = demo.DemoRegion(rows)
    region.build_reference(rule_rows=train)
    ordered = sorted((r for r in train if r["text"].strip()), key=lambda r: r["created_at"])
    stored, replayed = ordered[: max(0, len(ordered) - replay)], ordered[max(0, len(ordered) - replay) :]
    appeals = []
    for row in stored:
        at = region._at(row["created_at"])
        organisation = region.organisations.get(row["executor_org"])
        status = (
            Status.MODERATION
            if row["final_status"] == "Модерация" or organisation is None
            else Status.CLOSED
            if row["final_status"].startswith("Завершено")
            else Status.ANSWERED
            if row["first_answer_at"]
            else Status.IN_WORK
        )
        building = region.buildings.get(Building.key_for(row["address"].strip()))
        appeals.append(
            Appeal(
                number=f"H{row['id']}"[:20],
                channel=Channel.PORTAL,
                external_id=row["id"],
                text=demo._plain(row["text"])[:4000],
                address=row["address"][:400],
                latitude=float(row["latitude"]) if row["latitude"] else None,
                longitude=float(row["longitude"]) if row["longitude"] else None,
                territory=region._territory_of(row),
                building=building,
                place_kind=demo.PLACE_KINDS.get(row["city_object"], ""),
                topic=region.topics.get((row["label"], row["subcategory"])),
                organisation=organisation if status != Status.MODERATION else None,
                status=status,
                registered_at=at,
                clock_started_at=at,
            )
        )
    Appeal.objects.bulk_create(appeals, batch_size=2000)
    model, settings.TSUR["NLP_MODEL"] = settings.TSUR["NLP_MODEL"], ""  # the replay gives topics
    started = time.perf_counter()
    region.replay(replayed)
    settings.TSUR["NLP_MODEL"] = model
    print(
        f"history: {len(appeals)} appeals of the train split stored, {region.report.appeals} replayed through "
        f"the actions in {time.perf_counter() - started:.0f} s ({region.report.skipped} skipped)"
    )


def measure(data: Path, register_days: int, cross_fit: int) -> None:
    """The rules' precision from the history and the calibration on dev (and on the register's own last
    days, with --register-days; on the train split read by text models that did not learn it, with
    --cross-fit), when this commit has them."""
    from django.core.management import call_command, get_commands

    if "routing_measure" in get_commands():
        more = ["--register-days", str(register_days)] if register_days else []
        more += ["--cross-fit", str(cross_fit)] if cross_fit else []
        call_command("routing_measure", "--calibrate", str(data), "--split", "dev", *more)


def client():
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from tsur.core.choices import Role
    from tsur.core.models import RoleAssignment, User

    portal, created = User.objects.get_or_create(username="bench-portal")
    if created:
        RoleAssignment.objects.create(user=portal, role=Role.SYSTEM)
    token = Token.objects.get_or_create(user=portal)[0].key
    return Client(HTTP_AUTHORIZATION=f"Token {token}")


def file_test(rows: list[dict], run: str) -> dict[str, dict]:
    """File the rows through the REST API; the number of each appeal → its row."""
    from tsur.demo import region as demo

    api = client()
    filed = {}
    started = time.perf_counter()
    for n, row in enumerate(rows):
        payload = {
            "channel": "portal",
            "external_id": f"bench-routing-{run}-{row['id']}",
            "text": demo._plain(row["text"])[:4000],
            "address": row["address"][:400],
            "place_kind": demo.PLACE_KINDS.get(row["city_object"], ""),
            "personal_data_consent": True,
        }
        if row["latitude"] and row["longitude"]:
            payload |= {"latitude": float(row["latitude"]), "longitude": float(row["longitude"])}
        response = api.post("/api/v1/appeals/", payload, content_type="application/json")
        if response.status_code != 201:
            print("refused:", response.status_code, response.content[:200])
            continue
        filed[response.json()["number"]] = row
        if (n + 1) % 500 == 0:
            print(f"  filed {n + 1}/{len(rows)}, {time.perf_counter() - started:.0f} s")
    elapsed = time.perf_counter() - started
    print(
        f"filed {len(filed)} of {len(rows)} in {elapsed:.0f} s ({len(filed) / elapsed:.0f} appeals/s, one client)"
    )
    return filed


def path_of(assigned) -> str:
    """The path an automatic route took: recorded on the event, or read off its reason (older commits)."""
    if assigned.data.get("path"):
        return assigned.data["path"]
    reason = assigned.reason or ""
    if reason.startswith("Определено по тексту"):
        return "executor model"
    if reason.startswith("Правило"):
        return "topic + rule"
    if reason.startswith("Нет правила"):
        return "topic + administration of the territory"
    return "other"


def report(filed: dict[str, dict]) -> None:
    from tsur.appeals.choices import EventKind, Status
    from tsur.appeals.models import Appeal, AppealEvent

    appeals = {a.number: a for a in Appeal.objects.filter(number__in=filed).select_related("organisation")}
    events = defaultdict(dict)
    for event in AppealEvent.objects.filter(
        appeal__number__in=filed, kind__in=[EventKind.ASSIGNED, EventKind.SENT_TO_MODERATION]
    ).select_related("appeal"):
        events[event.appeal.number][event.kind] = event
    total = len(filed)
    routed, right = Counter(), Counter()
    moderated = suggested = with_suggestions = 0
    for number, row in filed.items():
        appeal = appeals[number]
        truth = row["executor_org"]
        if appeal.status == Status.ASSIGNED and EventKind.ASSIGNED in events[number]:
            path = path_of(events[number][EventKind.ASSIGNED])
            routed[path] += 1
            right[path] += appeal.organisation is not None and appeal.organisation.name == truth
        else:
            moderated += 1
            sent = events[number].get(EventKind.SENT_TO_MODERATION)
            candidates = (sent.data.get("candidates") or []) if sent else []
            if candidates:
                with_suggestions += 1
            suggested += any(c.get("name") == truth for c in candidates[:3])
    auto = sum(routed.values())
    print(f"commit {common.commit()}  test appeals filed {total}")
    print(
        f"routed with no person's step: {auto / total:.1%} ({auto}); "
        f"precision against the real executor: {sum(right.values()) / max(auto, 1):.1%}"
    )
    for path, n in routed.most_common():
        print(f"  {path:<42} {n / total:6.1%} of appeals ({n:5d}), precision {right[path] / n:.1%}")
    print(
        f"to moderation: {moderated / total:.1%} ({moderated}); with suggestions {with_suggestions}; "
        f"the real executor among the top 3: {suggested / max(moderated, 1):.1%}"
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tsur_bench_routing"),
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "spb_appeals.csv.gz")
    parser.add_argument("--model", type=Path, default=ROOT / "var" / "models" / "default")
    parser.add_argument("--split", default="test", help="the split filed and measured (tune on dev)")
    parser.add_argument("--test", type=int, default=2000, help="how many appeals of the split to file")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the database (and history) of the last run"
    )
    parser.add_argument(
        "--replay",
        type=int,
        default=500,
        help="of the train split, how many go through the actions (the rest stored)",
    )
    parser.add_argument("--no-measure", action="store_true", help="skip measuring rules and calibrating")
    parser.add_argument(
        "--register-days",
        type=int,
        default=0,
        help="calibrate on the register's own appeals of its last N days too (the history's end)",
    )
    parser.add_argument(
        "--cross-fit",
        type=int,
        default=0,
        metavar="K",
        help="calibrate on the train split too, read by K text models each trained without its fold",
    )
    args = parser.parse_args()

    setup(args.database_url, args.model, args.reuse)
    from tsur.demo import region as demo

    rows = demo.read_rows(args.data)
    train = [r for r in rows if r["split"] == "train"]
    if not args.reuse:
        build_history(rows, train, args.replay)
    while not (args.model / "manifest.json").exists():  # being trained beside the replay
        print(f"waiting for a text model in {args.model} (`tsur nlp_default --out {args.model}`)")
        time.sleep(30)
    if not args.no_measure:
        measure(args.data, args.register_days, args.cross_fit)
    pool = [r for r in rows if r["split"] == args.split and r["text"].strip() and r["executor_org"]]
    sample = random.Random(7).sample(pool, min(args.test, len(pool)))
    report(file_test(sample, f"{time.time():.0f}"))


if __name__ == "__main__":
    main()
