"""The wall screen's figures (/situation/): what is happening now, as far as a person's scope reaches.

Every figure is counted by the database over indexed columns and carries the console's filter that
lists its appeals (`link`: query parameters of tsur.web.queues.filtered), so a click on a number opens
exactly those appeals. "Open" and "overdue now" are the register's own definitions
(`lifecycle.OPEN_STATUSES`, `deadlines.overdue_now`), as on /overview/, in the console and in the KPIs.

The map counts open appeals with a point in hexagonal cells of the `h3` package, at the resolution
the screen's zoom asks for (6–9) and within its box. The database groups the appeals on a grid of
that resolution (`GRID_OF_RESOLUTION` cells of the fine `FINE_LAT` × `FINE_LON` grid, about 22 m a
side at 60° N: at most an eighth of the hexagon's edge) with one query; each grid cell's centre is
placed into its hexagon, never each appeal, so an appeal is counted at most that eighth of an edge
from its point. The drill-down of a hexagon (`in_cell`) selects the same grid cells, so its list
holds exactly the hexagon's count.

`figures` is kept in the cache per scope and recomputed when `version` moves (a new timeline event,
alarm or outage event, a new signal, the next minute), at most once every `FRESH` seconds; the map of
a view is kept with the version of the figures it goes with (`map_screen`; decision 0017).
"""

import math
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import lru_cache, reduce
from operator import or_

import h3
from django.core.cache import cache
from django.db import close_old_connections, connection, connections
from django.db.models import Aggregate, Count, F, IntegerField, Max, Q
from django.db.models.functions import Floor
from django.utils import timezone

from tsur.appeals import deadlines, public
from tsur.appeals.choices import EventKind, Status
from tsur.appeals.lifecycle import OPEN_STATUSES
from tsur.appeals.models import Appeal, AppealEvent, Topic
from tsur.core.scopes import scope_for
from tsur.dispatch.choices import AlarmState, OutageState
from tsur.dispatch.models import (
    Alarm,
    AlarmEvent,
    EngineeringObject,
    EngineeringObjectQuerySet,
    Outage,
    OutageEvent,
)

from .signal_models import Signal

OPEN = sorted(OPEN_STATUSES)
MODERATION = [Status.REGISTERED, Status.MODERATION]
# seconds a computed screen is served to the next poll although the register moved (wall-clock
# time: the cache may be shared by the processes of several hosts)
FRESH = 1.0
KEEP = 60  # seconds the cache keeps a screen at all
COMPUTING = 30  # seconds a computation may hold the others back (should its process die)
RISING_WINDOW = timedelta(hours=24)
RISING_BASE_DAYS = 7
RISING_MIN = 3
TOP = 8
SIGNALS_SHOWN_FOR = timedelta(hours=48)

# the fine grid of the map, in degrees (square at 60° of latitude)
FINE_LAT, FINE_LON = 0.0002, 0.0004
RESOLUTIONS = (6, 7, 8, 9)
# grid cells of each resolution, in fine cells: about an eighth of the hexagon's edge or less
GRID_OF_RESOLUTION = {6: 18, 7: 7, 8: 2, 9: 1}


def today(now: datetime) -> tuple[datetime, datetime]:
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


# ------------------------------------------------------------------ what moves the screen


def version(now: datetime) -> str:
    """Changes whenever anything the screen shows may have changed: the newest timeline event, alarm
    event, outage event and signal, and the minute (today's counts and the 24 hours slide)."""
    latest = [
        model.objects.aggregate(m=Max("pk"))["m"] or 0
        for model in (AppealEvent, AlarmEvent, OutageEvent, Signal)
    ]
    minute = timezone.localtime(now).strftime("%Y%m%d%H%M")
    return ".".join(str(n) for n in latest) + "." + minute


def scope_key(user) -> str:
    """Whose screen it is: a region-wide reader shares the region's; anybody else has their own
    (their territories and organisations, and what they filed themselves)."""
    return "region" if scope_for(user).region else f"user{user.pk}"


