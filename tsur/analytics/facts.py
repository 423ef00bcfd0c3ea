"""Per-appeal facts: each appeal's dimensions and the times and flags its timeline says, kept in
`AppealFact` so that a quarter of a million appeals is counted from one narrow table.

A fact is derived from the appeal's events only (`derive`), so it can be thrown away and rebuilt at
any time (`rebuild`, the `tsur analytics_rebuild` command); `refresh` rewrites the facts of the
appeals whose timeline just grew, inside the step's own transaction and under its lock on the
appeal, so a fact is never older than the events it was read from (decision 0016).
"""

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import DateTimeField, Exists, ExpressionWrapper, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from tsur.appeals.choices import CloseReason, EventKind, Status
from tsur.appeals.models import Appeal, AppealEvent
from tsur.core import calendar

from .models import AppealFact

REPEAT_WINDOW = timedelta(days=90)
ANSWERED_STATUSES = frozenset({Status.ANSWERED, Status.CLOSED})
FIRST_RESPONSES = frozenset({EventKind.CLARIFICATION_REQUESTED, EventKind.INTERIM_ANSWER, EventKind.ANSWERED})
CONFIRMING = frozenset({CloseReason.SATISFIED, CloseReason.CONTROLLER})
APPEAL_FIELDS = (
    "pk",
    "registered_at",
    "channel",
    "organisation_id",
    "territory_id",
    "territory__path",
    "topic_id",
    "topic__block_id",
    "building_id",
    "address",
    "resolution_due",
    "first_response_due",
)
FACT_FIELDS = [f.name for f in AppealFact._meta.concrete_fields if f.name != "appeal"]
CHUNK = 2000
COPY_FROM = 200  # facts written at once from which a copy beats a statement per fact


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def working_seconds(start: datetime, end: datetime) -> int:
    """Seconds of [start, end) that fall on working days of the production calendar, in the region's
    time zone: a Saturday or a holiday does not count, a working day counts whole (the deadlines of
    the register are counted in working days, not in office hours)."""
    if end <= start:
        return 0
    zone = ZoneInfo(settings.TIME_ZONE)
    s, e = start.astimezone(zone), end.astimezone(zone)
    first, last = s.date(), e.date()
    if first == last:
        return int((e - s).total_seconds()) if calendar.is_working_day(first) else 0
    seconds = 0.0
    if calendar.is_working_day(first):
        seconds += (_midnight(first + timedelta(days=1), zone) - s).total_seconds()
    if calendar.is_working_day(last):
        seconds += (e - _midnight(last, zone)).total_seconds()
    between = calendar.working_days_between(first, last - timedelta(days=1))  # days in (first, last)
    return int(seconds + between * 86400)


def place_key(building_id: int | None, address: str) -> str:
    if building_id:
        return f"b{building_id}"
    return " ".join((address or "").lower().split())[:200]


def municipality_of(path: str | None) -> int | None:
    """The territory right below the region on the territory's path ("/1/4/17/" → 4)."""
    ids = [int(x) for x in (path or "").strip("/").split("/") if x]
    if not ids:
        return None
    return ids[1] if len(ids) > 1 else ids[0]


