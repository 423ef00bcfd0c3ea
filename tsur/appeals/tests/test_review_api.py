"""Answer templates filled in for an appeal and its reader, and the REST endpoints of answer review,
templates and priority: roles, scope (404 outside it), bad input (400, nothing changed)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from tsur.appeals import actions, answer_templates
from tsur.appeals.choices import EventKind, Priority, Status
from tsur.appeals.models import AnswerTemplate, Appeal, AppealEvent, ReviewRule
from tsur.appeals.tests.factories import AppealFactory, TopicFactory
from tsur.core.choices import Role
from tsur.core.errors import InvalidTransition
from tsur.core.tests.factories import OrganisationFactory, TerritoryFactory, user_with_role

pytestmark = pytest.mark.django_db
MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


@pytest.fixture
def world():
    district = TerritoryFactory(name="Невский район")
    topic = TopicFactory(name="Неубранный двор")
    agency = OrganisationFactory(name="ЖА Невского района")
    appeal = AppealFactory(
        number="24-0000517",
        status=Status.IN_WORK,
        topic=topic,
        organisation=agency,
        territory=district,
        author_name="Петрова Анна",
        # 23:30 in Moscow is 20:30 in UTC: the date is the region's own
        registered_at=datetime(2024, 3, 12, 9, 0, tzinfo=MOSCOW),
        resolution_due=datetime(2024, 3, 31, 23, 30, tzinfo=MOSCOW).astimezone(ZoneInfo("UTC")),
    )
    foreign = AppealFactory(status=Status.IN_WORK, topic=topic, territory=TerritoryFactory())
    return {
        "topic": topic,
        "agency": agency,
        "appeal": appeal,
        "foreign": foreign,
        "operator": user_with_role(Role.OPERATOR, territory=district, password=None),
        "executor": user_with_role(Role.EXECUTOR, organisation=agency, password=None),
        "supervisor": user_with_role(Role.SUPERVISOR, organisation=agency, password=None),
        "analyst": user_with_role(Role.ANALYST, territory=district, password=None),
        "citizen": user_with_role(Role.CITIZEN, password=None),
    }


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(appeal, step):
    return f"/api/v1/appeals/{appeal.number}/{step}/"


def in_review(appeal, writer=None):
    """The appeal with an answer waiting for its reviewer."""
    Appeal.objects.filter(pk=appeal.pk).update(status=Status.REVIEW)
    AppealEvent.objects.create(
        appeal=appeal,
        kind=EventKind.ANSWER_SUBMITTED,
        actor=writer,
        at=timezone.now(),
        status_from=Status.IN_WORK,
        status_to=Status.REVIEW,
        reason="Мусор вывезен 14.03, площадка убрана.",
        data={"photos": [], "placeholder": []},
    )


# ------------------------------------------------------------------ rendering


TEXT = "Уважаемый(ая) {имя}! По обращению № {номер} от {дата} {организация} сообщает: до {срок} {подпись}."


def test_a_template_is_filled_for_a_reader_who_may_see_the_name(world):
    template = AnswerTemplate.objects.create(topic=world["topic"], name="Двор", text=TEXT)

    text = answer_templates.render(template, world["appeal"], world["executor"])

    assert text == (
        "Уважаемый(ая) Петрова Анна! По обращению № 24-0000517 от 12.03.2024 ЖА Невского района сообщает: "
        "до 31.03.2024 {подпись}."
    )


def test_the_name_stays_hidden_from_a_reader_without_the_right(world):
    template = AnswerTemplate.objects.create(topic=world["topic"], name="Двор", text=TEXT)

    text = answer_templates.render(template, world["appeal"], world["analyst"])

    assert text.startswith("Уважаемый(ая) заявитель! По обращению № 24-0000517")
    assert "Петрова" not in text


def test_markup_in_the_data_stays_text(world):
    Appeal.objects.filter(pk=world["appeal"].pk).update(author_name='<img src=x onerror="alert(1)">')
    appeal = Appeal.objects.get(pk=world["appeal"].pk)
    template = AnswerTemplate.objects.create(name="Любая тема", text="{имя}")

    rendered = answer_templates.render(template, appeal, world["executor"])
    served = client_for(world["executor"]).get(url(appeal, "answer-templates")).json()

    assert rendered == '<img src=x onerror="alert(1)">' and type(rendered) is str  # no SafeString
    assert served == [{"id": template.pk, "name": "Любая тема", "text": '<img src=x onerror="alert(1)">'}]


def test_the_topic_s_templates_come_first_then_those_for_any_topic(world):
    anywhere = AnswerTemplate.objects.create(name="Общий", text="Общий ответ", order=1)
    own = AnswerTemplate.objects.create(topic=world["topic"], name="Двор убран", text="Двор убран", order=50)
    AnswerTemplate.objects.create(topic=TopicFactory(), name="Чужая тема", text="Нет")
    AnswerTemplate.objects.create(topic=world["topic"], name="Старый", text="Нет", is_active=False)

    found = answer_templates.for_appeal(world["appeal"], world["executor"])

    assert [(t.id, t.name) for t in found] == [(own.pk, "Двор убран"), (anywhere.pk, "Общий")]


# ------------------------------------------------------------------ REST


@pytest.mark.parametrize(
    ("role", "expected"),
    [("operator", 200), ("executor", 200), ("supervisor", 200), ("analyst", 200), ("citizen", 404)],
)
def test_answer_templates_are_for_staff_in_scope(world, role, expected):
    AnswerTemplate.objects.create(topic=world["topic"], name="Двор", text="Уважаемый(ая) {имя}!")
    if role == "citizen":
        Appeal.objects.filter(pk=world["appeal"].pk).update(author=world["citizen"])

    response = client_for(world[role]).get(url(world["appeal"], "answer-templates"))
    foreign = client_for(world[role]).get(url(world["foreign"], "answer-templates"))

    assert (response.status_code, foreign.status_code) == (expected, 404)
    if expected == 200:
        name = "заявитель" if role == "analyst" else "Петрова Анна"
        assert response.json()[0]["text"] == f"Уважаемый(ая) {name}!"


@pytest.mark.parametrize(
    ("role", "expected"),
    [("operator", 200), ("supervisor", 200), ("executor", 403), ("analyst", 403), ("citizen", 404)],
)
def test_approve_answer_by_role(world, role, expected):
    appeal = world["appeal"]
    in_review(appeal, writer=world["executor"])

    response = client_for(world[role]).post(url(appeal, "approve-answer"))

    appeal.refresh_from_db()
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["status"] == appeal.status == Status.ANSWERED
        assert appeal.events.get(kind=EventKind.ANSWERED).actor == world["executor"]
    else:
        assert appeal.status == Status.REVIEW
        assert not appeal.events.filter(kind=EventKind.ANSWER_APPROVED).exists()


def test_review_steps_outside_the_scope_are_not_found(world):
    foreign = world["foreign"]
    in_review(foreign)

    approve = client_for(world["supervisor"]).post(url(foreign, "approve-answer"))
    send_back = client_for(world["operator"]).post(url(foreign, "return-answer"), {"comment": "Нет"})

    assert (approve.status_code, send_back.status_code) == (404, 404)
    assert Appeal.objects.get(pk=foreign.pk).status == Status.REVIEW


def test_return_answer_through_the_api(world):
    appeal = world["appeal"]
    in_review(appeal, writer=world["executor"])
    client = client_for(world["supervisor"])

    empty = client.post(url(appeal, "return-answer"), {"comment": ""}, format="json")
    missing = client.post(url(appeal, "return-answer"), {}, format="json")
    markup = client.post(url(appeal, "return-answer"), {"comment": "<b>переделать</b>"}, format="json")
    assert [r.status_code for r in (empty, missing, markup)] == [400, 400, 400]
    assert Appeal.objects.get(pk=appeal.pk).status == Status.REVIEW

    response = client.post(url(appeal, "return-answer"), {"comment": "Укажите дату вывоза"}, format="json")

    assert (response.status_code, response.json()["status"]) == (200, Status.IN_WORK)
    returned = appeal.events.get(kind=EventKind.ANSWER_RETURNED)
    assert (returned.reason, returned.actor) == ("Укажите дату вывоза", world["supervisor"])


def test_an_approve_without_an_answer_waiting_is_a_conflict(world):
    response = client_for(world["operator"]).post(url(world["appeal"], "approve-answer"))

    assert response.status_code == 409
    assert Appeal.objects.get(pk=world["appeal"].pk).status == Status.IN_WORK


def test_the_answer_endpoint_sends_to_review_with_the_flag(world):
    ReviewRule.objects.create(organisation=world["agency"])
    appeal = world["appeal"]

    response = client_for(world["executor"]).post(
        url(appeal, "answer"), {"text": "Ваше обращение рассмотрено.", "photos": []}, format="json"
    )
    again = client_for(world["executor"]).post(
        url(appeal, "answer"), {"text": "Мусор вывезен"}, format="json"
    )

    submitted = appeal.events.get(kind=EventKind.ANSWER_SUBMITTED)
    assert (response.status_code, response.json()["status"]) == (200, Status.REVIEW)
    assert again.status_code == 409  # the first answer waits for its verdict
    assert submitted.data["placeholder"][0].startswith("Только общие фразы («рассмотрено»)")


def test_a_photo_of_another_appeal_is_a_400(world):
    response = client_for(world["executor"]).post(
        url(world["appeal"], "answer"), {"text": "Мусор вывезен", "photos": [999999]}, format="json"
    )

    assert response.status_code == 400
    assert Appeal.objects.get(pk=world["appeal"].pk).status == Status.IN_WORK


@pytest.mark.parametrize(
    ("role", "expected"),
    [("operator", 200), ("supervisor", 403), ("executor", 403), ("analyst", 403), ("citizen", 404)],
)
def test_set_priority_by_role(world, role, expected):
    appeal = world["appeal"]

    response = client_for(world[role]).post(
        url(appeal, "set-priority"), {"priority": "critical", "reason": "Наледь над входом"}, format="json"
    )

    appeal.refresh_from_db()
    assert response.status_code == expected
    assert appeal.priority == (Priority.CRITICAL if expected == 200 else Priority.NORMAL)
    assert appeal.events.filter(kind=EventKind.PRIORITY_CHANGED).count() == (1 if expected == 200 else 0)


@pytest.mark.parametrize(
    "body",
    [
        {"priority": "urgent", "reason": "Наледь"},
        {"priority": "high"},
        {"priority": "high", "reason": ""},
        {},
    ],
    ids=["unknown", "no-reason", "empty-reason", "nothing"],
)
def test_bad_priority_input_is_a_400_and_changes_nothing(world, body):
    response = client_for(world["operator"]).post(url(world["appeal"], "set-priority"), body, format="json")

    assert response.status_code == 400
    appeal = Appeal.objects.get(pk=world["appeal"].pk)
    assert appeal.priority == Priority.NORMAL
    assert not appeal.events.filter(kind=EventKind.PRIORITY_CHANGED).exists()


def test_set_priority_out_of_scope_is_not_found(world):
    response = client_for(world["operator"]).post(
        url(world["foreign"], "set-priority"), {"priority": "high", "reason": "Наледь"}, format="json"
    )

    assert response.status_code == 404
    assert Appeal.objects.get(pk=world["foreign"].pk).priority == Priority.NORMAL


def test_a_final_appeal_s_priority_is_not_changed(world):
    Appeal.objects.filter(pk=world["appeal"].pk).update(status=Status.CLOSED)

    with pytest.raises(InvalidTransition):
        actions.set_priority(world["appeal"], world["operator"], priority=Priority.HIGH, reason="Поздно")
