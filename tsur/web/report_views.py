"""The archive of the governor's weekly reports: read, download, make one on demand, subscribe.
For analysts, leadership and administrators (the report is the whole region's)."""

from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tsur.analytics import report, tasks
from tsur.analytics.models import ReportState, ReportSubscription, WeeklyReport

from . import places


def _reader(request):
    if not places.may_open(request.user, places.OVERVIEW):
        raise PermissionDenied(_("Доклады доступны аналитикам и руководству."))


def _archive(request, error: str = "", status: int = 200):
    """The archive page: the last two years' reports, the weeks one may order, the subscription."""
    return render(
        request,
        "web/reports/archive.html",
        {
            "reports": WeeklyReport.objects.defer("html")[:104],
            "weeks": [report.last_full_week() - timedelta(days=7 * n) for n in range(8)],
            "subscribed": ReportSubscription.objects.filter(user=request.user).exists(),
            "error": error,
        },
        status=status,
    )


@login_required
def archive(request):
    _reader(request)
    return _archive(request)


@login_required
def detail(request, pk: int):
    _reader(request)
    item = get_object_or_404(WeeklyReport, pk=pk)
    template = "web/reports/progress.html" if request.htmx else "web/reports/detail.html"
    return render(request, template, {"report": item, "making": item.state == ReportState.MAKING})


@login_required
def pdf(request, pk: int):
    _reader(request)
    item = get_object_or_404(WeeklyReport, pk=pk, state=ReportState.READY)
    if not item.pdf:
        raise Http404
    try:
        handle = item.pdf.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=f"doklad-{item.week_start:%Y-%m-%d}.pdf")


@login_required
@require_POST
def make(request):
    _reader(request)
    try:
        week = date.fromisoformat(request.POST.get("week", ""))
    except ValueError:
        week = None
    if week is None or week.weekday() != 0 or week > report.last_full_week():
        return _archive(request, _("Выберите понедельник недели, которая уже закончилась."), status=400)
    item = report.request(week, request.user)
    tasks.make_report(item.pk)
    return redirect("web:analytics-report", pk=item.pk)


@login_required
@require_POST
def subscribe(request):
    _reader(request)
    report.subscribe(request.user, request.POST.get("subscribe") == "1")
    return redirect("web:analytics-reports")
