"""mySociety's servicerequestupdates extension: what happened to requests (GET), and what the
citizen says back through the app (POST): «fixed» closes an answered appeal, «open»/«reopen» sends it
back to work, anything else is a comment for the organisation.
"""

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from tsur.appeals import actions
from tsur.appeals.choices import CloseReason, EventKind, Status
from tsur.appeals.models import Appeal, AppealEvent
from tsur.core import outbound
from tsur.core.errors import DomainError, InvalidTransition

from . import render
from .models import ReceivedUpdate
from .views import MARKUP, MAX_DAYS, MAX_REQUESTS, Open311Error, _client, _date, _visible, endpoint

# what each step of the lifecycle is called in the extension's vocabulary
STATUS_OF_EVENT = {
    EventKind.ASSIGNED: "open",
    EventKind.TAKEN: "in_progress",
    EventKind.CLARIFICATION_REQUESTED: "in_progress",
    EventKind.REDIRECTED: "in_progress",
    EventKind.INTERIM_ANSWER: "action_scheduled",
    EventKind.EXTENDED: "action_scheduled",
    EventKind.ANSWERED: "fixed",
    EventKind.CLOSED: "closed",
    EventKind.REOPENED: "open",
    EventKind.REJECTED: "no_further_action",
    EventKind.MERGED: "duplicate",
}
# FixMyStreet sends OPEN or CLOSED with every comment (its own report's state), from anyone: only
# an explicit «fixed» or «reopen» from the appeal's author changes the appeal; the rest is a comment.
DONE = {"fixed"}
NOT_DONE = {"reopen", "reopened", "not_fixed"}


def _update(event: AppealEvent) -> dict:
    return {
        "update_id": event.pk,
        "service_request_id": event.appeal.number,
        "status": STATUS_OF_EVENT[event.kind],
        "updated_datetime": event.at,
        "description": event.reason if event.public else "",
        "media_url": "",
        "external_status_code": event.kind,
    }


@endpoint("GET", "POST")
def service_request_updates(request, fmt):
    if request.method == "POST":
        return _post(request, fmt)
    client = _client(request, required=False)
    end = _date(request, "end_date") or timezone.now()
    start = _date(request, "start_date") or end - timezone.timedelta(days=1)
    if start > end:
        raise Open311Error(400, "start_date is after end_date")
    if end - start > timezone.timedelta(days=MAX_DAYS):
        raise Open311Error(400, f"the date range may not exceed {MAX_DAYS} days")
    # The public sees updates of public appeals and, status only, of those filed through Open311
    # (an app must learn that its report was rejected); a client with a key sees its own requests.
    # Nobody hears back what an Open311 application itself posted.
    if client is not None:
        appeals = Appeal.objects.filter(submitted_by=client.user)
    else:
        appeals = Appeal.objects.filter(
            Q(pk__in=_visible(None).values("pk")) | Q(open311_token__isnull=False)
        )
    events = (
        AppealEvent.objects.filter(
            appeal__in=appeals, kind__in=list(STATUS_OF_EVENT), at__gte=start, at__lte=end
        )
        .exclude(actor__open311_client__isnull=False)
        .select_related("appeal")
        .order_by("at", "pk")[:MAX_REQUESTS]
    )
    return render.document(fmt, "service_request_updates", "request_update", [_update(e) for e in events])


def _post(request, fmt):
    data = request.POST
    client = _client(request, required=True)
    number = data.get("service_request_id", "").strip()[:20]
    if not number:
        raise Open311Error(400, "service_request_id is required")
    appeal = _visible(client).filter(number=number, submitted_by=client.user).first()
    if appeal is None:  # another application's request is as unknown as a missing one
        raise Open311Error(404, f"service_request_id {number!r} not found")
    status = data.get("status", "").strip().lower()
    if not status:
        raise Open311Error(400, "status is required")
    if len(status) > 40:
        raise Open311Error(400, "status is not valid")
    if not data.get("updated_datetime", "").strip():
        raise Open311Error(400, "updated_datetime is required")
    _date(request.POST, "updated_datetime")
    description = data.get("description", "").strip()
    if len(description) > 4000:
        raise Open311Error(400, "description may not exceed 4000 characters")
    if MARKUP.search(description):
        raise Open311Error(400, "description must be plain text, without HTML")
    their_id = data.get("update_id", "").strip()[:64]
    if their_id:
        earlier = (
            ReceivedUpdate.objects.filter(client=client, their_id=their_id).select_related("event").first()
        )
        if earlier is not None:
            return _answer(fmt, earlier.event)
    note = {"status": status}
    if media := data.get("media_url", "").strip()[:1000]:
        try:
            outbound.check_url(media, what="media_url")
        except outbound.BlockedAddress as refusal:
            raise Open311Error(400, refusal.message) from None
        note["media_url"] = media
    text = description or ("Проблема решена" if status in DONE else "Проблема не решена")
    email = data.get("email", "").strip().lower()
    by_author = bool(email) and email == appeal.author_email.lower()
    if not by_author and email:
        note["from"] = " ".join(p for p in (data.get("first_name", ""), data.get("last_name", "")) if p)[:200]
    try:
        with transaction.atomic():
            if by_author and status in DONE and appeal.status == Status.ANSWERED:
                actions.close(appeal, client.user, how=CloseReason.SATISFIED, reason=text)
            elif by_author and status in NOT_DONE and appeal.status in (Status.ANSWERED, Status.CLOSED):
                actions.reopen(appeal, client.user, reason=text)
            else:
                actions.comment(appeal, client.user, text=text, data=note)
            event = AppealEvent.objects.filter(appeal=appeal, actor=client.user).order_by("-pk").first()
            if their_id:
                ReceivedUpdate.objects.create(client=client, their_id=their_id, event=event)
    except (InvalidTransition, DomainError) as error:
        raise Open311Error(400, str(error)) from error
    except IntegrityError:  # the same update posted twice at the same moment: the first one stands
        return _answer(fmt, ReceivedUpdate.objects.get(client=client, their_id=their_id).event)
    return _answer(fmt, event)


def _answer(fmt, event: AppealEvent):
    return render.document(fmt, "service_request_updates", "request_update", [{"update_id": event.pk}])
