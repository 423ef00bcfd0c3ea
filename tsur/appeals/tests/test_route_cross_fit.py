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

from tsur.appeals import place_history, route_confidence, routing_cross_fit
from tsur.appeals.choices import Status
from tsur.appeals.models import RoutingCalibration
from tsur.appeals.tests.factories import AppealFactory, TopicFactory
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory
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
