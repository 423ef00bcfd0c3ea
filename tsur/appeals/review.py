"""Answer review: whether an executor's answer must wait for a reviewer (`required`), the answer
that waits (`submission`), and the answer's photos the citizen may not see yet (`withheld_photos`).
Reads only; the steps are actions.submit path of `answer`, `approve_answer` and `return_answer`."""

from django.db.models import Q

from .choices import EventKind, Status
from .models import Appeal, AppealEvent, ReviewRule


def _ancestor_ids(organisation) -> list[int]:
    """The organisation and every organisation above it, from its materialised path ("/1/4/17/")."""
    return [int(part) for part in organisation.path.strip("/").split("/") if part]


def required(appeal: Appeal) -> bool:
    """Whether an active rule covers the appeal: its topic (or any topic) and its organisation, one
    above it (or any organisation)."""
    rules = ReviewRule.objects.filter(is_active=True)
    topic = Q(topic__isnull=True) | (Q(topic=appeal.topic_id) if appeal.topic_id else Q(pk__in=[]))
    organisation = Q(organisation__isnull=True)
    if appeal.organisation_id and appeal.organisation.path:
        organisation |= Q(organisation__in=_ancestor_ids(appeal.organisation))
    elif appeal.organisation_id:
        organisation |= Q(organisation=appeal.organisation_id)
    return rules.filter(topic & organisation).exists()


def _last(appeal: Appeal, kinds, events: list | None) -> AppealEvent | None:
    """The appeal's last event of these kinds, from `events` (the appeal's events in time order, the
    actor read with each) when the caller has read them already."""
    if events is not None:
        return next((e for e in reversed(events) if e.kind in kinds), None)
    return (
        AppealEvent.objects.filter(appeal=appeal.pk, kind__in=list(kinds))
        .select_related("actor")
        .order_by("-at", "-pk")
        .first()
    )


def submission(appeal: Appeal, events: list | None = None) -> AppealEvent | None:
    """The answer waiting for review (the last one submitted), while the appeal is in review."""
    if appeal.status != Status.REVIEW:
        return None
    return _last(appeal, {EventKind.ANSWER_SUBMITTED}, events)


def last_return(appeal: Appeal, events: list | None = None) -> AppealEvent | None:
    """The reviewer's comment on the answer sent back, while the executor has not answered again."""
    last = _last(appeal, {EventKind.ANSWER_SUBMITTED, EventKind.ANSWER_RETURNED, EventKind.ANSWERED}, events)
    return last if last is not None and last.kind == EventKind.ANSWER_RETURNED else None


def unpublished_photos(appeal: Appeal) -> list[int]:
    """Photos attached to an answer that has been submitted for review and not yet given to the
    citizen (waiting, or returned and not answered again)."""
    submitted, published = [], set()
    events = AppealEvent.objects.filter(
        appeal=appeal.pk, kind__in=[EventKind.ANSWER_SUBMITTED, EventKind.ANSWERED]
    ).values_list("kind", "data")
    for kind, data in events:
        photos = (data or {}).get("photos") or []
        if kind == EventKind.ANSWERED:
            published.update(photos)
        else:
            submitted.extend(p for p in photos if p not in submitted)
    return [p for p in submitted if p not in published]


def withheld_photos(appeal: Appeal, reader_is_staff: bool) -> frozenset[int]:
    """The photos a reader may not see: for the citizen and the public, those of an answer not given yet."""
    if reader_is_staff:
        return frozenset()
    return frozenset(unpublished_photos(appeal))
