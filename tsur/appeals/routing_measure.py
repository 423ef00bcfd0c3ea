"""How right the routing rules are, measured on the register's history, and the calibration of
intake's routing on held-out appeals (`tsur routing_measure`).

A rule is measured on the appeals of the history it would route today (the most specific rule for
their topic and place, as `routing.route` chooses): its precision is the share of them that the
organisation it names took up. Routing to the territory's administration when no rule applies is
measured the same way, as one route of its own.
"""

from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from tsur.core.choices import PlaceKind
from tsur.core.models import Building, Organisation
from tsur.nlp import understanding as text_model

from . import place_history, route_confidence, routing, routing_cross_fit
from .models import Appeal, RoutingCalibration, RoutingRule, Topic


@dataclass
class Measured:
    appeals: int = 0
    rules: dict[int, tuple[int, int]] = field(default_factory=dict)  # rule → (right, total)
    administration: tuple[int, int] = (0, 0)


def measure_rules() -> Measured:
    """The precision of every active rule (and of the fallback) on the appeals the history holds."""
    rows = list(
        Appeal.objects.filter(
            status__in=place_history.TAKEN_UP,
            registered_at__gte=place_history.since(),
            topic__isnull=False,
            organisation__isnull=False,
        ).values_list("topic_id", "territory_id", "place_kind", "building_id", "organisation_id")
    )
    routing.forget()
    right, total = Counter(), Counter()
    for found in routes_of(rows):
        if found is not None:
            key, hit = found
            total[key] += 1
            right[key] += hit
    measured = Measured(
        appeals=len(rows),
        rules={pk: (right[pk], total[pk]) for pk in total if pk is not None},
        administration=(right[None], total[None]),
    )
    now = timezone.now()
    rules = list(RoutingRule.objects.all())
    for rule in rules:
        hits, n = measured.rules.get(rule.pk, (0, 0))
        rule.measured_precision = hits / n if n else None
        rule.measured_support = n
        rule.measured_at = now
    with transaction.atomic():
        RoutingRule.objects.bulk_update(rules, ["measured_precision", "measured_support", "measured_at"], 500)
    routing.forget()  # bulk updates send no signals
    return measured


def routes_of(rows: list[tuple]) -> list[tuple[int | None, bool] | None]:
    """For appeals of the history as (topic, territory, kind of place, building, organisation that took
    it up): the rule that would route each today (None: the territory's administration, no rule) and
    whether it names that organisation; None for an appeal nothing routes."""
    table = routing.table()
    topics = Topic.objects.select_related("block").in_bulk()
    buildings = {
        pk: Building(pk=pk, management_company_id=company)
        for pk, company in Building.objects.filter(pk__in={r[3] for r in rows if r[3]}).values_list(
            "pk", "management_company_id"
        )
    }
    found = []
    for topic_id, territory_id, place_kind, building_id, organisation_id in rows:
        route = routing.route(
            topic=topics.get(topic_id),
            territory=table.territories.get(territory_id),
            place_kind=place_kind,
            building=buildings.get(building_id),
        )
        found.append(
            None
            if route is None
            else (route.rule.pk if route.rule is not None else None, route.organisation.pk == organisation_id)
        )
    return found


class LeftOut:
    """The register's history and its rules' measures, from which one appeal at a time can be taken
    away (`without`)."""

    def __init__(self, history: place_history.LeftOut, rules: dict[str, dict[int, tuple[int, int]]]):
        self.history = history
        self.rules = rules  # external id → what its appeals added to the rules: rule → (right, counted)

    @contextmanager
    def without(self, external_id: str):
        """While the block runs, the history of the place and the rules' measured precision as if the
        appeal of this external id had never been taken up (True when the register holds it)."""
        with (
            self.history.without(external_id) as left_out,
            route_confidence.rules_without(self.rules.get(external_id, {})),
        ):
            yield left_out


