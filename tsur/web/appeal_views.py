"""The appeal's card, in the operator's console and in the executor's workspace, and the steps taken
from it. Each step is a form posted to `step`, which finds the appeal within the person's scope (404
outside it), checks the role's right (403), and calls the same action the REST API calls; a refusal
of the register (DomainError, InvalidTransition) comes back as a message on the card."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from tsur.appeals import actions, answer_templates, policies, review
from tsur.appeals.choices import FINAL_STATUSES, EventKind, Status
from tsur.appeals.models import Appeal, AppealEvent, Topic
from tsur.core.errors import DomainError, InvalidTransition
from tsur.core.models import Building, Organisation
from tsur.nlp import duplicates

from . import forms, places

# step: (action, form, what the person is told when it is done)
STEPS = {
    "assign": (actions.assign, forms.AssignForm, gettext_lazy("Исполнитель назначен.")),
    "reject": (actions.reject, forms.RejectForm, gettext_lazy("Обращение отклонено.")),
    "redirect": (actions.redirect, forms.RedirectForm, gettext_lazy("Обращение перенаправлено.")),
    "request_clarification": (
        actions.request_clarification,
        forms.ClarificationForm,
        gettext_lazy("Вопрос гражданину отправлен, срок приостановлен."),
    ),
    "extend": (actions.extend, forms.ExtendForm, gettext_lazy("Срок продлён.")),
    "merge": (actions.merge, forms.MergeForm, gettext_lazy("Обращение объединено с основным.")),
    "take": (actions.take, forms.StepForm, gettext_lazy("Обращение принято в работу.")),
    "interim_answer": (
        actions.interim_answer,
        forms.InterimAnswerForm,
        gettext_lazy("Промежуточный ответ дан."),
    ),
    "answer": (actions.answer, forms.AnswerForm, gettext_lazy("Ответ дан.")),
    "approve_answer": (
        actions.approve_answer,
        forms.ApproveAnswerForm,
        gettext_lazy("Ответ одобрен и направлен гражданину."),
    ),
    "return_answer": (
        actions.return_answer,
        forms.ReturnAnswerForm,
        gettext_lazy("Ответ возвращён исполнителю на доработку."),
    ),
    "set_priority": (actions.set_priority, forms.PriorityForm, gettext_lazy("Приоритет изменён.")),
    "rate": (actions.rate, forms.CallerRatingForm, gettext_lazy("Оценка звонящего записана.")),
}
# the supervisor hands the appeal to another person of the organisation
STEPS["reassign"] = (actions.reassign, forms.ReassignForm, gettext_lazy("Обращение передано сотруднику."))
# which steps each workspace offers on the card (the role's right and the status decide the rest)
SECTION_STEPS = {
    "console": (
        "approve_answer",
        "return_answer",
        "assign",
        "redirect",
        "request_clarification",
        "reject",
        "extend",
        "merge",
        "set_priority",
        "rate",
    ),
    "work": (
        "approve_answer",
        "return_answer",
        "take",
        "interim_answer",
        "request_clarification",
        "answer",
        "redirect",
        "extend",
    ),
}
# shown with the answer they judge, not among the other steps
REVIEW_STEPS = ("approve_answer", "return_answer")
SECTION_STEPS["work"] += ("reassign",)
SECTION_PLACES = {"console": places.CONSOLE, "work": places.WORK}
STEP_TITLES = {
    "assign": gettext_lazy("Назначить исполнителя"),
    "reject": gettext_lazy("Отклонить"),
    "redirect": gettext_lazy("Перенаправить"),
    "request_clarification": gettext_lazy("Запросить уточнение у гражданина"),
    "extend": gettext_lazy("Продлить срок"),
    "merge": gettext_lazy("Объединить как дубликат"),
    "take": gettext_lazy("Принять в работу"),
    "interim_answer": gettext_lazy("Промежуточный ответ"),
    "answer": gettext_lazy("Ответить"),
    "approve_answer": gettext_lazy("Одобрить"),
    "return_answer": gettext_lazy("Вернуть на доработку"),
    "set_priority": gettext_lazy("Изменить приоритет"),
    "rate": gettext_lazy("Записать оценку ответа со слов звонящего"),
}
STEP_TITLES["reassign"] = gettext_lazy("Передать другому сотруднику")


def require_place(request, section: str) -> None:
    if not places.may_open(request.user, SECTION_PLACES[section]):
        raise PermissionDenied(_("Этот раздел недоступен вашей роли."))


def card_url(section: str, number: str) -> str:
    return reverse(f"web:{section}-card", args=[number])


def _last(events: list, kind: str) -> AppealEvent | None:
    return next((e for e in reversed(events) if e.kind == kind), None)


def _understood(events: list) -> dict | None:
    """What the text model said at intake: the top topics and executors with their confidence, and
    the place it found, resolved to the register's topics and organisations."""
    found = _last(events, EventKind.UNDERSTOOD)
    if found is None:
        return None
    data = found.data or {}
    predictions = data.get("predictions") or {}
    values = {g["value"] for guesses in predictions.values() for g in guesses[:3]}
    topics = {}
    for topic in Topic.objects.filter(Q(code__in=values) | Q(name__in=values), is_active=True).select_related(
        "block"
    ):
        topics.setdefault(topic.code, topic)
        topics.setdefault(topic.name, topic)
    organisations = {}
    for organisation in Organisation.objects.filter(Q(name__in=values) | Q(short_name__in=values)):
        organisations.setdefault(organisation.name, organisation)
        if organisation.short_name:
            organisations.setdefault(organisation.short_name, organisation)
    topic_guesses, organisation_guesses = [], []
    for guesses in predictions.values():
        top = guesses[:3]
        if not topic_guesses and any(g["value"] in topics for g in top):
            topic_guesses = [(topics[g["value"]], g["p"]) for g in top if g["value"] in topics]
        elif not organisation_guesses and any(g["value"] in organisations for g in top):
            organisation_guesses = [
                (organisations[g["value"]], g["p"]) for g in top if g["value"] in organisations
            ]
    place = data.get("place") or {}
    return {
        "topics": topic_guesses,
        "organisations": organisation_guesses,
        "place": place.get("text", ""),
        "place_found": bool(place.get("building")),
        "model": data.get("model", ""),
    }


