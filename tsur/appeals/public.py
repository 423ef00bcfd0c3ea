"""What anybody may read of the register, for the portal and the REST API alike: an appeal's public
status, open appeals like one about to be filed, the map of appeals by place and block, and a few
figures. Nothing here returns a text, a person, a flat or an appeal's own point.

Every read is shaped for a register of hundreds of thousands of appeals: one appeal by its unique
number, counts on indexed columns, and the map aggregated by the database into a bounded number of
cells (decision 0013)."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, Count, F, IntegerField, Prefetch, Value, When
from django.db.models.functions import Floor
from django.utils import timezone

from tsur.core.memo import Remembered, RememberedByKey
from tsur.nlp import duplicates

from . import policies
from .choices import FINAL_STATUSES, EventKind, Status
from .models import Appeal, AppealEvent, ThematicBlock, Topic

OPEN_PUBLISHED = policies.OPEN_PUBLISHED_STATUSES
# finished and shown on the map while recent: answered and closed, not refused, not merged into another
RECENT_FINISHED = frozenset({Status.CLOSED})
# the map shows open appeals and those registered this many days back (answered or closed since)
MAP_RECENT_DAYS = 30
# cells about this many screen pixels wide at every zoom (256 px tiles); below FINEST_ZOOM's cell
# the map does not go, so a lone appeal is never placed closer than a block of houses
CELL_PX = 64
FINEST_ZOOM = 16
MAX_ZOOM = 20
# a view holds at most this many cells of its zoom, and the answer at most this many rows
MAX_CELLS = 6000
MAX_ROWS = 5000
# the blocks' colours on the map, in the blocks' order (colour-blind safe first)
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)
OTHER = {"code": "", "name": "Тема не определена", "color": "#5b6878"}


# ------------------------------------------------------------------ one appeal


def status(number: str, viewer=None) -> Appeal | None:
    """The published appeal by its number (or the viewer's own), with its topic, block and
    organisation, its public steps (`public_events`) and the count of residents who joined it
    (`follower_count`); None when there is no such appeal for the public."""
    number = (number or "").strip()
    if not number or len(number) > 20:
        return None
    appeal = (
        Appeal.objects.published(viewer)
        .filter(number=number)
        .select_related("topic__block", "organisation", "building")
        .prefetch_related(
            Prefetch("events", queryset=AppealEvent.objects.filter(public=True), to_attr="public_events")
        )
        .annotate(follower_count=Count("followers"))
        .first()
    )
    return appeal


def place_of(appeal: Appeal) -> str:
    """Where the appeal is, as the public may read it: the house from the building register, or the
    address as written without a flat."""
    if appeal.building_id is not None:
        return policies.public_address(appeal.building.address)
    return policies.public_address(appeal.address)


# ------------------------------------------------------------------ before filing


def nearby(text: str, latitude: float, longitude: float, *, building_id: int | None = None, limit: int = 5):
    """Open published appeals near the point whose text says much the same: the ones a resident
    may join instead of filing anew. [{"similar": duplicates.Similar, "topic": Topic | None}]"""
    found = duplicates.find(
        text,
        latitude=latitude,
        longitude=longitude,
        building_id=building_id,
        queryset=Appeal.objects.published().exclude(status__in=FINAL_STATUSES),
        min_similarity=0.25,
        limit=limit,
    )
    return with_topics(found)


def with_topics(found) -> list[dict]:
    """Each near appeal with its topic, its status as read and how far it is, roughly."""
    topics = {
        t.pk: t
        for t in Topic.objects.select_related("block").filter(
            pk__in={f.topic_id for f in found if f.topic_id}
        )
    }
    return [
        {
            "similar": f,
            "topic": topics.get(f.topic_id),
            "status_display": str(Status(f.status).label),
            "distance": rough_distance(f.distance_m),
        }
        for f in found
    ]


def rough_distance(metres: float | None) -> str:
    """How far, in words that do not let one find the place: «рядом», «до 100 м», «до 200 м»."""
    if metres is None or metres <= 50:
        return "рядом"
    return "до 100 м" if metres <= 100 else "до 200 м"


def joinable(number: str) -> Appeal | None:
    """The appeal a resident may join from the portal: published and not finished."""
    number = (number or "").strip()
    if not number or len(number) > 20:
        return None
    return (
        Appeal.objects.published()
        .exclude(status__in=FINAL_STATUSES)
        .filter(number=number)
        .select_related("topic")
        .first()
    )


# ------------------------------------------------------------------ the map


@dataclass(frozen=True)
class Grid:
    """The cells of one zoom: `lat` × `lon` degrees, square on the screen near `band` degrees of
    latitude (a band of ten degrees, so the cells stay put while one pans)."""

    zoom: int
    lat: float
    lon: float

    @classmethod
    def at(cls, zoom: int, latitude: float) -> "Grid":
        lon = 360 / 2 ** min(zoom, FINEST_ZOOM) * CELL_PX / 256
        band = min(80.0, abs(round(latitude / 10) * 10))
        return cls(zoom, lon * math.cos(math.radians(band)), lon)

    def cells_in(self, south, west, north, east) -> int:
        rows = math.floor(north / self.lat) - math.floor(south / self.lat) + 1
        columns = math.floor(east / self.lon) - math.floor(west / self.lon) + 1
        return rows * columns


def blocks() -> list[dict]:
    """The active thematic blocks in their order, each with its colour on the map."""
    found = (
        ThematicBlock.objects.filter(is_active=True).order_by("order", "name").values("pk", "code", "name")
    )
    return [{**b, "color": PALETTE[i % len(PALETTE)]} for i, b in enumerate(found)]


def map_cells(
    south: float,
    west: float,
    north: float,
    east: float,
    zoom: int,
    *,
    block: ThematicBlock | None = None,
    at: datetime | None = None,
) -> dict:
    """Published appeals in the box, open or closed in the last MAP_RECENT_DAYS, counted by cell of
    the zoom's grid and by block: every cell the box touches, with all its appeals.

    Each cell is placed at its centre, never at an appeal's point. The cells of the whole register
    are counted by the database once per grid and kept MAP_TTL_S seconds in the process (`at`
    given: counted afresh as of then); a view only looks up its at most MAX_CELLS cells."""
    grid = Grid.at(zoom, (south + north) / 2)
    counted = (
        _region_cells.get((grid.lat, grid.lon)) if at is None else _count_cells((grid.lat, grid.lon), at)
    )
    wanted = None if block is None else block.pk
    rows = []
    for cy in range(math.floor(south / grid.lat), math.floor(north / grid.lat) + 1):
        for cx in range(math.floor(west / grid.lon), math.floor(east / grid.lon) + 1):
            for block_pk, n in counted.get((cy, cx), {}).items():
                if wanted is None or block_pk == wanted:
                    rows.append((cy, cx, block_pk, n))
    truncated = len(rows) > MAX_ROWS
    legend = _legend.get()
    by_pk = {b["pk"]: b for b in legend}
    cells: dict[tuple[int, int], dict] = {}
    totals: dict[str, int] = {}
    for cy, cx, block_pk, n in rows[:MAX_ROWS]:
        code = by_pk[block_pk]["code"] if block_pk in by_pk else OTHER["code"]
        cell = cells.setdefault(
            (cy, cx),
            {
                "lat": round((cy + 0.5) * grid.lat, 6),
                "lon": round((cx + 0.5) * grid.lon, 6),
                "n": 0,
                "blocks": {},
            },
        )
        cell["n"] += n
        cell["blocks"][code] = cell["blocks"].get(code, 0) + n
        totals[code] = totals.get(code, 0) + n
    for cell in cells.values():
        cell["block"] = max(cell["blocks"].items(), key=lambda item: (item[1], item[0]))[0]
    return {
        "zoom": zoom,
        "cell": {"lat": round(grid.lat, 8), "lon": round(grid.lon, 8)},
        "cells": sorted(cells.values(), key=lambda c: -c["n"]),
        "total": sum(totals.values()),
        "blocks": [
            {"code": b["code"], "name": b["name"], "color": b["color"], "n": totals.get(b["code"], 0)}
            for b in [*legend, OTHER]
            if totals.get(b["code"]) or b is not OTHER
        ],
        "truncated": truncated,
    }


def _count_cells(grid: tuple[float, float], at: datetime | None = None) -> dict:
    """{(cy, cx): {block pk or None: appeals}} over the whole register for one grid (cell height and
    width in degrees): the database groups the rows, each part read from an index of its own."""
    at = at or timezone.now()
    lat, lon = grid
    # two disjoint parts, each read from an index of its own without the table (PostgreSQL):
    # the open ones by their point, the recently finished by their day
    parts = [
        Appeal.objects.filter(status__in=OPEN_PUBLISHED, latitude__isnull=False, longitude__isnull=False),
        Appeal.objects.filter(
            registered_at__gte=at - timedelta(days=MAP_RECENT_DAYS),
            status__in=RECENT_FINISHED,
            latitude__isnull=False,
            longitude__isnull=False,
        ),
    ]
    # the topic's block written into the query (topics are few), so the appeals are not joined
    topics_of: dict[int, list[int]] = {}
    for topic_pk, block_pk in Topic.objects.values_list("pk", "block_id"):
        topics_of.setdefault(block_pk, []).append(topic_pk)
    block_of_topic = Case(
        *[When(topic_id__in=ids, then=Value(pk)) for pk, ids in topics_of.items()],
        default=Value(None),
        output_field=IntegerField(),
    )
    counted: dict[tuple[int, int], dict] = {}
    for shown in parts:
        rows = (
            shown.annotate(
                cy=Floor(F("latitude") / lat), cx=Floor(F("longitude") / lon), block_pk=block_of_topic
            )
            .values_list("cy", "cx", "block_pk")
            .annotate(n=Count("*"))
            .order_by()
        )
        for cy, cx, block_pk, n in rows:
            cell = counted.setdefault((int(cy), int(cx)), {})
            cell[block_pk] = cell.get(block_pk, 0) + n
    return counted


# the public map's counts per grid: the page's data says «max-age=60» to browsers and proxies
# already, so a process keeps what it counted as long (decision 0024)
MAP_TTL_S = 60.0
_legend = Remembered(blocks, MAP_TTL_S)
_region_cells = RememberedByKey(_count_cells, MAP_TTL_S, max_items=len(range(MAX_ZOOM + 1)) * 4)


def forget_map() -> None:
    _region_cells.forget()
    _legend.forget()
    _front_figures.forget()


# ------------------------------------------------------------------ figures


def figures(at: datetime | None = None) -> dict:
    """The portal's figures: appeals in work now, registered and answered this month (three counts,
    each on an index)."""
    at = timezone.localtime(at or timezone.now())
    month = at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return {
        "open": Appeal.objects.filter(status__in=OPEN_PUBLISHED).count(),
        "registered": Appeal.objects.filter(registered_at__gte=month).count(),
        "answered": AppealEvent.objects.filter(kind=EventKind.ANSWERED, at__gte=month).count(),
    }


# the front page's figures, read by every visitor: kept in the process as long as the map's cells
_front_figures = Remembered(figures, MAP_TTL_S)
front_figures = _front_figures.get
