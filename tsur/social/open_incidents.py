"""The merge index of the open social incidents, as the register holds them.

`read(at)` builds it from the register: every open incident of the merge window with its posts.
That costs the words of every post of every open incident — for a large region at the end of a
day, thousands of posts — so `current(at)` keeps the index between batches in this process and
brings it up to date from the timeline instead: the events written on social incidents since the
last one seen name the incidents that changed (a post attached, an answer, a closure, a
registration by another worker); those are read again, the rest is kept. A timeline whose events
commit out of the order of their ids (two workers at once) could hide an event for a while, so the
index is also built anew every `REBUILD_SECONDS` and whenever the merge settings change; its price
and what was rejected: docs/decisions/0021-social-incidents.md.
"""

import contextlib
import threading
import time
from datetime import datetime

from django.db.models import Max

from tsur.appeals.choices import Channel
from tsur.appeals.lifecycle import OPEN_STATUSES
from tsur.appeals.models import Appeal, AppealEvent

from .choices import ACTIONABLE
from .merging import Index
from .models import Post
from .text import place_key

REBUILD_SECONDS = 60


def read(at: datetime, kept: dict[str, tuple] | None = None) -> Index:
    """The open incidents of the merge window with their posts, from the register (`kept`: the
    signatures of texts an index built before computed, by text)."""
    index = Index()
    incidents = Appeal.objects.filter(
        channel=Channel.SOCIAL, status__in=OPEN_STATUSES, registered_at__gte=at - 2 * index.window
    )
    _fill(index, incidents, kept)
    return index


def _fill(index: Index, incidents, kept: dict[str, tuple] | None = None) -> None:
    """The incidents' posts added to the index as the register holds them; a text whose signature
    the index (or `kept`) already has is not computed again."""
    places = {pk: (t, b) for pk, t, b in incidents.values_list("pk", "territory_id", "building_id")}
    posts = Post.objects.filter(
        incident__in=list(places), duplicate_of__isnull=True, label__in=sorted(ACTIONABLE)
    )
    for incident_id, text, posted_at in posts.order_by("posted_at", "pk").values_list(
        "incident_id", "text", "posted_at"
    ):
        territory_id, building_id = places[incident_id]
        index.add(
            incident_id,
            text,
            posted_at,
            territory_id=territory_id,
            building_id=building_id,
            signature=index.signature(text, kept),
            place=place_key(text),
        )


class _Kept:
    def __init__(self):
        self.lock = threading.Lock()
        self.forget()

    def forget(self) -> None:
        self.index: Index | None = None
        self.last_event = 0
        self.built_at = 0.0
        self.settings: tuple = ()


_kept = _Kept()


def forget() -> None:
    """Build the index anew on the next `current` (tests call it: their database is rolled back)."""
    with _kept.lock:
        _kept.forget()


@contextlib.contextmanager
def current(at: datetime):
    """The index kept in this process, brought up to date from the timeline (or built anew), for
    one batch's matching: one thread at a time (the matching adds to it), forgotten if the batch
    fails half-way."""
    with _kept.lock:
        try:
            yield _up_to_date(at)
        except BaseException:
            _kept.forget()
            raise


def _up_to_date(at: datetime) -> Index:
    probe = Index()
    wanted = (probe.threshold, probe.window)
    stale = (
        _kept.index is None
        or _kept.settings != wanted
        or time.monotonic() - _kept.built_at >= REBUILD_SECONDS
    )
    if stale:
        # the last event first: whatever is written while the index is read is read again next time
        last = _social_events().aggregate(last=Max("pk"))["last"] or 0
        kept = _kept.index.signatures if _kept.index is not None else None  # a text's never changes
        _kept.index, _kept.last_event = read(at, kept), last
        _kept.built_at, _kept.settings = time.monotonic(), wanted
    else:
        _refresh(_kept, at)
    return _kept.index


def _social_events():
    return AppealEvent.objects.filter(appeal__channel=Channel.SOCIAL)


def _refresh(kept: _Kept, at: datetime) -> None:
    changed = list(
        _social_events().filter(pk__gt=kept.last_event).values_list("pk", "appeal_id").order_by("pk")
    )
    if not changed:
        return
    kept.last_event = changed[-1][0]
    keys = {appeal_id for _, appeal_id in changed}
    index = kept.index
    for key in keys:
        index.drop(key)
    _fill(
        index,
        Appeal.objects.filter(
            pk__in=keys, status__in=OPEN_STATUSES, registered_at__gte=at - 2 * index.window
        ),
    )
