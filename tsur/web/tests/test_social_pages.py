"""The moderator's queue and an incident's page: who may open them, one decision per post, and the
authors of posts shown only to those who may see a citizen's personal data."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tsur.appeals.choices import Channel
from tsur.appeals.models import Appeal
from tsur.core.choices import Role
from tsur.core.tests.factories import OrganisationFactory, user_with_role
from tsur.social import actions
from tsur.social.choices import Label, LabelledBy
from tsur.social.connectors import Item
from tsur.social.models import Post
from tsur.social.tests.factories import SourceFactory

from .conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def feed():
    source = SourceFactory()
    now = timezone.now()
    items = [
        Item(
            "wall-1_1",
            "Подскажите, когда откроют каток на Белградской?",
            now,
            author_handle="pyotr",
            author_name="Пётр Соседов",
        ),
        Item(
            "wall-1_2",
            "Во дворе на Белградской 20 не вывозят мусор неделю",
            now,
            author_handle="olga77",
            author_name="Ольга Дворова",
        ),
    ]
    actions.ingest(source, items, at=now)
    return source


def test_the_queue_shows_what_waits_with_its_keys(feed):
    response = login(user_with_role(Role.OPERATOR)).get("/social/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Подскажите, когда откроют каток на Белградской?" in body
    assert "Во дворе на Белградской 20" not in body  # decided by the rules: not in the queue
    assert "<kbd>1</kbd> Жалоба" in body and "<kbd>5</kbd> Оскорбления, спам" in body
    assert "Пётр Соседов" not in body  # the queue decides what a post is, not who wrote it


def test_a_decision_opens_an_incident_and_leaves_the_queue(feed):
    operator = user_with_role(Role.OPERATOR)
    post = Post.objects.get(external_id="wall-1_1")

    response = login(operator).post("/social/decide/", {"post": post.pk, "label": "question"})

    assert response.status_code == 302
    post.refresh_from_db()
    assert (post.label, post.labelled_by, post.moderated_by) == (
        Label.QUESTION,
        LabelledBy.MODERATOR,
        operator,
    )
    assert post.incident.channel == Channel.SOCIAL
    again = login(operator).post("/social/decide/", {"post": post.pk, "label": "other"})
    assert again.status_code == 302
    post.refresh_from_db()
    assert post.label == Label.QUESTION  # decided once; the second decision is refused with a message


def test_a_bad_decision_is_a_clear_400_and_changes_nothing(feed):
    post = Post.objects.get(external_id="wall-1_1")
    client = login(user_with_role(Role.OPERATOR))
    assert client.post("/social/decide/", {"post": post.pk, "label": "spam"}).status_code == 400
    assert client.post("/social/decide/", {"post": "x", "label": "other"}).status_code == 400
    post.refresh_from_db()
    assert post.label == ""


def test_the_incident_page_names_authors_only_to_those_who_may_see_them(feed):
    incident = Appeal.objects.get(channel=Channel.SOCIAL)
    operator_page = login(user_with_role(Role.OPERATOR)).get(f"/social/incidents/{incident.number}/")
    analyst_page = login(user_with_role(Role.ANALYST)).get(f"/social/incidents/{incident.number}/")

    assert operator_page.status_code == analyst_page.status_code == 200
    assert "Ольга Дворова" in operator_page.content.decode() and "@olga77" in operator_page.content.decode()
    analyst = analyst_page.content.decode()
    assert "не вывозят мусор неделю" in analyst
    assert "Ольга Дворова" not in analyst and "olga77" not in analyst


def test_the_places_are_closed_to_other_roles(feed):
    incident = Appeal.objects.get(channel=Channel.SOCIAL)
    executor = login(user_with_role(Role.EXECUTOR, organisation=OrganisationFactory()))
    assert executor.get("/social/").status_code == 403
    assert (
        executor.get(f"/social/incidents/{incident.number}/").status_code == 404
    )  # not their organisation's
    assert login(user_with_role(Role.CITIZEN)).get(f"/social/incidents/{incident.number}/").status_code == 403
    assert Post.objects.filter(label="").count() == 1  # nothing decided by looking
    assert incident.registered_at > timezone.now() - timedelta(minutes=5)
