"""Routing on the organisation when the topic is not sure: sibling topics that lead to one organisation
make that organisation sure (Σ P(topic) × P(organisation | topic, place)); topics that lead to different
organisations leave the choice to an operator. And the history close by a point (about 80 m)."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from tsur.appeals import (
    actions,
    deadlines,
    learning,
    place_history,
    route_confidence,
    routing_measure,
    understanding,
)
from tsur.appeals.choices import Channel, DeadlineUnit, EventKind, Status
from tsur.appeals.tests.factories import AppealFactory, TopicFactory
from tsur.core.choices import Role, TerritoryKind
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory, TerritoryFactory, user_with_role

pytestmark = pytest.mark.django_db

AT = timezone.now() - timedelta(days=1)


@pytest.fixture
def place():
    city = TerritoryFactory(name="Город", kind=TerritoryKind.URBAN_OKRUG)
    district = TerritoryFactory(name="Северный район", kind=TerritoryKind.CITY_DISTRICT, parent=city)
    return {
        "district": district,
        "building": BuildingFactory(address="г. Город, Садовая улица, дом 12", territory=district),
        "roof": TopicFactory(name="Протечка кровли", resolution_amount=5),
        "stairs": TopicFactory(name="Протечка в подъезде"),
        "agency": OrganisationFactory(name="Жилищное агентство"),
        "administration": OrganisationFactory(name="Администрация района"),
    }


def history(place, topic, organisation, n):
    """`n` appeals on `topic` at the place's building that `organisation` took up."""
    for _ in range(n):
        AppealFactory(
            topic=topic,
            organisation=organisation,
            status=Status.IN_WORK,
            territory=place["district"],
            building=place["building"],
            registered_at=AT - timedelta(days=30),
        )
    place_history.forget()


@pytest.fixture
def unsure_model(monkeypatch, place):
    """The text model reads «roof» at 0.60 and «stairs» at 0.39: below its threshold, the topic is not sure."""
    read = understanding.Understanding(
        model_version="test",
        topic=place["roof"],
        topic_confidence=0.6,
        topic_trusted=False,
        topic_choices=[(place["roof"], 0.6), (place["stairs"], 0.39)],
        promise=0.95,
    )
    monkeypatch.setattr(understanding, "understand", lambda text, **kwargs: read)


def portal(place):
    appeal, created = actions.register(
        channel=Channel.PORTAL,
        text="Течёт с потолка",
        building=place["building"],
        personal_data_consent=True,
        at=AT,
    )
    assert created
    return appeal


def test_a_sure_organisation_over_unsure_sibling_topics_routes_alone(place, unsure_model):
    # given: at this building the agency took up all 30 appeals on the roof and all 20 on the stairs
    history(place, place["roof"], place["agency"], 30)
    history(place, place["stairs"], place["agency"], 20)

    # when
    appeal = portal(place)

    # then: 0.60 × 31/32 + 0.39 × 21/22 = 0.9535 ≥ 0.95 — the agency, with the more probable topic
    # recorded as the model's guess (its regulation sets the deadline)
    assert (appeal.status, appeal.organisation, appeal.topic) == (
        Status.ASSIGNED,
        place["agency"],
        place["roof"],
    )
    assigned = appeal.events.get(kind=EventKind.ASSIGNED)
    assert assigned.data["path"] == route_confidence.ORGANISATION
    assert assigned.data["p"] == 0.9535
    assert assigned.data["topic_guessed"] == 0.6
    assert assigned.reason == (
        "Темы «Протечка кровли» (0.60), «Протечка в подъезде» (0.39) ведут к «Жилищное агентство»: "
        "тема не ясна, организация — с вероятностью 0.95"
    )
    assert appeal.resolution_due == deadlines.due_after(AT, 5, DeadlineUnit.WORKING_DAYS)
    assert appeal.first_response_due is not None  # an appeal with no topic has only the legal limit
    # a person redirecting it later labels the organisation, never the model's guessed topic
    actions.redirect(
        appeal, user_with_role(Role.OPERATOR), organisation=place["administration"], reason="уточнено"
    )
    assert dict(learning.register_labels()) == {appeal: False}


def test_the_card_says_the_topic_is_the_model_s_guess_until_a_person_sets_one(place, unsure_model, client):
    history(place, place["roof"], place["agency"], 30)
    history(place, place["stairs"], place["agency"], 20)
    appeal = portal(place)
    operator = user_with_role(Role.OPERATOR)
    client.force_login(operator)
    card = f"/console/appeals/{appeal.number}/"

    assert "предположение модели, 60 %" in client.get(card).content.decode()

    actions.redirect(
        appeal, operator, organisation=place["administration"], topic=place["stairs"], reason="Это подъезд"
    )
    assert "предположение модели" not in client.get(card).content.decode()


