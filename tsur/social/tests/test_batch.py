"""A source's reading is stored, triaged and merged a batch at a time: what one batch may hold
must come out as if its items were taken one by one — a repost beside its original, two posts of
one new problem, an edit of a post of the same batch, a comment under a post of the same batch —
and one item that cannot be a post leaves the rest kept."""

import importlib
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from tsur.analytics.models import AppealFact
from tsur.appeals import actions as appeal_actions
from tsur.appeals import signals
from tsur.appeals.choices import Channel, EventKind
from tsur.appeals.models import Appeal, AppealEvent
from tsur.nlp import duplicates
from tsur.social import actions, open_incidents
from tsur.social.actions import storing
from tsur.social.actions.incidents import register_incident
from tsur.social.choices import Label, LabelledBy
from tsur.social.connectors import Item
from tsur.social.merging import Index
from tsur.social.models import Post

from .factories import SourceFactory

pytestmark = pytest.mark.django_db
MSK = ZoneInfo("Europe/Moscow")
MORNING = datetime(2026, 3, 3, 10, 0, tzinfo=MSK)
BINS = "Опять не вывозят мусор на Будапештской 11, баки переполнены уже неделю!!!"
BINS_AGAIN = "Баки на Будапештской 11 переполнены, мусор не вывозят неделю, крысы бегают"


def item(external_id: str, text: str, minutes: int = 0, **fields) -> Item:
    return Item(external_id, text, MORNING - timedelta(hours=1) + timedelta(minutes=minutes), **fields)


def test_a_repost_and_its_original_in_one_batch():
    source = SourceFactory()

    report = actions.ingest(
        source,
        [
            item("wall-1_1", BINS),
            item("wall-1_2", "", 1, repost_of="wall-1_1"),  # a repost without a word of its own
            item("wall-1_3", "опять не вывозят мусор на Будапештской 11 баки переполнены уже неделю", 2),
        ],
        at=MORNING,
    )

    original = Post.objects.get(external_id="wall-1_1")
    repost, same_words = Post.objects.get(external_id="wall-1_2"), Post.objects.get(external_id="wall-1_3")
    assert (report.new, report.copies, report.attached, report.incidents) == (1, 2, 2, [original.incident_id])
    assert (repost.duplicate_of, same_words.duplicate_of) == (original, original)
    # the copies are not triaged again, and are answered with the original
    assert (repost.label, same_words.label) == ("", "")
    assert (repost.incident_id, same_words.incident_id) == (original.incident_id,) * 2
    attached = AppealEvent.objects.filter(appeal=original.incident, kind=EventKind.POST_ATTACHED)
    assert sorted(e.data["post"] for e in attached) == ["wall-1_1", "wall-1_2", "wall-1_3"]


def test_two_posts_of_one_new_problem_in_one_batch_make_one_incident():
    source = SourceFactory()

    report = actions.ingest(source, [item("wall-1_1", BINS), item("wall-1_2", BINS_AGAIN, 5)], at=MORNING)

    (incident,) = Appeal.objects.filter(channel=Channel.SOCIAL)
    assert (report.new, report.incidents, report.attached) == (2, [incident.pk], 1)
    assert sorted(incident.social_posts.values_list("external_id", flat=True)) == ["wall-1_1", "wall-1_2"]
    events = incident.events.filter(kind=EventKind.POST_ATTACHED).order_by("pk")
    assert [e.data["post"] for e in events] == ["wall-1_1", "wall-1_2"]
    assert "similarity" not in events[0].data and events[1].data["similarity"] >= 0.4


def test_an_edit_in_the_same_batch_is_one_post_with_the_last_words_triaged():
    source = SourceFactory()
    edited_at = MORNING - timedelta(minutes=10)

    report = actions.ingest(
        source,
        [
            item("wall-1_1", "Какой красивый закат сегодня над Купчино"),
            item("wall-1_1", BINS, edited_at=edited_at),
        ],
        at=MORNING,
    )

    post = Post.objects.get()
    assert (report.new, report.edited, report.known) == (1, 1, 0)
    assert (post.text, post.edited_at) == (BINS, edited_at)
    # the last words are what was triaged and registered
    assert (post.label, post.labelled_by) == (Label.COMPLAINT, LabelledBy.RULE)
    assert post.incident.text == BINS


