"""More held-out appeals for the routing calibration: an export's training rows, each read by a text
model that did not learn it and against the history without itself; and a map that promises the lower
bound of the precision it measured, so that «at least 0.95» holds on appeals it was not read from."""

import io
from collections import Counter
from datetime import timedelta

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from tsur.appeals import place_history, route_confidence, routing_cross_fit, routing_measure
from tsur.appeals.choices import Status
from tsur.appeals.models import RoutingCalibration
from tsur.appeals.tests.factories import AppealFactory, RuleFactory, TopicFactory
from tsur.core.choices import TerritoryKind
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory, TerritoryFactory
from tsur.nlp.tests import region

from .test_understanding import region_model, register_of_region  # noqa: F401  (the made-up region's model)

pytestmark = pytest.mark.django_db

AT = timezone.now() - timedelta(days=1)


def test_an_appeal_of_the_history_is_read_against_the_history_without_itself():
    # given: at one building the agency took up two appeals on a topic, the administration one (id 7)
    topic, building = TopicFactory(), BuildingFactory()
    agency, administration = OrganisationFactory(), OrganisationFactory()
    for external_id, organisation in (("5", agency), ("6", agency), ("7", administration)):
        AppealFactory(
            external_id=external_id,
            topic=topic,
            organisation=organisation,
            building=building,
            status=Status.ANSWERED,
            registered_at=AT,
        )

    place_history.forget()

    # when: the history leaves out the appeal 7, then the appeal 5
    with place_history.leaving_out(["5", "7"]) as history:
        with history.without("7") as left_out_7:
            without_7 = Counter(place_history.history().at_building(topic.pk, building.pk).counts)
        with history.without("5"):
            without_5 = Counter(place_history.history().at_building(topic.pk, building.pk).counts)
        with history.without("6") as left_out_6:  # not asked to be left out
            with_6 = Counter(place_history.history().at_building(topic.pk, building.pk).counts)
    after = place_history.history().at_building(topic.pk, building.pk).counts

    # then: the administration, seen only in appeal 7, is no candidate without it; all is back after
    assert without_7 == Counter({agency.pk: 2})
    assert without_5 == Counter({agency.pk: 1, administration.pk: 1})
    assert (left_out_7, left_out_6) == (True, False)
    assert with_6 == after == Counter({agency.pk: 2, administration.pk: 1})


def test_an_appeal_of_the_history_is_read_against_its_rules_measure_without_itself():
    # given: a rule sends the topic on the district to its administration; of the 7 appeals it routed
    # in the history the administration took up 6 (ids 1-6), the agency one (id 7)
    topic = TopicFactory()
    district = TerritoryFactory(kind=TerritoryKind.CITY_DISTRICT)
    agency, administration = OrganisationFactory(), OrganisationFactory()
    rule = RuleFactory(topic=topic, territory=district, organisation=administration)
    for n in range(1, 8):
        AppealFactory(
            external_id=str(n),
            topic=topic,
            territory=district,
            organisation=administration if n < 7 else agency,
            status=Status.ANSWERED,
            registered_at=AT,
        )
    routing_measure.measure_rules()
    place_history.forget()

    def rule_measured_p() -> float:
        decision = route_confidence.decide(
            topics=[route_confidence.TopicChoice(topic, 1.0, True)], territory=district, use_calibration=False
        )
        found = next(c for c in decision.candidates if c.organisation == administration)
        assert found.route.rule == rule
        return found.rule_measured_p

    # when: the appeals 1 and 7 are read again, each without itself, and the appeal 8 (not in the register)
    with routing_measure.leaving_out(["1", "7", "8"]) as left:
        with left.without("1") as left_out_1:
            without_1 = rule_measured_p()
        with left.without("7"):
            without_7 = rule_measured_p()
        with left.without("8") as left_out_8:
            without_8 = rule_measured_p()
    after = rule_measured_p()

    # then: each is measured on the other six (smoothed by two imaginary appeals); all is back after
    assert without_1 == pytest.approx((5 + 1) / (6 + 2))
    assert without_7 == pytest.approx((6 + 1) / (6 + 2))
    assert without_8 == after == pytest.approx((6 + 1) / (7 + 2))
    assert (left_out_1, left_out_8) == (True, False)


def test_cross_fitting_reads_every_training_row_with_a_model_that_did_not_learn_it(
    register_of_region,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    # given: the made-up region's export, its first training row (id 1000) in the register's history
    export = region.write(tmp_path / "appeals.csv")
    rows = region.rows()
    first = rows[0]
    AppealFactory(
        external_id=first["номер"],
        text=first["обращение"],
        topic=register_of_region["topics"][first["рубрика"]],
        organisation=register_of_region["organisations"][first["исполнитель"]],
        territory=register_of_region["districts"][first["район"]],
        status=Status.ANSWERED,
        registered_at=AT,
    )
    learned, read = {}, []
    train = routing_cross_fit.TextModel.train

    def spying_train(examples, *args, **kwargs):
        model = train(examples, *args, **kwargs)
        learned[id(model)] = {example.text for example in examples}
        return model

    decided = routing_cross_fit.decided

    def spying_decided(sample, model=None):
        read.append((sample[0], id(model)))
        return decided(sample, model)

    monkeypatch.setattr(routing_cross_fit.TextModel, "train", spying_train)
    monkeypatch.setattr(routing_cross_fit, "decided", spying_decided)
    out = io.StringIO()

    # when
    call_command(
        "routing_measure",
        "--calibrate", str(export),
        "--split-col", "выборка",
        "--text-col", "обращение",
        "--executor-col", "исполнитель",
        "--id-col", "номер",
        "--cross-fit", "2",
        stdout=out,
    )  # fmt: skip

    # then: two models, each read only rows it did not learn; every training row read once; the
    # register's own appeal read without itself; the calibration fitted on the dev and training rows
    training = [r for r in rows if r["выборка"] == "train"]
    crossed = [(text, model) for text, model in read if model in learned]
    assert len(learned) == 2
    assert len(crossed) == len(training)
    assert not any(text in learned[model] for text, model in crossed)
    assert "читались без самих себя: 1" in out.getvalue()
    assert "Проверка: калибровка только по перекрёстным строкам" in out.getvalue()
    assert f"перекрёстно 2 частей ({len(training)})" in RoutingCalibration.objects.latest("pk").source


def test_the_map_promises_the_lower_bound_of_the_precision_it_measured():
    # given: held-out appeals whose chosen candidate was right 19 times in 20, at scores 0.9 and above
    def promise(n: int, bound_z: float) -> float:
        scores = np.linspace(0.9, 1.0, n)
        right = np.array([1.0 if i % 20 else 0.0 for i in range(n)])
        cuts, precision = route_confidence._precision_above(scores, right, bound_z)
        return precision[0]  # at the lowest cut: all of them routed

    # then: the estimate itself without a bound; below it with one, the less the more appeals showed it
    assert promise(40, 0.0) == pytest.approx(0.95)
    assert promise(40, 1.645) < 0.88
    assert 0.94 < promise(40_000, 1.645) < 0.95