def test_disagreeing_organisations_over_unsure_topics_go_to_moderation(place, unsure_model):
    # given: the roof is the agency's here (30 of 30), the stairs the administration's (20 of 20)
    history(place, place["roof"], place["agency"], 30)
    history(place, place["stairs"], place["administration"], 20)

    # when
    appeal = portal(place)

    # then: neither is sure (0.60 × 31/32 = 0.58, 0.39 × 21/22 = 0.37); the operator sees both
    assert (appeal.status, appeal.organisation, appeal.topic) == (Status.MODERATION, None, None)
    sent = appeal.events.get(kind=EventKind.SENT_TO_MODERATION)
    assert sent.reason == "Модель не уверена в теме"
    assert [(c["name"], c["p"]) for c in sent.data["candidates"]] == [
        ("Жилищное агентство", 0.5812),
        ("Администрация района", 0.3723),
    ]


def test_the_history_close_by_a_point_is_the_nearest_about_80_m():
    # given: three appeals taken up by one organisation at a point, one by another about 60 m away,
    # and one by a third about 300 m north
    topic = TopicFactory()
    rows = [
        (topic.pk, None, None, 59.93010, 30.31010, "yard", 1),
        (topic.pk, None, None, 59.93010, 30.31010, "yard", 1),
        (topic.pk, None, None, 59.93010, 30.31010, "yard", 1),
        (topic.pk, None, None, 59.93060, 30.31110, "yard", 2),
        (topic.pk, None, None, 59.93300, 30.31010, "yard", 3),
    ]

    summary = place_history.PlaceHistory(rows)

    assert summary.close_by(topic.pk, 59.93020, 30.31020).counts == Counter({1: 3, 2: 1})
    assert summary.near(topic.pk, 59.93020, 30.31020).counts == Counter({1: 3, 2: 1, 3: 1})
    assert summary.close_by_any_topic(59.93020, 30.31020).share(1) == 0.75
    assert summary.close_by(topic.pk, None, None).counts == Counter()


def test_the_registers_last_days_are_held_out_for_calibration_against_the_history_before_them(place):
    # given: the agency took up 3 roof appeals a month ago, the administration 2 two days ago, and one
    # appeal of yesterday still waits in moderation (no organisation confirmed it)
    history(place, place["roof"], place["agency"], 3)
    for _ in range(2):
        AppealFactory(
            topic=place["roof"],
            organisation=place["administration"],
            status=Status.ANSWERED,
            territory=place["district"],
            building=place["building"],
            text="Течёт крыша",
            registered_at=AT - timedelta(days=1),
        )
    AppealFactory(topic=place["roof"], status=Status.MODERATION, registered_at=AT, text="Течёт")

    # when
    cutoff, recent = routing_measure.register_appeals(7)

    # then: the last 7 days before the latest appeal taken up; read against the history before them
    assert cutoff == AT - timedelta(days=8)
    assert [row[-1] for row in recent] == [place["administration"].pk] * 2
    with place_history.as_of(cutoff):
        before = place_history.history().at_building(place["roof"].pk, place["building"].pk).counts
    now = place_history.history().at_building(place["roof"].pk, place["building"].pk).counts
    assert before == Counter({place["agency"].pk: 3})
    assert now == Counter({place["agency"].pk: 3, place["administration"].pk: 2})


def test_the_registers_appeals_the_text_model_may_have_learned_are_not_held_out(place):
    # given: appeals taken up 5 and 1 days ago, and a text model trained 3 days ago (it may have
    # learned the older ones: an export loaded into the register, labels of nlp_retrain)
    for days, organisation in ((5, place["agency"]), (1, place["administration"])):
        AppealFactory(
            topic=place["roof"],
            organisation=organisation,
            status=Status.ANSWERED,
            territory=place["district"],
            text="Течёт крыша",
            registered_at=AT - timedelta(days=days),
        )

    # when
    cutoff, recent = routing_measure.register_appeals(7, learned_until=AT - timedelta(days=3))
    _, all_days = routing_measure.register_appeals(7)

    # then: only the appeal filed after the model was trained is held out, read against the history
    # up to the training
    assert cutoff == AT - timedelta(days=3)
    assert [row[-1] for row in recent] == [place["administration"].pk]
    assert sorted(row[-1] for row in all_days) == sorted([place["agency"].pk, place["administration"].pk])


def test_an_exports_kinds_of_place_are_read_as_intake_reads_them():
    # the demo's export writes kinds of place in its own words; calibration must read them as the demo's
    # loader does (an unread kind made held-out appeals placeless where intake's were not)
    from tsur.demo.region import PLACE_KINDS

    assert {name: routing_measure.place_kind_of(name) for name in PLACE_KINDS} == {
        name: str(kind) for name, kind in PLACE_KINDS.items()
    }
    assert routing_measure.place_kind_of("Что-то ещё") == ""
