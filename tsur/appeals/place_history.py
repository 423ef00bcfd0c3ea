"""Which organisations took up appeals on a topic at a building, near a point, on a territory.

An appeal an organisation took into work or answered (and did not pass on: a redirect changes the
appeal's organisation) says that this organisation is the one for this topic at this place. Intake
asks that for every appeal it routes (`tsur.appeals.route_confidence`), so each process keeps a
summary of the register's history (`tsur.core.memo`): counts per (topic, building), (topic, cell of
about 220 m), (topic, fine cell of about 55 m), (topic, territory), (topic, district, kind of place),
per building and per fine cell for any topic, read from the appeals registered in the HISTORY_DAYS
before the latest one taken up. It is read again after HISTORY_TTL_S (about a second per 50,000
appeals): a new answer is part of the next hour's history, which is soon enough for a place's habits.

Only what is in the register counts: appeals filed and not yet taken up say nothing.
"""

import math
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Max
from django.utils import timezone

from tsur.core.choices import TerritoryKind
from tsur.core.memo import Remembered
from tsur.core.models import Territory

from .choices import Status
from .models import Appeal

DISTRICT_KINDS = (TerritoryKind.CITY_DISTRICT, TerritoryKind.MUNICIPAL_DISTRICT, TerritoryKind.URBAN_OKRUG)
HISTORY_DAYS = 730
HISTORY_TTL_S = 3600.0
TAKEN_UP = (
    Status.IN_WORK,
    Status.CLARIFICATION,
    Status.INTERIM,
    Status.REVIEW,
    Status.ANSWERED,
    Status.CLOSED,
)
# a cell is about 220 m by 220 m at the latitudes of Russia's cities; «near» is the cell and its eight
# neighbours (about 660 m across)
CELL_LAT = 0.002
CELL_LON = 0.004
# a fine cell is about 55 m by 55 m; «close by» is the fine cell and its eight neighbours (about 165 m
# across): for an appeal given only by a point, the nearest buildings' habits without naming one of them
FINE_LAT = 0.0005
FINE_LON = 0.001


def districts_of_territories() -> dict[int, int]:
    """Each territory's district (of a city, a municipal district or an urban okrug): itself or the
    nearest containing it."""
    kinds = dict(Territory.objects.values_list("pk", "kind"))
    found = {}
    for pk, path in Territory.objects.values_list("pk", "path"):
        chain = [int(x) for x in reversed(path.strip("/").split("/")) if x]
        district = next((t for t in chain if kinds.get(t) in DISTRICT_KINDS), None)
        if district is not None:
            found[pk] = district
    return found


def since():
    """The start of the history: HISTORY_DAYS before the latest appeal taken up (a register loaded
    from an old export has its history where its appeals are)."""
    return latest() - timedelta(days=HISTORY_DAYS)


def latest():
    """When the latest appeal taken up was registered (now, when none was)."""
    return (
        Appeal.objects.filter(status__in=TAKEN_UP).aggregate(latest=Max("registered_at"))["latest"]
        or timezone.now()
    )


def cell(latitude: float, longitude: float) -> tuple[int, int]:
    return math.floor(latitude / CELL_LAT), math.floor(longitude / CELL_LON)


def fine_cell(latitude: float, longitude: float) -> tuple[int, int]:
    return math.floor(latitude / FINE_LAT), math.floor(longitude / FINE_LON)


@dataclass(frozen=True)
class Evidence:
    """How often each organisation took up appeals of one kind at one place."""

    counts: Counter

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def share(self, organisation_id: int) -> float:
        total = self.total
        return self.counts.get(organisation_id, 0) / total if total else 0.0


NOTHING = Evidence(Counter())


# what an appeal tells the history, in the order `PlaceHistory.count` takes it
ROW = ("topic_id", "building_id", "territory_id", "latitude", "longitude", "place_kind", "organisation_id")


def taken_up(before=None):
    """The appeals the history is read from: taken up by an organisation, with a topic, in the last
    HISTORY_DAYS (and registered before `before`, when given)."""
    found = Appeal.objects.filter(
        status__in=TAKEN_UP, registered_at__gte=since(), topic__isnull=False, organisation__isnull=False
    )
    return found.filter(registered_at__lt=before) if before is not None else found