def derive(appeal: dict, events: list, now: datetime) -> dict:
    """The fact of one appeal (`appeal`: the values of APPEAL_FIELDS) from its events in time order.

    * status: the last event's status; answered: the last answer stands (answered or closed), on
      time as the answer's own event judged it against the deadline of that moment;
    * first response: the first question to the citizen, interim answer or answer;
    * resolution: the last answer; both in working seconds from registration, the time the
      organisation waited for the citizen's reply (clarification) left out of the resolution;
    * reopened, redirected: how many times; routed automatically: an assignment at intake with
      the register's decision recorded and no person's step (as `appeals.selectors`);
    * rating: the last mark; confirmed: closed by the citizen or a controller, not automatically.

    The data of an event is read only for the kinds in DATA_READ (the rebuild on PostgreSQL reads no
    other kind's data).
    """
    registered_at = appeal["registered_at"]
    status = appeal.get("status") or ""
    first_response = answered_at = None
    answers = reopened = redirected = 0
    auto = confirmed = False
    on_time = False
    rating = None
    pauses: list[tuple[datetime, datetime | None]] = []
    for e in events:
        kind = e.kind
        if kind == EventKind.REGISTERED:
            registered_at = e.at
        if kind in FIRST_RESPONSES and first_response is None:
            first_response = e.at
        if kind == EventKind.ANSWERED:
            answers += 1
            answered_at = e.at
            on_time = bool((e.data or {}).get("on_time", True))
        elif kind == EventKind.REOPENED:
            reopened += 1
        elif kind == EventKind.REDIRECTED:
            redirected += 1
        elif kind == EventKind.ASSIGNED and e.actor_id is None and "path" in (e.data or {}):
            auto = True
        elif kind == EventKind.RATED:
            rating = (e.data or {}).get("rating")
        elif kind == EventKind.CLOSED:
            confirmed = (e.data or {}).get("how") in CONFIRMING
        waiting = bool(pauses) and pauses[-1][1] is None
        if e.status_to == Status.CLARIFICATION and not waiting:
            pauses.append((e.at, None))
        elif waiting and e.status_to and e.status_to != Status.CLARIFICATION:
            pauses[-1] = (pauses[-1][0], e.at)
        if e.status_to:
            status = e.status_to
    answered = status in ANSWERED_STATUSES and answered_at is not None
    resolution = None
    if answered:
        resolution = working_seconds(registered_at, answered_at) - sum(
            working_seconds(max(a, registered_at), min(b or answered_at, answered_at))
            for a, b in pauses
            if a < answered_at
        )
    return {
        "registered_at": registered_at,
        "channel": appeal["channel"],
        "organisation_id": appeal["organisation_id"],
        "territory_id": appeal["territory_id"],
        "municipality_id": municipality_of(appeal["territory__path"]),
        "block_id": appeal["topic__block_id"],
        "topic_id": appeal["topic_id"],
        "place_key": place_key(appeal["building_id"], appeal["address"]),
        "status": status,
        "resolution_due": appeal["resolution_due"],
        "first_response_due": appeal["first_response_due"],
        "first_response_at": first_response,
        "answered_at": answered_at,
        "answered": answered,
        "answered_on_time": answered and on_time,
        "ever_answered": answers > 0,
        "first_response_wsec": None
        if first_response is None
        else working_seconds(registered_at, first_response),
        "resolution_wsec": None if resolution is None else max(0, resolution),
        "reopened": reopened,
        "redirected": redirected,
        "auto_routed": auto,
        "rating": rating,
        "confirmed": confirmed and status == Status.CLOSED,
        "refreshed_at": now,
    }


class Event:
    """What `derive` reads of a timeline event (read as plain values: a model instance per event
    costs more than deriving the fact)."""

    __slots__ = ("actor_id", "at", "data", "kind", "status_to")

    def __init__(self, kind: str, at: datetime, actor_id: int | None, status_to: str, data: dict):
        self.kind, self.at, self.actor_id, self.status_to, self.data = kind, at, actor_id, status_to, data


EVENT_FIELDS = ("kind", "at", "actor_id", "status_to", "data")


def _fast_timestamps(cursor) -> None:
    """psycopg's own (C) loader of timestamps on this cursor instead of Django's Python one, which
    costs ten times as much a value; both give the moment in the connection's zone (UTC)."""
    from psycopg.types.datetime import TimestamptzLoader  # registered, it is the C one

    cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)


def _appeals(keys: list[int]) -> list[dict]:
    """The values of APPEAL_FIELDS of these appeals."""
    if connection.vendor != "postgresql":
        return list(Appeal.objects.filter(pk__in=keys).values(*APPEAL_FIELDS))
    # one array parameter, not thousands of placeholders for the driver to split
    listed = RawSQL("SELECT unnest(%s::bigint[])", [keys])  # noqa: S611 - a constant text
    sql, params = Appeal.objects.filter(pk__in=listed).values_list(*APPEAL_FIELDS).query.sql_with_params()
    with connection.cursor() as cursor:
        _fast_timestamps(cursor)
        cursor.execute(sql, params)
        return [dict(zip(APPEAL_FIELDS, row, strict=True)) for row in cursor.fetchall()]


# the kinds whose data `derive` reads; the others' JSON is not even read on PostgreSQL (a kind whose
# data `derive` starts to read must be added here)
DATA_READ = (EventKind.ANSWERED, EventKind.ASSIGNED, EventKind.RATED, EventKind.CLOSED)


def _events_by_appeal(keys: list[int]) -> dict[int, list]:
    found = defaultdict(list)
    if connection.vendor == "postgresql":
        # Read as plain rows: Django's converters per value, its Python loader of timestamps
        # (ten times psycopg's own) and decoding every event's JSON cost more than deriving the facts.
        table = AppealEvent._meta.db_table
        sql = (
            f"SELECT appeal_id, kind, at, actor_id, status_to, "  # noqa: S608 - names from the model
            f"CASE WHEN kind = ANY(%s) THEN data END FROM {table} "
            f"WHERE appeal_id = ANY(%s) ORDER BY appeal_id, at, id"
        )
        with connection.cursor() as cursor:
            _fast_timestamps(cursor)
            cursor.execute(sql, [[str(k) for k in DATA_READ], keys])
            rows = cursor.fetchall()
        for appeal_id, kind, at, actor_id, status_to, data in rows:
            data = json.loads(data) if isinstance(data, str | bytes) else data
            found[appeal_id].append(Event(kind, at, actor_id, status_to, data))
        return found
    query = (
        AppealEvent.objects.filter(appeal_id__in=keys)
        .order_by("appeal_id", "at", "pk")
        .values_list("appeal_id", *EVENT_FIELDS)
    )
    for appeal_id, *values in query:
        found[appeal_id].append(Event(*values))
    return found


