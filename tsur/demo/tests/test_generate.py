"""`tsur demo_generate`: many appeals written in bulk, each with the timeline the actions would write."""

import itertools
import time
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.utils import timezone

from tsur.appeals import actions, deadlines, numbering
from tsur.appeals.choices import Channel, EventKind, Status
from tsur.appeals.lifecycle import ALLOWED_FROM
from tsur.appeals.models import Appeal, AppealEvent
from tsur.core import calendar
from tsur.demo import generate
from tsur.demo.days import Days, from_us, to_us

from .rows import write_export

ZONE = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 3, 18, 14, 7, 30, tzinfo=ZONE)
# the step that writes each kind of event that moves the status
STEP_OF = {
    EventKind.ASSIGNED: "assign",
    EventKind.TAKEN: "take",
    EventKind.REDIRECTED: "redirect",
    EventKind.CLARIFICATION_REQUESTED: "request_clarification",
    EventKind.CITIZEN_REPLIED: "citizen_reply",
    EventKind.INTERIM_ANSWER: "interim_answer",
    EventKind.ANSWERED: "answer",
    EventKind.CLOSED: "close",
    EventKind.REOPENED: "reopen",
    EventKind.REJECTED: "reject",
    EventKind.EXTENDED: "extend",
    EventKind.RATED: "rate",
    EventKind.OVERDUE: "mark_deadline",
    EventKind.DEADLINE_SOON: "mark_deadline",
}