class PlaceHistory:
    def __init__(self, rows=None, before=None):
        if rows is None:
            rows = taken_up(before).values_list(*ROW).iterator(chunk_size=5000)
        self.building: dict[tuple, Counter] = defaultdict(Counter)
        self.cell: dict[tuple, Counter] = defaultdict(Counter)
        self.fine: dict[tuple, Counter] = defaultdict(Counter)
        self.fine_any: dict[tuple, Counter] = defaultdict(Counter)
        self.territory: dict[tuple, Counter] = defaultdict(Counter)
        self.building_any: dict[int, Counter] = defaultdict(Counter)
        self.district_kind: dict[tuple, Counter] = defaultdict(Counter)
        self.size = 0
        self._districts = districts_of_territories()
        for row in rows:
            self.count(row, 1)

    def count(self, row: tuple, delta: int) -> None:
        """Add one appeal taken up (topic, building, territory, latitude, longitude, kind of place,
        organisation) to every level it tells about, or take it away (`delta` -1: an emptied count is
        removed, so an organisation seen only there is no longer a candidate)."""
        topic_id, building_id, territory_id, latitude, longitude, place_kind, organisation_id = row
        self.size += delta
        keys = []
        if territory_id in self._districts:
            keys.append((self.district_kind, (topic_id, self._districts[territory_id], place_kind)))
        if building_id:
            keys += [(self.building, (topic_id, building_id)), (self.building_any, building_id)]
        if latitude is not None and longitude is not None:
            fine = fine_cell(latitude, longitude)
            keys += [
                (self.cell, (topic_id, *cell(latitude, longitude))),
                (self.fine, (topic_id, *fine)),
                (self.fine_any, fine),
            ]
        if territory_id:
            keys.append((self.territory, (topic_id, territory_id)))
        for counts, key in keys:
            found = counts[key]
            found[organisation_id] += delta
            if found[organisation_id] <= 0:
                del found[organisation_id]
                if not found:
                    del counts[key]

    def at_building(self, topic_id: int, building_id: int | None) -> Evidence:
        found = self.building.get((topic_id, building_id)) if building_id else None
        return Evidence(found) if found else NOTHING

    def near(self, topic_id: int, latitude: float | None, longitude: float | None) -> Evidence:
        """Within about 300 m: the cell of the point and its eight neighbours."""
        return self._around(self.cell, cell, topic_id, latitude, longitude)

    def close_by(self, topic_id: int, latitude: float | None, longitude: float | None) -> Evidence:
        """Within about 80 m: the fine cell of the point and its eight neighbours."""
        return self._around(self.fine, fine_cell, topic_id, latitude, longitude)

    def close_by_any_topic(self, latitude: float | None, longitude: float | None) -> Evidence:
        return self._around(self.fine_any, fine_cell, None, latitude, longitude)

    @staticmethod
    def _around(cells: dict, cell_of, topic_id, latitude: float | None, longitude: float | None) -> Evidence:
        if latitude is None or longitude is None:
            return NOTHING
        row, column = cell_of(latitude, longitude)
        key = (lambda r, c: (r, c)) if topic_id is None else (lambda r, c: (topic_id, r, c))
        counts = Counter()
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                if found := cells.get(key(row + dr, column + dc)):
                    counts.update(found)
        return Evidence(counts)

    def on_territory(self, topic_id: int, territory_id: int | None) -> Evidence:
        found = self.territory.get((topic_id, territory_id)) if territory_id else None
        return Evidence(found) if found else NOTHING

    def in_district(self, topic_id: int, district_id: int | None, place_kind: str) -> Evidence:
        """On this topic, at this kind of place, anywhere in the district."""
        found = self.district_kind.get((topic_id, district_id, place_kind)) if district_id else None
        return Evidence(found) if found else NOTHING

    def at_building_any_topic(self, building_id: int | None) -> Evidence:
        found = self.building_any.get(building_id) if building_id else None
        return Evidence(found) if found else NOTHING


_history = Remembered(PlaceHistory, HISTORY_TTL_S)
forget = _history.forget
# a summary of the history as it stood at a moment, while a calibration in this process looks at the
# appeals after it (`as_of`); never set in a web or job process
_as_of: list[PlaceHistory] = []


def history() -> PlaceHistory:
    return _as_of[-1] if _as_of else _history.get()


@contextmanager
def as_of(moment):
    """The history as it stood at `moment` (appeals registered before it), in this process, for as long
    as the block runs: the appeals after it are then held out from the evidence read about them."""
    _as_of.append(PlaceHistory(before=moment))
    try:
        yield
    finally:
        _as_of.pop()


class LeftOut:
    """The whole history, from which one appeal at a time can be taken away (`without`)."""

    def __init__(self, summary: PlaceHistory, own: dict[str, list[tuple]]):
        self.summary = summary
        self.own = own  # external id → what the register's appeals of that id tell the history

    @contextmanager
    def without(self, external_id: str):
        """While the block runs, the history as if the appeal of this external id had never been taken
        up: its own answer is not evidence about itself."""
        rows = self.own.get(external_id, [])
        for row in rows:
            self.summary.count(row, -1)
        try:
            yield bool(rows)
        finally:
            for row in rows:
                self.summary.count(row, 1)


@contextmanager
def leaving_out(external_ids):
    """The history in this process, for as long as the block runs, able to leave out any one of the
    register's appeals with these external ids (an export's appeals the register was loaded from, read
    again as held-out appeals for a calibration); never used in a web or job process."""
    wanted = set(external_ids)
    own = defaultdict(list)
    for external_id, *row in (
        taken_up().exclude(external_id="").values_list("external_id", *ROW).iterator(chunk_size=5000)
    ):
        if external_id in wanted:
            own[external_id].append(tuple(row))
    summary = PlaceHistory()
    _as_of.append(summary)
    try:
        yield LeftOut(summary, dict(own))
    finally:
        _as_of.pop()
