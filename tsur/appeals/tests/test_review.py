"""Answer review: which answers wait for a reviewer (rules by topic, by organisation and the ones
above it), approval and return, who is told, and that nothing public shows an answer in review."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from tsur.appeals import actions
from tsur.appeals.choices import Channel, EventKind, Priority, Status
from tsur.appeals.models import Appeal, ReviewRule
from tsur.appeals.tests.factories import TopicFactory
from tsur.core.choices import Role
from tsur.core.errors import DomainError, InvalidTransition
from tsur.core.tests.factories import OrganisationFactory, user_with_role
from tsur.notify.models import Delivery

pytestmark = pytest.mark.django_db
ANSWER = "Мусор у дома 5 вывезен 12.03, контейнерная площадка убрана. Фото прилагается."


@pytest.fixture
def world():
    topic = TopicFactory(name="Неубранный двор")
    other_topic = TopicFactory(name="Протечка кровли")
    administration = OrganisationFactory(name="Администрация района", email="adm@example.org")
    agency = OrganisationFactory(name="ЖА района", parent=administration, email="ja@example.org")
    executor = user_with_role(
        Role.EXECUTOR, organisation=agency, email="ivanov@ja.example.org", password=None
    )
    return {
        "topic": topic,
        "other_topic": other_topic,
        "administration": administration,
        "agency": agency,
        "executor": executor,
        "supervisor": user_with_role(Role.SUPERVISOR, organisation=agency, password=None),
        "operator": user_with_role(Role.OPERATOR, password=None),
    }


def at_work(world, topic=None, **kwargs) -> Appeal:
    appeal, _ = actions.register(
        channel=Channel.PORTAL,
        text="Во дворе дома 5 неделю не вывозят мусор",
        topic=topic or world["topic"],
        organisation=world["agency"],
        author_name="Петрова Анна",
        author_email="petrova@example.org",
        personal_data_consent=True,
        at=timezone.now() - timedelta(hours=3),
        **kwargs,
    )
    return actions.take(appeal, world["executor"])


def to_citizen(appeal) -> list[Delivery]:
    return list(Delivery.objects.filter(address="petrova@example.org", payload__appeal=appeal.number))


def png(name="after.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "green").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_without_a_rule_the_answer_goes_to_the_citizen_at_once(world):
    appeal = at_work(world)
    ReviewRule.objects.create(topic=world["other_topic"])  # another topic's rule
    ReviewRule.objects.create(is_active=False)  # a rule switched off

    actions.answer(appeal, world["executor"], text=ANSWER)

    appeal.refresh_from_db()
    assert appeal.status == Status.ANSWERED
    assert appeal.events.filter(kind=EventKind.ANSWER_SUBMITTED).count() == 0
    assert len(to_citizen(appeal)) == 1


@pytest.mark.parametrize(
    "rule",
    [
        {"topic": "topic"},
        {"organisation": "agency"},
        {"organisation": "administration"},  # the organisation above the executor's
        {"topic": "topic", "organisation": "administration"},
        {},  # every answer
    ],
    ids=["by-topic", "by-organisation", "by-parent-organisation", "by-both", "everything"],
)
def test_a_matching_rule_holds_the_answer_for_review_unseen_and_untold(world, rule):
    ReviewRule.objects.create(**{field: world[key] for field, key in rule.items()})
    appeal = at_work(world)
    deliveries_before = Delivery.objects.count()

    actions.answer(appeal, world["executor"], text=ANSWER)

    appeal.refresh_from_db()
    submitted = appeal.events.get(kind=EventKind.ANSWER_SUBMITTED)
    assert (appeal.status, appeal.answered_at, appeal.first_responded_at) == (Status.REVIEW, None, None)
    assert (submitted.reason, submitted.public, submitted.actor, submitted.status_from) == (
        ANSWER,
        False,
        world["executor"],
        Status.IN_WORK,
    )
    assert submitted.data == {"photos": [], "placeholder": []}
    assert not appeal.events.filter(kind=EventKind.ANSWERED).exists()
    assert Delivery.objects.count() == deliveries_before  # nobody is told of a submission


@pytest.mark.parametrize(
    "rule",
    [
        {"topic": "other_topic"},
        {"organisation": "unrelated"},
        {"topic": "other_topic", "organisation": "agency"},
    ],
    ids=["another-topic", "another-organisation", "agency-but-another-topic"],
)
def test_a_rule_that_does_not_match_lets_the_answer_through(world, rule):
    world["unrelated"] = OrganisationFactory(name="Водоканал")
    ReviewRule.objects.create(**{field: world[key] for field, key in rule.items()})
    appeal = at_work(world)

    actions.answer(appeal, world["executor"], text=ANSWER)

    assert Appeal.objects.get(pk=appeal.pk).status == Status.ANSWERED


def test_an_answer_returned_then_approved_reaches_the_citizen_once(world):
    ReviewRule.objects.create(topic=world["topic"])
    appeal = at_work(world)
    actions.answer(appeal, world["executor"], text="Ваше обращение рассмотрено.")
    placeholder = appeal.events.get(kind=EventKind.ANSWER_SUBMITTED).data["placeholder"]
    organisation_before = Delivery.objects.filter(address="ja@example.org").count()

    actions.return_answer(appeal, world["operator"], comment="Не сказано, вывезен ли мусор и когда")
    appeal.refresh_from_db()
    returned = appeal.events.get(kind=EventKind.ANSWER_RETURNED)
    told = Delivery.objects.filter(payload__event=returned.pk).order_by("address")
    assert appeal.status == Status.IN_WORK
    assert (returned.public, returned.reason) == (False, "Не сказано, вывезен ли мусор и когда")
    assert [d.address for d in told] == ["ivanov@ja.example.org", "ja@example.org"]
    assert Delivery.objects.filter(address="ja@example.org").count() == organisation_before + 1
    assert to_citizen(appeal) == []

    actions.answer(appeal, world["executor"], text=ANSWER)
    actions.approve_answer(appeal, world["operator"])

    appeal.refresh_from_db()
    answered = appeal.events.get(kind=EventKind.ANSWERED)
    approved = appeal.events.get(kind=EventKind.ANSWER_APPROVED)
    assert placeholder and "Только общие фразы" in placeholder[0]
    assert appeal.status == Status.ANSWERED
    assert appeal.answered_at == answered.at == approved.at
    assert appeal.first_responded_at == answered.at
    # as a direct answer: public, the text as written, signed by its writer, on time
    assert (answered.reason, answered.public, answered.actor, answered.data) == (
        ANSWER,
        True,
        world["executor"],
        {"on_time": True},
    )
    assert (approved.actor, approved.public) == (world["operator"], False)
    [delivery] = to_citizen(appeal)
    assert delivery.payload["kind"] == EventKind.ANSWERED and ANSWER in delivery.text


def test_followers_hear_of_the_approved_answer_not_of_the_submission(world):
    ReviewRule.objects.create()
    appeal = at_work(world)
    actions.subscribe(
        appeal,
        None,
        channel=Channel.PORTAL,
        email="sosed@example.org",
        name="Сосед",
        personal_data_consent=True,
    )
    actions.answer(appeal, world["executor"], text=ANSWER)
    assert not Delivery.objects.filter(address="sosed@example.org", payload__kind=EventKind.ANSWERED).exists()

    actions.approve_answer(appeal, world["supervisor"])

    assert Delivery.objects.filter(address="sosed@example.org", payload__kind=EventKind.ANSWERED).count() == 1


def test_the_writer_may_not_approve_their_own_answer(world):
    ReviewRule.objects.create()
    supervisor = world["supervisor"]
    appeal = at_work(world)
    actions.answer(appeal, supervisor, text=ANSWER)

    with pytest.raises(DomainError, match="Свой ответ"):
        actions.approve_answer(appeal, supervisor)

    appeal.refresh_from_db()
    assert appeal.status == Status.REVIEW
    assert not appeal.events.filter(kind__in=[EventKind.ANSWER_APPROVED, EventKind.ANSWERED]).exists()


def test_a_return_needs_a_comment_and_changes_nothing_without_one(world):
    ReviewRule.objects.create()
    appeal = at_work(world)
    actions.answer(appeal, world["executor"], text=ANSWER)

    with pytest.raises(DomainError):
        actions.return_answer(appeal, world["operator"], comment="   ")

    appeal.refresh_from_db()
    assert appeal.status == Status.REVIEW
    assert not appeal.events.filter(kind=EventKind.ANSWER_RETURNED).exists()


def test_review_steps_are_refused_outside_review(world):
    appeal = at_work(world)
    with pytest.raises(InvalidTransition):
        actions.approve_answer(appeal, world["operator"])
    with pytest.raises(InvalidTransition):
        actions.return_answer(appeal, world["operator"], comment="Нет")
    assert Appeal.objects.get(pk=appeal.pk).status == Status.IN_WORK


def test_the_answers_photos_wait_with_it_and_stay_for_the_next_one_after_a_return(world):
    ReviewRule.objects.create()
    appeal = at_work(world)
    first = actions.add_photo(appeal, world["executor"], png("before.png"))
    actions.answer(appeal, world["executor"], text=ANSWER, photos=[first])
    actions.return_answer(appeal, world["operator"], comment="Приложите фото после уборки")
    second = actions.add_photo(appeal, world["executor"], png("after.png"))

    actions.answer(appeal, world["executor"], text=ANSWER, photos=[second.pk])
    actions.approve_answer(appeal, world["operator"])

    last = appeal.events.filter(kind=EventKind.ANSWER_SUBMITTED).order_by("-pk").first()
    assert last.data["photos"] == [first.pk, second.pk]
    assert appeal.events.get(kind=EventKind.ANSWERED).data["photos"] == [first.pk, second.pk]


def test_another_appeals_photo_is_refused_with_the_answer(world):
    other = at_work(world)
    stranger = actions.add_photo(other, world["executor"], png())
    appeal = at_work(world)

    with pytest.raises(DomainError, match="не этого обращения"):
        actions.answer(appeal, world["executor"], text=ANSWER, photos=[stranger.pk])

    assert Appeal.objects.get(pk=appeal.pk).status == Status.IN_WORK


def test_nothing_public_shows_an_answer_in_review(world):
    ReviewRule.objects.create()
    citizen = user_with_role(Role.CITIZEN, password=None)
    appeal = at_work(world, author=citizen)
    photo = actions.add_photo(appeal, world["executor"], png())
    actions.answer(appeal, world["executor"], text=ANSWER, photos=[photo])
    author = APIClient()
    author.force_authenticate(citizen)
    anyone = APIClient()

    timeline = author.get(f"/api/v1/appeals/{appeal.number}/timeline/").json()
    detail = author.get(f"/api/v1/appeals/{appeal.number}/").json()
    photo_url = f"/api/v1/appeals/{appeal.number}/photos/{photo.pk}/"
    status = anyone.get(f"/api/v1/appeals/{appeal.number}/status/")
    open311 = anyone.get(reverse("open311:request", kwargs={"number": appeal.number, "fmt": "json"}))
    updates = anyone.get(reverse("open311:updates", kwargs={"fmt": "json"}))
    staff = APIClient()
    staff.force_authenticate(world["operator"])

    assert detail["status"] == Status.REVIEW and detail["photos"] == []
    assert author.get(photo_url).status_code == 404
    assert staff.get(photo_url).status_code == 200
    assert EventKind.ANSWER_SUBMITTED not in [e["kind"] for e in timeline]
    for response in (status, open311, updates):
        assert response.status_code == 200
        assert "вывезен" not in response.content.decode()
    assert "вывезен" not in str(timeline)
    assert open311.json()[0]["status_notes"] == ""

    actions.approve_answer(appeal, world["operator"])

    after = author.get(f"/api/v1/appeals/{appeal.number}/").json()
    notes = anyone.get(reverse("open311:request", kwargs={"number": appeal.number, "fmt": "json"})).json()
    assert len(after["photos"]) == 1 and author.get(photo_url).status_code == 200
    assert notes[0]["status_notes"] == ANSWER


def test_priority_is_set_with_a_reason_and_leaves_the_deadlines(world):
    appeal = at_work(world)
    due = appeal.resolution_due

    actions.set_priority(appeal, world["operator"], priority=Priority.CRITICAL, reason="Наледь над входом")

    appeal.refresh_from_db()
    changed = appeal.events.get(kind=EventKind.PRIORITY_CHANGED)
    assert (appeal.priority, appeal.resolution_due, appeal.status) == (Priority.CRITICAL, due, Status.IN_WORK)
    assert (changed.reason, changed.data, changed.public) == (
        "Наледь над входом",
        {"from": Priority.NORMAL, "to": Priority.CRITICAL},
        False,
    )


@pytest.mark.parametrize(
    ("priority", "reason", "field"),
    [
        ("urgent", "Наледь", "priority"),
        (Priority.NORMAL, "Наледь", "priority"),
        (Priority.HIGH, "", "reason"),
    ],
    ids=["unknown", "unchanged", "no-reason"],
)
def test_a_wrong_priority_change_is_refused_and_changes_nothing(world, priority, reason, field):
    appeal = at_work(world)

    with pytest.raises(DomainError) as refused:
        actions.set_priority(appeal, world["operator"], priority=priority, reason=reason)

    appeal.refresh_from_db()
    assert refused.value.field == field
    assert appeal.priority == Priority.NORMAL
    assert not appeal.events.filter(kind=EventKind.PRIORITY_CHANGED).exists()


def in_moderation(world, topic, **kwargs) -> Appeal:
    appeal, _ = actions.register(
        channel=Channel.HOTLINE,
        text="Под аркой дома 5 прорвало трубу, вода заливает подвал",
        topic=topic,
        author_name="Петрова Анна",
        author_email="petrova@example.org",
        personal_data_consent=True,
        moderate=True,
        **kwargs,
    )
    assert appeal.status == Status.MODERATION
    return appeal


def test_a_corrected_topic_brings_its_own_priority(world):
    """The priority came with the wrong topic: the right topic's priority replaces it."""
    leak = TopicFactory(name="Прорыв трубы", priority=Priority.CRITICAL)
    appeal = in_moderation(world, world["topic"])
    assert appeal.priority == Priority.NORMAL

    actions.assign(appeal, world["operator"], topic=leak, organisation=world["agency"])

    appeal.refresh_from_db()
    assert (appeal.topic, appeal.priority) == (leak, Priority.CRITICAL)


