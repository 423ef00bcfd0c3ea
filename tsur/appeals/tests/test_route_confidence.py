"""Routing you can trust: an appeal goes to an organisation with no person's step only when that
organisation is right with the region's wanted probability; otherwise the operator sees the top three."""

import io
import json
from datetime import datetime, timedelta

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tsur.appeals import actions, learning, place_history, route_confidence, route_trees, routing_measure
from tsur.appeals.choices import Channel, EventKind, Status
from tsur.appeals.models import RoutingCalibration, RoutingRule
from tsur.appeals.tests.factories import AppealFactory, RuleFactory, TopicFactory
from tsur.core.choices import Role, TerritoryKind
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory, TerritoryFactory, user_with_role

from .test_understanding import region_model, register_of_region  # noqa: F401  (the made-up region's model)

pytestmark = pytest.mark.django_db

AT = timezone.now() - timedelta(days=1)


@pytest.fixture
def place():
    city = TerritoryFactory(name="Город", kind=TerritoryKind.URBAN_OKRUG)
    district = TerritoryFactory(name="Северный район", kind=TerritoryKind.CITY_DISTRICT, parent=city)
    building = BuildingFactory(
        address="г. Город, Садовая улица, дом 12", territory=district, latitude=55.1, longitude=37.2
    )
    return {
        "district": district,
        "building": building,
        "topic": TopicFactory(name="Протечка кровли"),
        "agency": OrganisationFactory(name="Жилищное агентство"),
        "administration": OrganisationFactory(name="Администрация района"),
    }


def history(place, organisation, n, *, at_building=True):
    """`n` appeals on the place's topic that `organisation` took up (the register's history)."""
    for _ in range(n):
        AppealFactory(
            topic=place["topic"],
            organisation=organisation,
            status=Status.IN_WORK,
            territory=place["district"],
            building=place["building"] if at_building else None,
            registered_at=AT - timedelta(days=30),
        )
    place_history.forget()


def hotline(place, **kwargs):
    """An appeal filed at the hotline with its topic (a person's choice), at the building or not."""
    appeal, created = actions.register(
        channel=Channel.HOTLINE,
        text="Течёт крыша, вода в квартире",
        topic=place["topic"],
        territory=place["district"],
        at=AT,
        **kwargs,
    )
    assert created
    return appeal


def test_a_confident_history_routes_alone_where_a_measured_rule_is_wrong(place):
    # given: the rule sends the topic to the administration, but the agency took up all 20 appeals here
    rule = RuleFactory(
        topic=place["topic"], territory=place["district"], organisation=place["administration"]
    )
    history(place, place["agency"], 20)
    call_command("routing_measure", stdout=None)

    # when
    appeal = hotline(place, building=place["building"])

    # then
    rule.refresh_from_db()
    assert (rule.measured_precision, rule.measured_support) == (0.0, 20)
    assert (appeal.status, appeal.organisation) == (Status.ASSIGNED, place["agency"])
    assigned = appeal.events.get(kind=EventKind.ASSIGNED)
    assert assigned.data["path"] == route_confidence.BUILDING
    assert assigned.data["p"] == round(21 / 22, 4)
    assert assigned.reason == (
        "История места: в этом здании «Жилищное агентство» приняла 20 из 20 обращений по теме «Протечка кровли»"
    )


def test_a_rule_measured_below_the_setting_never_routes_alone(place):
    # given: of the 12 appeals the rule would route, its organisation took up 7
    RuleFactory(topic=place["topic"], territory=place["district"], organisation=place["administration"])
    history(place, place["administration"], 7, at_building=False)
    history(place, place["agency"], 5, at_building=False)
    call_command("routing_measure", stdout=None)

    # when
    appeal = hotline(place)

    # then: an operator decides, shown both organisations with their reasons
    assert (appeal.status, appeal.organisation) == (Status.MODERATION, None)
    sent = appeal.events.get(kind=EventKind.SENT_TO_MODERATION)
    assert sent.reason == (
        "Маршрут не надёжен: «Администрация района» с вероятностью 0.57 "
        "(для автоматической маршрутизации нужно не меньше 0.95)"
    )
    assert [c["name"] for c in sent.data["candidates"]] == ["Администрация района", "Жилищное агентство"]
    assert sent.data["candidates"][0]["reasons"][0].endswith(
        "точность 58% по 12 обращениям; тема «Протечка кровли» (1.00)"
    )
    assert sent.data["candidates"][1]["reasons"] == [
        "История места: на этой территории «Жилищное агентство» приняла 5 из 12 обращений по теме «Протечка кровли»"
    ]


