"""A source's reading stored a batch at a time: the posts already kept, the reposted and the
same-worded ones looked up once for the whole batch, the new posts inserted together.

Within a batch the items are taken in the order the network gave them, as if stored one by one: an
item met again (an edit in the same reading) changes the post it repeats, a repost or a copy may
point to a post earlier in the same batch, a comment may answer a post of the same batch. An item
that cannot be a post (no id, no moment, a naive moment, a text that is not text) is left out and
named in the report; the rest of the batch is kept.
"""

import functools
import json
import logging
import operator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from ..choices import PostKind
from ..connectors import Item
from ..models import Post
from ..text import fingerprint

log = logging.getLogger(__name__)
COPY_WINDOW = timedelta(days=14)


@dataclass
class Stored:
    """What became of a batch's items: the new posts (in the network's order), and the counts."""

    posts: list[Post] = field(default_factory=list)
    new: int = 0
    copies: int = 0
    edited: int = 0
    known: int = 0
    malformed: list[str] = field(default_factory=list)


def malformed(item) -> str:
    """Why an item cannot be stored ("" when it can)."""
    if not isinstance(item, Item):
        return "не публикация"
    if not isinstance(item.external_id, str) or not item.external_id.strip():
        return "нет id"
    if not isinstance(item.text, str):
        return "текст не строка"
    for name in ("posted_at", "edited_at"):
        moment = getattr(item, name)
        if moment is None and name == "edited_at":
            continue
        if not isinstance(moment, datetime) or timezone.is_naive(moment):
            return f"{name}: нет даты с часовым поясом"
    if not isinstance(item.raw, dict):
        return "raw не объект"
    return ""


def store(source, items: list, at: datetime) -> Stored:
    """What the batch holds, decided in memory against the posts kept before (edits of those are
    written at once); the new posts are stored by `insert`, in the same transaction."""
    good, bad = [], []
    for item in items:
        problem = malformed(item)
        if problem:
            name = getattr(item, "external_id", "") if isinstance(item, Item) else ""
            bad.append(f"{str(name)[:128] or '?'}: {problem}")
            log.warning("social source %s: item left out (%s)", source, bad[-1])
        else:
            good.append(item)
    stored = _store(source, good, at)
    stored.malformed = bad
    return stored


def _store(source, items: list[Item], at: datetime) -> Stored:
    stored = Stored()
    network = source.network
    ids = {i.external_id[:128] for i in items}
    ids |= {i.parent_id for i in items if i.parent_id} | {i.repost_of for i in items if i.repost_of}
    kept = {p.external_id: p for p in Post.objects.filter(network=network, external_id__in=ids)}

    # edits of posts kept before: written first, so the copies looked up below see their new words
    edited = {}
    for item in items:
        known = kept.get(item.external_id[:128])
        if known is not None:
            if _edit(known, item, at):
                edited[known.pk] = known
                stored.edited += 1
            else:
                stored.known += 1
    if edited:
        Post.objects.bulk_update(list(edited.values()), ["text", "raw", "fingerprint", "edited_at"])

    fresh = [i for i in items if i.external_id[:128] not in kept]
    prints = [fingerprint(i.text) for i in fresh]
    copies = _Copies(
        network,
        kept,
        {p for p, i in zip(prints, fresh, strict=True) if p and i.kind != "comment"},
        min((i.posted_at for i in fresh), default=at) - COPY_WINDOW,
    )
    batch: dict[str, Post] = {}
    for item, print_ in zip(fresh, prints, strict=True):
        external_id = item.external_id[:128]
        post = batch.get(external_id)
        if post is not None:  # the same post twice in one reading: the later is an edit
            old = post.fingerprint
            if _edit(post, item, at):
                copies.moved(post, old)
                stored.edited += 1
            else:
                stored.known += 1
            continue
        post = _post(source, item, print_, at)
        post.parent_ref = (kept.get(item.parent_id) or batch.get(item.parent_id)) if item.parent_id else None
        post.original_ref = copies.original(post, batch)
        batch[external_id] = post
        copies.add(post)
        stored.posts.append(post)
        if post.original_ref is not None:
            stored.copies += 1
        else:
            stored.new += 1
    return stored


def _edit(post: Post, item: Item, at: datetime) -> bool:
    if not item.text or item.text == post.text:
        return False
    post.text, post.raw, post.fingerprint = item.text, item.raw, fingerprint(item.text)
    post.edited_at = item.edited_at or at
    return True