def _route_suggestions(appeal: Appeal, understood: dict | None, events: list) -> list[dict]:
    """While the appeal waits in moderation: the organisations intake considered, the three most
    likely first, with the probability and the reasons (tsur.appeals.route_confidence), and the topic
    an assignment to one of them keeps or takes."""
    if appeal.status != Status.MODERATION:
        return []
    topic = appeal.topic or (understood["topics"][0][0] if understood and understood["topics"] else None)
    sent = _last(events, EventKind.SENT_TO_MODERATION)
    candidates = ((sent.data or {}).get("candidates") or [])[:3] if sent is not None else []
    found = Organisation.objects.filter(is_active=True).in_bulk([c.get("id") for c in candidates])
    return [
        {
            "organisation": found[c["id"]],
            "p": c.get("p", 0.0),
            "reasons": c.get("reasons", []),
            "topic": topic.code if topic else "",
        }
        for c in candidates
        if c.get("id") in found
    ]


def _similar(request, appeal: Appeal) -> list[dict]:
    if appeal.status in FINAL_STATUSES or not policies.can(request.user, "merge", appeal):
        return []
    found = duplicates.find(
        appeal.text,
        latitude=appeal.latitude,
        longitude=appeal.longitude,
        building_id=appeal.building_id,
        topic_id=appeal.topic_id,
        at=max(timezone.now(), appeal.registered_at),
        exclude_pk=appeal.pk,
        queryset=Appeal.objects.restrict(request.user).exclude(status__in=FINAL_STATUSES),
        limit=5,
    )
    shown = {
        a.pk: a
        for a in Appeal.objects.filter(pk__in=[f.pk for f in found]).select_related("topic", "building")
    }
    return [{"found": f, "appeal": shown[f.pk]} for f in found if f.pk in shown]


