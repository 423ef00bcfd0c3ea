"""The executor's workspace: the organisation's queue with the time left on the production
calendar, and the person's own («Мои»); a supervisor also sees the organisation's load per person
and hands appeals to the organisation's people, one by one on the card or many at once here."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tsur.appeals import actions, policies
from tsur.appeals.models import Appeal
from tsur.core.choices import Role
from tsur.core.errors import DomainError

from . import forms, queues
from .appeal_views import require_place

PAGE_SIZE = 25
MAX_BULK = 200
# the nearest deadline first: what burns is on top
ORDER = ("resolution_due", "registered_at", "pk")


def _supervises(user) -> bool:
    return user.has_role(Role.SUPERVISOR, Role.ADMINISTRATOR)


@login_required
@require_GET
def queue(request):
    require_place(request, "work")
    key = request.GET.get("queue", queues.WORK_DEFAULT)
    if key not in {q.key for q in queues.WORK_QUEUES}:
        key = queues.WORK_DEFAULT
    found = (
        queues.work_queryset(request.user)
        .filter(queues.work_condition(key, request.user))
        .select_related("topic", "organisation", "building", "assignee")
        .order_by(*ORDER)
    )
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    cards = queues.card_prefix("web:work-card")
    for appeal in page:
        appeal.shown_address = policies.shown_address(request.user, appeal)
        appeal.card_url = f"{cards}{appeal.number}/"
    counts = queues.work_counts(request.user)
    supervisor = _supervises(request.user)
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
            "people": queues.load_by_person(request.user) if supervisor else None,
            "bulk": forms.BulkReassignForm(people=queues.people_of(request.user)) if supervisor else None,
            "back": request.get_full_path(),
        },
    )


@login_required
@require_POST
def bulk_reassign(request):
    """Hand the ticked appeals to one person: one action per appeal, each checked on its own."""
    require_place(request, "work")
    if not _supervises(request.user):
        raise PermissionDenied(_("Передавать обращения сотрудникам может руководитель организации."))
    back = request.POST.get("back", "")
    if not back.startswith("/work/"):
        back = "web:work"
    form = forms.BulkReassignForm(request.POST, people=queues.people_of(request.user))
    numbers = list(dict.fromkeys(request.POST.getlist("numbers")))[:MAX_BULK]
    if not form.is_valid() or not numbers:
        messages.error(request, _("Отметьте обращения и выберите сотрудника."))
        return redirect(back)
    assignee = form.cleaned_data["assignee"]
    found = list(Appeal.objects.restrict(request.user).filter(number__in=numbers).order_by("pk"))
    refused = [f"{n[:20]}: {_('не найдено')}" for n in numbers if n not in {a.number for a in found}]
    done = []
    for appeal in found:
        if not policies.can(request.user, "reassign", appeal):
            refused.append(f"{appeal.number}: {_('нет права передавать это обращение')}")
            continue
        try:
            actions.reassign(appeal, request.user, assignee=assignee, reason=form.cleaned_data["reason"])
        except DomainError as error:
            text = str(error)
            refused.append(text if appeal.number in text else f"{appeal.number}: {text}")
        else:
            done.append(appeal.number)
    if done:
        name = assignee.get_full_name() or assignee.get_username()
        messages.success(
            request,
            _("Передано сотруднику %(name)s: %(n)s (%(numbers)s).")
            % {"name": name, "n": len(done), "numbers": ", ".join(done)},
        )
    for line in refused:
        messages.error(request, line)
    return redirect(back)
