"""The wall screen's data: counters against hand-counted appeals, every figure's link opening a
list with the same count (the read-only list for analysts, the console for operators), the ETag's
304, the scope, the map's hexagons against their drill-down, and no citizen's personal data."""

import json
import math
import re
from datetime import timedelta

import h3
import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from tsur.analytics import live
from tsur.analytics.models import Signal
from tsur.appeals.choices import DeadlineState, EventKind, Status
from tsur.appeals.models import Appeal, AppealEvent
from tsur.appeals.tests.factories import AppealFactory, BlockFactory, TopicFactory
from tsur.core.choices import Role
from tsur.core.tests.factories import OrganisationFactory, TerritoryFactory, user_with_role
from tsur.dispatch.choices import AlarmState, ObjectKind, OutageState
from tsur.dispatch.models import Alarm, AlarmRule, EngineeringObject, Metric, Outage, OutageAppeal

from .conftest import login

pytestmark = pytest.mark.django_db
DATA = reverse("web:situation-data")
NAME, PHONE, FLAT = "Персональнова Агафья", "+79995550011", "кв. 417"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def town():
    """A fixed day of the register, counted by hand below.

    today:     A moderation (registered 1 h ago)  B assigned, overdue (3 h ago)
               C answered today (registered 2 days ago, answer event 1 h ago)
    earlier:   D in work, 2 days ago, overdue     E closed 5 days ago
               F rejected 30 h ago (final)
    elsewhere: G in another territory, open, overdue (for the scope)"""
    now = timezone.now()
    housing = BlockFactory(code="zhkh", name="ЖКХ")
    roads = BlockFactory(code="roads", name="Дороги")
    water = TopicFactory(code="no-water", name="Нет воды", block=housing)
    pits = TopicFactory(code="pits", name="Ямы", block=roads)
    ours, theirs = TerritoryFactory(name="Центральный"), TerritoryFactory(name="Приморский")
    vodokanal, roadworks = OrganisationFactory(name="Водоканал"), OrganisationFactory(name="Дорожники")
    # the appeals of the last hours sit in one place; a rise of «Нет воды» against last week
    here = {"latitude": 59.9386, "longitude": 30.3141, "territory": ours}
    made = {
        "A": AppealFactory(
            topic=water,
            organisation=None,
            status=Status.MODERATION,
            registered_at=now - timedelta(hours=1),
            author_name=NAME,
            author_phone=PHONE,
            address=f"ул. Садовая, д. 3, {FLAT}",
            **here,
        ),
        "B": AppealFactory(
            topic=water,
            organisation=vodokanal,
            status=Status.ASSIGNED,
            deadline_state=DeadlineState.OVERDUE,
            resolution_due=now - timedelta(hours=1),
            registered_at=now - timedelta(hours=3),
            **here,
        ),
        "C": AppealFactory(
            topic=water,
            organisation=vodokanal,
            status=Status.ANSWERED,
            registered_at=now - timedelta(days=2),
            latitude=59.95,
            longitude=30.35,
            territory=ours,
        ),
        "D": AppealFactory(
            topic=pits,
            organisation=roadworks,
            status=Status.IN_WORK,
            deadline_state=DeadlineState.OVERDUE,
            resolution_due=now - timedelta(hours=1),
            registered_at=now - timedelta(days=2),
            latitude=59.90,
            longitude=30.40,
            territory=ours,
        ),
        "E": AppealFactory(
            topic=pits,
            organisation=roadworks,
            status=Status.CLOSED,
            registered_at=now - timedelta(days=5),
            latitude=59.90,
            longitude=30.40,
            territory=ours,
        ),
        "F": AppealFactory(
            topic=water,
            organisation=None,
            status=Status.REJECTED,
            registered_at=now - timedelta(hours=30),
            territory=ours,
        ),
        "G": AppealFactory(
            topic=pits,
            organisation=roadworks,
            status=Status.IN_WORK,
            deadline_state=DeadlineState.OVERDUE,
            resolution_due=now - timedelta(hours=1),
            registered_at=now - timedelta(days=3),
            latitude=60.0,
            longitude=30.2,
            territory=theirs,
        ),
    }
    # «Нет воды»: three more today than any day of last week (A, B and one more, H)
    made["H"] = AppealFactory(
        topic=water,
        organisation=vodokanal,
        status=Status.ASSIGNED,
        registered_at=now - timedelta(hours=5),
        **here,
    )
    AppealEvent.objects.create(appeal=made["C"], kind=EventKind.ANSWERED, at=now - timedelta(hours=1))
    AppealEvent.objects.create(appeal=made["E"], kind=EventKind.ANSWERED, at=now - timedelta(days=4))
    boiler = EngineeringObject.objects.create(
        code="k-7", name="Котельная № 7", kind=ObjectKind.BOILER_HOUSE, territory=ours, owner=vodokanal
    )
    outage = Outage.objects.create(
        object=boiler, state=OutageState.ACTIVE, started_at=now - timedelta(hours=2), services=["hot_water"]
    )
    OutageAppeal.objects.create(outage=outage, appeal=made["B"])
    OutageAppeal.objects.create(outage=outage, appeal=made["H"])
    metric = Metric.objects.create(code="t", name="Температура", unit="°C")
    rule = AlarmRule.objects.create(
        name="Перегрев", metric=metric, condition="above", threshold=90, severity="critical"
    )
    Alarm.objects.create(
        object=boiler,
        rule=rule,
        severity="critical",
        state=AlarmState.ACTIVE,
        value=97,
        raised_at=now - timedelta(minutes=30),
        last_seen_at=now,
    )
    signal = Signal.objects.create(
        topic=water,
        territory=ours,
        window_start=now - timedelta(hours=24),
        window_end=now,
        observed=3,
        expected=0.4,
        p_value=1e-6,
        raised_at=now,
        outage=outage,
    )
    signal.appeals.set([made["A"].pk, made["B"].pk, made["H"].pk])
    return {
        **made,
        "now": now,
        "ours": ours,
        "theirs": theirs,
        "water": water,
        "vodokanal": vodokanal,
        "outage": outage,
    }