def _point(appeal: Appeal) -> tuple[float, float] | None:
    if appeal.latitude is not None and appeal.longitude is not None:
        return appeal.latitude, appeal.longitude
    if appeal.building_id and appeal.building.latitude is not None:
        return appeal.building.latitude, appeal.building.longitude
    return None


def _map(point: tuple[float, float] | None) -> dict | None:
    """The appeal's point, and the houses around it as the map's background when there are no tiles."""
    if point is None:
        return None
    lat, lon = point
    around = []
    if not settings.MAP_TILES_URL:
        around = [
            [round(a, 5), round(b, 5)]
            for a, b in Building.objects.filter(
                latitude__range=(lat - 0.004, lat + 0.004), longitude__range=(lon - 0.008, lon + 0.008)
            ).values_list("latitude", "longitude")[:600]
        ]
    return {"lat": lat, "lon": lon, "tiles": settings.MAP_TILES_URL, "around": around}


def _step_forms(
    request,
    appeal: Appeal,
    section: str,
    understood: dict | None,
    returned: dict | None = None,
    suggestions: list[dict] = (),
) -> list[dict]:
    allowed = set(policies.allowed_actions(request.user, appeal))
    shown = []
    for name in SECTION_STEPS[section]:
        if name not in allowed:
            continue
        initial, extra = {}, {}
        if name == "answer":
            extra["template_url"] = reverse(f"web:{section}-answer-template", args=[appeal.number])
            if returned and returned["text"]:
                initial["text"] = returned["text"]  # the returned answer, to be reworked
        if name == "assign" and understood:
            if understood["topics"]:
                initial["topic"] = understood["topics"][0][0].code
            if understood["organisations"]:
                initial["organisation"] = understood["organisations"][0][0].pk
        if name == "assign" and appeal.topic_id:
            initial["topic"] = appeal.topic.code
        if name == "assign" and suggestions:
            initial["organisation"] = suggestions[0]["organisation"].pk
        form = STEPS[name][1](user=request.user, appeal=appeal, initial=initial, prefix=name, **extra)
        shown.append(
            {
                "name": name,
                "title": STEP_TITLES[name],
                "form": form,
                "url": reverse(f"web:{section}-step", args=[appeal.number, name]),
                "multipart": name == "answer",
            }
        )
    return shown


def _photo_url(appeal: Appeal, pk: int) -> str:
    return reverse("api:appeal-photo", kwargs={"number": appeal.number, "photo_id": pk})


def _submitted(appeal: Appeal, events: list) -> dict | None:
    """The answer waiting for review: its text, photos, who wrote it and what looks like an «отписка»."""
    found = review.submission(appeal, events)
    if found is None:
        return None
    data = found.data or {}
    return {
        "event": found,
        "photos": [_photo_url(appeal, pk) for pk in data.get("photos") or []],
        "placeholder": data.get("placeholder") or [],
    }


def _returned(appeal: Appeal, events: list) -> dict | None:
    """The reviewer's comment on a returned answer, and that answer, until the next one is sent."""
    found = review.last_return(appeal, events)
    if found is None:
        return None
    submitted = (found.data or {}).get("submitted")
    answer = next((e for e in events if e.pk == submitted), None)
    return {"event": found, "text": answer.reason if answer else ""}


