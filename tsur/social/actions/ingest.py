"""Posts found → stored once (a repost or an edited copy points to the post it copies) → triaged →
the actionable ones merged into an open incident or opening a new one; a resident's comment under
an official reply is a reaction (`incidents.react`)."""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tsur.appeals import understanding
from tsur.appeals.choices import Channel
from tsur.appeals.lifecycle import OPEN_STATUSES
from tsur.appeals.models import Appeal
from tsur.core.errors import DomainError
from tsur.core.models import User
from tsur.nlp import duplicates

from .. import triage
from ..choices import ACTIONABLE, Label, LabelledBy, PostKind
from ..connectors import Item
from ..merging import Index
from ..models import Post, Reply, Source
from ..text import fingerprint, place_key
from .incidents import attach, open_incident, react

log = logging.getLogger(__name__)
COPY_WINDOW = timedelta(days=14)


@dataclass
class IngestReport:
    new: int = 0
    copies: int = 0
    edited: int = 0
    known: int = 0
    reactions: int = 0
    reopened: int = 0
    waiting: int = 0
    incidents: list[int] = field(default_factory=list)
    attached: int = 0
    labels: dict[str, int] = field(default_factory=dict)


def ingest(
    source: Source, items: list[Item], *, at: datetime | None = None, index: Index | None = None
) -> IngestReport:
    """Store what a source found and act on it."""
    at = at or timezone.now()
    report = IngestReport()
    fresh: list[Post] = []
    for item in items:
        post = _store(source, item, at, report)
        if post is not None:
            fresh.append(post)
    if not fresh:
        return report
    reactions = _reactions(fresh)
    to_triage = [p for p in fresh if p.pk not in reactions and p.duplicate_of_id is None]
    for post in fresh:
        if post.pk in reactions:
            report.reactions += 1
            report.reopened += react(post, reactions[post.pk], at)
    minus = source.watchlist.minus_words or []
    verdicts = triage.triage([p.text for p in to_triage], minus)
    for post, verdict in zip(to_triage, verdicts, strict=True):
        post.label, post.guess, post.confidence = verdict.label, verdict.guess, verdict.confidence
        post.labelled_by = verdict.by
        Post.objects.filter(pk=post.pk).update(
            label=post.label, guess=post.guess, confidence=post.confidence, labelled_by=post.labelled_by
        )
        if not post.label:
            report.waiting += 1
            continue
        report.labels[post.label] = report.labels.get(post.label, 0) + 1
        if post.label in ACTIONABLE:
            index = index if index is not None else index_from_db(at)  # read once, only when needed
            _to_incident(post, index, at, report)
    for post in fresh:  # a copy of a post already in an incident is one more place to answer
        if post.duplicate_of_id and post.pk not in reactions:
            original = post.duplicate_of
            if original.incident_id and original.incident.status in OPEN_STATUSES:
                attach(post, original.incident_id, at)
                report.attached += 1
    return report


def _store(source: Source, item: Item, at: datetime, report: IngestReport) -> Post | None:
    """The item as a Post: new, a copy of a known post, or an edit of one already kept (None then)."""
    known = Post.objects.filter(network=source.network, external_id=item.external_id).first()
    print_ = fingerprint(item.text)
    if known is not None:
        if item.text and item.text != known.text:
            known.text, known.raw, known.fingerprint = item.text, item.raw, print_
            known.edited_at = item.edited_at or at
            known.save(update_fields=["text", "raw", "fingerprint", "edited_at"])
            report.edited += 1
        else:
            report.known += 1
        return None
    parent = None
    if item.parent_id:
        parent = Post.objects.filter(network=source.network, external_id=item.parent_id).first()
    post = Post(
        source=source,
        network=source.network,
        external_id=item.external_id[:128],
        kind=PostKind.COMMENT if item.kind == "comment" else PostKind.POST,
        parent=parent,
        reply_to=item.reply_to[:128],
        community=item.community[:128],
        author_handle=item.author_handle[:128],
        author_name=item.author_name[:200],
        text=item.text,
        link=item.link[:500],
        posted_at=item.posted_at,
        edited_at=item.edited_at,
        repost_of=item.repost_of[:128],
        raw=item.raw,
        fingerprint=print_,
        found_at=at,
    )
    post.duplicate_of = _original(post)
    try:
        with transaction.atomic():
            post.save()
    except IntegrityError:  # another worker stored it meanwhile
        report.known += 1
        return None
    if post.duplicate_of_id:
        report.copies += 1
    else:
        report.new += 1
    return post


def _original(post: Post) -> Post | None:
    """The post this one copies: the reposted one, or an earlier post with the same words."""
    if post.repost_of:
        found = Post.objects.filter(network=post.network, external_id=post.repost_of).first()
        if found is not None:
            return found.duplicate_of or found
    if not post.fingerprint or post.kind == PostKind.COMMENT:
        return None
    found = (
        Post.objects.filter(fingerprint=post.fingerprint, posted_at__gte=post.posted_at - COPY_WINDOW)
        .order_by("posted_at", "pk")
        .first()
    )
    return (found.duplicate_of or found) if found is not None else None