def test_an_edit_of_a_kept_post_and_a_new_post_in_one_batch():
    source = SourceFactory()
    actions.ingest(source, [item("wall-1_1", "Какой красивый закат сегодня над Купчино")], at=MORNING)

    report = actions.ingest(
        source,
        [item("wall-1_1", "Какой красивый закат сегодня над Купчино!!! 🌅"), item("wall-1_2", BINS, 3)],
        at=MORNING + timedelta(minutes=5),
    )

    assert (report.new, report.edited, report.known, report.copies) == (1, 1, 0, 0)
    assert Post.objects.get(external_id="wall-1_1").text.endswith("🌅")
    assert Post.objects.count() == 2


def test_a_comment_under_a_post_of_the_same_batch_points_to_it():
    source = SourceFactory()

    actions.ingest(
        source,
        [
            item("wall-1_1", BINS),
            item("wall-1_1_c1", "Подтверждаю, у нас то же самое", 1, kind="comment", parent_id="wall-1_1"),
        ],
        at=MORNING,
    )

    comment = Post.objects.get(external_id="wall-1_1_c1")
    assert comment.parent == Post.objects.get(external_id="wall-1_1")


def test_a_malformed_item_is_reported_and_the_rest_is_kept():
    source = SourceFactory()
    naive = Item("wall-1_2", "Нет горячей воды на Белградской 8", datetime(2026, 3, 3, 9, 0))  # noqa: DTZ001

    report = actions.ingest(
        source,
        [item("wall-1_1", BINS), naive, item("", "без id"), item("wall-1_3", BINS_AGAIN, 5)],
        at=MORNING,
    )

    assert sorted(Post.objects.values_list("external_id", flat=True)) == ["wall-1_1", "wall-1_3"]
    assert report.new == 2
    assert report.malformed == [
        "wall-1_2: posted_at: нет даты с часовым поясом",
        "?: нет id",
    ]
    assert Appeal.objects.filter(channel=Channel.SOCIAL).count() == 1


def test_a_batch_read_again_is_all_known_and_changes_nothing():
    source = SourceFactory()
    batch = [item("wall-1_1", BINS), item("wall-1_2", BINS_AGAIN, 5)]
    actions.ingest(source, batch, at=MORNING)
    events = AppealEvent.objects.count()

    report = actions.ingest(source, batch, at=MORNING + timedelta(minutes=1))

    assert (report.new, report.known, report.attached, report.incidents) == (0, 2, 0, [])
    assert (Post.objects.count(), AppealEvent.objects.count()) == (2, events)


def test_the_queries_of_a_batch_do_not_grow_with_its_posts():
    """Chatter (neither copies nor actionable) is looked up, triaged and stored in a fixed number of
    queries, however many posts the batch holds."""
    source = SourceFactory()

    def chatter(start: int, count: int) -> list[Item]:
        return [
            item(f"wall-1_{start + i}", f"Какой красивый закат номер {start + i}", i) for i in range(count)
        ]

    with CaptureQueriesContext(connection) as few:
        actions.ingest(source, chatter(0, 5), at=MORNING)
    with CaptureQueriesContext(connection) as many:
        actions.ingest(source, chatter(100, 30), at=MORNING)  # one INSERT on SQLite too

    assert Post.objects.count() == 35
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_merge_index_kept_between_batches_follows_the_register():
    """The index of open incidents is kept in the process between batches: an incident rejected
    since, or opened by another worker (here: with an index of its own), is seen at the next batch."""
    source = SourceFactory()
    actions.ingest(source, [item("wall-1_1", BINS)], at=MORNING)
    first = Appeal.objects.get(channel=Channel.SOCIAL)
    appeal_actions.reject(first, None, reason="Не по адресу", at=MORNING + timedelta(minutes=1))
    water = "Нет горячей воды на Белградской 8 третий день, течёт кран в подвале"
    actions.ingest(source, [item("wall-1_2", water, 5)], at=MORNING + timedelta(minutes=2), index=Index())
    other = Appeal.objects.get(channel=Channel.SOCIAL, text=water)

    report = actions.ingest(
        source,
        [
            item("wall-1_3", BINS_AGAIN, 10),
            item("wall-1_4", "Третий день нет горячей воды на Белградской 8", 11),
        ],
        at=MORNING + timedelta(minutes=3),
    )

    bins, hot_water = Post.objects.get(external_id="wall-1_3"), Post.objects.get(external_id="wall-1_4")
    assert bins.incident_id not in (first.pk, other.pk)  # the rejected incident takes no more posts
    assert report.incidents == [bins.incident_id]
    assert hot_water.incident_id == other.pk  # the other worker's incident is joined