@pytest.fixture
def generated(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    region = generate.load_region(write_export(tmp_path / "export.csv.gz"))
    report = generate.Generator(region, now=NOW, seed=7, period_days=120).run(1500)
    return report


def test_the_vectorised_calendar_gives_the_calendar_modules_deadlines():
    days = Days(date(2024, 12, 1), date(2026, 12, 31), "Europe/Moscow")
    rng = np.random.default_rng(3)
    start = to_us(datetime(2025, 1, 1, tzinfo=ZONE))
    moments = rng.integers(start, start + 500 * 86_400_000_000, size=300)
    amounts = rng.integers(1, 25, size=300)
    working = days.add_working_days(moments, amounts)
    calendar_days = days.add_calendar_days(moments, amounts)
    for moment, amount, w, c in zip(moments, amounts, working, calendar_days, strict=True):
        at = from_us(moment)
        assert from_us(w) == calendar.add_working_days(at, int(amount), "Europe/Moscow")
        assert from_us(c) == calendar.add_calendar_days(at, int(amount), "Europe/Moscow")


@pytest.mark.django_db
def test_generated_appeals_have_consistent_timelines(generated):
    assert generated.appeals == 1500
    assert Appeal.objects.count() == 1500
    assert AppealEvent.objects.count() == generated.events
    numbers = list(Appeal.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 1500
    assert Appeal.objects.filter(registered_at__gt=NOW).count() == 0
    assert Appeal.objects.filter(registered_at__lt=NOW - timedelta(days=121)).count() == 0

    timelines = {}
    for event in AppealEvent.objects.order_by("appeal_id", "at", "pk"):
        timelines.setdefault(event.appeal_id, []).append(event)
    last_run = NOW.replace(minute=NOW.minute - NOW.minute % 5, second=0, microsecond=0)
    for appeal in Appeal.objects.select_related("topic"):
        events = timelines[appeal.pk]
        assert events[0].kind == EventKind.REGISTERED and events[0].at == appeal.registered_at
        # every move starts from the status the previous one left, and the lifecycle allows it
        status = Status.REGISTERED
        for event in events[1:]:
            if event.kind in STEP_OF:
                assert event.status_from == status, (appeal.number, event.kind)
                step = STEP_OF[event.kind]
                if step != "assign":  # intake assigns from «registered», moderation from «moderation»
                    assert status in ALLOWED_FROM[step], (appeal.number, event.kind, status)
            if event.status_to:
                status = event.status_to
            assert event.at <= NOW
        assert appeal.status == status, appeal.number
        # the deadlines are the calendar's: the regulation from the clock's start, the pause added
        # (or the extension's date), never past the legal limit
        if appeal.reopen_count == 0 and not appeal.extension_reason:
            fresh = Appeal(topic=appeal.topic, first_responded_at=None)
            deadlines.start_clock(fresh, appeal.clock_started_at)
            assert appeal.resolution_due == fresh.resolution_due + timedelta(seconds=appeal.paused_seconds)
            assert appeal.first_response_due == fresh.first_response_due
        if appeal.status in (Status.ASSIGNED, Status.IN_WORK, Status.INTERIM):
            assert appeal.deadline_state == deadlines.state_at(appeal, last_run), appeal.number
        answers = [e for e in events if e.kind == EventKind.ANSWERED]
        if answers and appeal.reopen_count == 0:
            assert answers[0].data["on_time"] == (answers[0].at <= appeal.resolution_due)
            assert appeal.answered_at == answers[0].at
        marks = [e.kind for e in events if e.kind in (EventKind.OVERDUE, EventKind.DEADLINE_SOON)]
        assert Counter(e.kind for e in events)[EventKind.ESCALATED] == len(marks)

    # every turn of the lifecycle occurs
    kinds = Counter(AppealEvent.objects.values_list("kind", flat=True))
    for kind in (
        EventKind.SENT_TO_MODERATION,
        EventKind.REJECTED,
        EventKind.REDIRECTED,
        EventKind.CLARIFICATION_REQUESTED,
        EventKind.INTERIM_ANSWER,
        EventKind.EXTENDED,
        EventKind.REOPENED,
        EventKind.RATED,
        EventKind.OVERDUE,
        EventKind.DEADLINE_SOON,
    ):
        assert kinds[kind] > 0, kind
    statuses = Counter(Appeal.objects.values_list("status", flat=True))
    assert statuses[Status.CLOSED] > 0 and statuses[Status.IN_WORK] + statuses[Status.INTERIM] > 0


@pytest.mark.django_db
def test_numbering_continues_after_the_generated_appeals(generated):
    generated_numbers = set(Appeal.objects.values_list("number", flat=True))
    last = max(int(n.split("-")[1]) for n in generated_numbers)

    appeal, created = actions.register(
        channel=Channel.HOTLINE, text="Не горит фонарь у дома", at=timezone.now()
    )

    assert created
    assert appeal.number not in generated_numbers
    assert Appeal.objects.filter(number=appeal.number).count() == 1
    if connection.vendor == "sqlite":  # the counter, not a sequence: exactly the next one
        assert int(appeal.number.split("-")[1]) == last + 1
    else:
        # a process keeps a block of numbers it took from the sequence before (numbering.RESERVED):
        # the next one may come from that block, below the generated ones but never one of them;
        # a fresh block starts after them
        numbering._block = (0, [])
        again, _ = actions.register(
            channel=Channel.HOTLINE, text="Не горит фонарь у подъезда", at=timezone.now()
        )
        assert int(again.number.split("-")[1]) > last


@pytest.mark.django_db(transaction=True)
def test_the_command_writes_in_batches_and_prints_the_rate(tmp_path, settings, capsys, monkeypatch):
    # outside a transaction: on PostgreSQL a thread sends each batch while the next is made
    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(generate, "BATCH", 40)
    path = write_export(tmp_path / "export.csv.gz")

    call_command("demo_generate", "--appeals", "130", "--file", str(path), verbosity=0)

    assert Appeal.objects.count() == 130
    assert Appeal.objects.values("number").distinct().count() == 130
    assert AppealEvent.objects.filter(kind=EventKind.REGISTERED).count() == 130
    assert AppealEvent.objects.values("appeal_id").distinct().count() == 130
    assert "обращений в секунду" in capsys.readouterr().out


def _indexes() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        return {
            table: sorted(
                name
                for name, c in connection.introspection.get_constraints(cursor, table).items()
                if c["index"] and not c["primary_key"] and not c["unique"]
            )
            for table in generate.TABLES
        }


@pytest.mark.django_db(transaction=True)
def test_a_large_load_drops_the_secondary_indexes_and_builds_every_one_again(tmp_path, settings, monkeypatch):
    # outside a transaction: on PostgreSQL the indexes are built on two connections at once
    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(generate, "BATCH", 50)
    before = _indexes()
    built, create = [], generate.bulk.create_indexes

    def recording(indexes, *args, **kwargs):
        assert _indexes() != before  # dropped while the rows were written
        built.extend(name for name, _ in indexes)
        return create(indexes, *args, **kwargs)

    monkeypatch.setattr(generate.bulk, "create_indexes", recording)
    path = write_export(tmp_path / "export.csv.gz")

    call_command("demo_generate", "--appeals", "120", "--file", str(path), "--rebuild-indexes", verbosity=0)

    assert _indexes() == before
    assert Appeal.objects.count() == 120
    assert not generate.index_file().exists()
    if connection.vendor == "postgresql":
        assert sorted(built) == sorted(sum(before.values(), []))
        assert "appeal_search_document" in built  # the GIN ones too (outside Django's models)
        with connection.cursor() as cursor:  # each one valid, usable by the planner
            cursor.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid")
            assert cursor.fetchone()[0] == 0
    else:
        assert built == []  # SQLite keeps its indexes


def test_answers_far_ahead_leave_the_appeal_open_instead_of_leaving_the_calendar(tmp_path, settings, db):
    # the export's slowest answers took months; drawn near today they used to end past the
    # generator's calendar (an IndexError or «a moment outside the calendar's days» mid-run)
    settings.VAR_DIR = tmp_path
    region = generate.load_region(write_export(tmp_path / "export.csv.gz"))
    generator = generate.Generator(region, now=NOW, seed=3, period_days=3)
    generator.source.hours[:] = 20_000  # 833 days

    generator.run(200)

    assert Appeal.objects.count() == 200
    assert not AppealEvent.objects.filter(kind=EventKind.ANSWERED).exists()
    assert not AppealEvent.objects.filter(at__gt=NOW).exists()
    assert not Appeal.objects.filter(answered_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_a_failed_index_build_stops_the_other_streams_and_comes_out(monkeypatch, request):
    table = Appeal._meta.db_table
    good = [
        (f"t_idx_{i}", f"CREATE INDEX t_idx_{i} ON {table} (registered_at, (id + {i}))") for i in range(4)
    ]
    bad = ("a_bad_idx", f"CREATE INDEX a_bad_idx ON {table} (no_such_column)")  # first by name
    used, calls, build = set(), itertools.count(), generate.bulk._build

    def recording(take, using):
        used.add(id(generate.bulk.connections[using]))

        def later():  # every take but the very first (the bad one) comes after it failed
            if next(calls):
                time.sleep(0.3)
            return take()

        return build(later, using)

    monkeypatch.setattr(generate.bulk, "_build", recording)
    request.addfinalizer(lambda: generate.bulk.drop_indexes([*good, bad]))

    with pytest.raises(DatabaseError):
        generate.bulk.create_indexes([*good, bad], streams=2)

    assert len(used) == (2 if connection.vendor == "postgresql" else 1)  # SQLite: one writer
    names = {name for name, _ in good}
    assert not names & set(sum(_indexes().values(), []))  # the other stream took nothing more
    generate.bulk.create_indexes(good, streams=2)
    assert names <= set(sum(_indexes().values(), []))