def _reactions(posts: list[Post]) -> dict[int, Reply]:
    """Comments answering one of the official replies (or left in the thread of a post answered)."""
    comments = [p for p in posts if p.kind == PostKind.COMMENT]
    if not comments:
        return {}
    ours = {
        r.external_id: r
        for r in Reply.objects.filter(
            external_id__in=[c.reply_to for c in comments if c.reply_to]
        ).select_related("incident")
    }
    own_ids = set(
        Reply.objects.filter(external_id__in=[c.external_id for c in comments]).values_list(
            "external_id", flat=True
        )
    )
    found = {}
    for comment in comments:
        if comment.external_id in own_ids:  # the network shows the official reply itself as a comment
            Post.objects.filter(pk=comment.pk).update(label=Label.OTHER, labelled_by=LabelledBy.RULE)
            continue
        reply = ours.get(comment.reply_to)
        if reply is None and comment.parent_id:
            reply = (
                Reply.objects.filter(post=comment.parent_id, posted_at__lte=comment.posted_at)
                .exclude(external_id="")
                .select_related("incident")
                .order_by("-posted_at")
                .first()
            )
        if reply is not None:
            found[comment.pk] = reply
            Post.objects.filter(pk=comment.pk).update(
                label=Label.OTHER, labelled_by=LabelledBy.RULE, incident=reply.incident_id
            )
    return found


def _place(text: str):
    """The building and district the text names, as the register reads them (None, None without a
    text model or a place in the text)."""
    try:
        understood = understanding.understand(text)
    except Exception:
        log.exception("text model failed on a post")
        return None, None
    if understood is None:
        return None, None
    building = understood.building
    territory = understood.territory or (building.territory if building is not None else None)
    return (territory.pk if territory else None), (building.pk if building else None)


def _to_incident(post: Post, index: Index, at: datetime, report: IngestReport) -> None:
    territory_id, building_id = _place(post.text)
    signature = duplicates.signature(post.text)
    place = place_key(post.text)
    match = index.match(
        post.text,
        post.posted_at,
        territory_id=territory_id,
        building_id=building_id,
        signature=signature,
        place=place,
    )
    if match is not None:
        attach(post, match.key, at, similarity=match.similarity)
        report.attached += 1
        key = match.key
    else:
        appeal = open_incident(post, at)
        report.incidents.append(appeal.pk)
        key = appeal.pk
        territory_id = territory_id or appeal.territory_id
        building_id = building_id or appeal.building_id
    index.add(
        key,
        post.text,
        post.posted_at,
        territory_id=territory_id,
        building_id=building_id,
        signature=signature,
        place=place,
    )


def index_from_db(at: datetime) -> Index:
    """The open incidents of the merge window with their posts, from the register."""
    index = Index()
    since = at - index.window
    incidents = Appeal.objects.filter(
        channel=Channel.SOCIAL, status__in=OPEN_STATUSES, registered_at__gte=since - index.window
    )
    places = {pk: (t, b) for pk, t, b in incidents.values_list("pk", "territory_id", "building_id")}
    posts = Post.objects.filter(
        incident__in=list(places), duplicate_of__isnull=True, label__in=sorted(ACTIONABLE)
    )
    for incident_id, text, posted_at in posts.order_by("posted_at").values_list(
        "incident_id", "text", "posted_at"
    ):
        territory_id, building_id = places[incident_id]
        index.add(
            incident_id,
            text,
            posted_at,
            territory_id=territory_id,
            building_id=building_id,
            place=place_key(text),
        )
    return index


def decide(post: Post, moderator: User | None, label: str, *, at: datetime | None = None) -> Post:
    """The moderator's decision on a waiting post; a complaint or question goes on to an incident."""
    at = at or timezone.now()
    if label not in Label.values:
        raise DomainError(f"Неизвестный класс «{label}».", field="label")
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        if post.label and post.labelled_by == LabelledBy.MODERATOR:
            raise DomainError("По публикации уже принято решение.", code="already_decided")
        post.label, post.labelled_by = label, LabelledBy.MODERATOR
        post.moderated_by = moderator if moderator and moderator.pk else None
        post.moderated_at = at
        post.save(update_fields=["label", "labelled_by", "moderated_by", "moderated_at"])
    if label in ACTIONABLE and post.incident_id is None:
        _to_incident(post, index_from_db(at), at, IngestReport())
    return post


def merge_settings() -> dict:
    return {k: settings.SOCIAL[k] for k in ("MERGE_SIMILARITY", "MERGE_WINDOW_HOURS")}