def midnight(town):
    return timezone.localtime(town["now"]).replace(hour=0, minute=0, second=0, microsecond=0)


def hours_ago(town, hours: int):
    return town["now"] - timedelta(hours=hours)


def figures_of(client) -> dict:
    response = client.get(DATA, {"res": 9})
    assert response.status_code == 200
    return response.json()


def counters(data) -> dict:
    return {c["key"]: c["value"] for c in data["counters"]}


def test_the_counters_are_the_registers_own_definitions(town):
    analyst = user_with_role(Role.ANALYST)
    data = figures_of(login(analyst))
    # received today A, B, H (1, 3 and 5 hours ago: fewer just after midnight); open A B C D G H
    # (answered is open until closed); overdue B D G; moderation A; answered today C (an hour ago)
    received = sum(1 for hours in (1, 3, 5) if hours_ago(town, hours) >= midnight(town))
    answered = int(hours_ago(town, 1) >= midnight(town))
    assert counters(data) == {
        "received": received,
        "open": 6,
        "overdue": 3,
        "moderation": 1,
        "answered": answered,
    }
    # «Нет воды» in the last 24 hours: A B H; the 7 days before: C and F, 2/7 a day
    assert [(r["topic"], r["value"], r["base"]) for r in data["rising"]] == [("Нет воды", 3, 0.3)]
    assert [(o["organisation"], o["value"]) for o in data["organisations"]] == [
        ("Дорожники", 2),
        ("Водоканал", 1),
    ]
    assert [(o["object"], o["value"]) for o in data["outages"]] == [("Котельная № 7", 2)]
    assert (data["alarm_count"], data["alarms"][0]["severity"]) == (1, "critical")
    assert [(s["topic"], s["value"], s["outage"]) for s in data["signals"]] == [
        ("Нет воды", 3, "Котельная № 7")
    ]
    # open appeals with a point: A B H in one hexagon, C, D, G in theirs
    assert sorted(c["n"] for c in data["cells"]) == [1, 1, 1, 3]


