"""The dispatcher's screen: objects on the map with their state, active alarms with acknowledge and
clear, outages with the appeals linked to them. Leadership may look; dispatchers and administrators
act. What lies outside one's organisations and territories answers 404."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tsur.appeals import policies as appeal_policies
from tsur.appeals.models import Appeal
from tsur.core.errors import DomainError, InvalidTransition
from tsur.core.scopes import VIEW
from tsur.dispatch import actions
from tsur.dispatch import policies as dispatch_policies
from tsur.dispatch.choices import AlarmState, OutageState
from tsur.dispatch.models import Alarm, EngineeringObject, Outage

from . import maps

SILENT_AFTER = timedelta(minutes=10)
# the units as controllers send them, as a Russian reader writes them
UNITS = {"bar": "бар", "m3/h": "м³/ч", "V": "В", "A": "А", "kW": "кВт", "%": "%", "°C": "°C"}
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def _objects(request, act: bool = False):
    action = dispatch_policies.ACT if act else VIEW
    if not dispatch_policies.may(request.user, action):
        raise PermissionDenied(_("Диспетчерская доступна диспетчерам, администраторам и руководству."))
    return EngineeringObject.objects.restrict(request.user, action)


def _can_act(request) -> bool:
    return dispatch_policies.may(request.user, dispatch_policies.ACT)


@login_required
@require_GET
def board(request):
    _objects(request)
    return render(
        request,
        "web/dispatch/board.html",
        {
            "can_act": _can_act(request),
            "tiles_url": settings.MAP_TILES_URL,
            "region": settings.TSUR["REGION_NAME"],
        },
    )


def _value(value: float, unit: str) -> str:
    """A reading as the dispatcher reads it: «авария»/«норма» for a flag, «1,5 бар» for a measure."""
    if unit == "flag":
        return _("авария") if value else _("норма")
    return f"{value:g} {UNITS.get(unit, unit)}".replace(".", ",")


def _state(obj, open_alarms, now) -> str:
    found = open_alarms.get(obj.pk, [])
    if any(a.state == AlarmState.ACTIVE and a.severity == "critical" for a in found):
        return "critical"
    if any(a.state == AlarmState.ACTIVE for a in found):
        return "warning"
    if found:
        return "acknowledged"
    last = obj.last_seen
    return "silent" if last is None or now - last > SILENT_AFTER else "ok"


@login_required
@require_GET
def state(request):
    """Everything the screen shows, polled every few seconds."""
    now = timezone.now()
    visible = _objects(request).filter(is_active=True)
    objects = list(
        visible.annotate(last_seen=Max("devices__last_seen_at")).values_list(
            "pk", "name", "kind", "latitude", "longitude", "address", "last_seen", named=True
        )
    )
    visible = visible.values("pk")
    open_alarms: dict[int, list[Alarm]] = {}
    alarm_rows = []
    for alarm in (
        Alarm.objects.exclude(state=AlarmState.CLEARED)
        .filter(object__in=visible)
        .select_related("object", "rule__metric")
        .order_by("-raised_at")
    ):
        open_alarms.setdefault(alarm.object_id, []).append(alarm)
        alarm_rows.append(
            {
                "id": alarm.pk,
                "object": alarm.object.name,
                "object_id": alarm.object_id,
                "rule": alarm.rule.name,
                "severity": alarm.severity,
                "severity_label": alarm.get_severity_display(),
                "state": alarm.state,
                "state_label": alarm.get_state_display(),
                "value": _value(alarm.value, alarm.rule.metric.unit),
                "raised_at": timezone.localtime(alarm.raised_at).strftime("%d.%m %H:%M"),
                "back_to_normal": alarm.normal_since is not None,
                "repeats": alarm.repeats,
            }
        )
    alarm_rows.sort(key=lambda a: (a["state"] != "active", SEVERITY_ORDER.get(a["severity"], 9)))
    outage_rows = [
        {
            "id": o.pk,
            "object": o.object.name,
            "services": o.services_display(),
            "started_at": timezone.localtime(o.started_at).strftime("%d.%m %H:%M"),
            "expected_end_at": timezone.localtime(o.expected_end_at).strftime("%d.%m %H:%M")
            if o.expected_end_at
            else "",
            "buildings": o.building_count,
            "appeals": o.appeal_count,
            "latitude": o.latitude,
            "longitude": o.longitude,
        }
        for o in Outage.objects.filter(state=OutageState.ACTIVE, object__in=visible)
        .select_related("object")
        .annotate(
            building_count=Count("buildings", distinct=True), appeal_count=Count("links", distinct=True)
        )
    ]
    states = {}
    rows = []
    for o in objects:
        current = _state(o, open_alarms, now)
        states[current] = states.get(current, 0) + 1
        rows.append(
            {
                "id": o.pk,
                "name": o.name,
                "kind": o.kind,
                "lat": o.latitude,
                "lon": o.longitude,
                "address": o.address,
                "state": current,
                "last_seen": timezone.localtime(o.last_seen).strftime("%d.%m %H:%M:%S")
                if o.last_seen
                else "",
            }
        )
    return JsonResponse(
        {
            "now": timezone.localtime(now).strftime("%H:%M:%S"),
            "objects": rows,
            "counts": states,
            "alarms": alarm_rows,
            "outages": outage_rows,
        }
    )


@login_required
@require_GET
def backdrop(request):
    """Points of the region's buildings: the map's background when no tile server is configured."""
    _objects(request)
    return JsonResponse({"points": maps.backdrop_points()})


def _alarm(request, pk: int) -> Alarm:
    return get_object_or_404(Alarm.objects.filter(object__in=_objects(request, act=True)), pk=pk)


def _answer(request, done, message: str):
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"detail": message}, status=200 if done else 409)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "web:dispatch-board"
    return redirect(target)


def _alarm_step(request, pk: int, step, done: str):
    alarm = _alarm(request, pk)
    try:
        step(alarm, request.user, note=request.POST.get("note", "")[:400])
    except InvalidTransition as error:
        return _answer(request, False, str(error))
    return _answer(request, True, done)


@login_required
@require_POST
def acknowledge(request, pk: int):
    return _alarm_step(request, pk, actions.acknowledge, _("Тревога квитирована."))


@login_required
@require_POST
def clear(request, pk: int):
    return _alarm_step(request, pk, actions.clear, _("Тревога снята."))


def _outage(request, pk: int, act: bool = False) -> Outage:
    return get_object_or_404(
        Outage.objects.filter(object__in=_objects(request, act=act)).select_related(
            "object__owner", "alarm__rule"
        ),
        pk=pk,
    )


@login_required
@require_GET
def outage_detail(request, pk: int):
    outage = _outage(request, pk)
    linked = Appeal.objects.filter(outage_links__outage=outage)
    appeals = list(
        linked.filter(pk__in=Appeal.objects.restrict(request.user).values("pk"))
        .select_related("topic", "organisation", "building")
        .order_by("registered_at")
    )
    for appeal in appeals:  # where there is no known building, the address as the citizen wrote it
        appeal.shown_address = appeal_policies.shown_address(request.user, appeal)
    return render(
        request,
        "web/dispatch/outage.html",
        {
            "outage": outage,
            "appeals": appeals,
            "hidden_appeals": linked.count() - len(appeals),
            "buildings": outage.buildings.order_by("address")[:500],
            "building_count": outage.buildings.count(),
            "can_act": _can_act(request),
            "errors": request.session.pop("outage_errors", []),
            "done": request.session.pop("outage_done", ""),
        },
    )


def _outage_step(request, pk: int, step, done: str):
    """Run `step(outage)` for a dispatcher; its counts fill `done`, a refusal comes back as an error."""
    outage = _outage(request, pk, act=True)
    try:
        counts = step(outage)
    except (DomainError, InvalidTransition) as error:
        request.session["outage_errors"] = [str(error)]
    else:
        request.session["outage_done"] = done % counts
    return redirect("web:dispatch-outage", pk=outage.pk)


def _planned_at(request):
    try:
        planned = parse_datetime(request.POST.get("planned_at", "")[:40])
    except ValueError:  # the shape of a date, but not a date
        return None
    if planned is not None and timezone.is_naive(planned):
        planned = timezone.make_aware(planned)
    return planned


@login_required
@require_POST
def outage_answer(request, pk: int):
    return _outage_step(
        request,
        pk,
        lambda outage: actions.answer_all(
            outage,
            request.user,
            text=request.POST.get("text", ""),
            planned_at=_planned_at(request),
            within=Appeal.objects.restrict(request.user),
        ),
        _("Промежуточный ответ дан: %(answered)s, пропущено: %(skipped)s."),
    )


@login_required
@require_POST
def outage_end(request, pk: int):
    return _outage_step(
        request,
        pk,
        lambda outage: actions.end_outage(
            outage,
            request.user,
            text=request.POST.get("text", ""),
            within=Appeal.objects.restrict(request.user),
        ),
        _(
            "Отключение завершено, ответ дан: %(answered)s, на проверке: %(in_review)s, пропущено: %(skipped)s."
        ),
    )


@login_required
@require_POST
def outage_relink(request, pk: int):
    def relink(outage):
        if outage.state != OutageState.ACTIVE:
            raise Http404
        return {"n": actions.link_candidates(outage)}

    return _outage_step(request, pk, relink, _("Связано новых обращений: %(n)s."))
