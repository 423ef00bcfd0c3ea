"""Reading a source: what is new since its cursor, and the comments of the threads the center
answered in; on failure the source rests `BACKOFF · 2^failures` seconds (at most the setting's
maximum) and its last error is shown in the admin."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .. import connectors
from ..choices import ReplyState
from ..models import Post, Reply, Source
from .ingest import IngestReport, ingest

log = logging.getLogger(__name__)
FOLLOW_DAYS = 30


def follow_targets(source: Source, at: datetime) -> list[connectors.Target]:
    """The posts of this source with an official reply posted in the last days: residents answer there."""
    posts = (
        Post.objects.filter(
            source=source,
            pk__in=Reply.objects.filter(
                state=ReplyState.POSTED, posted_at__gte=at - timedelta(days=FOLLOW_DAYS)
            ).values("post"),
        )
        .select_related("parent")
        .order_by("pk")
    )
    return [
        connectors.Target(p.external_id, p.community, p.parent.external_id if p.parent_id else "")
        for p in posts
    ]


def poll(source: Source, *, at: datetime | None = None) -> IngestReport | None:
    """One reading of the source (None when it rests after failures)."""
    at = at or timezone.now()
    if source.backoff_until and source.backoff_until > at:
        return None
    try:
        batch = connectors.for_source(source).fetch(source.cursor, follow_targets(source, at))
    except connectors.ConnectorError as error:
        source.failures += 1
        wait = settings.SOCIAL["BACKOFF_SECONDS"] * 2**source.failures
        source.backoff_until = at + timedelta(
            seconds=min(wait, settings.SOCIAL["SOURCE_BACKOFF_MAX_SECONDS"])
        )
        source.last_error = f"{type(error).__name__}: {error}"[:400]
        source.last_polled_at = at
        source.save(update_fields=["failures", "backoff_until", "last_error", "last_polled_at"])
        log.warning("social source %s: %s", source, source.last_error)
        return None
    report = ingest(source, batch.items, at=at)
    source.cursor = batch.cursor
    source.failures = 0
    source.backoff_until = None
    source.last_error = ""
    source.last_polled_at = at
    source.save(update_fields=["cursor", "failures", "backoff_until", "last_error", "last_polled_at"])
    return report


def poll_all(*, at: datetime | None = None) -> dict[int, IngestReport | None]:
    return {s.pk: poll(s, at=at) for s in Source.objects.filter(is_active=True, watchlist__is_active=True)}