@login_required
@require_GET
def answer_template(request, number: str, section: str):
    """The answer's text box filled from the template chosen (htmx swaps it in); the executor edits it
    before sending. No template chosen: an empty box."""
    require_place(request, section)
    appeal = get_object_or_404(
        Appeal.objects.restrict(request.user).select_related("organisation", "topic"), number=number
    )
    if not policies.can(request.user, "answer", appeal):
        raise PermissionDenied(_("У вас нет права отвечать на это обращение."))
    chosen = request.GET.get("answer-template", "")
    text = ""
    if chosen:
        found = {str(t.pk): t for t in answer_templates.available(appeal)}
        if chosen not in found:
            raise Http404
        text = answer_templates.render(found[chosen], appeal, request.user)
    form = forms.AnswerForm(user=request.user, appeal=appeal, initial={"text": text}, prefix="answer")
    return render(request, "web/parts/answer_text.html", {"field": form["text"]})


def _topic_guessed(events: list) -> float | None:
    """The probability of the appeal's topic when the register took it as the model's guess (routed
    alone because the organisation was sure, decision 0023) and no person has set a topic since."""
    for e in reversed(events):
        data = e.data if isinstance(e.data, dict) else {}
        if "topic_to" in data:
            return None
        if e.kind == EventKind.ASSIGNED and e.actor_id is None and "topic_guessed" in data:
            return data["topic_guessed"]
    return None


@login_required
@require_GET
def card(request, number: str, section: str):
    require_place(request, section)
    appeal = get_object_or_404(
        Appeal.objects.restrict(request.user).select_related(
            "topic__block", "organisation", "territory", "building", "merged_into", "assignee"
        ),
        number=number,
    )
    # the timeline, read once: what the model understood, the review and the guesses come from it
    events = list(appeal.events.select_related("actor", "organisation").order_by("at", "pk"))
    understood = _understood(events) if section == "console" else None
    suggestions = _route_suggestions(appeal, understood, events) if section == "console" else []
    point = _point(appeal)
    submitted = _submitted(appeal, events)
    returned = _returned(appeal, events)
    steps = _step_forms(request, appeal, section, understood, returned, suggestions)
    return render(
        request,
        "web/card.html",
        {
            "section": section,
            "appeal": appeal,
            "personal": policies.can_see_personal_data(request.user, appeal),
            "address": policies.shown_address(request.user, appeal),
            "photos": [_photo_url(appeal, p.pk) for p in appeal.photos.order_by("uploaded_at", "pk")],
            "events": events,
            "understood": understood,
            "topic_guessed": _topic_guessed(events) if appeal.topic_id else None,
            "route_suggestions": suggestions,
            "similar": _similar(request, appeal) if section == "console" else [],
            "steps": [s for s in steps if s["name"] not in REVIEW_STEPS],
            "review_steps": [s for s in steps if s["name"] in REVIEW_STEPS],
            "submitted": submitted,
            "returned": returned,
            "map": _map(point),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def step(request, number: str, name: str, section: str):
    """Take step `name` on the appeal: the same action, with the same checks, as the REST API."""
    require_place(request, section)
    if name not in STEPS or name not in SECTION_STEPS[section]:
        raise Http404
    appeal = get_object_or_404(Appeal.objects.restrict(request.user), number=number)
    if not policies.can(request.user, name, appeal):
        raise PermissionDenied(_("У вас нет права на этот шаг для этого обращения."))
    function, form_class, done = STEPS[name]
    form = form_class(request.POST, request.FILES, user=request.user, appeal=appeal, prefix=name)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
        return redirect(card_url(section, number))
    try:
        # the answer's attachments come first, and go with it
        added = [actions.add_photo(appeal, request.user, p) for p in form.cleaned_data.get("photos") or []]
        arguments = form.arguments()
        if added:
            arguments["photos"] = added
        result = function(appeal, request.user, **arguments)
    except (DomainError, InvalidTransition) as error:
        messages.error(request, str(error))
        return redirect(card_url(section, number))
    if name == "answer" and result.status == Status.REVIEW:
        done = _("Ответ направлен на проверку: гражданин увидит его после одобрения.")
    messages.success(request, done)
    if not Appeal.objects.restrict(request.user).filter(pk=appeal.pk).exists():
        return redirect(f"web:{section}")  # handed to an organisation outside the person's scope
    return redirect(card_url(section, number))
