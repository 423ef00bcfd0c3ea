"""The citizen portal: the front page, filing an appeal (with the open appeals nearby one may join
instead), the public status page by number, and the public map of appeals.

Anybody may use it, signed in or not; a resident who is signed in files as the author. Filing and
joining count against the public intake limit of the REST API, lookups against the public lookup
limit, with the same counters. The pages show only what `tsur.appeals.public` returns: no text but
the filer's own, no person, no flat, no appeal's own point."""

import secrets

from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tsur.appeals import actions, policies, public
from tsur.appeals.choices import Channel, Status
from tsur.core.api.throttling import PublicIntakeThrottle, PublicLookupThrottle, allowed
from tsur.core.choices import Role
from tsur.core.errors import DomainError

from . import maps
from .portal_forms import AppealForm, ContactsForm, MapQueryForm, NearbyForm, StatusForm


def resident(request):
    """The signed-in resident filing as themselves; None for a visitor or a member of staff."""
    user = request.user
    if user.is_authenticated and user.has_role(Role.CITIZEN) and not policies.is_staff(user):
        return user
    return None


def too_many(request):
    return render(request, "web/portal/too_many.html", status=429)


def home(request):
    return render(
        request,
        "web/home.html",
        {"section": "home", "figures": public.front_figures(), "status_form": StatusForm()},
    )


# ------------------------------------------------------------------ filing


def _filing_page(request, form, *, nearby=(), status=200, photos_dropped=False):
    return render(
        request,
        "web/portal/new.html",
        {
            "section": "portal-new",
            "form": form,
            "nearby": nearby,
            "nearby_seen": bool(nearby),
            "photos_dropped": photos_dropped,
            "photo_limit": form.fields["photos"].max_count,
            "map": maps.config(backdrop=reverse("web:portal-map-backdrop")),
        },
        status=status,
    )


def _nearby_for(data: dict) -> list[dict]:
    if data.get("latitude") is None:
        return []
    building = data.get("building")
    return public.nearby(
        data["text"], data["latitude"], data["longitude"], building_id=building.pk if building else None
    )


@never_cache
@require_http_methods(["GET", "POST"])
def new_appeal(request):
    """The filing form. Before the appeal is registered, the open appeals like it nearby are shown
    (the page's script shows them as one writes; without it, the first send shows them)."""
    author = resident(request)
    if request.method == "GET":
        return _filing_page(
            request, AppealForm(user=author, initial={"submission": secrets.token_urlsafe(16)})
        )
    if not allowed(request, PublicIntakeThrottle):
        return too_many(request)
    form = AppealForm(request.POST, request.FILES, user=author)
    if not form.is_valid():
        return _filing_page(request, form, status=400)
    if not form.cleaned_data["nearby_seen"]:
        nearby = _nearby_for(form.cleaned_data)
        if nearby:
            return _filing_page(request, form, nearby=nearby, photos_dropped=bool(request.FILES))
    user = request.user if request.user.is_authenticated else None
    try:
        appeal, created = actions.register(
            channel=Channel.PORTAL, submitted_by=user, author=author, **form.arguments()
        )
    except DomainError as error:
        form.add_domain_error(error)
        return _filing_page(request, form, status=400)
    return _sent(request, appeal, created)


def _sent(request, appeal, created: bool):
    """The number, the private link (shown this once: only its digest is kept) and what comes next.
    Rendered in answer to the send (never cached: `new_appeal`), never stored for a later page; a
    second send of the same form finds the same appeal and shows its number only."""
    key = getattr(appeal, "access_key", None) if created else None
    link = request.build_absolute_uri(f"/a/{appeal.number}/{key}/") if key else ""
    return render(
        request,
        "web/portal/sent.html",
        {
            "appeal": appeal,
            "created": created,
            "link": link,
            "moderation": appeal.status in (Status.REGISTERED, Status.MODERATION),
        },
        status=201 if created else 200,
    )


