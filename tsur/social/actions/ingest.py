"""Posts found → stored once (a repost or an edited copy points to the post it copies) → triaged →
the actionable ones merged into an open incident or opening a new one; a resident's comment under
an official reply is a reaction (`incidents.react`)."""

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tsur.appeals import actions as appeal_actions
from tsur.appeals import understanding
from tsur.appeals.lifecycle import OPEN_STATUSES
from tsur.core.errors import DomainError
from tsur.core.models import User
from tsur.nlp import duplicates

from .. import areas, open_incidents, triage
from ..choices import ACTIONABLE, Label, LabelledBy, PostKind
from ..connectors import Item
from ..merging import Index
from ..models import Post, Reply, Source
from ..text import place_key
from . import storing
from .incidents import attach_all, react, register_incident

log = logging.getLogger(__name__)
ATTEMPTS = 3  # a batch raced by another worker storing the same posts is read again this many times


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
    # actionable posts that name a place outside the watch-list's territories: kept, no incident
    elsewhere: int = 0
    labels: dict[str, int] = field(default_factory=dict)
    # items that could not be posts, each as "id: why"; the rest of their batch is kept
    malformed: list[str] = field(default_factory=list)


def ingest(
    source: Source, items: list[Item], *, at: datetime | None = None, index: Index | None = None
) -> IngestReport:
    """Store what a source found and act on it: the batch's posts looked up, triaged and inserted
    together; only the actionable ones about the watch-list's areas go on to an incident."""
    at = at or timezone.now()
    report = IngestReport()
    minus = source.watchlist.minus_words or []
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                stored = storing.store(source, items, at)
                reactions, own = _reactions(stored.posts)
                verdicts = _triage(stored.posts, set(reactions) | own, minus)
                located = _locate(verdicts, source.watchlist)
                storing.insert(stored.posts)
            break
        except IntegrityError:  # another worker stored some of these meanwhile: they are known now
            if attempt == ATTEMPTS - 1:
                raise
    fresh = stored.posts
    report.new, report.copies, report.edited, report.known = (
        stored.new,
        stored.copies,
        stored.edited,
        stored.known,
    )
    report.malformed = stored.malformed
    for post in fresh:
        if post.external_id in reactions:
            report.reactions += 1
            report.reopened += react(post, reactions[post.external_id], at)
    actionable = []
    for post, verdict in verdicts:
        if not verdict.label:
            report.waiting += 1
            continue
        report.labels[post.label] = report.labels.get(post.label, 0) + 1
        if post.elsewhere_id is not None:
            report.elsewhere += 1
        elif post.label in ACTIONABLE:
            actionable.append(post)
    _to_incidents(fresh, actionable, set(reactions), index, located, at, report)
    return report


def _to_incidents(fresh, actionable, reactions: set[str], index, located, at, report: IngestReport) -> None:
    """The batch's actionable posts matched to incidents (a registration through intake for each
    that matches none), and they and the copies of posts in open incidents attached: all of it one
    batch of the register's steps (`together`: one transaction, the facts refreshed once). The
    kept merge index is forgotten if the batch fails, even at its commit."""
    copies = [p for p in fresh if p.duplicate_of_id and p.external_id not in reactions]
    if not actionable and not copies:
        return
    with contextlib.ExitStack() as stack:
        if actionable and index is None:  # the kept index only when needed
            index = stack.enter_context(open_incidents.current(at))
        stack.enter_context(appeal_actions.together())
        joining = _match(actionable, index, at, report, located) if actionable else []
        if copies:  # a copy of a post in an open incident (now too) is one more place to answer
            incidents = dict(
                Post.objects.filter(
                    pk__in={p.duplicate_of_id for p in copies},
                    incident__isnull=False,
                    incident__status__in=OPEN_STATUSES,
                ).values_list("pk", "incident_id")
            )
            incidents.update({p.pk: key for p, key, _ in joining})
            joining += [
                (p, incidents[p.duplicate_of_id], None) for p in copies if p.duplicate_of_id in incidents
            ]
        attach_all(joining, at)
    report.attached = len(joining) - len(report.incidents)


