"""The operator's console: queues with live counts, filters and search kept in the URL, paging,
and assigning, redirecting or merging many appeals at once (each appeal checked and changed on its
own, through the same action as its card; what was refused is reported with the reason)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tsur.appeals import actions, policies
from tsur.appeals.lifecycle import ALLOWED_FROM
from tsur.appeals.models import Appeal
from tsur.core.errors import DomainError, InvalidTransition

from . import forms, queues
from .appeal_views import require_place
from .paging import CappedPaginator

PAGE_SIZE = 25
MAX_BULK = 200


def _queue_key(request) -> str:
    key = request.GET.get("queue", queues.CONSOLE_DEFAULT)
    return key if key in {q.key for q in queues.CONSOLE_QUEUES} else queues.CONSOLE_DEFAULT


def _tabs(request, key: str, now) -> list[dict]:
    counts = queues.console_counts(request.user, now)
    return [
        {
            "key": q.key,
            "label": q.label,
            "count": counts.get(q.key),
            "query": _query(request, queue=q.key, page=""),
            "current": q.key == key,
        }
        for q in queues.CONSOLE_QUEUES
    ]


def _query(request, **changes) -> str:
    """The current query string with some parameters changed (an empty value drops one)."""
    params = {k: v for k, v in request.GET.items() if v and k not in changes}
    params.update({k: v for k, v in changes.items() if v})
    return urlencode(params)


@login_required
@require_GET
def queue(request):
    require_place(request, "console")
    now = timezone.now()
    key = _queue_key(request)
    form = forms.QueueFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    visible = Appeal.objects.restrict(request.user).filter(queues.console_condition(key, request.user, now))
    found = queues.filtered(visible, data, request.user).select_related(
        "topic__block", "organisation", "territory", "building"
    )
    asked = request.GET.get("page")
    page = CappedPaginator(found, PAGE_SIZE, asked=asked).get_page(asked)
    cards = queues.card_prefix("web:console-card")
    for appeal in page:
        appeal.shown_address = policies.shown_address(request.user, appeal)
        appeal.card_url = f"{cards}{appeal.number}/"
    context = {
        "section": "console",
        "queue": key,
        "tabs": _tabs(request, key, now),
        "form": form,
        "page": page,
        "now": now,
        "query": _query(request, page=""),
        # the export takes the same queue and filters (export_views.appeals_for)
        "export_query": _query(request, queue=key, page=""),
        "bulk": forms.BulkAssignForm(),
        "bulk_redirect": forms.BulkRedirectForm(prefix="redirect"),
        "bulk_merge": forms.BulkMergeForm(prefix="merge"),
        "back": request.get_full_path(),
    }
    template = (
        "web/console/_results.html"
        if request.htmx and request.htmx.target == "results"
        else "web/console/queue.html"
    )
    return render(request, template, context)


@login_required
@require_GET
def counts(request):
    """The queues' counts, polled by the page every half a minute."""
    require_place(request, "console")
    return render(
        request,
        "web/console/_counts.html",
        {"queue": _queue_key(request), "tabs": _tabs(request, _queue_key(request), timezone.now())},
    )


@login_required
@require_POST
def bulk_assign(request):
    """Assign the ticked appeals to one organisation: one action per appeal, each checked on its own."""
    require_place(request, "console")
    back = request.POST.get("back", "")
    if not back.startswith("/console/"):
        back = "web:console"
    form = forms.BulkAssignForm(request.POST)
    numbers = request.POST.getlist("numbers")[:MAX_BULK]
    if not form.is_valid() or not numbers:
        messages.error(request, _("Отметьте обращения и выберите исполнителя."))
        return redirect(back)
    done, refused = [], []
    for appeal in Appeal.objects.restrict(request.user).filter(number__in=numbers).order_by("pk"):
        if not policies.can(request.user, "assign", appeal):
            refused.append(f"{appeal.number}: {_('нет права назначать')}")
            continue
        try:
            actions.assign(
                appeal,
                request.user,
                organisation=form.cleaned_data["organisation"],
                topic=form.cleaned_data["topic"],
            )
        except (DomainError, InvalidTransition) as error:
            refused.append(str(error))
        else:
            done.append(appeal.number)
    if done:
        messages.success(
            request,
            _("Назначено исполнителю «%(organisation)s»: %(n)s.")
            % {"organisation": form.cleaned_data["organisation"], "n": len(done)},
        )
    for message in refused:
        messages.error(request, message)
    return redirect(back)