def compute(keys: Iterable[int], now: datetime | None = None) -> list[dict]:
    """The facts of these appeals as their timelines say now (stored nowhere), as field values."""
    now = now or timezone.now()
    keys = list(keys)
    rows = _appeals(keys)
    events = _events_by_appeal(keys)
    return [{"appeal_id": row["pk"], **derive(row, events.get(row["pk"], []), now)} for row in rows]


COLUMNS = ["appeal_id", *(f.column for f in AppealFact._meta.concrete_fields if f.name != "appeal")]


def _write(found: list[dict]) -> None:
    """Insert or overwrite these facts (the repeat flag is set afterwards, from the other facts)."""
    if not found:
        return
    if connection.vendor != "postgresql":
        AppealFact.objects.bulk_create(
            [AppealFact(**f) for f in found],
            update_conflicts=True,
            unique_fields=["appeal"],
            update_fields=FACT_FIELDS,
        )
        return
    table = AppealFact._meta.db_table
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c not in ("appeal_id", "repeat"))
    sql = (
        f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))}) "  # noqa: S608 - names from the model
        f"ON CONFLICT (appeal_id) DO UPDATE SET {updates}"
    )
    rows = [[f.get(c, False) for c in COLUMNS] for f in found]
    if len(rows) < COPY_FROM:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        return
    # many: copied into a table of this transaction, then one upsert (a row a statement costs more);
    # one transaction, so that behind a pooler in transaction mode every statement meets the same table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS fact_load (LIKE {table}) ON COMMIT DROP")  # noqa: S608
        cursor.execute("TRUNCATE fact_load")  # a caller's transaction may have filled it before
        with cursor.cursor.copy(f"COPY fact_load ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} FROM fact_load "  # noqa: S608
            f"ON CONFLICT (appeal_id) DO UPDATE SET {updates}"
        )


def _repeat_of() -> Exists:
    """Whether an earlier appeal on the same topic at the same place was registered within 90 days."""
    since = ExpressionWrapper(OuterRef("registered_at") - REPEAT_WINDOW, output_field=DateTimeField())
    return Exists(
        AppealFact.objects.filter(
            topic=OuterRef("topic"),
            place_key=OuterRef("place_key"),
            registered_at__lt=OuterRef("registered_at"),
            registered_at__gte=since,
        )
    )


def _store(found: list[dict]) -> None:
    _write(found)
    keys = [f["appeal_id"] for f in found]
    AppealFact.objects.filter(appeal_id__in=keys).exclude(place_key="").filter(topic__isnull=False).update(
        repeat=_repeat_of()
    )


def refresh(keys: Iterable[int]) -> None:
    """Rewrite the facts of these appeals from their timelines (called by the step that wrote the
    events, inside its transaction)."""
    keys = sorted(set(keys))
    if keys:
        _store(compute(keys))


def rebuild(progress: Callable[[int, int], None] | None = None, *, chunk: int = CHUNK) -> int:
    """Every fact anew from the timelines, in chunks of appeals by key; facts of appeals gone are
    dropped. Returns the number of facts written."""
    total = Appeal.objects.count()
    done, last = 0, 0
    now = timezone.now()
    while True:
        keys = list(Appeal.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:chunk])
        if not keys:
            break
        _write(compute(keys, now))
        done += len(keys)
        last = keys[-1]
        if progress:
            progress(done, total)
    # NOT EXISTS, not NOT IN: PostgreSQL runs NOT IN over a large subquery row by row
    AppealFact.objects.filter(~Exists(Appeal.objects.filter(pk=OuterRef("appeal_id")))).delete()
    # only the rows whose flag changes are written: a full-table UPDATE would double the table
    countable = ~Q(place_key="") & Q(topic__isnull=False)
    AppealFact.objects.filter(countable, repeat=False).filter(_repeat_of()).update(repeat=True)
    AppealFact.objects.filter(repeat=True).exclude(countable & Q(_repeat_of())).update(repeat=False)
    return done


def events_recorded(sender, appeal_ids, **kwargs) -> None:
    """Receiver of `appeals.signals.events_recorded`: the facts follow the timeline."""
    refresh(appeal_ids)