def _triage(posts: list[Post], settled: set[str], minus) -> list[tuple[Post, triage.Verdict]]:
    """The verdicts on the batch's posts that are neither copies nor comments settled by the replies
    (`settled`: their ids), set on the posts before they are stored."""
    to_triage = [p for p in posts if p.external_id not in settled and p.original_ref is None]
    verdicts = triage.triage([p.text for p in to_triage], minus)
    for post, verdict in zip(to_triage, verdicts, strict=True):
        post.label, post.guess, post.confidence = verdict.label, verdict.guess, verdict.confidence
        post.labelled_by = verdict.by
    return list(zip(to_triage, verdicts, strict=True))


def _reactions(posts: list[Post]) -> tuple[dict[str, Reply], set[str]]:
    """Comments answering one of the official replies (or left in the thread of a post answered),
    by their ids, labelled and put into the reply's incident; and the ids of the official replies
    themselves as the network shows them (labelled «other»)."""
    comments = [p for p in posts if p.kind == PostKind.COMMENT]
    if not comments:
        return {}, set()
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
    threads: dict[int, list[Reply]] = {}  # the replies under the kept posts these comments are in
    parents = {c.parent_ref.pk for c in comments if isinstance(c.parent_ref, Post) and c.parent_ref.pk}
    if parents:
        for reply in (
            Reply.objects.filter(post__in=parents, posted_at__isnull=False)
            .exclude(external_id="")
            .select_related("incident")
            .order_by("-posted_at", "-pk")
        ):
            threads.setdefault(reply.post_id, []).append(reply)
    found, own = {}, set()
    for comment in comments:
        if comment.external_id in own_ids:  # the network shows the official reply itself as a comment
            comment.label, comment.labelled_by = Label.OTHER, LabelledBy.RULE
            own.add(comment.external_id)
            continue
        reply = ours.get(comment.reply_to)
        if reply is None and isinstance(comment.parent_ref, Post) and comment.parent_ref.pk:
            reply = next(
                (r for r in threads.get(comment.parent_ref.pk, ()) if r.posted_at <= comment.posted_at), None
            )
        if reply is not None:
            found[comment.external_id] = reply
            comment.label, comment.labelled_by = Label.OTHER, LabelledBy.RULE
            comment.incident_id = reply.incident_id
    return found, own


def _locate(verdicts: list[tuple[Post, triage.Verdict]], watchlist) -> dict[str, tuple]:
    """The territory and building each actionable post names (for the merge), by its id; a post
    that names a place outside the watch-list's areas gets it as `elsewhere` (set before the insert)
    and goes no further. The areas are read only for a batch with actionable posts."""
    located = {}
    actionable = [post for post, verdict in verdicts if verdict.label in ACTIONABLE]
    covered = areas.of(watchlist) if actionable else areas.Areas()
    for post in actionable:
        territory_id, building_id = located[post.external_id] = _place(post.text)
        post.elsewhere_id = covered.elsewhere(post.text, territory_id)
    return located


def _place(text: str) -> tuple[int | None, int | None]:
    """The territory and building the text names by street and house, as the register reads them
    (its building index; no text model needed); None for what it does not name."""
    try:
        _mention, building, territory = understanding.locate(text)
    except Exception:
        log.exception("reading the place of a post failed")
        return None, None
    return (territory.pk if territory else None), (building.pk if building else None)


def _match(
    posts: list[Post], index: Index, at: datetime, report: IngestReport, located: dict | None = None
) -> list:
    """Each actionable post matched against the open incidents (those this batch opens included); a
    post that matches none opens its own, registered at once. Returns (post, incident key,
    similarity) for `attach_all`. `located`: the places already read, by post id."""
    joining = []
    for post in posts:
        found = (located or {}).get(post.external_id)
        territory_id, building_id = found if found is not None else _place(post.text)
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
            key = match.key
            joining.append((post, key, match.similarity))
        else:
            appeal = register_incident(post, at)
            report.incidents.append(appeal.pk)
            key = appeal.pk
            joining.append((post, key, None))
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
    return joining


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
        # the moderator's word stands: a post left out as outside the watch-list's areas is taken in
        _to_incidents([], [post], set(), None, None, at, IngestReport())
    return post


def merge_settings() -> dict:
    return {k: settings.SOCIAL[k] for k in ("MERGE_SIMILARITY", "MERGE_WINDOW_HOURS")}