def test_same_words_as_a_kept_post_within_the_copy_window_only():
    source = SourceFactory()
    actions.ingest(source, [item("wall-1_1", BINS, -60 * 24 * 20)], at=MORNING)  # 20 days ago
    actions.ingest(source, [item("wall-1_2", BINS, -60 * 24 * 2)], at=MORNING)  # 2 days ago

    report = actions.ingest(
        source, [item("wall-1_3", BINS + " 👀"), item("wall-1_4", BINS_AGAIN)], at=MORNING
    )

    newer = Post.objects.get(external_id="wall-1_2")
    assert newer.duplicate_of is None  # the first one is older than the copy window
    assert Post.objects.get(external_id="wall-1_3").duplicate_of == newer
    assert Post.objects.get(external_id="wall-1_4").duplicate_of is None
    assert (report.new, report.copies) == (1, 1)


def test_a_batch_registers_its_incidents_and_attaches_its_posts_as_one_batch_of_steps():
    """The registrations and the attachments of a batch are one transaction: the facts of their
    incidents are brought up to date once, for all of them."""
    source = SourceFactory()
    told = []

    def count(sender, appeal_ids, **kwargs):
        told.append(set(appeal_ids))

    signals.events_recorded.connect(count, dispatch_uid="test-batch-told")
    try:
        report = actions.ingest(
            source,
            [
                item("wall-1_1", BINS),
                item("wall-1_2", "Нет горячей воды на Белградской 8 третий день", 1),
                item("wall-1_3", BINS_AGAIN, 2),
            ],
            at=MORNING,
        )
    finally:
        signals.events_recorded.disconnect(dispatch_uid="test-batch-told")

    assert len(report.incidents) == 2
    assert told == [set(report.incidents)]
    assert AppealFact.objects.filter(appeal__in=report.incidents).count() == 2


def test_a_batch_whose_registration_fails_opens_no_incident_and_keeps_its_posts(monkeypatch):
    source = SourceFactory()
    registered = []

    def register_or_fail(post, at):
        if registered:
            raise RuntimeError("intake failed")
        registered.append(post)
        return register_incident(post, at)

    # the module, not the function of the same name the package exports
    monkeypatch.setattr(
        importlib.import_module("tsur.social.actions.ingest"), "register_incident", register_or_fail
    )
    with pytest.raises(RuntimeError):
        actions.ingest(
            source,
            [item("wall-1_1", BINS), item("wall-1_2", "Нет горячей воды на Белградской 8 третий день", 1)],
            at=MORNING,
        )

    assert not Appeal.objects.exists()
    assert list(Post.objects.order_by("external_id").values_list("label", "incident")) == [
        ("complaint", None),
        ("complaint", None),
    ]


