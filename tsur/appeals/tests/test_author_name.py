"""An executor's answer built from a template with {имя} greets the author by name: the author reads
it, and the staff with the right to the citizen's data; residents who joined the appeal (by mail and
on their page), Open311 clients and analysts read «заявитель» instead."""

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from tsur.appeals import actions, answer_templates, policies
from tsur.appeals.choices import Channel, EventKind
from tsur.appeals.models import AnswerTemplate, Appeal
from tsur.appeals.tests.factories import TopicFactory
from tsur.core.choices import Role
from tsur.core.tests.factories import OrganisationFactory, UserFactory, user_with_role
from tsur.notify.models import Delivery

pytestmark = pytest.mark.django_db
NAME = "Зябликова Аполлинария Петровна"
TEMPLATE = "Уважаемая {имя}! По обращению № {номер} мусор вывезен."


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


@pytest.fixture
def answered():
    """An appeal answered from the template by its executor, with one resident who joined it."""
    organisation = OrganisationFactory(email="uk@example.org")
    appeal, _ = actions.register(
        channel=Channel.PORTAL,
        text="Во дворе не убран мусор",
        topic=TopicFactory(),
        organisation=organisation,
        author_name=NAME,
        author_email="author@example.org",
        latitude=59.93,
        longitude=30.31,
        personal_data_consent=True,
    )
    neighbour = UserFactory(email="neighbour@example.org")
    actions.subscribe(appeal, None, channel=Channel.PORTAL, user=neighbour, personal_data_consent=True)
    executor = user_with_role(Role.EXECUTOR, organisation=organisation)
    template = AnswerTemplate.objects.create(name="Вывоз", text=TEMPLATE)
    text = answer_templates.render(template, appeal, executor)
    actions.take(appeal, executor)
    actions.answer(appeal, executor, text=text)
    appeal.refresh_from_db()
    return appeal, neighbour, text


def test_the_template_greets_the_author_by_name_for_the_executor(answered):
    appeal, _neighbour, text = answered

    assert text == f"Уважаемая {NAME}! По обращению № {appeal.number} мусор вывезен."


def test_the_author_is_mailed_the_name_and_the_neighbour_is_not(answered):
    appeal, _neighbour, _text = answered

    mails = dict(Delivery.objects.filter(payload__kind=EventKind.ANSWERED).values_list("address", "text"))

    assert sorted(mails) == ["author@example.org", "neighbour@example.org"]
    assert NAME in mails["author@example.org"]
    assert mails["neighbour@example.org"].endswith(
        f"Уважаемая заявитель! По обращению № {appeal.number} мусор вывезен."
    )
    assert "Зябликова" not in mails["neighbour@example.org"]
    assert "Аполлинария" not in mails["neighbour@example.org"]


def test_open311_status_notes_and_notes_carry_no_name(answered):
    appeal, _neighbour, _text = answered

    [item] = Client().get(f"/open311/v2/requests/{appeal.number}.json").json()
    [extended] = Client().get(f"/open311/v2/requests/{appeal.number}.json", {"extensions": "true"}).json()

    assert item["status_notes"] == f"Уважаемая заявитель! По обращению № {appeal.number} мусор вывезен."
    notes = " ".join(n["description"] for n in extended["notes"])
    assert "мусор вывезен" in notes
    assert "Зябликова" not in notes and "Аполлинария" not in notes


def test_the_neighbours_page_shows_the_answer_without_the_name_and_the_authors_with_it(answered):
    appeal, neighbour, _text = answered
    author = UserFactory(email="author@example.org")
    Appeal.objects.filter(pk=appeal.pk).update(author=author)
    as_neighbour, as_author = Client(), Client()
    as_neighbour.force_login(neighbour)
    as_author.force_login(author)

    seen_by_neighbour = as_neighbour.get(f"/a/{appeal.number}/").content.decode()
    seen_by_author = as_author.get(f"/a/{appeal.number}/").content.decode()

    assert "Уважаемая заявитель! По обращению" in seen_by_neighbour
    assert "Аполлинария" not in seen_by_neighbour
    assert f"Уважаемая {NAME}! По обращению" in seen_by_author


def test_the_rest_timeline_names_the_author_to_the_operator_only(answered):
    appeal, _neighbour, _text = answered
    readers = {"operator": user_with_role(Role.OPERATOR), "analyst": user_with_role(Role.ANALYST)}

    answers = {}
    for who, user in readers.items():
        client = APIClient()
        client.force_authenticate(user)
        timeline = client.get(f"/api/v1/appeals/{appeal.number}/timeline/").json()
        [answers[who]] = [e["reason"] for e in timeline if e["kind"] == EventKind.ANSWERED]

    assert answers["operator"].startswith(f"Уважаемая {NAME}!")
    assert answers["analyst"].startswith("Уважаемая заявитель!")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Уважаемая {NAME}!", "Уважаемая заявитель!"),
        ("Уважаемая Аполлинария Петровна!", "Уважаемая заявитель!"),
        ("уважаемая зябликова,", "уважаемая заявитель,"),
        ("Аполлинариям привет", "Аполлинариям привет"),  # another word, not the name
        ("", ""),
    ],
)
def test_the_name_and_runs_of_its_words_are_replaced(text, expected):
    appeal = Appeal(author_name=NAME)

    assert policies.without_author_name(appeal, text) == expected
    assert policies.without_author_name(Appeal(author_name=""), text) == text
