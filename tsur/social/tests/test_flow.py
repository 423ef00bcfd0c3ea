"""The whole flow against the fakes: posts found in VK and Telegram → triaged → merged into one
incident across networks → routed → answered in place under each post → a resident's «не сделано»
under the reply reopens the incident. And the turns it may take: a placeholder answer, a deleted
post, a network that refuses for a while."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tsur.appeals import actions as appeal_actions
from tsur.appeals.choices import Channel, EventKind, Status
from tsur.appeals.models import Appeal
from tsur.core.choices import Role
from tsur.core.tests.factories import OrganisationFactory, user_with_role
from tsur.social import actions
from tsur.social.choices import Label, LabelledBy, Network, ReplyState
from tsur.social.models import Post, Reply

from .factories import SourceFactory, WatchListFactory

pytestmark = pytest.mark.django_db
MSK = ZoneInfo("Europe/Moscow")
# Tuesday 3 March 2026, 10:00 in Moscow: a working day
MORNING = datetime(2026, 3, 3, 10, 0, tzinfo=MSK)


@pytest.fixture
def feeds(vk, telegram, monkeypatch):
    monkeypatch.setenv("TSUR_TEST_VK", vk.network.token)
    monkeypatch.setenv("TSUR_TEST_TG", telegram.network.token)
    watchlist = WatchListFactory()
    vk_source = SourceFactory(
        watchlist=watchlist,
        network=Network.VK,
        base_url=vk.url,
        token_env="TSUR_TEST_VK",
        account="101",
        communities=["-101"],
    )
    tg_source = SourceFactory(
        watchlist=watchlist,
        network=Network.TELEGRAM,
        base_url=telegram.url,
        token_env="TSUR_TEST_TG",
        communities=["-1001"],
    )
    wall = vk.network.add_community(101, "Подслушано Купчино", "kupchino")
    vk.network.add_user(5, "Иван", "Петров", "ivan_petrov")
    vk.network.add_user(6, "Анна", "Кузнецова", "anna_k")
    telegram.network.add_chat(-1001, "Купчино чат", "kupchino_chat")
    return {"vk": vk, "tg": telegram, "wall": wall, "vk_source": vk_source, "tg_source": tg_source}


def the_problem_is_posted(feeds):
    vk, tg, wall = feeds["vk"].network, feeds["tg"].network, feeds["wall"]
    first = vk.post(wall, 5, "Опять не вывозят мусор на Будапештской 11, баки переполнены уже неделю!!!")
    vk.post(wall, 6, "Баки на Будапештской 11 переполнены, мусор не вывозят неделю, крысы бегают")
    vk.post(wall, 6, "Какой красивый закат сегодня над Купчино")
    tg.say(
        -1001,
        {"id": 9, "first_name": "Мария", "username": "masha"},
        "На Будапештской 11 неделю не вывозят мусор, баки переполнены",
    )
    return first


def test_posts_found_triaged_merged_routed_answered_in_place_and_reopened(feeds):
    # given: two residents in VK and one in Telegram write about one problem, one writes about the sunset
    the_problem_is_posted(feeds)

    # when: the sources are read
    reports = actions.poll_all(at=MORNING)

    # then: four posts kept, three complaints (by the rules), one incident across both networks
    assert sum(r.new for r in reports.values()) == 4
    assert Post.objects.filter(label=Label.COMPLAINT, labelled_by=LabelledBy.RULE).count() == 3
    (incident,) = Appeal.objects.filter(channel=Channel.SOCIAL)
    assert sorted(incident.social_posts.values_list("network", flat=True)) == ["telegram", "vk", "vk"]
    assert incident.events.filter(kind=EventKind.POST_ATTACHED).count() == 3
    waiting = Post.objects.get(text__startswith="Какой красивый")
    assert (waiting.label, waiting.incident) == ("", None)  # nothing certain: the moderator's queue
    # the channel's deadline: 9 working hours from 10:00 on a working day is 10:00 the next one
    assert incident.first_response_due == datetime(2026, 3, 4, 10, 0, tzinfo=MSK)

    # when: the operator routes it and the executor answers
    organisation = OrganisationFactory(name="Спецавтобаза")
    operator = user_with_role(Role.OPERATOR)
    executor = user_with_role(Role.EXECUTOR, organisation=organisation)
    appeal_actions.assign(incident, operator, organisation=organisation, at=MORNING + timedelta(hours=1))
    appeal_actions.take(incident, executor, at=MORNING + timedelta(hours=2))
    answer = "Контейнерная площадка по ул. Будапештская, 11 очищена 3 марта, мусор вывезен."
    appeal_actions.answer(incident, executor, text=answer, at=MORNING + timedelta(hours=3))
    stored = actions.publish(MORNING + timedelta(hours=3))
    outcomes = actions.deliver(MORNING + timedelta(hours=3))

    # then: the answer is under each of the three posts, from the official accounts
    assert (stored, outcomes) == (3, {"posted": 3})
    vk_replies = [p for m, p in feeds["vk"].network.calls if m == "wall.createComment"]
    assert [(p["post_id"], p["from_group"], p["message"]) for p in vk_replies] == [
        ("1", "101", answer),
        ("2", "101", answer),
    ]
    tg_replies = [p for m, p in feeds["tg"].network.calls if m == "sendMessage"]
    assert [(p["reply_to_message_id"], p["text"]) for p in tg_replies] == [(100, answer)]
    delivered = incident.events.filter(kind=EventKind.REPLY_DELIVERED)
    assert sorted(e.data["outcome"] for e in delivered) == ["posted"] * 3
    assert all(e.public for e in delivered)

    # when: a resident answers the official reply in VK
    reply = Reply.objects.get(post__external_id="wall-101_1")
    comment_id = int(reply.external_id.rsplit("_c", 1)[1])
    feeds["vk"].network.comment(
        feeds["wall"], 1, 5, "Не сделано, баки так и стоят полные", reply_to=comment_id
    )
    report = actions.poll(feeds["vk_source"], at=MORNING + timedelta(hours=5))

    # then: the incident is back in work, with the comment as the reason
    incident.refresh_from_db()
    assert (report.reactions, report.reopened) == (1, 1)
    assert (incident.status, incident.reopen_count) == (Status.IN_WORK, 1)
    reopened = incident.events.get(kind=EventKind.REOPENED)
    assert "Не сделано, баки так и стоят полные" in reopened.reason
    assert "Петров" not in reopened.reason and "ivan_petrov" not in reopened.reason


def test_a_placeholder_answer_is_not_posted_and_does_not_close_the_incident(feeds):
    the_problem_is_posted(feeds)
    actions.poll_all(at=MORNING)
    incident = Appeal.objects.get(channel=Channel.SOCIAL)
    organisation = OrganisationFactory()
    appeal_actions.assign(incident, None, organisation=organisation, at=MORNING)
    appeal_actions.take(incident, None, at=MORNING)
    appeal_actions.answer(
        incident, None, text="Ваше обращение рассмотрено и направлено в уполномоченный орган.", at=MORNING
    )

    stored = actions.publish(MORNING + timedelta(minutes=5))

    incident.refresh_from_db()
    assert (stored, Reply.objects.count()) == (0, 0)
    assert incident.status == Status.IN_WORK
    assert "похоже на отписку" in incident.events.get(kind=EventKind.REOPENED).reason
    assert [m for m, _ in feeds["vk"].network.calls if m == "wall.createComment"] == []
    # and once handled it is not looked at again
    assert actions.publish(MORNING + timedelta(minutes=10)) == 0


def test_deleted_post_refused_reply_and_retries_are_on_the_timeline(feeds, settings):
    settings.SOCIAL = {**settings.SOCIAL, "REPLY_ATTEMPTS": 2}
    the_problem_is_posted(feeds)
    actions.poll_all(at=MORNING)
    incident = Appeal.objects.get(channel=Channel.SOCIAL)
    appeal_actions.assign(incident, None, organisation=OrganisationFactory(), at=MORNING)
    appeal_actions.take(incident, None, at=MORNING)
    appeal_actions.answer(incident, None, text="Мусор вывезен 3 марта, площадка убрана.", at=MORNING)
    vk = feeds["vk"].network
    vk.delete(feeds["wall"], 2)  # the second author deleted the post
    feeds["tg"].network.fail("rate", "sendMessage", times=3)  # Telegram answers «too many» for a while

    actions.publish(MORNING)
    first = actions.deliver(MORNING)
    second = actions.deliver(MORNING + timedelta(minutes=1))

    assert first == {"posted": 1, "deleted": 1, "retry": 1}
    assert second == {"posted": 1}
    states = dict(Reply.objects.values_list("post__external_id", "state"))
    assert states == {
        "wall-101_1": ReplyState.POSTED,
        "wall-101_2": ReplyState.DELETED,
        "tg-1001_100": ReplyState.POSTED,
    }
    outcomes = sorted(e.data["outcome"] for e in incident.events.filter(kind=EventKind.REPLY_DELIVERED))
    assert outcomes == ["deleted", "posted", "posted"]


def test_reposts_and_edits_are_one_post_and_a_copy_is_answered_too(feeds):
    vk = feeds["vk"].network
    first = the_problem_is_posted(feeds)
    actions.poll_all(at=MORNING)
    vk.edit(
        feeds["wall"], first["id"], "Опять не вывозят мусор на Будапештской 11, баки переполнены уже 8 дней"
    )
    repost = vk.post(feeds["wall"], 6, "", repost_of=first)  # a repost without a word of its own

    report = actions.poll(feeds["vk_source"], at=MORNING + timedelta(minutes=10))

    assert (report.new, report.copies, report.edited, report.attached) == (0, 1, 1, 1)
    edited = Post.objects.get(external_id="wall-101_1")
    assert edited.text.endswith("уже 8 дней") and edited.edited_at is not None
    copy = Post.objects.get(external_id=f"wall-101_{repost['id']}")
    assert (copy.duplicate_of, copy.incident) == (edited, edited.incident)
    assert Appeal.objects.filter(channel=Channel.SOCIAL).count() == 1


def test_the_moderator_decides_a_waiting_post(feeds):
    feeds["vk"].network.post(feeds["wall"], 6, "Подскажите, когда на Белградской починят фонари у школы?")
    actions.poll_all(at=MORNING)
    post = Post.objects.get()
    assert post.label == ""  # a question: the rules leave it, there is no model

    actions.decide(post, user_with_role(Role.OPERATOR), Label.QUESTION, at=MORNING)

    post.refresh_from_db()
    assert (post.label, post.labelled_by) == (Label.QUESTION, LabelledBy.MODERATOR)
    assert post.incident.channel == Channel.SOCIAL
    assert post.incident.text == "Подскажите, когда на Белградской починят фонари у школы?"


def test_a_failing_source_rests_with_back_off(feeds):
    feeds["vk"].network.fail("network", "*", times=10)
    source = feeds["vk_source"]
    assert actions.poll(source, at=MORNING) is None
    source.refresh_from_db()
    assert (source.failures, source.backoff_until > MORNING) == (1, True)
    assert source.last_error.startswith("NetworkDown")
    assert actions.poll(source, at=MORNING + timedelta(microseconds=1)) is None  # still resting: not asked
    calls = len(feeds["vk"].network.calls)
    actions.poll(source, at=MORNING + timedelta(microseconds=2))
    assert len(feeds["vk"].network.calls) == calls
