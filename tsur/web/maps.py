"""What every map of the pages shares: the region's tiles when configured, otherwise the register's
buildings as dots for a background, and the view a map opens on."""

from django.conf import settings
from django.db.models import Max, Min

from tsur.core.models import Building

BACKDROP_POINTS = 30000
# where a map opens when the register knows no building yet
DEFAULT_VIEW = {"lat": 59.93, "lon": 30.31, "zoom": 11}


def backdrop_points(limit: int = BACKDROP_POINTS) -> list[list[float]]:
    """Points of the region's buildings (public reference data), rounded to about a metre."""
    points = Building.objects.exclude(latitude=None).values_list("latitude", "longitude")[:limit]
    return [[round(lat, 5), round(lon, 5)] for lat, lon in points]


def extent() -> list[list[float]] | None:
    """The box of the region's buildings, [[south, west], [north, east]]; None without buildings."""
    box = Building.objects.exclude(latitude=None).aggregate(
        s=Min("latitude"), w=Min("longitude"), n=Max("latitude"), e=Max("longitude")
    )
    if box["s"] is None:
        return None
    return [[box["s"], box["w"]], [box["n"], box["e"]]]


def config(**extra) -> dict:
    """A map's settings for its script (json_script): tiles, attribution, the region's box."""
    return {
        "tiles": settings.MAP_TILES_URL,
        "attribution": settings.MAP_TILES_ATTRIBUTION,
        "extent": extent(),
        "view": DEFAULT_VIEW,
        **extra,
    }