@contextmanager
def leaving_out(external_ids):
    """`place_history.leaving_out`, and the rules' measures too: a training row of an export the
    register was loaded from counts in the measured precision of the rule that routes it, with its own
    answer (right when the rule names the organisation that took it up)."""
    with place_history.leaving_out(external_ids) as history:
        owners, rows = [], []
        for external_id, own in history.own.items():
            for topic_id, building_id, territory_id, _, _, place_kind, organisation_id in own:
                owners.append(external_id)
                rows.append((topic_id, territory_id, place_kind, building_id, organisation_id))
        counted = defaultdict(dict)
        for external_id, found in zip(owners, routes_of(rows), strict=True):
            if found is None or found[0] is None:
                continue  # the administration's measure is one figure over the whole history
            rule, hit = found
            right, total = counted[external_id].get(rule, (0, 0))
            counted[external_id][rule] = (right + hit, total + 1)
        yield LeftOut(history, dict(counted))


def place_kind_of(value: str) -> str:
    """A kind of place as an export writes it («Дом», «Парк, сад, бульвар, сквер», «Рекламные или
    информационные конструкции») → PlaceKind; the first words compared without their endings when
    long enough (the demo's loader maps that kind too: calibrating without it read such appeals
    placeless, unlike intake)."""
    value = (value or "").strip().lower()
    first = value.split(",")[0].split()[0] if value.split(",")[0].split() else ""
    for kind in PlaceKind:
        label = str(kind.label).lower()
        if value in (kind.value, label) or (first and first == label.split(",")[0]):
            return kind.value
        label_first = label.split()[0]
        if len(first) >= 7 and len(label_first) >= 7 and first[:-2] == label_first[:-2]:
            return kind.value
    return ""


@dataclass
class Columns:
    text: str = "text"
    address: str = "address"
    latitude: str = "latitude"
    longitude: str = "longitude"
    place_kind: str = "city_object"
    executor: str = "executor_org"
    # the rows' ids: a register loaded from the export keeps them as external ids, and such an appeal
    # is read against the history without itself
    id: str = "id"


@dataclass
class CrossFit:
    """An export's training rows to cross-fit (`routing_cross_fit`), in `folds` folds."""

    rows: list[dict]
    folds: int = 5
    say: Callable[[str], None] = lambda message: None


def calibrate(
    rows: list[dict],
    columns: Columns,
    measured: Measured,
    source: str,
    progress=lambda: None,
    register_days: int = 0,
    cross_fit: CrossFit | None = None,
):
    """Fit the calibration on held-out appeals and store it as the latest: the rows of an export the
    history and the model never learned from, with `register_days` the register's own appeals of its
    last days that an organisation took up (read against the history before them), and with
    `cross_fit` the export's training rows read by models that did not learn them
    (`routing_cross_fit`). With cross-fitted rows, a calibration fitted on them alone is first measured
    on the held-out rows (`figures["check"]`): what the promise is worth on appeals nobody tuned on."""
    organisations = {name: pk for pk, name in Organisation.objects.values_list("pk", "name")}
    right, total = measured.administration
    administration = (right + 1) / (total + 2) if total else None
    base = {"administration_precision": administration}
    route_confidence.forget_calibration()

    def read_row(row: dict) -> tuple | None:
        return held_out_row(row, columns, organisations)

    with leaving_out(row.get(columns.id, "") for row in rows) as history:
        samples = []
        for row in rows:
            if found := read_row(row):
                with history.without(row.get(columns.id, "")):
                    samples += routing_cross_fit.decided(found)
            progress()
    recent, figures = [], {}
    if register_days:
        cutoff, recent = register_appeals(register_days, learned_until=model_trained_at())
        with place_history.as_of(cutoff):
            samples += _samples(recent, progress)
        source = (
            f"{source}; реестр за {register_days} дн. ({len(recent)})"
            if source
            else (f"реестр за {register_days} дн. ({len(recent)})")
        )
    if cross_fit is not None and cross_fit.rows:
        crossed, figures["cross_fit"] = routing_cross_fit.samples(
            cross_fit.rows,
            rows,
            read_row,
            folds=cross_fit.folds,
            text_column=columns.text,
            id_column=columns.id,
            leaving_out=leaving_out,
            say=cross_fit.say,
        )
        if crossed and samples:
            figures["check"] = _figures(samples, base | route_confidence.fit(crossed))
        samples += crossed
        source = f"{source}; перекрёстно {cross_fit.folds} частей ({len(crossed)})"
    data = base | route_confidence.fit(samples)
    calibration = RoutingCalibration.objects.create(
        fitted_at=timezone.now(), model_version="", source=source[:300], data=data
    )
    route_confidence.forget_calibration()
    return calibration, _figures(samples, data) | {"register": len(recent)} | figures


