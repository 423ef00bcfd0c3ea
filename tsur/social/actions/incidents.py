"""Incidents: an appeal of the register on the `social` channel, with the posts about its problem.
Opening one registers the first post's text through the register's own intake, so the text models,
the routing and the channel's deadlines apply as to any appeal."""

from datetime import datetime

from django.db import connection, transaction

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
    appeal = register_incident(post, at)
    attach_all([(post, appeal.pk, None)], at)
    return appeal


def register_incident(post: Post, at: datetime) -> Appeal:
    """The incident the post opens, registered through the register's intake; the post is attached
    by `attach_all` (with the others of its batch)."""
    appeal, _created = appeal_actions.register(
        channel=Channel.SOCIAL,
        text=post.text,
        external_id=f"{post.network}:{post.external_id}",
        author_name=post.author_name[:200],
        at=at,
    )
    return appeal


def attach(post: Post, incident: Appeal | int, at: datetime, *, similarity: float | None = None) -> Appeal:
    """One more post about the incident's problem. If the incident is already answered, the answer
    goes under this post too."""
    key = incident.pk if isinstance(incident, Appeal) else incident
    return attach_all([(post, key, similarity)], at)[key]


def attach_all(joining: list[tuple[Post, int, float | None]], at: datetime) -> dict[int, Appeal]:
    """Posts joining incidents — (post, incident key, similarity or None) each — in one go: a
    POST_ATTACHED event per post, the posts pointed to their incidents; an incident already
    answered gets its answer under its new posts too. Returns the incidents by key."""
    if not joining:
        return {}
    attachments = []
    for post, key, similarity in joining:
        data = post_data(post)
        if similarity is not None:
            data["similarity"] = round(similarity, 3)
        attachments.append((key, data, post.text[:500]))
    with transaction.atomic():
        appeals = appeal_actions.attach_sources(attachments, None, at=at)
        for post, key, _ in joining:
            post.incident = appeals[key]
        _point_to_incidents(joining)
        answered = {key for key, appeal in appeals.items() if appeal.status == Status.ANSWERED}
        for key in sorted(answered):
            answer = (
                AppealEvent.objects.filter(appeal=key, kind=EventKind.ANSWERED).order_by("-at", "-pk").first()
            )
            if answer is not None:
                replies_for(answer, [post for post, k, _ in joining if k == key], at)
    return appeals


def _point_to_incidents(joining: list[tuple[Post, int, float | None]]) -> None:
    """The posts' incident written by one UPDATE of plain values: `bulk_update` builds a CASE of
    expressions per post (1.2 ms of CPU for a batch's 8 posts, against 0.1 ms for this)."""
    pairs = sorted({post.pk: key for post, key, _ in joining}.items())
    quote = connection.ops.quote_name
    meta = Post._meta
    table, column, pk = quote(meta.db_table), quote(meta.get_field("incident").column), quote(meta.pk.column)
    whens = " ".join(["WHEN %s THEN %s"] * len(pairs))
    keys = ", ".join(["%s"] * len(pairs))
    sql = f"UPDATE {table} SET {column} = CASE {pk} {whens} END WHERE {pk} IN ({keys})"  # noqa: S608 - names from the model, values as parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for pair in pairs for value in pair] + [post_pk for post_pk, _ in pairs])


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
