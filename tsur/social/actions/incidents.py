"""Incidents: an appeal of the register on the `social` channel, with the posts about its problem.
Opening one registers the first post's text through the register's own intake, so the text models,
the routing and the channel's deadlines apply as to any appeal."""

from datetime import datetime

from django.db import transaction

from tsur.appeals import actions as appeal_actions
from tsur.appeals.choices import Channel, EventKind, Status
from tsur.appeals.models import Appeal, AppealEvent

from ..models import Post, Reply
from ..text import says_not_done
from .replies import replies_for


def post_data(post: Post) -> dict:
    """What the timeline keeps of a post: where it is, never who wrote it."""
    return {"network": post.network, "post": post.external_id, "link": post.link, "kind": post.kind}


def open_incident(post: Post, at: datetime) -> Appeal:
    """A new incident from the post: registered (understood, routed, deadlines of the channel), the
    post attached to it."""
    appeal, _created = appeal_actions.register(
        channel=Channel.SOCIAL,
        text=post.text,
        external_id=f"{post.network}:{post.external_id}",
        author_name=post.author_name[:200],
        at=at,
    )
    with transaction.atomic():
        Post.objects.filter(pk=post.pk).update(incident=appeal)
        post.incident = appeal
        appeal_actions.attach_source(appeal, None, data=post_data(post), reason=post.text[:500], at=at)
    return appeal


def attach(post: Post, incident: Appeal | int, at: datetime, *, similarity: float | None = None) -> Appeal:
    """One more post about the incident's problem. If the incident is already answered, the answer
    goes under this post too."""
    data = post_data(post)
    if similarity is not None:
        data["similarity"] = round(similarity, 3)
    with transaction.atomic():
        appeal = appeal_actions.attach_source(incident, None, data=data, reason=post.text[:500], at=at)
        Post.objects.filter(pk=post.pk).update(incident=appeal)
        post.incident = appeal
        if appeal.status == Status.ANSWERED:
            answer = (
                AppealEvent.objects.filter(appeal=appeal, kind=EventKind.ANSWERED)
                .order_by("-at", "-pk")
                .first()
            )
            if answer is not None:
                replies_for(answer, [post], at)
    return appeal


def react(comment: Post, reply: Reply, at: datetime) -> bool:
    """A resident's comment under the official reply: «не сделано» (and the like) reopens an
    answered or closed incident with the comment as the reason; anything else stays a comment on
    the timeline. True when the incident was reopened."""
    incident = reply.incident
    text = f"{comment.get_network_display()}: «{comment.text[:1500]}»"
    if says_not_done(comment.text) and incident.status in (Status.ANSWERED, Status.CLOSED):
        appeal_actions.reopen(incident, None, reason=f"Житель ответил под ответом в соцсети — {text}", at=at)
        return True
    if incident.status not in (Status.CLOSED, Status.REJECTED, Status.MERGED):
        appeal_actions.comment(incident, None, text=text, data={"post": comment.external_id}, at=at)
    return False
