"""Searching appeals: by stems on PostgreSQL, read from the GIN index on the stored Russian tsvector of the text
(the planner must be able to use it: the query's expression is the index's); by substring on SQLite,
where no such index exists."""

from itertools import count

import pytest
from django.db import connection, transaction
from django.utils import timezone

from tsur.appeals import search
from tsur.appeals.choices import Channel, Status
from tsur.appeals.models import Appeal
from tsur.core.choices import Role
from tsur.core.tests.factories import BuildingFactory, user_with_role

pytestmark = pytest.mark.django_db
INDEX = "appeal_search_document"
NUMBERS = count()


def fill(texts: list[str], **fields) -> None:
    now = timezone.now()
    Appeal.objects.bulk_create(
        Appeal(
            number=f"77-{next(NUMBERS):07d}",
            channel=Channel.PORTAL,
            text=text,
            status=Status.IN_WORK,
            registered_at=now,
            clock_started_at=now,
            **fields,
        )
        for text in texts
    )


def index_names(*tables: str) -> set[str]:
    with connection.cursor() as cursor:
        return {
            i
            for t in tables or ("appeals_appeal",)
            for i in connection.introspection.get_constraints(cursor, t)
        }


def test_words_of_the_text_a_number_and_a_house_find_their_appeals():
    operator = user_with_role(Role.OPERATOR)
    house = BuildingFactory(address="ул. Седова, д. 5")
    fill(["Протекает крыша над подъездом", "Не вывозят мусор"], building=house)
    fill(["Яма на дороге"], address="пр. Обуховской Обороны, д. 1, кв. 9")
    everything = Appeal.objects.all()

    by_text = search.matching(everything, "крыша", operator)
    second = Appeal.objects.get(text="Не вывозят мусор").number
    by_number = search.matching(everything, second, operator)
    by_house = search.matching(everything, "Седова", operator)

    assert [a.text for a in by_text] == ["Протекает крыша над подъездом"]
    assert [a.text for a in by_number] == ["Не вывозят мусор"]
    assert sorted(a.text for a in by_house) == ["Не вывозят мусор", "Протекает крыша над подъездом"]
    if connection.vendor == "postgresql":  # stems: another form of the word finds it too
        assert [a.text for a in search.matching(everything, "протекала крыши", operator)] == [
            "Протекает крыша над подъездом"
        ]


def test_the_full_text_search_reads_its_index_on_postgresql():
    if connection.vendor != "postgresql":
        # SQLite searches by substring: the index is PostgreSQL's alone, never made here
        assert INDEX not in index_names()
        return
    operator = user_with_role(Role.OPERATOR)
    fill([f"Во дворе дома {i} не убран мусор, контейнеры переполнены" for i in range(3000)])
    fill(["Протекает кровля над квартирой"])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE appeals_appeal")
    found = search.matching(Appeal.objects.all(), "кровля", operator)
    common = search.matching(Appeal.objects.order_by("-registered_at", "-pk"), "мусор", operator)[:25]

    with transaction.atomic(), connection.cursor() as cursor:
        # with sequential scans priced out, the planner takes the index if, and only if, the query's
        # condition is the one the index was built on
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = found.order_by().explain()
        # a common word: whichever way the list is walked, each row's words are read, not computed
        walked = common.explain()

    assert INDEX in index_names()
    assert f"Bitmap Index Scan on {INDEX}" in plan, plan
    assert "to_tsvector" not in walked and "search_document @@" in walked, walked
    assert [a.text for a in found] == ["Протекает кровля над квартирой"]


def test_an_address_is_found_through_its_trigram_indexes_on_postgresql():
    """Part of an address («Седова») finds the house and the appeals whose own address holds it; on
    PostgreSQL both are read from the trigram indexes of migration appeals/0020, not by testing every
    building and every appeal against the words."""
    trigram = {"appeal_address_trgm", "building_address_trgm"}
    if connection.vendor != "postgresql":
        assert not trigram & index_names("appeals_appeal", "core_building")
        return
    operator = user_with_role(Role.OPERATOR)
    for i in range(300):
        BuildingFactory(address=f"пр. Обуховской Обороны, д. {i}")
    house = BuildingFactory(address="ул. Седова, д. 5")
    fill([f"Не вывозят мусор, заявка {i}" for i in range(2000)], address="пр. Обуховской Обороны, д. 1")
    fill(["Яма у дома"], building=house)
    fill(["Протекает крыша"], address="ул. Седова, д. 7, кв. 3")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE appeals_appeal")
        cursor.execute("ANALYZE core_building")
    found = search.matching(Appeal.objects.all(), "седова", operator)

    with transaction.atomic(), connection.cursor() as cursor:
        # whole-table reads priced out: the planner takes the indexes if the query's expressions are theirs
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = found.order_by().explain() + search.houses_matching("седова").explain()

    assert trigram <= index_names("appeals_appeal", "core_building")
    for name in trigram:
        assert f"Bitmap Index Scan on {name}" in plan, plan
    assert sorted(a.text for a in found) == ["Протекает крыша", "Яма у дома"]


def test_a_house_saved_is_found_by_the_next_search():
    """The houses a typed address names are remembered for a minute: a building saved meanwhile in
    this process is found at once."""
    operator = user_with_role(Role.OPERATOR)
    fill(["Не горит фонарь"], building=BuildingFactory(address="ул. Седова, д. 5"))
    assert len(search.matching(Appeal.objects.all(), "Ленская", operator)) == 0

    fill(["Яма во дворе"], building=BuildingFactory(address="ул. Ленская, д. 2"))

    assert [a.text for a in search.matching(Appeal.objects.all(), "Ленская", operator)] == ["Яма во дворе"]
