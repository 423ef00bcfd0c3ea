"""«Мои обращения» and the author's page (issue 16): a resident sees what they filed and what they
joined, never another resident's; the author's page through the account and through the private
link, where the key is the authority; a resident who joined sees and cannot act; the author replies,
adds a detail, rates, confirms and reopens through the page with the same actions as the API."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from tsur.appeals import actions
from tsur.appeals.choices import Channel, EventKind, Status
from tsur.appeals.models import Appeal
from tsur.appeals.tests.factories import TopicFactory
from tsur.core.choices import Role
from tsur.core.models import SignInFailure
from tsur.core.tests.factories import OrganisationFactory, user_with_role
from tsur.tests.region import PNG

pytestmark = pytest.mark.django_db
# markup is refused at intake, but a tag left open gets through and would run if a page printed it raw
HOSTILE = 'Течёт крыша & <кровля> <img src=x onerror="window.pwned=1"'


class World:
    pass


@pytest.fixture
def world():
    w = World()
    w.organisation = OrganisationFactory(name="ЖА Невского района")
    w.topic = TopicFactory(name="Протечка кровли")
    w.resident = user_with_role(Role.CITIZEN, username="maria@example.org", email="maria@example.org")
    w.neighbour = user_with_role(Role.CITIZEN, username="petr@example.org", email="petr@example.org")
    w.executor = user_with_role(Role.EXECUTOR, organisation=w.organisation)
    w.appeal = file(w, HOSTILE, author=w.resident)
    w.key = w.appeal.access_key
    w.others = file(w, "Яма у подъезда соседа", author=w.neighbour)
    return w


def file(w, text, *, author=None, at=None):
    appeal, _ = actions.register(
        channel=Channel.PORTAL,
        text=text,
        address="ул. Седова, д. 5, кв. 17",
        topic=w.topic,
        organisation=w.organisation,
        author=author,
        author_email=author.email if author else "",
        personal_data_consent=True,
        at=at,
    )
    return appeal


def as_user(user) -> Client:
    client = Client(REMOTE_ADDR="10.0.0.5")
    client.force_login(user)
    return client


def answer(w, appeal=None, text="Кровля отремонтирована 12 мая."):
    appeal = appeal or w.appeal
    actions.take(appeal, w.executor)
    actions.answer(appeal, w.executor, text=text)
    appeal.refresh_from_db()
    return appeal


def steps_on(html: str) -> list[str]:
    return re.findall(r'id="step-([a-z_]+)"', html)


# ------------------------------------------------------------------ «мои обращения»


def test_my_appeals_are_the_ones_i_filed_and_joined_newest_first(world):
    older = file(world, "Не горит фонарь", author=world.resident, at=timezone.now() - timedelta(days=3))
    joined = world.others
    actions.subscribe(joined, None, channel=Channel.PORTAL, user=world.resident, personal_data_consent=True)
    third = file(world, "Чужое обращение", author=world.neighbour)

    page = as_user(world.resident).get("/my/")

    assert page.status_code == 200
    html = page.content.decode()
    shown = re.findall(r'href="/a/([0-9-]+)/"', html)
    assert shown == [joined.number, world.appeal.number, older.number]
    assert third.number not in html
    assert "вы присоединились" in html
    assert "Ждёт ответа до" in html


def test_another_resident_sees_only_their_own(world):
    html = as_user(world.neighbour).get("/my/").content.decode()
    assert re.findall(r'href="/a/([0-9-]+)/"', html) == [world.others.number]


def test_my_appeals_are_paged(world):
    for n in range(21):
        file(world, f"Обращение {n}", author=world.resident)
    client = as_user(world.resident)

    first = client.get("/my/").content.decode()
    second = client.get("/my/?page=2").content.decode()

    assert len(re.findall(r'href="/a/[0-9-]+/"', first)) == 20
    assert len(re.findall(r'href="/a/[0-9-]+/"', second)) == 2
    assert "страница 1 из 2" in first


def test_the_list_says_an_answer_waits_for_a_mark(world):
    answer(world)
    html = as_user(world.resident).get("/my/").content.decode()
    assert "Ответ дан — оцените" in html


def test_the_header_shows_a_resident_only_their_place(world):
    html = as_user(world.resident).get("/my/").content.decode()
    nav = re.search(r'<nav aria-label="Разделы">(.*?)</nav>', html, re.S).group(1)
    assert re.findall(r'href="([^"]+)"', nav) == ["/my/"]


# ------------------------------------------------------------------ the author's page


def test_the_author_sees_the_appeal_as_text(world):
    page = as_user(world.resident).get(f"/a/{world.appeal.number}/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "&lt;кровля&gt; &lt;img src=x onerror=" in html and "<img src=x" not in html
    assert "ул. Седова, д. 5, кв. 17" in html  # the author's own flat
    assert "Протечка кровли" in html and "ЖА Невского района" in html
    assert steps_on(html) == ["comment"]
    assert page["Cache-Control"].startswith("max-age=0")


def test_another_resident_gets_a_404(world):
    assert as_user(world.neighbour).get(f"/a/{world.appeal.number}/").status_code == 404
    assert as_user(world.neighbour).get("/a/00-0000000/").status_code == 404


def test_staff_do_not_open_the_authors_page(world):
    operator = user_with_role(Role.OPERATOR)
    assert as_user(operator).get(f"/a/{world.appeal.number}/").status_code == 404


def test_a_resident_who_joined_sees_the_answer_but_not_the_authors_words_and_cannot_act(world):
    actions.subscribe(
        world.appeal, None, channel=Channel.PORTAL, user=world.neighbour, personal_data_consent=True
    )
    answer(world)
    client = as_user(world.neighbour)

    page = client.get(f"/a/{world.appeal.number}/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "Кровля отремонтирована 12 мая." in html
    assert "Течёт крыша" not in html and "кв. 17" not in html
    assert steps_on(html) == []
    for name, data in (("rate", {"rate-rating": 1}), ("close", {}), ("reopen", {"reopen-reason": "нет"})):
        assert client.post(f"/a/{world.appeal.number}/{name}/", data).status_code == 403
    world.appeal.refresh_from_db()
    assert (world.appeal.status, world.appeal.rating) == (Status.ANSWERED, None)


def test_the_page_says_the_answer_is_being_prepared_while_it_is_reviewed(world):
    answer(world, text="Текст ответа на проверке")
    Appeal.objects.filter(pk=world.appeal.pk).update(status=Status.REVIEW)  # given: the review step

    html = as_user(world.resident).get(f"/a/{world.appeal.number}/").content.decode()

    assert "Ответ готовится" in html
    assert "Текст ответа на проверке" not in html
    # a detail may still be added while the answer waits; nothing to rate or confirm yet
    assert steps_on(html) == ["comment"]


def test_the_author_rates_then_confirms_through_the_page(world):
    answer(world)
    client = as_user(world.resident)
    html = client.get(f"/a/{world.appeal.number}/").content.decode()
    assert steps_on(html) == ["rate", "close", "reopen", "comment"]

    rated = client.post(f"/a/{world.appeal.number}/rate/", {"rate-rating": "5", "rate-comment": "Спасибо!"})
    closed = client.post(f"/a/{world.appeal.number}/close/", {})

    assert rated.status_code == closed.status_code == 302
    world.appeal.refresh_from_db()
    assert (world.appeal.status, world.appeal.rating, world.appeal.rating_comment) == (
        Status.CLOSED,
        5,
        "Спасибо!",
    )
    assert list(world.appeal.events.filter(actor=world.resident).values_list("kind", flat=True))[-2:] == [
        EventKind.RATED,
        EventKind.CLOSED,
    ]
    html = client.get(f"/a/{world.appeal.number}/").content.decode()
    assert "Ваша оценка: 5 из 5" in html
    assert steps_on(html) == ["reopen"]
    until = timezone.localtime(world.appeal.closed_at + timedelta(days=30)).strftime("%d.%m.%Y")
    assert f"Возобновить можно до {until}." in html


def test_a_low_mark_offers_reopening(world):
    answer(world)
    client = as_user(world.resident)

    client.post(f"/a/{world.appeal.number}/rate/", {"rate-rating": "1"})
    html = client.get(f"/a/{world.appeal.number}/").content.decode()

    assert 'id="offer-reopen"' in html
    assert re.search(r'<details class="card step step-reopen" id="step-reopen" open>', html)
    response = client.post(f"/a/{world.appeal.number}/reopen/", {"reopen-reason": "Снова течёт"})
    assert response.status_code == 302
    world.appeal.refresh_from_db()
    assert (world.appeal.status, world.appeal.reopen_count) == (Status.IN_WORK, 1)


def test_a_second_mark_through_the_page_is_refused_with_a_message(world):
    answer(world)
    client = as_user(world.resident)
    client.post(f"/a/{world.appeal.number}/rate/", {"rate-rating": "4"})

    response = client.post(f"/a/{world.appeal.number}/rate/", {"rate-rating": "1"}, follow=True)

    assert "Этот ответ уже оценён." in response.content.decode()
    world.appeal.refresh_from_db()
    assert world.appeal.rating == 4


def test_a_bad_mark_through_the_page_changes_nothing(world):
    answer(world)
    client = as_user(world.resident)
    for data in ({"rate-rating": "9"}, {}, {"rate-rating": "3", "rate-comment": "<b>x</b>"}):
        client.post(f"/a/{world.appeal.number}/rate/", data)
    world.appeal.refresh_from_db()
    assert world.appeal.rating is None
    assert not world.appeal.events.filter(kind=EventKind.RATED).exists()


def test_reopening_after_the_window_is_refused_through_the_page(world, settings):
    answer(world)
    days = settings.TSUR["REOPEN_WINDOW_DAYS"]
    actions.close(world.appeal, world.resident, at=timezone.now() - timedelta(days=days + 1))
    client = as_user(world.resident)

    html = client.get(f"/a/{world.appeal.number}/").content.decode()
    response = client.post(f"/a/{world.appeal.number}/reopen/", {"reopen-reason": "Снова"}, follow=True)

    assert "reopen" not in steps_on(html)
    assert "подайте новое обращение" in response.content.decode()
    world.appeal.refresh_from_db()
    assert (world.appeal.status, world.appeal.reopen_count) == (Status.CLOSED, 0)


def test_the_author_replies_to_a_question(world):
    actions.take(world.appeal, world.executor)
    actions.request_clarification(world.appeal, world.executor, question="Какой подъезд?")
    client = as_user(world.resident)

    html = client.get(f"/a/{world.appeal.number}/").content.decode()
    response = client.post(f"/a/{world.appeal.number}/reply/", {"reply-text": "Второй"})

    assert "Какой подъезд?" in html and steps_on(html)[0] == "reply"
    assert response.status_code == 302
    world.appeal.refresh_from_db()
    assert world.appeal.status == Status.IN_WORK
    assert world.appeal.events.get(kind=EventKind.CITIZEN_REPLIED).reason == "Второй"


# ------------------------------------------------------------------ the private link


def test_the_link_opens_the_appeal_to_whoever_holds_it(world):
    page = Client().get(f"/a/{world.appeal.number}/{world.key}/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Течёт крыша" in html
    assert "кв. 17" not in html  # a link may be forwarded: the address without the flat
    assert page["Cache-Control"].startswith("max-age=0")


def test_a_wrong_key_and_an_unknown_number_are_the_same_404(world):
    wrong = Client().get(f"/a/{world.appeal.number}/{'x' * 24}/")
    unknown = Client().get(f"/a/99-9999999/{world.key}/")
    foreign = Client().get(f"/a/{world.others.number}/{world.key}/")

    assert wrong.status_code == unknown.status_code == foreign.status_code == 404
    assert wrong.content == unknown.content == foreign.content


def test_the_key_is_the_authority_for_the_authors_steps(world):
    answer(world)
    stranger = Client()  # not signed in at all

    rated = stranger.post(f"/a/{world.appeal.number}/{world.key}/rate/", {"rate-rating": "2"})
    reopened = stranger.post(f"/a/{world.appeal.number}/{world.key}/reopen/", {"reopen-reason": "Не сделано"})

    assert (rated.status_code, rated["Location"]) == (302, f"/a/{world.appeal.number}/{world.key}/")
    assert reopened.status_code == 302
    world.appeal.refresh_from_db()
    assert (world.appeal.rating, world.appeal.status) == (2, Status.IN_WORK)
    # recorded as the author's steps
    assert list(
        world.appeal.events.filter(kind__in=[EventKind.RATED, EventKind.REOPENED]).values_list(
            "actor", flat=True
        )
    ) == [world.resident.pk, world.resident.pk]


def test_the_key_allows_only_the_authors_steps(world):
    # only steps whose roles include AUTHOR have a page address; the author's may not answer
    response = Client().post(f"/a/{world.appeal.number}/{world.key}/answer/", {"text": "Сделано"})
    assert response.status_code == 404
    world.appeal.refresh_from_db()
    assert world.appeal.status == Status.ASSIGNED


def test_an_appeal_filed_without_an_account_is_worked_through_its_link(world):
    anonymous = file(world, "Сломана скамейка")
    answer(world, anonymous)

    response = Client().post(f"/a/{anonymous.number}/{anonymous.access_key}/close/", {})

    assert response.status_code == 302
    anonymous.refresh_from_db()
    assert anonymous.status == Status.CLOSED
    assert anonymous.events.get(kind=EventKind.CLOSED).actor is None


def test_a_step_with_a_wrong_key_is_a_404_and_changes_nothing(world):
    answer(world)
    response = Client().post(f"/a/{world.appeal.number}/{'y' * 24}/close/", {})
    assert response.status_code == 404
    world.appeal.refresh_from_db()
    assert world.appeal.status == Status.ANSWERED


def test_guessing_keys_is_throttled_per_address(world, settings):
    settings.TSUR = {**settings.TSUR, "ACCESS_KEY_FAILURES_PER_ADDRESS": 3}
    guesser = Client(REMOTE_ADDR="10.9.9.9")
    answers = [guesser.get(f"/a/{world.appeal.number}/{'z' * 23}{n}/").status_code for n in range(3)]

    refused = guesser.get(f"/a/{world.appeal.number}/{world.key}/")  # even the right key, for now

    assert answers == [404, 404, 404]
    assert refused.status_code == 429
    assert Client(REMOTE_ADDR="10.9.9.8").get(f"/a/{world.appeal.number}/{world.key}/").status_code == 200
    assert SignInFailure.objects.count() == 3


def test_the_links_steps_need_csrf(world):
    answer(world)
    client = Client(enforce_csrf_checks=True)
    assert client.post(f"/a/{world.appeal.number}/{world.key}/close/", {}).status_code == 403
    world.appeal.refresh_from_db()
    assert world.appeal.status == Status.ANSWERED


def test_photos_open_through_the_page_and_the_link_only(world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    actions.add_photo(
        world.appeal, world.resident, SimpleUploadedFile("a.png", PNG, content_type="image/png")
    )
    photo = world.appeal.photos.get()

    assert as_user(world.resident).get(f"/a/{world.appeal.number}/photos/{photo.pk}/").status_code == 200
    assert Client().get(f"/a/{world.appeal.number}/{world.key}/photos/{photo.pk}/").status_code == 200
    assert as_user(world.neighbour).get(f"/a/{world.appeal.number}/photos/{photo.pk}/").status_code == 404
    assert (
        Client().get(f"/a/{world.others.number}/{world.others.access_key}/photos/{photo.pk}/").status_code
        == 404
    )