def test_a_rule_measured_right_often_enough_routes_alone_and_a_rule_never_measured_is_taken_as_given(place):
    rule = RuleFactory(
        topic=place["topic"], territory=place["district"], organisation=place["administration"]
    )
    history(place, place["administration"], 19, at_building=False)
    call_command("routing_measure", stdout=None)

    measured = hotline(place)
    RoutingRule.objects.filter(pk=rule.pk).update(measured_precision=None, measured_support=0)
    route_confidence.routing.forget()
    unmeasured = hotline(place)

    assert (measured.status, measured.organisation, measured.routing_rule) == (
        Status.ASSIGNED,
        place["administration"],
        rule,
    )
    assert measured.events.get(kind=EventKind.ASSIGNED).data["p"] == 0.9524  # 20 of 21, smoothed
    assert (unmeasured.status, unmeasured.organisation) == (Status.ASSIGNED, place["administration"])


def test_the_admin_shows_each_rules_measured_precision_and_whether_it_routes_alone(place):
    low = RuleFactory(topic=place["topic"], territory=place["district"], organisation=place["administration"])
    history(place, place["administration"], 6, at_building=False)
    history(place, place["agency"], 6, at_building=False)
    call_command("routing_measure", stdout=None)
    admin = user_with_role(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)

    page = client.get("/admin/appeals/routingrule/").content.decode()
    below = client.get("/admin/appeals/routingrule/?measured=below").content.decode()
    routing_alone = client.get("/admin/appeals/routingrule/?measured=routes").content.decode()

    assert "50% (6 из 12)" in page
    assert f"/admin/appeals/routingrule/{low.pk}/change/" in below
    assert f"/admin/appeals/routingrule/{low.pk}/change/" not in routing_alone


def test_a_calibration_fitted_on_held_out_appeals_says_how_often_each_kind_of_evidence_is_right(place):
    # given: held-out appeals where the building's history was right and the model's guess alone was not
    # (enough of them for the trees to split: a leaf holds at least TREES["min_samples_leaf"] candidates)
    building_history = route_confidence.Candidate(
        place["agency"], history={route_confidence.BUILDING: [1.0, 10]}
    )
    building_history.explicit = {route_confidence.BUILDING: 0.9}
    model_only = route_confidence.Candidate(place["administration"], model_p=0.6)
    model_only.explicit = {route_confidence.MODEL: 0.5}
    samples = [
        (route_confidence.Decision([building_history, model_only], 0.95, False), 0.99, truth)
        for truth in [place["agency"].pk] * 400 + [place["administration"].pk] * 20
    ]

    data = route_confidence.fit(samples, bound_z=0)  # the estimate itself (its bound: test_route_cross_fit)
    RoutingCalibration.objects.create(fitted_at=timezone.now(), source="test", data=data)

    # then: the trees know the building's history is the better evidence, and the map to precision
    # promises what the held-out appeals showed (400 of 420 right when the history was chosen)
    history_p, model_p = route_confidence._apply(data, [building_history, model_only], 0.99)
    assert history_p == pytest.approx(40 / 42)
    assert model_p < 0.5
    assert route_confidence.current_calibration()["models"] == data["models"]


