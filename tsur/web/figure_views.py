"""The appeals behind a figure, one list for the wall screen (/situation/appeals/) and the analytics
pages (/analytics/appeals/): the console's query parameters (a queue, its filters, a KPI's `kpi`)
over what the reader's scope reaches. Those who work in the console are sent there with the same
parameters; the others (analysts, leadership, supervisors) read the list here: no text, the address
as `policies.shown_address` allows (never a flat), downloadable as CSV or XLSX."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from tsur.analytics import kpi
from tsur.appeals import policies
from tsur.appeals.models import Appeal

from . import forms, places, queues

PAGE_SIZE = 50
# where the list was opened from: the place it belongs to, and who may open that place
SECTIONS = {
    "situation": (
        places.SITUATION,
        _("Ситуационный центр доступен аналитикам, руководству и операторам ЦУР."),
    ),
    "analytics": (places.ANALYTICS, _("Показатели доступны аналитикам, руководству и руководителям.")),
}


def _shown(value) -> str:
    """A filter's value as the chip above the list shows it."""
    if hasattr(value, "strftime"):
        return value.strftime("%d.%m.%Y")
    return str(value)


@login_required
@require_GET
def appeals(request, section: str):
    place, refusal = SECTIONS[section]
    if not places.may_open(request.user, place):
        raise PermissionDenied(refusal)
    if places.may_open(request.user, places.CONSOLE):
        return redirect(f"{reverse('web:console')}?{request.GET.urlencode()}")
    now = timezone.now()
    key = request.GET.get("queue", "all")
    if key not in {q.key for q in queues.CONSOLE_QUEUES}:
        key = "all"
    form = forms.QueueFilterForm(request.GET)
    chosen = form.cleaned_data if form.is_valid() else {}
    chosen.pop("q", None)  # a search reads the citizen's text: not offered here
    found = queues.filtered(
        Appeal.objects.restrict(request.user).filter(queues.console_condition(key, request.user, now)),
        chosen,
        request.user,
    ).select_related("topic__block", "organisation", "territory", "building")
    # counted exactly, unlike the console's list: it stands beside the figure it explains
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    for appeal in page:
        appeal.shown_address = (
            appeal.building.address if appeal.building_id else policies.shown_address(request.user, appeal)
        )
    query = request.GET.copy()
    query.pop("page", None)
    queue = dict((q.key, q.label) for q in queues.CONSOLE_QUEUES)[key]
    return render(
        request,
        "web/figure_appeals.html",
        {
            "section": section,
            "tab": "appeals",
            "page": page,
            "query": query.urlencode(),
            "what": kpi.DRILL_LABELS.get(chosen.get("kpi") or "", "") or (queue if key != "all" else ""),
            "filters": [
                (form.fields[name].label, _shown(value))
                for name, value in chosen.items()
                if value not in (None, "") and name not in ("sort", "kpi")
            ],
            "now": now,
        },
    )