def screen(user, now: datetime | None = None, current: str | None = None) -> tuple[str, dict]:
    """(version, figures) for the user's scope, from the cache when fresh enough (`current`: the
    register's version at `now`, when the caller has read it already)."""
    now = now or timezone.now()
    current = current or version(now)
    key = f"situation:{scope_key(user)}"
    kept = cache.get(key)
    if kept is not None and (kept["version"] == current or time.time() - kept["at"] < FRESH):
        return kept["version"], kept["figures"]
    # one computation per scope at a time: the other screens are served what is kept meanwhile
    busy = f"{key}:computing"
    if kept is not None and not cache.add(busy, 1, COMPUTING):
        return kept["version"], kept["figures"]
    try:
        found = figures(user, now)
        cache.set(key, {"version": current, "at": time.time(), "figures": found}, KEEP)
    finally:
        cache.delete(busy)
    return current, found


# ------------------------------------------------------------------ the figures


def figures(user, now: datetime) -> dict:
    visible = Appeal.objects.restrict(user)
    return {
        "now": timezone.localtime(now).isoformat(timespec="seconds"),
        "counters": counters(visible, now),
        "rising": rising(visible, now),
        "signals": signals(user, now),
        "organisations": overdue_by_organisation(visible, now),
        **dispatch(user),
        "blocks": [{"code": b["code"], "name": b["name"], "color": b["color"]} for b in public.blocks()],
    }


def counters(visible, now: datetime) -> list[dict]:
    """Received today, open, overdue now, in moderation, answered today (each a link)."""
    start, end = today(now)
    day = start.date().isoformat()
    received = visible.filter(registered_at__gte=start, registered_at__lt=end).count()
    by_status = (
        visible.filter(status__in=OPEN)
        .values("status")
        .annotate(n=Count("pk"), overdue=Count("pk", filter=deadlines.overdue_now(now)))
    )
    open_ = overdue = moderation = 0
    for row in by_status:
        open_ += row["n"]
        overdue += row["overdue"]
        moderation += row["n"] if row["status"] in MODERATION else 0
    answered = visible.filter(pk__in=answered_between(start, end)).count()
    return [
        {"key": "received", "value": received, "link": {"queue": "all", "since": day, "until": day}},
        {"key": "open", "value": open_, "link": {"queue": "open"}},
        {"key": "overdue", "value": overdue, "link": {"queue": "overdue"}},
        {"key": "moderation", "value": moderation, "link": {"queue": "moderation"}},
        {"key": "answered", "value": answered, "link": {"queue": "all", "answered": day}},
    ]


def answered_between(start: datetime, end: datetime):
    """The appeals whose timeline has an answer given in [start, end) (the event index)."""
    return AppealEvent.objects.filter(kind=EventKind.ANSWERED, at__gte=start, at__lt=end).values("appeal_id")


def rising(visible, now: datetime) -> list[dict]:
    """Topics with more appeals in the last 24 hours than their daily mean of the 7 days before,
    the largest rise first (at least RISING_MIN appeals)."""
    since = now.replace(second=0, microsecond=0) - RISING_WINDOW
    base_from = since - timedelta(days=RISING_BASE_DAYS)
    rows = (
        visible.filter(registered_at__gte=base_from, topic__isnull=False)
        .values("topic")
        .annotate(
            # registered_at (never empty), not the id: the rows are then read from the index on
            # registered_at alone (appeal_registered), not fetched from the table
            now=Count("registered_at", filter=Q(registered_at__gte=since)),
            before=Count("registered_at", filter=Q(registered_at__lt=since)),
        )
        .filter(now__gte=RISING_MIN)
    )
    found = []
    for row in rows:
        base = row["before"] / RISING_BASE_DAYS
        if row["now"] > base:
            found.append((row["now"] - base, row["topic"], row["now"], base))
    found.sort(reverse=True)
    names = Topic.objects.in_bulk([t for _, t, _, _ in found[:TOP]])
    blocks = {b["pk"]: b for b in public.blocks()}
    return [
        {
            "topic": names[topic].name,
            "block": blocks.get(names[topic].block_id, public.OTHER)["name"],
            "color": blocks.get(names[topic].block_id, public.OTHER)["color"],
            "value": n,
            "base": round(base, 1),
            "link": {
                "queue": "all",
                "topic": names[topic].code,
                "after": timezone.localtime(since).isoformat(timespec="seconds"),
            },
        }
        for _, topic, n, base in found[:TOP]
    ]