def test_candidates_equally_supported_share_the_calibrated_probability(place):
    # given: held-out appeals where a building's history alone named the organisation, right 40 times in 42
    def sure(organisation):
        found = route_confidence.Candidate(organisation, history={route_confidence.BUILDING: [1.0, 10]})
        found.explicit = {route_confidence.BUILDING: 0.9}
        return found

    samples = [
        (route_confidence.Decision([sure(place["agency"])], 0.95, False), 0.99, truth)
        for truth in [place["agency"].pk] * 40 + [place["administration"].pk] * 2
    ]
    data = route_confidence.fit(samples, bound_z=0)

    # when: an appeal where the history says as much for two organisations
    alone = route_confidence._apply(data, [sure(place["agency"])], 0.99)
    rivals = route_confidence._apply(data, [sure(place["agency"]), sure(place["administration"])], 0.99)

    # then: alone it keeps what the held-out appeals showed; two such rivals split the probability
    # between them, and neither is sure enough to route alone
    assert alone == [pytest.approx(40 / 42)]
    assert max(rivals) < route_confidence.required_precision()


def test_a_calibration_of_another_kind_is_not_applied(place):
    # given: a calibration as an older version stored it (one logistic model, weights over these features)
    older = {"weights": [0.0] * len(route_confidence.FEATURES), "precision_above": {"x": [0.0], "y": [1.0]}}
    history(place, place["agency"], 3)

    # when
    decision = route_confidence.decide(
        topics=[route_confidence.TopicChoice(place["topic"], 0.9, True)],
        territory=place["district"],
        building=place["building"],
        calibration=older,
    )

    # then: each source's own probability decides (3 of 3 at the building: 4 / 5), not the old map's 1.0
    assert not route_confidence.fits_this_code(older)
    assert not decision.calibrated
    assert decision.best.organisation == place["agency"]
    assert decision.best.p < route_confidence.required_precision()


def test_the_operator_sees_the_top_three_with_reasons_and_the_choice_is_a_label(place):
    RuleFactory(topic=place["topic"], territory=place["district"], organisation=place["administration"])
    history(place, place["administration"], 7, at_building=False)
    history(place, place["agency"], 5, at_building=False)
    call_command("routing_measure", stdout=None)
    appeal = hotline(place)
    operator = user_with_role(Role.OPERATOR)
    client = Client()
    client.force_login(operator)

    page = client.get(f"/console/appeals/{appeal.number}/").content.decode()
    response = client.post(
        f"/console/appeals/{appeal.number}/assign/",
        {"assign-topic": place["topic"].code, "assign-organisation": place["agency"].pk},
    )

    assert "Куда направить" in page
    assert "Жилищное агентство" in page and "приняла 5 из 12 обращений" in page
    assert 'id="route-suggestion-2"' in page
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert (appeal.status, appeal.organisation) == (Status.ASSIGNED, place["agency"])
    assert [(a.pk, topic_is_label) for a, topic_is_label in learning.register_labels()] == [(appeal.pk, True)]


# ---------------------------------------------------------------- places


@pytest.fixture
def petrovsky(register_of_region):  # noqa: F811
    """A street name two districts share: «Петровский пр-кт, 5» in the north, «Петровская ул., 5» in
    the south (both reduce to the same street key)."""
    north, south = register_of_region["districts"]["Северный"], register_of_region["districts"]["Южный"]
    return {
        "north": BuildingFactory(
            address="г. Город, Петровский проспект, дом 5", territory=north, latitude=55.1, longitude=37.2
        ),
        "south": BuildingFactory(
            address="г. Город, Петровская улица, дом 5", territory=south, latitude=55.3, longitude=37.5
        ),
        **register_of_region,
    }


def portal(text, **kwargs):
    appeal, created = actions.register(channel=Channel.PORTAL, text=text, at=AT, **kwargs)
    assert created
    return appeal


def test_an_ambiguous_street_is_not_guessed(petrovsky):
    appeal = portal("Петровский пр-кт, д. 5 — не горит фонарь, темно")

    assert (appeal.building, appeal.territory) == (None, None)
    place = appeal.events.get(kind=EventKind.UNDERSTOOD).data["place"]
    assert place["ambiguous_territories"] == sorted(
        [petrovsky["north"].territory_id, petrovsky["south"].territory_id]
    )
    assert "building" not in place and "territory" not in place


