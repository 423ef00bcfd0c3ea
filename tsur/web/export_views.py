"""The appeal list as a file: the console's queue and filters (its query string), as CSV or XLSX, for
whoever may see appeals at work. Each reader gets what their scope reaches, and citizens' names,
contacts and flats only where their role shows them (tsur.analytics.exports)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tsur.analytics import exports
from tsur.appeals.models import Appeal

from . import forms, places, queues

EXPORT_ROLES = places.CONSOLE_ROLES | places.WORK_ROLES | places.OVERVIEW_ROLES
FORMATS = ("csv", "xlsx")


def may_export(user) -> bool:
    return user.is_authenticated and user.has_role(*EXPORT_ROLES)


def appeals_for(request):
    """The appeals the console would list for this query string (the queue, «весь реестр» when
    none is named, and the filters), as far as the reader's scope reaches."""
    key = request.GET.get("queue", "all")
    if key not in {q.key for q in queues.CONSOLE_QUEUES}:
        key = "all"
    form = forms.QueueFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    visible = Appeal.objects.restrict(request.user).filter(
        queues.console_condition(key, request.user, timezone.now())
    )
    return queues.filtered(visible, data, request.user)


@login_required
@require_GET
def appeals(request, fmt: str):
    if fmt not in FORMATS:
        raise Http404
    if not may_export(request.user):
        raise PermissionDenied(_("Выгрузка недоступна вашей роли."))
    columns = exports.appeal_columns(request.user)
    rows = exports.appeal_rows(appeals_for(request), request.user)
    name = exports.filename()
    if fmt == "csv":
        return exports.csv_response(name, columns, rows)
    return exports.xlsx_response(name, columns, rows, sheet=_("Обращения"))