def signals(user, now: datetime) -> list[dict]:
    """The detector's signals of the last two days in the user's territories."""
    scope = scope_for(user)
    shown = (
        Signal.objects.filter(scope.q(territory="territory"), window_end__gte=now - SIGNALS_SHOWN_FOR)
        .select_related("topic", "territory", "outage__object")
        .order_by("-window_end", "p_value")[:TOP]
    )
    return [
        {
            "id": s.pk,
            "topic": s.topic.name,
            "territory": s.territory.name,
            "value": s.observed,
            "expected": round(s.expected, 1),
            "p_value": f"{s.p_value:.0e}",
            "window_end": timezone.localtime(s.window_end).strftime("%d.%m %H:%M"),
            "outage": str(s.outage.object) if s.outage_id else "",
            "link": {"queue": "all", "signal": s.pk},
        }
        for s in shown
    ]


def overdue_by_organisation(visible, now: datetime) -> list[dict]:
    rows = (
        visible.filter(deadlines.overdue_now(now), organisation__isnull=False)
        .values("organisation", "organisation__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "organisation__name")[:TOP]
    )
    return [
        {
            "organisation": row["organisation__name"],
            "value": row["n"],
            "link": {"queue": "overdue", "organisation": row["organisation"]},
        }
        for row in rows
    ]


def dispatch(user) -> dict:
    """Active outages (with their appeals) and alarms not yet cleared, on the objects of the user's
    organisations and territories; names of objects and services only."""
    scope = scope_for(user)
    objects = EngineeringObject.objects.filter(scope.q(**EngineeringObjectQuerySet.scope_lookups)).values(
        "pk"
    )
    outages = (
        Outage.objects.filter(state=OutageState.ACTIVE, object__in=objects)
        .select_related("object")
        .annotate(appeal_count=Count("links"))
        .order_by("-started_at")
    )
    alarms = (
        Alarm.objects.exclude(state=AlarmState.CLEARED)
        .filter(object__in=objects)
        .select_related("object", "rule")
        .order_by("-raised_at")
    )
    return {
        "outages": [
            {
                "id": o.pk,
                "object": o.object.name,
                "services": o.services_display(),
                "since": timezone.localtime(o.started_at).strftime("%d.%m %H:%M"),
                "value": o.appeal_count,
                "link": {"queue": "all", "outage": o.pk},
            }
            for o in outages[:TOP]
        ],
        "outage_count": outages.count(),
        "alarms": [
            {
                "object": a.object.name,
                "rule": a.rule.name,
                "severity": a.severity,
                "severity_label": a.get_severity_display(),
                "state": a.state,
                "since": timezone.localtime(a.raised_at).strftime("%d.%m %H:%M"),
            }
            for a in alarms[:TOP]
        ],
        "alarm_count": alarms.count(),
        "critical_count": alarms.filter(severity="critical", state=AlarmState.ACTIVE).count(),
    }


# ------------------------------------------------------------------ the map


@lru_cache(maxsize=200_000)
def _cell(gy: int, gx: int, cells: int, resolution: int) -> str:
    """The hexagon of a grid cell's centre (`cells` fine cells a side)."""
    return h3.latlng_to_cell((gy + 0.5) * cells * FINE_LAT, (gx + 0.5) * cells * FINE_LON, resolution)


class Mode(Aggregate):
    """The most frequent value of a group (PostgreSQL's ordered-set aggregate)."""

    function = "mode"
    template = "%(function)s() WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = IntegerField()


def _grid(resolution: int):
    """The grid cell of a resolution an appeal's point falls in, as two expressions (nested in the
    fine grid, so the map and the drill-down of a hexagon select the same appeals)."""
    size = GRID_OF_RESOLUTION[resolution]
    return (
        Floor(Floor(F("latitude") / FINE_LAT) / size),
        Floor(Floor(F("longitude") / FINE_LON) / size),
    )


def _margin(resolution: int) -> tuple[float, float]:
    """A hexagon's width in degrees of latitude and longitude (at 60°), to widen a box by."""
    edge = h3.average_hexagon_edge_length(resolution, "km") / 111.0
    return 2 * edge, 4 * edge


def cells(
    visible,
    resolution: int,
    box: tuple[float, float, float, float] | None = None,
    now: datetime | None = None,
) -> dict[str, tuple]:
    """Open appeals with a point per hexagon of the resolution whose centre lies in the box (south,
    west, north, east): {cell: (open, overdue, the block most of them are about)}. One grouped query
    over the box widened by a hexagon; Python folds grid cells, not appeals."""
    gy, gx = _grid(resolution)
    shown = visible.filter(status__in=OPEN, latitude__isnull=False, longitude__isnull=False).annotate(
        gy=gy, gx=gx
    )
    size = GRID_OF_RESOLUTION[resolution]
    if box is not None:
        # the box as a range of grid cells, not of the point's columns: PostgreSQL then reads the open
        # appeals by their status, never the whole register by a point index for a box as large as it
        d_lat, d_lon = _margin(resolution)
        shown = shown.filter(
            gy__gte=math.floor((box[0] - d_lat) / FINE_LAT) // size,
            gy__lte=math.floor((box[2] + d_lat) / FINE_LAT) // size,
            gx__gte=math.floor((box[1] - d_lon) / FINE_LON) // size,
            gx__lte=math.floor((box[3] + d_lon) / FINE_LON) // size,
        )
    counts = {"n": Count("pk"), "overdue": Count("pk", filter=deadlines.overdue_now(now or timezone.now()))}
    if connections[shown.db].vendor == "postgresql":
        # one row per grid cell, with the block most of its appeals are about
        rows = shown.values_list("gy", "gx").annotate(mode=Mode("topic__block"), **counts).order_by()
    else:  # no mode() elsewhere: a row per grid cell and topic, the block looked up here
        block_of = dict(Topic.objects.values_list("pk", "block_id"))
        rows = (
            (y, x, block_of.get(topic_pk), n, overdue)
            for y, x, topic_pk, n, overdue in shown.values_list("gy", "gx", "topic")
            .annotate(**counts)
            .order_by()
        )
    found: dict[str, list] = {}
    for y, x, block_pk, n, overdue in rows:
        cell = _cell(int(y), int(x), size, resolution)
        kept = found.get(cell)
        if kept is None:
            kept = found[cell] = [0, 0, {}]
        kept[0] += n
        kept[1] += overdue
        kept[2][block_pk] = kept[2].get(block_pk, 0) + n
    result = {}
    for cell, (n, overdue, by_block) in found.items():
        if box is not None:
            lat, lon = _centre(cell)
            if not (box[0] <= lat <= box[2] and box[1] <= lon <= box[3]):
                continue
        result[cell] = (n, overdue, max(by_block.items(), key=lambda item: (item[1], item[0] is not None))[0])
    return result


@lru_cache(maxsize=200_000)
def _centre(cell: str) -> tuple[float, float]:
    return h3.cell_to_latlng(cell)


@lru_cache(maxsize=50_000)
def _boundary(cell: str) -> tuple:
    return tuple((round(lat, 5), round(lon, 5)) for lat, lon in h3.cell_to_boundary(cell))


def map_cells(
    visible, resolution: int, box: tuple[float, float, float, float] | None, now: datetime | None = None
) -> list[dict]:
    """The hexagons of a resolution in the box, with their outline, counts, the block most of their
    appeals are about, and their drill-down."""
    blocks = {b["pk"]: i for i, b in enumerate(public.blocks())}
    return [
        {
            "id": cell,
            "n": n,
            "overdue": overdue,
            "block": blocks.get(top, -1),
            "outline": _boundary(cell),
            "link": {"queue": "open", "cell": cell},
        }
        for cell, (n, overdue, top) in cells(visible, resolution, box, now).items()
    ]


_reader: ThreadPoolExecutor | None = None
_reader_lock = threading.Lock()


def side_by_side(first, second):
    """(first(), second()), the second read on a connection of its own while the first is read: the
    wall's figures and its map are two independent reads of a few hundred milliseconds each at a
    million appeals, and PostgreSQL serves them at once on two cores, so a poll waits for the longer
    one instead of both. It saves waiting, not work: on a server whose cores are all busy the two
    take as long as one after the other. Inside a transaction (a caller's atomic block, the tests)
    another connection would not see what the transaction wrote, and SQLite has one writer and
    gains nothing: there one after the other."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return first(), second()
    later = _reader_pool().submit(_on_own_connection, second)
    return first(), later.result()


def _reader_pool() -> ThreadPoolExecutor:
    """One thread per process (made on first use, so after a server forks its workers) whose
    connection lasts as the request threads' do (CONN_MAX_AGE)."""
    global _reader
    with _reader_lock:
        if _reader is None:
            _reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wall-reader")
        return _reader


def close_reader() -> None:
    """Close the reading thread's connections (a test database is dropped only when nobody is on it)."""
    if _reader is not None:
        _reader.submit(connections.close_all).result()


def _on_own_connection(read):
    close_old_connections()  # what a request does at its start and end, for this thread's connection
    try:
        return read()
    finally:
        close_old_connections()


def map_screen(
    user, version: str, resolution: int, box: tuple[float, float, float, float] | None
) -> list[dict]:
    """`map_cells` for the user's scope, kept with the version of the figures it goes with (screens
    showing the same view share it)."""
    where = ",".join(f"{x:.4f}" for x in box) if box else "all"
    key = f"situation-map:{scope_key(user)}:{version}:{resolution}:{where}"
    kept = cache.get(key)
    if kept is None:
        kept = map_cells(Appeal.objects.restrict(user), resolution, box)
        cache.set(key, kept, KEEP)
    return kept


def in_cell(queryset, cell: str):
    """The appeals whose grid cell lies in the hexagon, as the map counts them."""
    resolution = h3.get_resolution(cell)
    size = GRID_OF_RESOLUTION.get(resolution)
    if size is None:
        return queryset.none()
    step_lat, step_lon = size * FINE_LAT, size * FINE_LON
    outline = h3.cell_to_boundary(cell)
    south = min(p[0] for p in outline) - step_lat
    north = max(p[0] for p in outline) + step_lat
    west = min(p[1] for p in outline) - step_lon
    east = max(p[1] for p in outline) + step_lon
    keys: dict[int, list[int]] = defaultdict(list)
    for gy in range(int(south // step_lat), int(north // step_lat) + 1):
        for gx in range(int(west // step_lon), int(east // step_lon) + 1):
            if _cell(gy, gx, size, resolution) == cell:
                keys[gy].append(gx)
    if not keys:
        return queryset.none()
    gy, gx = _grid(resolution)
    return (
        queryset.filter(latitude__range=(south, north), longitude__range=(west, east))
        .annotate(_gy=gy, _gx=gx)
        .filter(reduce(or_, (Q(_gy=y, _gx__in=xs) for y, xs in keys.items())))
    )