def test_the_point_or_the_district_named_in_the_text_resolves_a_shared_street_name(petrovsky):
    by_point = portal("Петровский пр-кт, д. 5 — не горит фонарь, темно", latitude=55.1003, longitude=37.2002)
    by_text = portal("Не горит фонарь у дома 5 по Петровской ул. в Южном районе")
    far_from_buildings = portal("Не горит фонарь, темно", latitude=56.0, longitude=38.0)

    assert (by_point.building, by_point.territory) == (petrovsky["north"], petrovsky["districts"]["Северный"])
    assert (by_text.building, by_text.territory) == (petrovsky["south"], petrovsky["districts"]["Южный"])
    assert far_from_buildings.territory is None


def test_a_point_between_two_territories_gives_none(petrovsky):
    BuildingFactory(
        address="г. Город, Пограничная улица, дом 1",
        territory=petrovsky["districts"]["Южный"],
        latitude=55.1004,
        longitude=37.2,
    )

    appeal = portal("Не горит фонарь, темно", latitude=55.1002, longitude=37.2)

    assert appeal.territory is None


# ---------------------------------------------------------------- the situational centre's figure


def test_the_overview_shows_the_share_routed_without_a_person_and_how_many_were_redirected(place):
    RuleFactory(topic=place["topic"], territory=place["district"], organisation=place["administration"])
    first, second = hotline(place), hotline(place)
    hotline(place, moderate=True)
    hotline(place, organisation=place["agency"])  # the filer named it: not the register's decision
    actions.redirect(
        first, None, reason="Не наш вопрос", organisation=place["agency"], at=AT + timedelta(hours=1)
    )
    client = Client()
    client.force_login(user_with_role(Role.ANALYST))

    page = client.get("/overview/").content.decode()

    assert second.status == Status.ASSIGNED
    automatic = page.split('id="kpi-automatic"')[1].split("</div>")[0]
    redirected = page.split('id="kpi-redirected"')[1].split("</div>")[0]
    assert "<b>50%</b>" in automatic and "обращений: 2" in automatic
    assert "<b>1</b>" in redirected


def test_calibrating_on_the_register_holds_out_only_appeals_filed_after_the_model_was_trained(
    register_of_region,  # noqa: F811
):
    # given: two lighting appeals Горсвет took up, one filed before the text model was trained (it
    # may be among the model's examples), one after
    trained_at = routing_measure.model_trained_at()
    for at in (trained_at - timedelta(days=2), trained_at + timedelta(seconds=1)):
        AppealFactory(
            text="Не горит фонарь на улице",
            topic=register_of_region["topics"]["Освещение"],
            organisation=register_of_region["organisations"]["Горсвет"],
            territory=register_of_region["districts"]["Южный"],
            status=Status.ANSWERED,
            registered_at=at,
        )
    out = io.StringIO()

    # when
    call_command("routing_measure", "--register-days", "7", stdout=out)

    # then: the model's date is its manifest's; only the later appeal is held out
    manifest = json.loads((register_of_region["dir"] / "manifest.json").read_text())
    assert trained_at == datetime.fromisoformat(manifest["trained_at"])
    assert "поданных после обучения модели текста: 1 " in out.getvalue()
    assert "(1)" in RoutingCalibration.objects.latest("pk").source
    # one appeal proves no promise: said so, not «0.0 % at a precision of 0.0 %»
    assert "без оператора не маршрутизировалось бы ни одно" in out.getvalue()
    assert "ниже требуемой 95%" in out.getvalue() and "с точностью 0.0%" not in out.getvalue()


def test_the_stored_trees_say_what_the_fitted_classifier_said():
    # given: two classifiers fitted on made-up candidates, stored as a calibration stores them
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 6))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0.3).astype(float)
    fitted = [route_trees.fit(X[i::2], y[i::2]) for i in (0, 1)]
    stored = json.loads(json.dumps([route_trees.Forest.stored(f) for f in fitted]))

    # when: the forest read back reads new candidates
    rows = rng.normal(size=(50, 6))
    read = route_trees.Forest(stored).p(rows)

    # then: each fold's probability is the classifier's own
    expected = np.column_stack([f.predict_proba(rows)[:, 1] for f in fitted])
    assert np.abs(read - expected).max() < 1e-12