def _posts(source, prefix: str) -> list[Post]:
    """New posts with what a COPY row must escape or spell exactly: tabs, line ends, backslashes,
    «\\N», quotes, emoji, nested raw JSON, no edit moment, a model's float, a comment under the
    first post of the same batch."""
    posts = [
        Post(
            source=source,
            network=source.network,
            external_id=f"{prefix}1",
            text='Мусор\tна «Будапештской 11»\r\nбаки \\N полны \\ 👀 "уже" неделю',
            link="https://vk.com/wall-1_1?x=1&y=\\",
            posted_at=MORNING,
            raw={"text": 'a\tb\nc \\ "d"', "nested": [1, 2.5, None, True, {"ключ": "значение"}]},
            fingerprint="f" * 40,
            found_at=MORNING + timedelta(minutes=1),
            label=Label.COMPLAINT,
            guess=Label.COMPLAINT,
            confidence=np.float64(0.8125),
            labelled_by=LabelledBy.MODEL,
        ),
        Post(
            source=source,
            network=source.network,
            external_id=f"{prefix}2",
            kind="comment",
            text="",
            posted_at=MORNING - timedelta(days=400),
            edited_at=MORNING,
            found_at=MORNING,
        ),
    ]
    posts[1].parent_ref, posts[1].original_ref = posts[0], None
    posts[0].parent_ref, posts[0].original_ref = None, None
    return posts


def test_posts_copied_in_are_the_rows_bulk_create_would_write():
    """`storing.insert` (COPY on PostgreSQL, bulk_create elsewhere) writes the rows bulk_create writes."""
    source = SourceFactory()
    by_orm = _posts(source, "orm-")
    for post in by_orm:
        post.parent = post.parent_ref
    Post.objects.bulk_create(by_orm[:1])
    Post.objects.bulk_create(by_orm[1:])

    copied = _posts(source, "copy-")
    storing.insert(copied)  # COPY on PostgreSQL, the comment after the post it is under

    def rows(prefix: str) -> list[dict]:
        found = list(Post.objects.filter(external_id__startswith=prefix).order_by("external_id").values())
        keys = {row["id"]: row["external_id"] for row in found}
        for row in found:
            row.pop("id")
            row["external_id"] = row["external_id"].removeprefix(prefix)
            row["parent_id"] = keys.get(row["parent_id"], "").removeprefix(prefix)
        return found

    assert rows("copy-") == rows("orm-")
    assert [p.pk for p in copied] == list(
        Post.objects.filter(external_id__startswith="copy-")
        .order_by("external_id")
        .values_list("pk", flat=True)
    )
    assert copied[0].pk < copied[1].pk and not copied[0]._state.adding
    assert json.loads(json.dumps(rows("copy-")[0]["raw"])) == copied[0].raw


def test_a_post_copied_in_twice_is_refused_as_by_the_unique_key():
    """A batch another worker stored meanwhile fails as an INSERT would: ingest reads it again."""
    source = SourceFactory()
    storing.insert(_posts(source, "x-")[:1])
    with pytest.raises(IntegrityError), transaction.atomic():
        storing.insert(_posts(source, "x-")[:1])


def test_the_kept_index_reads_its_incidents_again_without_computing_their_words(monkeypatch):
    """The incidents a batch wrote to are read again from the register at the next batch, and the
    index is built anew every minute; the signatures of texts it already holds are not computed
    again, and it comes out as an index read afresh."""
    source = SourceFactory()
    actions.ingest(source, [item("wall-1_1", BINS), item("wall-1_2", BINS_AGAIN, 5)], at=MORNING)
    computed = []
    signature = duplicates.signature
    monkeypatch.setattr(duplicates, "signature", lambda text: computed.append(text) or signature(text))
    fresh = open_incidents.read(MORNING)
    computed.clear()

    with open_incidents.current(MORNING) as index:  # the events of the batch: its incident read again
        read_again = index
    monkeypatch.setattr(open_incidents, "REBUILD_SECONDS", 0)
    with open_incidents.current(MORNING) as index:  # built anew
        built_anew = index

    assert computed == []
    assert built_anew is not read_again
    for kept in (read_again, built_anew):
        assert kept.incidents.keys() == fresh.incidents.keys() and len(fresh.incidents) == 1
        for key, incident in fresh.incidents.items():
            assert kept.incidents[key] == incident
        assert dict(kept.by_word) == dict(fresh.by_word) and dict(kept.by_place) == dict(fresh.by_place)