def test_a_territorial_analyst_sees_their_territory(town):
    analyst = user_with_role(Role.ANALYST, territory=town["theirs"])
    data = figures_of(login(analyst))
    assert counters(data) == {"received": 0, "open": 1, "overdue": 1, "moderation": 0, "answered": 0}
    assert data["signals"] == [] and data["outages"] == []
    assert [c["n"] for c in data["cells"]] == [1]


def count_in_list(response) -> int:
    found = re.search(r'data-count="(\d+)"', response.content.decode())
    return int(found.group(1))


def count_in_console(response) -> int:
    text = response.content.decode()
    found = re.search(r"Найдено обращений: (\d+)", text) or re.search(r"Найдено (\d+) обращение", text)
    return int(found.group(1))


def every_figure(data) -> list[tuple[str, int]]:
    rows = data["counters"] + data["rising"] + data["signals"] + data["organisations"] + data["outages"]
    return [(r["link"], r["value"]) for r in rows] + [(c["link"], c["n"]) for c in data["cells"]]


def test_every_figure_opens_a_list_of_as_many_appeals(town):
    analyst, operator = user_with_role(Role.ANALYST), user_with_role(Role.OPERATOR)
    reader, worker = login(analyst), login(operator)
    figures = every_figure(figures_of(reader))
    assert len(figures) == 5 + 1 + 1 + 2 + 1 + 4
    for link, value in figures:
        # the analyst: the read-only list
        assert count_in_list(reader.get(link)) == value, link
        # the operator: the console, by the same filter
        moved = worker.get(link)
        assert moved.status_code == 302 and moved["Location"].startswith("/console/?"), link
        assert count_in_console(worker.get(moved["Location"])) == value, link
    assert figures_of(worker) == figures_of(reader)


def test_nothing_changed_answers_304_and_a_new_appeal_changes_the_figures(town, monkeypatch):
    monkeypatch.setattr(live, "FRESH", 0)
    client = login(user_with_role(Role.LEADERSHIP))
    first = client.get(DATA, {"res": 8})
    etag = first["ETag"]
    received = counters(first.json())["received"]
    assert client.get(DATA, {"res": 8}, headers={"if-none-match": etag}).status_code == 304
    # another view of the map is another answer
    assert client.get(DATA, {"res": 9}, headers={"if-none-match": etag}).status_code == 200
    appeal = AppealFactory(
        topic=town["water"], organisation=None, territory=town["ours"], latitude=59.8, longitude=30.5
    )
    AppealEvent.objects.create(appeal=appeal, kind=EventKind.REGISTERED, at=timezone.now())
    second = client.get(DATA, {"res": 8}, headers={"if-none-match": etag})
    assert second.status_code == 200 and second["ETag"] != etag
    assert counters(second.json())["received"] == received + 1


def test_the_map_counts_and_its_drill_down_agree_at_every_resolution():
    # 400 appeals scattered over the city, some on the edges of cells
    topic = TopicFactory()
    points = [(59.85 + (i * 37 % 200) / 1000, 30.15 + (i * 53 % 350) / 1000) for i in range(400)]
    Appeal.objects.bulk_create(
        AppealFactory.build(topic=topic, organisation=None, latitude=lat, longitude=lon)
        for lat, lon in points
    )
    visible = Appeal.objects.all()
    for resolution in live.RESOLUTIONS:
        hexes = live.cells(visible, resolution)
        # a box shows the hexagons whose centre lies in it, each with all of its appeals
        box = (59.90, 30.20, 59.98, 30.40)
        boxed = live.cells(visible, resolution, box)
        assert boxed and {c: hexes[c] for c in boxed} == boxed
        assert all(box[0] <= h3.cell_to_latlng(c)[0] <= box[2] for c in boxed)
        assert len(boxed) < len(hexes)
        assert sum(n for n, _, _ in hexes.values()) == 400
        for cell, (n, _, _) in list(hexes.items())[:25]:
            assert live.in_cell(visible, cell).count() == n, (resolution, cell)
        # each appeal is counted in the hexagon of its point, or of a neighbour when its grid cell
        # straddles an edge
        size = live.GRID_OF_RESOLUTION[resolution]
        for lat, lon in points:
            gy, gx = math.floor(lat / live.FINE_LAT) // size, math.floor(lon / live.FINE_LON) // size
            counted = live._cell(gy, gx, size, resolution)
            assert counted in h3.grid_disk(h3.latlng_to_cell(lat, lon, resolution), 1)


