"""Who hears about an appeal's events and what they are told: the organisation on new work
(assigned, redirected, reopened, an answer returned by its reviewer), its supervisors on an
escalation, the person a supervisor hands an appeal to, the citizen on what concerns them. Only the
kinds in `NOTIFYING`, and only events of the last hour: a replayed history notifies nobody.

`plan` runs inside the action's transaction, right after its events are stored: one delivery per
recipient is stored with them (so nothing is lost while the job worker or its queue is down) and
sent by `tsur.notify` once the transaction commits; its periodic sweep retries what failed, and the
admin («Доставки оповещений») shows what could not be delivered.
"""

from datetime import timedelta

from django.utils import timezone

from tsur.core.choices import Role
from tsur.core.models import User
from tsur.notify import publish
from tsur.notify.choices import ChannelKind, Topic
from tsur.notify.models import Delivery

from . import policies
from .choices import EventKind
from .models import AppealEvent, Follower

NOTIFYING = frozenset(
    {
        EventKind.ASSIGNED,
        EventKind.REDIRECTED,
        EventKind.CLARIFICATION_REQUESTED,
        EventKind.INTERIM_ANSWER,
        EventKind.ANSWERED,
        EventKind.CLOSED,
        EventKind.REJECTED,
        EventKind.ESCALATED,
        EventKind.REOPENED,
        EventKind.ANSWER_RETURNED,
        EventKind.REASSIGNED,
    }
)
TO_ORGANISATION = frozenset(
    {EventKind.ASSIGNED, EventKind.REDIRECTED, EventKind.REOPENED, EventKind.ANSWER_RETURNED}
)
# what the residents who joined an appeal hear of (a question to the author is the author's alone)
TO_FOLLOWERS = frozenset({EventKind.INTERIM_ANSWER, EventKind.ANSWERED, EventKind.CLOSED})
RECENT = timedelta(hours=1)


def plan(events: list[AppealEvent]) -> None:
    """Store the deliveries the events call for (stored events, in the action's transaction)."""
    recent = timezone.now() - RECENT
    deliveries = [
        _email(event, address)
        for event in events
        if event.kind in NOTIFYING and event.at > recent
        for address in recipients(event)
    ]
    publish.deliver(deliveries)


def recipients(event: AppealEvent) -> list[str]:
    """The e-mail addresses an event goes to."""
    appeal = event.appeal
    if event.kind in TO_ORGANISATION:
        # the action has the organisation loaded on the appeal: no query on the intake path
        organisation = appeal.organisation
        addresses = [organisation.email] if organisation and organisation.email else []
        if event.kind == EventKind.ANSWER_RETURNED and (event.data or {}).get("submitted_by"):
            # and the one who wrote the answer, who is waiting for the verdict
            writer = User.objects.filter(pk=event.data["submitted_by"], is_active=True).first()
            if writer is not None and writer.email and writer.email not in addresses:
                addresses.append(writer.email)
        return addresses
    if event.kind == EventKind.REASSIGNED:
        # the step has the new assignee on the appeal: the person who now works on it
        assignee = appeal.assignee if appeal.assignee_id else None
        return [assignee.email] if assignee is not None and assignee.email else []
    if event.kind == EventKind.ESCALATED:
        if not appeal.organisation_id:
            return []
        supervisors = User.objects.filter(
            assignments__role=Role.SUPERVISOR,
            assignments__organisation=appeal.organisation_id,
            is_active=True,
        ).exclude(email="")
        return sorted(set(supervisors.values_list("email", flat=True)))
    email = appeal.author_email or (appeal.author.email if appeal.author_id else "")
    addresses = [email] if email else []
    if event.kind in TO_FOLLOWERS:
        for follower in Follower.objects.filter(appeal=appeal.pk).select_related("user"):
            address = follower.email or (follower.user.email if follower.user_id else "")
            if address and address not in addresses:
                addresses.append(address)
    return addresses


def _email(event: AppealEvent, address: str) -> Delivery:
    appeal = event.appeal
    lines = [f"Обращение № {appeal.number}", f"Статус: {appeal.get_status_display()}"]
    if event.reason:
        # the author's name (an answer's greeting) only to the author: residents who joined the
        # appeal, and mailboxes of organisations, read the words with «заявитель» instead
        author = appeal.author_email or (appeal.author.email if appeal.author_id else "")
        lines += [
            "",
            event.reason if address == author else policies.without_author_name(appeal, event.reason),
        ]
    return Delivery(
        channel=ChannelKind.EMAIL,
        address=address,
        topic=Topic.APPEAL,
        subject=f"Обращение № {appeal.number}: {event.get_kind_display()}",
        text="\n".join(lines),
        payload={"appeal": appeal.number, "event": event.pk, "kind": event.kind},
    )