@require_POST
def nearby(request):
    """The open appeals like the one being written, as a part of the filing page."""
    form = NearbyForm(request.POST)
    if not form.is_valid():
        return render(request, "web/portal/_nearby.html", {"nearby": []}, status=400)
    if not allowed(request, PublicLookupThrottle):
        return render(request, "web/portal/_nearby.html", {"nearby": [], "throttled": True}, status=429)
    data = form.cleaned_data
    found = public.nearby(data["text"], data["latitude"], data["longitude"], building_id=data["building"])
    return render(request, "web/portal/_nearby.html", {"nearby": found})


@never_cache
@require_POST
def join(request, number):
    """«Подписаться»: the resident joins an open appeal nearby instead of filing a new one, with the
    contacts and consent of the filing form."""
    if not allowed(request, PublicIntakeThrottle):
        return too_many(request)
    appeal = public.joinable(number)
    if appeal is None:
        raise Http404
    author = resident(request)
    contacts = ContactsForm(request.POST, user=author)
    if contacts.is_valid():
        try:
            actions.subscribe(appeal, None, channel=Channel.PORTAL, user=author, **contacts.contacts())
        except DomainError as error:
            contacts.add_domain_error(error)
        else:
            found = public.status(appeal.number)
            return render(request, "web/portal/joined.html", {"appeal": found or appeal})
    # back to the filing page, the refusal next to the field it names
    form = AppealForm(request.POST, user=author)
    form.is_valid()
    for field, errors in contacts.errors.items():
        for message in errors:
            form.add_error(None if field == "__all__" else field, message)
    shown = _nearby_for(form.cleaned_data) if "text" in form.cleaned_data else []
    return _filing_page(request, form, nearby=shown, status=400)


# ------------------------------------------------------------------ status


@require_GET
def status_lookup(request):
    """The status form's target: a number typed goes to its page."""
    if "number" not in request.GET:
        return render(request, "web/portal/status.html", {"section": "status", "status_form": StatusForm()})
    form = StatusForm(request.GET)
    if not form.is_valid():
        return render(
            request, "web/portal/status.html", {"section": "status", "status_form": form}, status=400
        )
    return redirect("web:portal-status", number=form.cleaned_data["number"])


@require_GET
def status(request, number):
    """What anybody knowing the number may see: the status, topic, organisation, dates and public
    steps; no text, no person, no flat. Unknown and unpublished numbers look the same (404)."""
    if not allowed(request, PublicLookupThrottle):
        return too_many(request)
    appeal = public.status(number, request.user)
    context = {
        "section": "status",
        "status_form": StatusForm(initial={"number": number[:20]}),
        "number": number,
    }
    if appeal is None:
        return render(request, "web/portal/status.html", {**context, "not_found": True}, status=404)
    return render(
        request,
        "web/portal/status.html",
        {**context, "appeal": appeal, "place": public.place_of(appeal), "now": timezone.now()},
    )


# ------------------------------------------------------------------ map


@require_GET
def map_page(request):
    blocks = public.blocks()
    return render(
        request,
        "web/portal/map.html",
        {
            "section": "map",
            "blocks": blocks,
            "map": maps.config(
                data=reverse("web:portal-map-data"), backdrop=reverse("web:portal-map-backdrop")
            ),
        },
    )


@require_GET
def map_data(request):
    """Cells of published appeals (open, or registered in the last weeks) in the view, by block."""
    form = MapQueryForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"detail": _("Неверные параметры карты."), "errors": form.errors}, status=400)
    if not allowed(request, PublicLookupThrottle):
        return JsonResponse({"detail": _("Слишком много запросов, повторите через минуту.")}, status=429)
    south, west, north, east = form.cleaned_data["bbox"]
    found = public.map_cells(
        south, west, north, east, form.cleaned_data["zoom"], block=form.cleaned_data["block"]
    )
    response = JsonResponse(found)
    response["Cache-Control"] = "public, max-age=60"
    return response


@require_GET
def map_backdrop(request):
    """The buildings as dots, where no tile server is configured (reference data, public)."""
    response = JsonResponse({"points": maps.backdrop_points()})
    response["Cache-Control"] = "public, max-age=3600"
    return response