def test_no_personal_data_reaches_an_analyst(town):
    analyst = login(user_with_role(Role.ANALYST))
    bodies = [
        analyst.get(reverse("web:situation")).content.decode(),
        json.dumps(figures_of(analyst), ensure_ascii=False),
    ]
    bodies += [analyst.get(link).content.decode() for link, _ in every_figure(figures_of(analyst))]
    for body in bodies:
        for secret in (NAME, PHONE, FLAT, "Персональнова", "5550011"):
            assert secret not in body
    # the house is there, the flat is not
    assert any("ул. Садовая, д. 3" in body for body in bodies)


def test_the_page_carries_its_settings_and_no_inline_script(town):
    page = login(user_with_role(Role.LEADERSHIP)).get(reverse("web:situation"), {"compact": ""})
    text = page.content.decode()
    assert page.status_code == 200 and "situation compact" in text
    config = json.loads(
        re.search(r'<script id="wall-config" type="application/json">(.*?)</script>', text).group(1)
    )
    assert config["data"] == DATA and config["resolutions"] == [6, 7, 8, 9]
    assert not re.search(r"<script(?![^>]*(src=|application/json))", text)


def test_a_figures_list_downloads_as_many_rows(town):
    analyst = login(user_with_role(Role.ANALYST))
    for row in figures_of(analyst)["counters"]:
        query = row["link"].split("?", 1)[1]
        page = analyst.get(row["link"]).content.decode()
        assert f"/export/appeals.csv?{query}".replace("&", "&amp;") in page
        response = analyst.get(f"/export/appeals.csv?{query}")
        lines = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()
        assert len(lines) - 1 == row["value"], row["key"]


def test_topics_rising_are_read_from_the_registration_index_alone():
    """«Растут сейчас» counts the appeals of eight days by topic from the index on registered_at
    (which carries the topic): no appeal's row is fetched from the table (at 1,000,000 appeals those
    were 30,000 pages a poll)."""
    from django.db import connection, transaction

    from tsur.analytics import live as module

    if connection.vendor != "postgresql":
        return  # SQLite has no index-only scans to speak of
    topic = TopicFactory()
    for hours in range(60):
        AppealFactory(topic=topic, registered_at=timezone.now() - timedelta(hours=hours * 3))
    explained = []

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        found = module.rising(Appeal.objects.all(), timezone.now())
        with connection.execute_wrapper(
            lambda execute, sql, params, many, context: (
                explained.append((sql, params)) or execute(sql, params, many, context)
            )
        ):
            module.rising(Appeal.objects.all(), timezone.now())
        cursor.execute("EXPLAIN " + explained[0][0], explained[0][1])
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert [row["value"] for row in found] == [9]  # 0, 3, …, 24 hours ago (the minute's start)
    assert "Index Only Scan using appeal_registered" in plan, plan


@pytest.mark.django_db(transaction=True)
def test_the_figures_and_the_map_are_read_side_by_side_on_postgresql():
    """Outside a transaction the second read runs on a connection of its own at the same time as the
    first (each waits for the other here: one after the other they would never meet); inside one it
    runs after the first, on the same connection, which alone sees what the transaction wrote."""
    import threading

    from django.db import connection, transaction

    def backend():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    if connection.vendor != "postgresql":
        assert live.side_by_side(lambda: 1, lambda: 2) == (1, 2)
        return
    meeting = threading.Barrier(2, timeout=10)

    def met():
        meeting.wait()
        return backend()

    first, second = live.side_by_side(met, met)
    with transaction.atomic():
        inside = live.side_by_side(backend, backend)

    assert first != second  # two connections, both inside the barrier at once
    assert inside[0] == inside[1] == backend()
