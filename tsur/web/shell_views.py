"""The shell around the workspaces: "/" takes each person to their own place, the sign-out page,
and the overview for analysts and leadership."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LogoutView
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tsur.appeals import deadlines, selectors
from tsur.appeals.choices import DeadlineState, Status
from tsur.appeals.lifecycle import OPEN_STATUSES
from tsur.appeals.models import Appeal

from . import places
from . import portal_views as portal


@require_GET
def landing(request):
    """Signed-in staff go on to their workspace; residents and visitors see the portal's front page."""
    target = places.landing(request.user)
    if target is not None:
        return redirect(target)
    return portal.home(request)


@require_http_methods(["GET", "POST"])
def logout(request):
    """GET asks (a link or a typed address must not sign anyone out: CSRF); POST signs out."""
    if request.method == "POST":
        return LogoutView.as_view()(request)
    return render(request, "web/logout.html")


@login_required
@require_GET
def overview(request):
    """The region at a glance for analysts and leadership: open appeals by state and by block."""
    if not places.may_open(request.user, places.OVERVIEW):
        raise PermissionDenied(_("Обзор доступен аналитикам и руководству."))
    visible = Appeal.objects.restrict(request.user)
    open_ = visible.filter(status__in=OPEN_STATUSES)
    now = timezone.now()
    since = now - timedelta(days=7)
    overdue = Count("pk", filter=deadlines.in_state(DeadlineState.OVERDUE, now))
    totals = open_.aggregate(
        open=Count("pk"),
        overdue=overdue,
        soon=Count("pk", filter=deadlines.in_state(DeadlineState.SOON, now)),
        moderation=Count("pk", filter=Q(status__in=[Status.REGISTERED, Status.MODERATION])),
    )
    week = visible.filter(registered_at__gte=since)
    totals["week"] = week.count()
    routed = selectors.routing_figures(week)
    blocks = list(
        open_.values("topic__block__name").annotate(n=Count("pk"), overdue=overdue).order_by("-n")[:12]
    )
    organisations = list(
        open_.filter(organisation__isnull=False)
        .values("organisation__name")
        .annotate(n=Count("pk"), overdue=overdue)
        .order_by("-overdue", "-n")[:12]
    )
    widest = max([b["n"] for b in blocks] or [1])
    return render(
        request,
        "web/overview.html",
        {
            "section": "overview",
            "totals": totals,
            "blocks": blocks,
            "widest": widest,
            "organisations": organisations,
            "routed": routed,
        },
    )
