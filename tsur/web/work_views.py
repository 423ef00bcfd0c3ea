"""The executor's workspace: the organisation's queue with the time left on the production
calendar; a supervisor also sees the organisation's load."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tsur.appeals import policies
from tsur.core.choices import Role

from . import queues
from .appeal_views import require_place

PAGE_SIZE = 25
# the nearest deadline first: what burns is on top
ORDER = ("resolution_due", "registered_at", "pk")


@login_required
@require_GET
def queue(request):
    require_place(request, "work")
    key = request.GET.get("queue", queues.WORK_DEFAULT)
    if key not in {q.key for q in queues.WORK_QUEUES}:
        key = queues.WORK_DEFAULT
    found = (
        queues.work_queryset(request.user)
        .filter(queues.work_condition(key))
        .select_related("topic", "organisation", "building")
        .order_by(*ORDER)
    )
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    for appeal in page:
        appeal.shown_address = policies.shown_address(request.user, appeal)
    counts = queues.work_counts(request.user)
    supervisor = request.user.has_role(Role.SUPERVISOR, Role.ADMINISTRATOR)
    return render(
        request,
        "web/work/queue.html",
        {
            "section": "work",
            "queue": key,
            "tabs": [
                {"key": q.key, "label": q.label, "count": counts[q.key], "current": q.key == key}
                for q in queues.WORK_QUEUES
            ],
            "page": page,
            "now": timezone.now(),
            "load": queues.load_by_organisation(request.user) if supervisor else None,
        },
    )