def _post(source, item: Item, print_: str, at: datetime) -> Post:
    return Post(
        source=source,
        network=source.network,
        external_id=item.external_id[:128],
        kind=PostKind.COMMENT if item.kind == "comment" else PostKind.POST,
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


class _Copies:
    """The post a new one copies: the reposted one, or the earliest post with the same words within
    `COPY_WINDOW` — among the posts kept before (the earliest per fingerprint read in one query) and
    those earlier in the batch."""

    def __init__(self, network: str, kept: dict[str, Post], prints: set[str], since: datetime):
        self.network, self.kept = network, kept
        self.earliest: dict[str, Post] = {}
        if prints:
            self.earliest = {p.fingerprint: p for p in _earliest(sorted(prints), since)}
        self.in_batch: dict[str, list[Post]] = {}

    def add(self, post: Post) -> None:
        if post.fingerprint:
            self.in_batch.setdefault(post.fingerprint, []).append(post)

    def moved(self, post: Post, old: str) -> None:
        if old in self.in_batch and post in self.in_batch[old]:
            self.in_batch[old].remove(post)
        self.add(post)

    def original(self, post: Post, batch: dict[str, Post]):
        """The original as a kept post's pk, or a new post of this batch; None for an original."""
        if post.repost_of:
            found = self.kept.get(post.repost_of)
            if found is not None:
                return found.duplicate_of_id or found.pk
            found = batch.get(post.repost_of)
            if found is not None:
                return found.original_ref or found
        if not post.fingerprint or post.kind == PostKind.COMMENT:
            return None
        since = post.posted_at - COPY_WINDOW
        kept = self.earliest.get(post.fingerprint)
        if kept is not None and kept.posted_at < since:  # the batch spans days: ask for this one
            kept = (
                Post.objects.filter(fingerprint=post.fingerprint, posted_at__gte=since)
                .order_by("posted_at", "pk")
                .only("pk", "posted_at", "duplicate_of_id")
                .first()
            )
        candidates = [p for p in self.in_batch.get(post.fingerprint, ()) if p.posted_at >= since]
        # a post kept before has a smaller key than any of the batch: it wins a tie of moments
        if kept is not None and not any(p.posted_at < kept.posted_at for p in candidates):
            return kept.duplicate_of_id or kept.pk
        if candidates:
            found = min(candidates, key=lambda p: p.posted_at)  # min() keeps the first of equals
            return found.original_ref or found
        return None


def _earliest(prints: list[str], since: datetime):
    """The earliest post of each fingerprint since `since`: one probe of the (fingerprint, posted_at)
    index per fingerprint. A window over all the posts of the fingerprints (ROW_NUMBER) read every
    copy of the city's common chatter: 170 ms for a batch at the end of a day of 100,000 posts,
    against 4 ms for this."""
    table = connection.ops.quote_name(Post._meta.db_table)
    wanted = " UNION ALL ".join(["SELECT %s AS fp"] * len(prints))
    sql = (
        f"SELECT id, fingerprint, posted_at, duplicate_of_id FROM {table} WHERE id IN ("  # noqa: S608 - names from the model, values as parameters
        f"SELECT (SELECT p.id FROM {table} p WHERE p.fingerprint = f.fp AND p.posted_at >= %s "
        f"ORDER BY p.posted_at, p.id LIMIT 1) FROM ({wanted}) f)"
    )
    return Post.objects.raw(sql, [since, *prints])


def insert(posts: list[Post]) -> None:
    """The batch's new posts in as few statements as their references allow: a post that points to
    another new post (its thread, the post it copies) goes in after it."""
    waiting = list(posts)
    while waiting:
        ready, later = [], []
        for post in waiting:
            refs = [r for r in (post.parent_ref, post.original_ref) if isinstance(r, Post)]
            (later if any(r.pk is None for r in refs) else ready).append(post)
        if not ready:
            raise ValueError("posts that point to each other")
        for post in ready:
            post.parent = post.parent_ref
            if isinstance(post.original_ref, Post):
                post.duplicate_of = post.original_ref
            else:
                post.duplicate_of_id = post.original_ref
        if connection.vendor == "postgresql":
            copy(ready)
        else:
            Post.objects.bulk_create(ready)
        waiting = later


# COPY's text format: a backslash, a tab, a line end are escaped; nothing else is (\N is NULL)
_ESCAPED = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


@functools.cache
def _copy_statements(alias: str) -> tuple[str, str, list[str]]:
    meta = Post._meta
    quote = connection.ops.quote_name
    fields = list(meta.local_concrete_fields)
    table = quote(meta.db_table)
    copy_sql = f"COPY {table} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN"
    keys_sql = "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)"
    return copy_sql, keys_sql, [f.attname for f in fields]


def _value(value) -> str:
    """A post's attribute in COPY's text format. The post's fields are text, moments, keys, a float
    and the raw JSON: `Post`'s own values, none of them an expression or a default to compute."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return str.translate(value, _ESCAPED)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(float(value))  # numpy's float64 prints its type's name
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            raise ValueError("naive datetime")
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False).translate(_ESCAPED)
    raise TypeError(f"no COPY text for {type(value).__name__}")


def copy(posts: list[Post]) -> None:
    """New posts in by PostgreSQL's COPY, their keys taken from the table's sequence first: the
    rows written as text here, with none of the per-field preparation of `bulk_create`, which cost
    over a tenth of the path's CPU (decision 0032). The same rows as `bulk_create` would write
    (tsur/social/tests/test_batch.py compares them)."""
    copy_sql, keys_sql, attnames = _copy_statements(connection.alias)
    meta = Post._meta
    with connection.cursor() as cursor:
        cursor.execute(keys_sql, [connection.ops.quote_name(meta.db_table), meta.pk.column, len(posts)])
        keys = sorted(row[0] for row in cursor.fetchall())
        for post, key in zip(posts, keys, strict=True):
            post.pk = key
        values = operator.attrgetter(*attnames)
        data = "".join(
            "\t".join([v.translate(_ESCAPED) if type(v) is str else _value(v) for v in values(p)]) + "\n"
            for p in posts
        )

        def run(sql, params, many, context):
            with connection.wrap_database_errors, cursor.cursor.copy(sql) as copying:
                copying.write(params)

        for wrapper in reversed(connection.execute_wrappers):  # as Django's cursor runs a statement
            run = functools.partial(wrapper, run)
        run(copy_sql, data, False, {"connection": connection, "cursor": cursor})
    for post in posts:
        post._state.adding, post._state.db = False, connection.alias
