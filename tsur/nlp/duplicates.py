"""Near-duplicates: the same problem at the same place, among open appeals of the last weeks.

Candidates come from the database by place and time (the same building, or a box around the
point; both indexed), so the work does not grow with the number of open appeals in the region but
with the number around one place. Among them the text decides: the share of common lemmas and of
common character trigrams, plus the agreement of topics. One answer in milliseconds.

Which appeals may be candidates (open ones, those a user may see) is the caller's choice: `find`
searches the queryset it is given, reading only the fields every appeal has.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from .text import lemmas, normalise

METRES_PER_DEGREE = 111_320
MAX_CANDIDATES = 400
STOP = frozenset(
    {"в", "на", "и", "у", "по", "с", "не", "из", "за", "к", "о", "от", "до", "для", "это", "уже"}
)


@dataclass(frozen=True)
class Similar:
    pk: int
    number: str
    status: str
    topic_id: int | None
    registered_at: datetime
    distance_m: float | None
    similarity: float


def _signature(text: str) -> tuple[frozenset, frozenset]:
    normalised = normalise(text)
    words = frozenset(w for w in lemmas(normalised) if w not in STOP)
    squeezed = " ".join(normalised.split())
    trigrams = frozenset(squeezed[i : i + 3] for i in range(max(0, len(squeezed) - 2)))
    return words, trigrams


def _overlap(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _score(a: tuple, b: tuple, same_topic: bool | None) -> float:
    score = 0.5 * _overlap(a[0], b[0]) + 0.5 * _overlap(a[1], b[1])
    if same_topic is True:
        score = min(1.0, score + 0.2)
    elif same_topic is False:
        score *= 0.6
    return round(score, 4)


def signature(text: str) -> tuple[frozenset, frozenset]:
    """What `similarity` compares of a text (its lemmas and character trigrams): kept by a caller
    that compares one text with many."""
    return _signature(text)


def alike(a: tuple, b: tuple, same_topic: bool | None = None) -> float:
    """`similarity` of two signatures."""
    return _score(a, b, same_topic)


def similarity(a: str, b: str, same_topic: bool | None = None) -> float:
    """0…1: how much two texts say the same; a shared topic adds, a different one takes away."""
    return _score(_signature(a), _signature(b), same_topic)


def around(latitude: float, longitude: float, radius_m: float) -> Q:
    """Appeals in the box around a point that holds the circle of `radius_m` (cheap on the point
    index; the exact distance is for the caller to check)."""
    dlat = radius_m / METRES_PER_DEGREE
    dlon = dlat / max(0.05, math.cos(math.radians(latitude)))
    return Q(
        latitude__range=(latitude - dlat, latitude + dlat),
        longitude__range=(longitude - dlon, longitude + dlon),
    )


def distance_m(lat1, lon1, lat2, lon2) -> float:
    dy = (lat2 - lat1) * METRES_PER_DEGREE
    dx = (lon2 - lon1) * METRES_PER_DEGREE * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, dy)


def find(
    text: str,
    *,
    queryset: QuerySet,
    latitude: float | None = None,
    longitude: float | None = None,
    building_id: int | None = None,
    topic_id: int | None = None,
    at: datetime | None = None,
    exclude_pk: int | None = None,
    radius_m: float | None = None,
    window_days: int | None = None,
    min_similarity: float = 0.3,
    limit: int = 10,
) -> list[Similar]:
    """Appeals of `queryset` (the open ones the caller may show) near the place within the window
    whose text is at least `min_similarity` alike."""
    if latitude is None and building_id is None:
        return []
    at = at or timezone.now()
    radius_m = radius_m or settings.TSUR["DUPLICATE_RADIUS_M"]
    window = timedelta(days=window_days or settings.TSUR["DUPLICATE_WINDOW_DAYS"])
    place = Q()
    if building_id is not None:
        place |= Q(building_id=building_id)
    if latitude is not None and longitude is not None:
        place |= around(latitude, longitude, radius_m)
    candidates = queryset.filter(place, registered_at__gte=at - window, registered_at__lte=at)
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    rows = candidates.order_by("-registered_at").values_list(
        "pk", "number", "status", "topic_id", "registered_at", "latitude", "longitude", "building_id", "text"
    )[:MAX_CANDIDATES]
    mine = _signature(text)
    found = []
    for pk, number, status, their_topic, registered_at, lat, lon, their_building, their_text in rows:
        distance = None
        if latitude is not None and lat is not None:
            distance = distance_m(latitude, longitude, lat, lon)
            if distance > radius_m and their_building != building_id:
                continue
        same_topic = None if topic_id is None or their_topic is None else their_topic == topic_id
        score = _score(mine, _signature(their_text), same_topic)
        if score >= min_similarity:
            rounded = None if distance is None else round(distance, 1)
            found.append(Similar(pk, number, status, their_topic, registered_at, rounded, score))
    found.sort(key=lambda s: (-s.similarity, s.distance_m or 0))
    return found[:limit]
