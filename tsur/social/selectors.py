"""Reads for the moderator's queue and the incident's page."""

from datetime import timedelta

from django.db.models import Count, Prefetch, Q, QuerySet

from tsur.appeals.choices import Channel
from tsur.appeals.models import Appeal

from .choices import LabelledBy
from .models import Post, Reply


def waiting() -> QuerySet:
    """Posts that wait for a moderator's decision, oldest first (one key decides each)."""
    return (
        Post.objects.filter(label="", duplicate_of__isnull=True)
        .select_related("source")
        .order_by("found_at", "pk")
    )


def figures(now) -> dict:
    """The day so far: posts found, how they were decided, incidents opened."""
    since = now - timedelta(hours=24)
    day = Post.objects.filter(found_at__gte=since)
    counts = day.aggregate(
        found=Count("pk"),
        copies=Count("pk", filter=Q(duplicate_of__isnull=False)),
        by_rule=Count("pk", filter=Q(labelled_by=LabelledBy.RULE)),
        by_model=Count("pk", filter=Q(labelled_by=LabelledBy.MODEL)),
        by_moderator=Count("pk", filter=Q(labelled_by=LabelledBy.MODERATOR)),
        elsewhere=Count("pk", filter=Q(elsewhere__isnull=False)),
    )
    counts["waiting"] = waiting().count()
    counts["incidents"] = Appeal.objects.filter(channel=Channel.SOCIAL, registered_at__gte=since).count()
    return counts


def elsewhere(limit: int = 10) -> QuerySet:
    """The latest actionable posts left out as outside the watch-list's territories and not taken
    in by a moderator, newest first."""
    return (
        Post.objects.filter(elsewhere__isnull=False, incident__isnull=True)
        .exclude(labelled_by=LabelledBy.MODERATOR)
        .select_related("source", "elsewhere")
        .order_by("-found_at", "-pk")[:limit]
    )


def incidents(user, limit: int = 15) -> QuerySet:
    """The latest incidents the user may see, with how many posts each gathered."""
    return (
        Appeal.objects.restrict(user)
        .filter(channel=Channel.SOCIAL)
        .annotate(posts=Count("social_posts"))
        .select_related("topic", "organisation")
        .order_by("-registered_at", "-pk")[:limit]
    )


def posts_of(appeal: Appeal) -> QuerySet:
    return (
        Post.objects.filter(incident=appeal)
        .select_related("source")
        .prefetch_related(Prefetch("replies", queryset=Reply.objects.order_by("created_at", "pk")))
        .order_by("posted_at", "pk")
    )
