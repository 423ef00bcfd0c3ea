"""Answers in place: an answer (or an interim answer) of an incident becomes a stored reply under
each of its posts, posted by the job worker from the official account and retried with back-off;
the outcome — posted, refused by the network, post deleted, given up — goes on the incident's
timeline. An answer that is only an «отписка» (tsur.appeals.placeholder) is not posted: the incident
goes back to work, so a placeholder never closes it."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from tsur.appeals import actions as appeal_actions
from tsur.appeals import placeholder
from tsur.appeals.choices import Channel, EventKind, Status
from tsur.appeals.models import AppealEvent

from .. import connectors
from ..choices import ACTIONABLE, ReplyState
from ..models import Post, Reply, Source

log = logging.getLogger(__name__)
ANSWER_KINDS = (EventKind.ANSWERED, EventKind.INTERIM_ANSWER)
LOOK_BACK = timedelta(days=30)


def replies_for(answer: AppealEvent, posts, at: datetime) -> list[Reply]:
    text = answer.reason
    if answer.kind == EventKind.INTERIM_ANSWER and answer.data.get("planned_at"):
        text = f"{text}\n(Плановый срок: {answer.data['planned_at'][:10]})"
    rows = [
        Reply(
            post=p, incident_id=answer.appeal_id, answer=answer, text=text, next_attempt_at=at, created_at=at
        )
        for p in posts
    ]
    return Reply.objects.bulk_create(rows, ignore_conflicts=True)


def _sources(appeal_id: int):
    """The incident's posts that report its problem (not residents' reactions to the answer)."""
    return Post.objects.filter(incident=appeal_id).filter(
        Q(label__in=sorted(ACTIONABLE)) | Q(duplicate_of__isnull=False)
    )


def publish(at: datetime) -> int:
    """Turn the answers not yet handled into replies to post; returns how many replies were stored."""
    since = at - LOOK_BACK
    handled = Reply.objects.filter(answer=OuterRef("pk"))
    superseded = AppealEvent.objects.filter(
        appeal=OuterRef("appeal"), kind=EventKind.REOPENED, at__gte=OuterRef("at")
    ).exclude(pk=OuterRef("pk"))
    answers = (
        AppealEvent.objects.filter(
            appeal__channel=Channel.SOCIAL,
            kind__in=ANSWER_KINDS,
            at__gte=since,
            appeal__social_posts__isnull=False,
        )
        .filter(~Exists(handled), ~Exists(superseded))
        .select_related("appeal")
        .distinct()
        .order_by("at", "pk")
    )
    stored = 0
    for answer in answers:
        reasons = placeholder.reasons(answer.reason) if answer.kind == EventKind.ANSWERED else []
        if reasons:
            if answer.appeal.status == Status.ANSWERED:
                appeal_actions.reopen(
                    answer.appeal,
                    None,
                    reason="Ответ не опубликован в соцсети: похоже на отписку — " + "; ".join(reasons),
                    at=at,
                )
            continue
        with transaction.atomic():
            stored += len(replies_for(answer, list(_sources(answer.appeal_id).distinct()), at))
    return stored


def _target(post: Post) -> connectors.Target:
    parent = post.parent.external_id if post.parent_id else ""
    return connectors.Target(post.external_id, post.community, parent)


def deliver(at: datetime, *, limit: int = 200) -> dict[str, int]:
    """Post the replies that are due; each final outcome is recorded on the incident's timeline."""
    config = settings.SOCIAL
    due = list(
        Reply.objects.filter(state=ReplyState.PENDING, next_attempt_at__lte=at)
        .select_related("post__source__watchlist", "post__parent")
        .order_by("next_attempt_at", "pk")[:limit]
    )
    outcomes: dict[str, int] = {}
    built: dict[int, connectors.Connector] = {}
    for reply in due:
        # claimed first: another worker that read the same row finds it no longer due
        lease = at + timedelta(seconds=max(60, config["TIMEOUT_SECONDS"] * (config["RETRIES"] + 2)))
        claimed = Reply.objects.filter(pk=reply.pk, state=ReplyState.PENDING, next_attempt_at__lte=at).update(
            next_attempt_at=lease
        )
        if not claimed:
            continue
        source: Source = reply.post.source
        connector = built.get(source.pk) or built.setdefault(source.pk, connectors.for_source(source))
        try:
            external_id = connector.reply(_target(reply.post), reply.text)
        except connectors.PostDeleted as error:
            _finish(reply, ReplyState.DELETED, "deleted", str(error), at)
        except connectors.Refused as error:
            _finish(reply, ReplyState.REFUSED, "refused", str(error), at)
        except connectors.ConnectorError as error:  # rate limit, network, token: later, up to the limit
            reply.attempts += 1
            reply.error = str(error)[:400]
            if reply.attempts >= config["REPLY_ATTEMPTS"]:
                _finish(reply, ReplyState.FAILED, "failed", str(error), at)
            else:
                reply.next_attempt_at = at + timedelta(seconds=config["BACKOFF_SECONDS"] * 2**reply.attempts)
                reply.save(update_fields=["attempts", "error", "next_attempt_at"])
                outcomes["retry"] = outcomes.get("retry", 0) + 1
                continue
        else:
            reply.external_id = external_id
            reply.posted_at = at
            _finish(reply, ReplyState.POSTED, "posted", "", at)
        outcomes[reply.state] = outcomes.get(reply.state, 0) + 1
    return outcomes


def _finish(reply: Reply, state: str, outcome: str, error: str, at: datetime) -> None:
    with transaction.atomic():
        reply.state = state
        reply.error = error[:400]
        reply.attempts += 1
        reply.save(update_fields=["state", "error", "attempts", "external_id", "posted_at"])
        post = reply.post
        appeal_actions.record_delivery(
            reply.incident_id,
            None,
            outcome=outcome,
            data={
                "network": post.network,
                "post": post.external_id,
                "link": post.link,
                "reply": reply.external_id,
            },
            reason=error,
            at=at,
        )