def _back(request) -> str:
    back = request.POST.get("back", "")
    return back if back.startswith("/console/") else "web:console"


def _ticked(request) -> tuple[list[Appeal], list[str]]:
    """The ticked appeals the operator sees (at most MAX_BULK), and a refusal for each number not found."""
    numbers = list(dict.fromkeys(n.strip() for n in request.POST.getlist("numbers") if n.strip()))[:MAX_BULK]
    found = list(Appeal.objects.restrict(request.user).filter(number__in=numbers).order_by("pk"))
    known = {a.number for a in found}
    return found, [f"{n[:20]}: {_('не найдено')}" for n in numbers if n not in known]


def _refusal(appeal: Appeal, error: Exception) -> str:
    text = str(error)
    return text if appeal.number in text else f"{appeal.number}: {text}"


def _report(request, done: str, refused: list[str]) -> None:
    """What was done (one line, empty when nothing was) and every refusal with its reason."""
    if done:
        messages.success(request, done)
    for line in refused:
        messages.error(request, line)


def _form_errors(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


@login_required
@require_POST
def bulk_redirect(request):
    """Send the ticked appeals to another organisation with a reason: those still in moderation by
    the operator's assignment, those at work by a redirection (each gets the new organisation's clock)."""
    require_place(request, "console")
    form = forms.BulkRedirectForm(request.POST, prefix="redirect")
    appeals, refused = _ticked(request)
    if not appeals and not refused:
        messages.error(request, _("Отметьте обращения."))
        return redirect(_back(request))
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(_back(request))
    organisation, reason = form.cleaned_data["organisation"], form.cleaned_data["reason"]
    done = []
    for appeal in appeals:
        step = "assign" if appeal.status in ALLOWED_FROM["assign"] else "redirect"
        if not policies.can(request.user, step, appeal):
            refused.append(f"{appeal.number}: {_('нет права перенаправлять это обращение')}")
            continue
        try:
            if step == "assign":
                actions.assign(appeal, request.user, organisation=organisation, reason=reason)
            else:
                actions.redirect(appeal, request.user, organisation=organisation, reason=reason)
        except DomainError as error:  # InvalidTransition among them: a status that allows neither
            refused.append(_refusal(appeal, error))
        else:
            done.append(appeal.number)
    summary = {"organisation": organisation, "n": len(done), "numbers": ", ".join(done)}
    line = _("Направлено в «%(organisation)s»: %(n)s (%(numbers)s).") % summary if done else ""
    _report(request, line, refused)
    return redirect(_back(request))


@login_required
@require_POST
def bulk_merge(request):
    """Close the ticked appeals as duplicates of one main appeal; the main one stays as it is."""
    require_place(request, "console")
    form = forms.BulkMergeForm(request.POST, prefix="merge", user=request.user)
    appeals, refused = _ticked(request)
    if not appeals and not refused:
        messages.error(request, _("Отметьте обращения."))
        return redirect(_back(request))
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(_back(request))
    into, reason = form.cleaned_data["into"], form.cleaned_data["reason"]
    done = []
    for appeal in appeals:
        if appeal.pk == into.pk:
            continue
        if not policies.can(request.user, "merge", appeal):
            refused.append(f"{appeal.number}: {_('нет права объединять это обращение')}")
            continue
        try:
            actions.merge(appeal, request.user, into=into, reason=reason)
        except DomainError as error:
            refused.append(_refusal(appeal, error))
        else:
            done.append(appeal.number)
    summary = {"into": into.number, "n": len(done), "numbers": ", ".join(done)}
    line = _("Объединено с обращением № %(into)s: %(n)s (%(numbers)s).") % summary if done else ""
    _report(request, line, refused)
    return redirect(_back(request))