def held_out_row(row: dict, columns: Columns, organisations: dict[str, int]) -> tuple | None:
    """An export's row as (text, address, latitude, longitude, kind of place, the organisation that
    answered), or None without a text or an organisation the register knows."""
    truth = organisations.get(row.get(columns.executor, ""))
    if truth is None or not (row.get(columns.text) or "").strip():
        return None
    latitude, longitude = _number(row.get(columns.latitude)), _number(row.get(columns.longitude))
    if latitude is None or longitude is None:
        latitude = longitude = None
    return (
        row[columns.text][:4000],
        (row.get(columns.address) or "")[:400],
        latitude,
        longitude,
        place_kind_of(row.get(columns.place_kind, "")),
        truth,
    )


def register_appeals(days: int, learned_until: datetime | None = None) -> tuple:
    """The register's appeals of its last `days` (before the latest taken up) that an organisation took
    up and kept — the organisation confirmed by its own work, or by the operator who sent it there —
    as (text, address, latitude, longitude, kind of place, organisation), and the moment they start.

    Only appeals registered after `learned_until` (when the text model was trained): the model may
    have learned the ones before (an export it was trained on, loaded into the register; labels of
    `nlp_retrain`), and on those it reads too well — a calibration fitted on them promised 95 % and
    routed at 91 % (bench/routing, 30 days of a register loaded from the model's own train split)."""
    cutoff = place_history.latest() - timedelta(days=days)
    if learned_until is not None:
        cutoff = max(cutoff, learned_until)
    recent = Appeal.objects.filter(
        status__in=place_history.TAKEN_UP, registered_at__gte=cutoff, organisation__isnull=False
    ).exclude(text="")
    return cutoff, [
        (text[:4000], address, latitude, longitude, place_kind, organisation)
        for text, address, latitude, longitude, place_kind, organisation in recent.values_list(
            "text", "address", "latitude", "longitude", "place_kind", "organisation_id"
        ).iterator(chunk_size=2000)
    ]


def model_trained_at() -> datetime | None:
    """When the register's text model was trained (None without a model or a date in its manifest)."""
    model = text_model.current_model()
    stamp = (model.manifest.get("trained_at") or "") if model is not None else ""
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:
        return None


def _samples(held_out, progress) -> list:
    """What intake would decide (without a calibration) for each held-out appeal, with the truth."""
    samples = []
    for sample in held_out:
        # an appeal whose topic the model is not sure of is kept: its organisation may still be sure
        samples += routing_cross_fit.decided(sample)
        progress()
    return samples


def _figures(samples, data) -> dict:
    """On the held-out rows themselves: how many would route alone, and how often rightly."""
    threshold = route_confidence.required_precision()
    routed = right = 0
    for decision, topic_p, truth in samples:
        scored = (
            [
                (min(p, max(found.explicit.values())) if found.only_a_rule() else p, found)
                for p, found in zip(
                    route_confidence._apply(data, decision.candidates, topic_p),
                    decision.candidates,
                    strict=True,
                )
            ]
            if data.get("models")
            else [(found.p, found) for found in decision.candidates]
        )
        if not scored:
            continue
        p, best = max(scored, key=lambda pair: pair[0])
        if not best.topic_trusted and best.likely_topic() is None:
            continue  # no topic leads there: intake leaves it to an operator
        if p >= threshold:
            routed += 1
            right += best.organisation.pk == truth
    return {"appeals": len(samples), "routed": routed, "right": right}


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
