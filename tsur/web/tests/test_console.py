"""The operator's console over HTTP: queues and counts, filters and search in the URL, the card with
the text model's suggestion, the steps as forms calling the actions, scope (404), rights (403), CSRF,
refusals as messages with nothing changed, and text shown as text."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from tsur.appeals import actions, learning, search
from tsur.appeals.choices import Status
from tsur.appeals.models import Appeal
from tsur.core.choices import Role
from tsur.core.tests.factories import user_with_role

from .conftest import HOSTILE, login

pytestmark = pytest.mark.django_db
ESCAPED = "Течёт крыша &amp; &lt;кровля&gt; &lt;img src=x onerror=&quot;window.pwned=1&quot;"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_moderation_queue_lists_new_appeals_with_live_counts(region):
    client = login(region["operator"])

    page = client.get("/console/")
    counts = client.get("/console/counts/?queue=moderation")

    body = page.content.decode()
    assert page.status_code == 200
    assert region["new"].number in body and region["working"].number not in body
    assert ESCAPED in body and HOSTILE not in body
    assert 'data-queue="moderation">1<' in counts.content.decode()
    assert 'data-queue="open">3<' in counts.content.decode()
    assert 'hx-trigger="every 30s"' in body  # the counts are polled


def test_filters_and_search_are_kept_in_the_url(region, django_assert_max_num_queries):
    client = login(region["operator"])

    by_topic = client.get("/console/", {"queue": "open", "topic": "yard-dirty"}).content.decode()
    by_organisation = client.get(
        "/console/", {"queue": "open", "organisation": region["theirs"].pk}
    ).content.decode()
    found = client.get("/console/", {"queue": "all", "q": "мусор"}).content.decode()
    by_number = client.get("/console/", {"queue": "all", "q": region["foreign"].number}).content.decode()

    assert region["working"].number in by_topic and region["new"].number not in by_topic
    assert region["foreign"].number in by_organisation and region["working"].number not in by_organisation
    assert region["working"].number in found and region["foreign"].number not in found
    assert region["foreign"].number in by_number and region["working"].number not in by_number
    # the tabs keep the filters: a filtered view can be bookmarked and switched between queues
    assert "topic=yard-dirty&amp;queue=moderation" in by_topic
    with django_assert_max_num_queries(20):
        client.get("/console/", {"queue": "open", "q": "мусор", "sort": "resolution_due"})


def test_an_htmx_filter_request_gets_only_the_results(region):
    client = login(region["operator"])

    part = client.get("/console/", {"queue": "open"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")

    body = part.content.decode()
    assert "<html" not in body
    assert region["working"].number in body
    assert 'hx-swap-oob="true"' in body  # the tabs follow the filters


def test_search_never_confirms_a_flat_to_a_reader_without_the_right_to_personal_data(region):
    visible = Appeal.objects.all()
    analyst = user_with_role(Role.ANALYST)

    assert list(search.matching(visible, "кв. 17", region["operator"])) == [region["new"]]
    assert list(search.matching(visible, "кв. 17", analyst)) == []
    assert list(search.matching(visible, "Седова", analyst)) != []


def test_only_operators_open_the_console(region, client):
    assert client.get("/console/").status_code == 302
    assert login(region["executor"]).get("/console/").status_code == 403
    assert login(region["executor"]).get(f"/console/appeals/{region['working'].number}/").status_code == 403
    assert login(region["operator"]).get("/console/appeals/99-0000000/").status_code == 404


def test_the_card_shows_the_text_as_text_and_what_the_model_understood(region):
    page = login(region["operator"]).get(f"/console/appeals/{region['new'].number}/")

    body = page.content.decode()
    assert page.status_code == 200
    assert ESCAPED in body and HOSTILE not in body
    assert "Протечка кровли" in body and "61%" in body  # the top topic with its confidence
    assert "ЖА Невского района" in body and "57%" in body
    assert "Тема, которой нет" not in body  # a guess the register does not know is not offered
    assert "Иванова Мария" in body and "кв. 17" in body  # the operator may see the citizen
    assert 'id="map-config"' in body and "leaflet/leaflet.js" in body
    assert "Принять предложение" in body


def test_accepting_the_suggestion_assigns_the_appeal_and_teaches_the_model(region):
    client = login(region["operator"])
    number = region["new"].number

    response = client.post(
        f"/console/appeals/{number}/assign/",
        {"assign-topic": "roof-leak", "assign-organisation": region["ours"].pk},
    )

    appeal = Appeal.objects.get(number=number)
    assert response.status_code == 302 and response["Location"] == f"/console/appeals/{number}/"
    assert messages_of(response) == ["Исполнитель назначен."]
    assert (appeal.status, appeal.topic, appeal.organisation) == (
        Status.ASSIGNED,
        region["roof"],
        region["ours"],
    )
    assert (appeal, True) in learning.register_labels()  # the operator's choice is a training label


def test_a_refused_step_is_a_message_and_changes_nothing(region):
    client = login(region["operator"])
    number = region["new"].number

    empty = client.post(f"/console/appeals/{number}/reject/", {"reject-reason": ""})
    wrong = client.post(
        f"/console/appeals/{number}/extend/", {"extend-until": "2030-01-01T10:00", "extend-reason": "x"}
    )
    after_assign = client.post(f"/console/appeals/{region['working'].number}/assign/", {})

    assert empty.status_code == 302 and messages_of(empty) == ["Причина отказа: Обязательное поле."]
    assert wrong.status_code == 302  # the operator may extend, but not an appeal still in moderation
    assert messages_of(wrong)[-1] == f"Нельзя продлить срок: обращение {number} в статусе «На модерации»."
    assert after_assign.status_code == 302
    assert "в статусе «Назначено исполнителю»" in messages_of(after_assign)[-1]
    assert Appeal.objects.get(number=number).status == Status.MODERATION
    assert Appeal.objects.get(number=region["working"].number).organisation == region["ours"]


def test_steps_need_the_csrf_token(region):
    client = Client(enforce_csrf_checks=True)
    client.force_login(region["operator"])
    number = region["new"].number

    response = client.post(f"/console/appeals/{number}/reject/", {"reject-reason": "спам"})

    assert response.status_code == 403
    assert Appeal.objects.get(number=number).status == Status.MODERATION


def test_rejecting_and_asking_the_citizen(region):
    client = login(region["operator"])

    client.post(f"/console/appeals/{region['new'].number}/reject/", {"reject-reason": "Не по адресу"})
    client.post(
        f"/console/appeals/{region['working'].number}/request_clarification/",
        {"request_clarification-question": "Какой подъезд?"},
    )

    assert Appeal.objects.get(pk=region["new"].pk).status == Status.REJECTED
    assert Appeal.objects.get(pk=region["working"].pk).status == Status.CLARIFICATION


def test_extending_a_deadline_from_the_card(region):
    client = login(region["operator"])
    appeal = region["working"]
    until = timezone.localtime(appeal.resolution_due + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")

    response = client.post(
        f"/console/appeals/{appeal.number}/extend/", {"extend-until": until, "extend-reason": "Нужна техника"}
    )

    appeal.refresh_from_db()
    assert messages_of(response) == ["Срок продлён."]
    assert timezone.localtime(appeal.resolution_due).strftime("%Y-%m-%dT%H:%M") == until


def test_a_near_duplicate_is_offered_and_merged_from_the_card(region):
    client = login(region["operator"])
    working = region["working"]
    twin = region["new"]
    response = client.post(f"/console/appeals/{twin.number}/merge/", {"merge-into": working.number})

    twin.refresh_from_db()
    assert messages_of(response) == ["Обращение объединено с основным."]
    assert (twin.status, twin.merged_into) == (Status.MERGED, working)


def test_the_card_lists_similar_open_appeals_nearby(region):
    again, _ = actions.register(
        channel="portal",
        text="Не вывозят мусор второй день",
        building=region["working"].building,
        moderate=True,
    )

    body = login(region["operator"]).get(f"/console/appeals/{again.number}/").content.decode()

    assert "Похожие обращения рядом" in body
    assert region["working"].number in body and "Это дубликат — объединить" in body


def test_bulk_assign_assigns_each_ticked_appeal(region):
    second, _ = actions.register(channel="portal", text="Сосулька на крыше", moderate=True)
    client = login(region["operator"])

    response = client.post(
        "/console/bulk-assign/",
        {
            "numbers": [region["new"].number, second.number, region["working"].number],
            "organisation": region["theirs"].pk,
            "back": "/console/?queue=moderation",
        },
    )

    assert response.status_code == 302 and response["Location"] == "/console/?queue=moderation"
    assigned = Appeal.objects.filter(pk__in=[region["new"].pk, second.pk])
    assert {a.organisation for a in assigned} == {region["theirs"]}
    assert Appeal.objects.get(pk=region["working"].pk).organisation == region["ours"]  # refused, unchanged
    assert messages_of(response)[0] == "Назначено исполнителю «ЖА Центрального района»: 2."
