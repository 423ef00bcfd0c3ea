"""What keeps the console fast at a register of 100,000 appeals stays right: the queues' counts
(kept per person until the timeline moves), the capped count of a long list, and the selects'
options remembered in the process (decision 0024)."""

import pytest
from django.test import Client

from tsur.appeals import actions, public
from tsur.appeals.choices import Channel
from tsur.appeals.models import Appeal
from tsur.core.tests.factories import OrganisationFactory
from tsur.web import console_views, paging

from .conftest import login

pytestmark = pytest.mark.django_db


def test_a_new_appeal_moves_the_counts_on_the_next_request(region):
    client = login(region["operator"])
    before = client.get("/console/counts/?queue=moderation").content.decode()

    actions.register(channel=Channel.HOTLINE, text="Не горит фонарь во дворе", moderate=True)
    after = client.get("/console/counts/?queue=moderation").content.decode()

    assert 'data-queue="moderation">1<' in before and 'data-queue="open">3<' in before
    assert 'data-queue="moderation">2<' in after and 'data-queue="open">4<' in after


def test_the_counts_are_not_counted_again_while_nothing_moved(region, django_assert_num_queries):
    client = login(region["operator"])
    client.get("/console/counts/")

    # the session, the user, the latest event, and nothing else: the roles and the counts are kept
    with django_assert_num_queries(3):
        again = client.get("/console/counts/").content.decode()

    assert 'data-queue="moderation">1<' in again


def test_a_long_list_is_counted_up_to_the_cap_and_paged_on_beyond_it(region, monkeypatch):
    monkeypatch.setattr(paging, "CAP", 2)
    monkeypatch.setattr(console_views, "PAGE_SIZE", 1)
    client = login(region["operator"])
    newest_first = [a.number for a in Appeal.objects.order_by("-registered_at", "-pk")]

    first = client.get("/console/", {"queue": "all"}).content.decode()
    third = client.get("/console/", {"queue": "all", "page": "3"}).content.decode()

    assert len(newest_first) == 3
    assert "Найдено обращений: более 2" in first and "страница 1 из более чем 2" in first
    assert newest_first[0] in first and newest_first[1] not in first
    assert "Найдено обращений: 3" in third and "страница 3 из 3" in third
    assert newest_first[2] in third and newest_first[0] not in third


def test_the_capped_paginator_keeps_the_list_s_order_and_its_related_rows(region):
    rows = Appeal.objects.select_related("topic").order_by("registered_at", "pk")
    numbers = [a.number for a in rows]

    page = paging.CappedPaginator(rows, 2, cap=1).page(2)

    assert [a.number for a in page] == numbers[2:3]
    assert (page.paginator.count, page.paginator.more, page.has_next()) == (3, False, False)
    assert page[0].topic.name == "Неубранный двор"


def test_a_new_organisation_is_offered_by_the_filters_at_once(region):
    client = login(region["operator"])
    client.get("/console/")

    OrganisationFactory(name="Водоканал Санкт-Петербурга")
    body = client.get("/console/").content.decode()

    assert "Водоканал Санкт-Петербурга" in body
    assert body.count(f'<option value="{region["ours"].pk}">ЖА Невского района</option>') == 3
    chosen = client.get("/console/", {"queue": "all", "organisation": region["ours"].pk}).content.decode()
    assert f'<option value="{region["ours"].pk}" selected>ЖА Невского района</option>' in chosen
    assert region["working"].number in chosen and region["foreign"].number not in chosen


def test_the_map_counts_every_appeal_of_a_cell_the_view_touches(region):
    public.forget_map()
    Appeal.objects.update(status="in_work", latitude=59.9001, longitude=30.4001)

    touching = Client().get("/map/data.json", {"bbox": "30.35,59.85,30.40005,59.95", "zoom": "12"}).json()
    away = Client().get("/map/data.json", {"bbox": "30.0,59.85,30.2,59.95", "zoom": "12"}).json()

    assert touching["total"] == 3 and len(touching["cells"]) == 1
    assert away["total"] == 0 and away["cells"] == []
