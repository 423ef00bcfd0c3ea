"""Bulk redirect and merge in the console: every ticked appeal goes through its own step (moderation's
assignment or a redirection; a merge), checked against the policies and the lifecycle on its own;
what was done and every refusal with its reason are reported, and nothing changes for the refused."""

import pytest
from django.contrib.messages import get_messages

from tsur.appeals import actions
from tsur.appeals.choices import EventKind, Status
from tsur.appeals.models import Appeal
from tsur.core.choices import Role
from tsur.core.tests.factories import TerritoryFactory, user_with_role

from .conftest import login

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def state(appeal) -> tuple:
    fresh = Appeal.objects.get(pk=appeal.pk)
    return fresh.status, fresh.organisation_id, fresh.merged_into_id, fresh.events.count()


def test_bulk_redirect_takes_each_appeal_by_its_own_step_and_reports_the_refused(region):
    rejected, _ = actions.register(channel="portal", text="Реклама услуг", moderate=True)
    actions.reject(rejected, region["operator"], reason="Спам")
    kept = state(rejected)
    client = login(region["operator"])

    response = client.post(
        "/console/bulk-redirect/",
        {
            "numbers": [region["new"].number, region["working"].number, rejected.number, "99-0000000"],
            "redirect-organisation": region["theirs"].pk,
            "redirect-reason": "Участок ЖА Центрального района",
            "back": "/console/?queue=open",
        },
    )

    new, working = Appeal.objects.get(pk=region["new"].pk), Appeal.objects.get(pk=region["working"].pk)
    assert response.status_code == 302 and response["Location"] == "/console/?queue=open"
    # in moderation: the operator's assignment; at work: a redirection with a fresh clock
    assert (new.status, new.organisation) == (Status.ASSIGNED, region["theirs"])
    assert new.events.filter(kind=EventKind.ASSIGNED, reason="Участок ЖА Центрального района").exists()
    assert (working.status, working.organisation) == (Status.ASSIGNED, region["theirs"])
    assert working.events.filter(kind=EventKind.REDIRECTED).exists()
    assert state(rejected) == kept
    assert messages_of(response) == [
        f"Направлено в «ЖА Центрального района»: 2 ({region['new'].number}, {region['working'].number}).",
        "99-0000000: не найдено",
        f"Нельзя перенаправить: обращение {rejected.number} в статусе «Отклонено».",
    ]


def test_bulk_redirect_checks_the_right_for_each_appeal(region):
    district = user_with_role(Role.OPERATOR, territory=TerritoryFactory(name="Другой район"))
    # what the operator filed stays visible to them, but another district's appeal is not theirs to route
    filed, _ = actions.register(channel="hotline", text="Яма", submitted_by=district, moderate=True)
    kept = state(filed)

    response = login(district).post(
        "/console/bulk-redirect/",
        {
            "numbers": [filed.number],
            "redirect-organisation": region["theirs"].pk,
            "redirect-reason": "Дороги",
        },
    )

    assert state(filed) == kept
    assert messages_of(response) == [f"{filed.number}: нет права перенаправлять это обращение"]


def test_bulk_redirect_needs_a_reason_and_changes_nothing_without_it(region):
    kept = state(region["new"])

    response = login(region["operator"]).post(
        "/console/bulk-redirect/",
        {"numbers": [region["new"].number], "redirect-organisation": region["theirs"].pk},
    )

    assert state(region["new"]) == kept
    assert messages_of(response) == ["Основание: Обязательное поле."]


def test_bulk_merge_closes_the_ticked_as_duplicates_of_the_main_one(region):
    twin, _ = actions.register(channel="portal", text="Мусор не вывозят", moderate=True)
    closed, _ = actions.register(channel="portal", text="Мусор", moderate=True)
    actions.reject(closed, region["operator"], reason="Дубль")
    kept = state(closed)
    main = region["working"]

    response = login(region["operator"]).post(
        "/console/bulk-merge/",
        {
            "numbers": [main.number, region["new"].number, twin.number, closed.number],
            "merge-into": main.number,
        },
    )

    for duplicate in (region["new"], twin):
        duplicate.refresh_from_db()
        assert (duplicate.status, duplicate.merged_into) == (Status.MERGED, main)
    assert Appeal.objects.get(pk=main.pk).status == Status.ASSIGNED  # the main one stays
    assert main.events.filter(kind=EventKind.DUPLICATE_ATTACHED).count() == 2
    assert state(closed) == kept
    assert messages_of(response) == [
        f"Объединено с обращением № {main.number}: 2 ({region['new'].number}, {twin.number}).",
        f"Нельзя объединить как дубликат: обращение {closed.number} в статусе «Отклонено».",
    ]


def test_a_main_appeal_out_of_sight_merges_nothing(region):
    district = user_with_role(Role.OPERATOR, territory=region["working"].territory)
    kept = state(region["working"])

    response = login(district).post(
        "/console/bulk-merge/",
        {"numbers": [region["working"].number], "merge-into": region["foreign"].number},
    )

    assert state(region["working"]) == kept
    assert messages_of(response) == [
        f"Основное обращение (номер): Обращение {region['foreign'].number} не найдено."
    ]


def test_the_queue_offers_every_bulk_operation_with_labelled_checkboxes(region):
    body = login(region["operator"]).get("/console/", {"queue": "open"}).content.decode()

    assert f'aria-label="Отметить обращение {region["working"].number}"' in body
    assert 'formaction="/console/bulk-redirect/"' in body and 'formaction="/console/bulk-merge/"' in body
    assert 'href="/console/new/"' in body
