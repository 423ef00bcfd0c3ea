"""The situational center's wall screen (/situation/) for the center's big screen and the leader's
phone: live counters, the map of open appeals in hexagons, topics rising now, spikes, overdue by
organisation, outages and alarms. The page polls `data.json` every few seconds with the ETag it
was given; nothing changed answers 304 after four primary-key lookups (tsur.analytics.live).

Every figure links to the list of its appeals (`figure_views`): the console for those who work
there, and for the others (analysts, leadership) a read-only list by the same filters, without the
citizen's personal data."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotModified, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tsur.analytics import live

from . import maps, places

PAGE_SIZE = 50
DEFAULT_RESOLUTION = 7
LISTS = ("counters", "rising", "signals", "organisations", "outages")


def _require(request) -> None:
    if not places.may_open(request.user, places.SITUATION):
        raise PermissionDenied(_("Ситуационный центр доступен аналитикам, руководству и операторам ЦУР."))


@login_required
@require_GET
def wall(request):
    _require(request)
    compact = "compact" in request.GET
    config = maps.config(
        data=reverse("web:situation-data"),
        backdrop=reverse("web:portal-map-backdrop"),
        resolutions=list(live.RESOLUTIONS),
        poll_ms=2000,
    )
    return render(
        request,
        "web/situation/wall.html",
        {"section": "situation", "config": config, "compact": compact},
    )


def _resolution(request) -> int:
    try:
        wanted = int(request.GET.get("res", DEFAULT_RESOLUTION))
    except ValueError:
        return DEFAULT_RESOLUTION
    return min(max(wanted, live.RESOLUTIONS[0]), live.RESOLUTIONS[-1])


def _box(request) -> tuple[float, float, float, float] | None:
    """bbox=west,south,east,north as Leaflet writes it; None (everything) when absent or unreadable."""
    try:
        west, south, east, north = (float(x) for x in request.GET.get("bbox", "").split(","))
    except ValueError:
        return None
    return (south, west, north, east)


def _linked(rows: list[dict]) -> list[dict]:
    """Each figure's filter as the URL of its list."""
    target = reverse("web:situation-appeals")
    return [{**row, "link": f"{target}?{urlencode(row['link'])}"} for row in rows]


@login_required
@require_GET
def data(request):
    """Everything the screen shows; 304 when the client already has it."""
    _require(request)
    resolution, box = _resolution(request), _box(request)
    view = f"{resolution}.{request.GET.get('bbox', '')}"
    asked = request.headers.get("If-None-Match", "")
    now = timezone.now()
    current = live.version(now)
    if asked == f'"{current}|{view}"':
        return _not_modified(asked)
    # the figures and the map of the view are read side by side (the map keyed by the register's
    # version now, which the figures kept for up to a second may not have caught up with yet)
    (version, figures), cells = live.side_by_side(
        lambda: live.screen(request.user, now, current),
        lambda: live.map_screen(request.user, current, resolution, box),
    )
    etag = f'"{version}|{view}"'
    if asked == etag:
        return _not_modified(etag)
    payload = dict(figures)
    for name in LISTS:
        payload[name] = _linked(payload[name])
    payload["cells"] = _linked(cells)
    payload["resolution"] = resolution
    response = JsonResponse(payload)
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


def _not_modified(etag: str):
    response = HttpResponseNotModified()
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response
