"""The hotline: an operator files what a caller says. While the operator types, the page suggests the
address from the building register and the topic from the text model (the shared /suggest/ views),
and shows the open appeals about the same problem at that place; the caller may be added to one of
them (actions.subscribe) instead of filing a new appeal (actions.register)."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tsur.appeals import actions, policies
from tsur.appeals.actions.intake import building_at
from tsur.appeals.choices import FINAL_STATUSES, Channel
from tsur.appeals.models import Appeal
from tsur.core.errors import DomainError
from tsur.nlp import duplicates

from . import forms
from .appeal_views import card_url, require_place

SIMILAR_LIMIT = 5


def _place(data: dict):
    """The building the call is about: the one picked from the suggestions, else the one at the
    address typed (when the page works without its script)."""
    building = data.get("building")
    if building is None and data.get("address"):
        building = building_at(data["address"])
    return building


def similar_appeals(user, data: dict) -> list[dict] | None:
    """Open appeals at the call's place whose text says much the same, among those the operator may
    add a caller to; None while there is no text or no place to compare."""
    building = _place(data)
    text = (data.get("text") or "").strip()
    if not text or building is None:
        return None
    topic = data.get("topic")
    found = duplicates.find(
        text,
        latitude=building.latitude,
        longitude=building.longitude,
        building_id=building.pk,
        topic_id=topic.pk if topic is not None else None,
        at=timezone.now(),
        queryset=Appeal.objects.restrict(user, "subscribe").exclude(status__in=FINAL_STATUSES),
        limit=SIMILAR_LIMIT,
    )
    shown = Appeal.objects.filter(pk__in=[f.pk for f in found]).select_related("topic", "building")
    appeals = {a.pk: a for a in shown}
    result = []
    for f in found:
        appeal = appeals[f.pk]
        appeal.shown_address = policies.shown_address(user, appeal)
        result.append({"found": f, "appeal": appeal})
    return result


def _bound_data(form) -> dict:
    """What the form holds so far, valid or not: enough to look for similar appeals."""
    form.is_valid()
    return getattr(form, "cleaned_data", {})


def _page(request, form, *, similar=None, status=200):
    return render(
        request,
        "web/console/new.html",
        {"section": "console", "form": form, "similar": similar},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def new(request):
    require_place(request, "console")
    if request.method == "GET":
        return _page(request, forms.HotlineForm(initial={"call": uuid.uuid4().hex}))
    joining = request.POST.get("join", "")
    target = None
    if joining:
        # the appeal first: one outside the operator's scope is not found, whatever else was sent
        target = get_object_or_404(Appeal.objects.restrict(request.user), number=joining[:20])
        if not policies.can(request.user, "subscribe", target):
            raise PermissionDenied(_("Добавлять заявителей к этому обращению вам нельзя."))
    form = forms.HotlineForm(request.POST)
    if target is not None:
        form.fields["text"].required = False  # the caller's words are already in the appeal
    if "check" in request.POST and target is None:
        return _page(request, form, similar=similar_appeals(request.user, _bound_data(form)))
    if not form.is_valid():
        return _page(request, form, similar=similar_appeals(request.user, _bound_data(form)), status=400)
    try:
        if target is not None:
            actions.subscribe(target, request.user, channel=Channel.HOTLINE, **form.caller())
        else:
            appeal, created = actions.register(
                channel=Channel.HOTLINE, submitted_by=request.user, **form.registration()
            )
    except DomainError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _page(request, form, similar=similar_appeals(request.user, form.cleaned_data), status=400)
    if target is not None:
        messages.success(
            request,
            _(
                "Звонящий добавлен к обращению № %(number)s: он получит ответ по нему. "
                "Сообщите звонящему номер обращения."
            )
            % {"number": target.number},
        )
        return redirect(card_url("console", target.number))
    if created:
        link = request.build_absolute_uri(f"/a/{appeal.number}/{appeal.access_key}/")
        messages.success(
            request,
            _(
                "Обращение № %(number)s зарегистрировано: сообщите номер звонящему. "
                "Личная ссылка заявителя (прочитать или отправить ему): %(link)s"
            )
            % {"number": appeal.number, "link": link},
        )
    else:
        messages.warning(
            request, _("Этот звонок уже зарегистрирован: обращение № %(number)s.") % {"number": appeal.number}
        )
    return redirect(card_url("console", appeal.number))


@login_required
@require_POST
def similar(request):
    """The list of similar open appeals, redrawn while the operator types (htmx)."""
    require_place(request, "console")
    data = _bound_data(forms.HotlineForm(request.POST))
    return render(
        request,
        "web/console/_similar.html",
        {"similar": similar_appeals(request.user, data)},
    )