@pytest.mark.parametrize("how", ["at_filing", "set_priority"])
def test_a_priority_a_person_chose_survives_a_corrected_topic(world, how):
    """A hotline operator's «высокий» at filing, or one set with a reason in moderation, is kept when
    the topic is corrected to one whose own priority is normal."""
    if how == "at_filing":
        appeal = in_moderation(world, world["other_topic"], priority=Priority.HIGH)
    else:
        appeal = in_moderation(world, world["other_topic"])
        actions.set_priority(appeal, world["operator"], priority=Priority.HIGH, reason="Заливает подвал")
        appeal.refresh_from_db()

    actions.assign(appeal, world["operator"], topic=world["topic"], organisation=world["agency"])

    appeal.refresh_from_db()
    assert (appeal.topic, appeal.priority) == (world["topic"], Priority.HIGH)


def test_a_redirection_with_a_new_topic_follows_the_same_rule(world):
    leak = TopicFactory(name="Прорыв трубы", priority=Priority.CRITICAL)
    chosen = at_work(world, priority=Priority.HIGH)
    given = at_work(world)

    for appeal in (chosen, given):
        actions.redirect(
            appeal, world["executor"], reason="Это авария", topic=leak, organisation=world["administration"]
        )

    chosen.refresh_from_db()
    given.refresh_from_db()
    assert (chosen.priority, given.priority) == (Priority.HIGH, Priority.CRITICAL)
