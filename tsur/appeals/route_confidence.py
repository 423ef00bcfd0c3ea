"""Whether intake may send an appeal to an organisation with no person's step, and what to suggest.

Every source names candidate organisations: the text model's executor, the routing rules for the
topics the model (or the filer) names, and the register's history of the place (who took up appeals
on this topic at this building, nearby, on this territory: `place_history`). Each candidate gets the
probability that it is the organisation that must solve the appeal:

- with a calibration (`RoutingCalibration`, fitted on held-out appeals by `fit`): boosted trees over
  what the sources say about each candidate and what the place is, the candidates of one appeal then
  sharing one probability (they are exclusive), its score mapped to the lower bound of the precision
  the held-out appeals showed at that score or above (as the text model's thresholds are chosen), for
  appeals the text model read;
- otherwise, and for a topic a person chose: the best single source's own measured precision — a rule's
  (`RoutingRule.measured_precision`, counted by `tsur routing_measure`; a rule never measured is taken
  as declared), the history's share at the most telling level, the executor model's probability when
  at or above its threshold (below it, at most even odds).

The appeal routes alone when the best candidate's probability is at least the region's setting
(`settings.TSUR["AUTO_ROUTE_PRECISION"]`); otherwise an operator decides, shown the top three with
their reasons. A candidate only a rule supports never gets more than that rule's measured precision:
a rule below the setting never routes alone.
"""

import bisect
import math
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from sklearn.isotonic import IsotonicRegression

from tsur.core.choices import PlaceKind
from tsur.core.memo import Remembered
from tsur.core.models import Building, Organisation, Territory

from . import place_history, route_trees, routing
from .models import RoutingCalibration, RoutingRule, Topic

MODEL = "executor model"
RULE = "topic + rule"
ADMINISTRATION = "topic + administration"
BUILDING = "history: building"
CLOSE = "history: close by"
NEAR = "history: nearby"
TERRITORY = "history: territory"
DISTRICT = "history: district, kind of place"
LEVELS = (BUILDING, CLOSE, NEAR, TERRITORY, DISTRICT)
# the organisation over the model's topics: Σ P(topic) × P(organisation | topic, place)
ORGANISATION = "organisation over topics"
RULE_PATHS = (RULE, ADMINISTRATION)
# a measured rule counts when it decided at least this many appeals of the history
MIN_SUPPORT = 5
CALIBRATION_TTL_S = 300.0
MIN_ABOVE = 3
# the calibration's model: boosted trees say how likely each candidate is right, the candidates of an appeal
# then compete for one probability (exclusive events: their sum is at most one), fitted on FOLDS folds of
# the held-out appeals; a calibration of another kind (an older version) is not applied
KIND = "boosted trees over candidates, 5 folds"
FOLDS = 5
# the map promises the precision's lower bound (Wilson's, one-sided 95 %) at each cut, not its estimate:
# a cut read off a few thousand appeals where they were right 95 times in 100 is right fewer times on
# the next appeals about half the time; with tens of thousands of appeals the bound costs little
BOUND_Z = 1.645
UNTRUSTED_GUESS = 0.5
FEATURES = (
    "bias",
    "model_p",
    "model_logit",
    "rule_p",
    "rule_measured_p",
    "building_share",
    "building_weight",
    "near_share",
    "near_weight",
    "territory_share",
    "territory_weight",
    "district_share",
    "district_weight",
    "building_any_share",
    "topic_p",
    "explicit_p",
    "explicit_logit",
    "margin",
    "margin_logit",
    "sources",
    "model_x_district",
    "rule_x_district",
    "district_x_topic",
    "building_share_x_weight",
    "district_share_squared",
    "rule_squared",
    "model_x_rule",
    "district_logit",
    "rule_logit",
    "territory_logit",
    "near_logit",
    "close_share",
    "close_weight",
    "close_logit",
    "close_any_share",
    "over_topics",
    "over_topics_logit",
    "topics_agreeing",
    "topic_trusted",
    "over_topics_x_untrusted",
    # what the place is: the same topic goes to a housing agency at a house, to the district at a
    # structure, to a city body in a street (trees can split on it; a weighted sum could not)
    *(f"place_{kind}" for kind in PlaceKind.values),
    "building_known",
    "point_known",
)


def required_precision() -> float:
    return float(settings.TSUR.get("AUTO_ROUTE_PRECISION", 0.95))


def rule_precision(rule: RoutingRule | None) -> tuple[float, bool]:
    """(precision to rely on, whether measured): a measured rule's share of right routes, pulled
    towards one half by two imaginary appeals (19 of 19 is 0.95, 3 of 3 only 0.8); a rule never measured
    is the region's word and is taken as given. While an appeal of the register's own history is read
    again (`rules_without`), what it added to the rule's measure is taken away first."""
    if rule is None or rule.measured_precision is None:
        return 1.0, False
    support = rule.measured_support
    right = rule.measured_precision * support
    if _rules_left_out and (own := _rules_left_out[-1].get(rule.pk)):
        right, support = right - own[0], support - own[1]
    if support < MIN_SUPPORT:
        return 1.0, False
    return (right + 1) / (support + 2), True


# what one appeal of the register's history added to the measured rules (rule → (right, counted)),
# while a calibration reads that appeal again (`rules_without`); never set in a web or job process
_rules_left_out: list[dict[int, tuple[int, int]]] = []


@contextmanager
def rules_without(counted: dict[int, tuple[int, int]]):
    """While the block runs, every rule's measured precision as if the appeal that added `counted`
    (rule → (right, counted)) had not been in the history: its own answer is no evidence about
    itself, here as in `place_history.LeftOut.without`."""
    _rules_left_out.append(counted)
    try:
        yield
    finally:
        _rules_left_out.pop()


@dataclass
class TopicChoice:
    topic: Topic
    p: float  # probability it is the appeal's topic (1 when a person chose it)
    trusted: bool  # chosen by a person, or the model's guess at or above its threshold


@dataclass
class Candidate:
    organisation: Organisation
    route: routing.Route | None = None
    model_p: float = 0.0
    model_trusted: bool = False
    rule_p: float = 0.0
    rule_measured_p: float = 0.0
    history: dict = field(default_factory=dict)  # level → [weighted share, weighted support]
    building_any_share: float = 0.0
    explicit: dict = field(default_factory=dict)  # path → that source's own probability
    rival: float = 0.0  # the best of the other candidates' own probabilities
    reasons: dict = field(default_factory=dict)  # path → sentence
    # topic → (the topic, its probability, the best own probability of this organisation on it)
    by_topic: dict = field(default_factory=dict)
    over_topics: float = 0.0  # Σ P(topic) × P(this organisation | topic, place)
    close_any_share: float = 0.0
    topic_trusted: bool = False
    place_kind: str = ""
    building_known: bool = False
    point_known: bool = False
    p: float = 0.0
    path: str = ""

    def features(self, topic_p: float) -> list[float]:
        """What the sources say about this candidate, and how far it leads the others (`rival`: the
        best single source's probability among the other candidates)."""
        explicit = max(self.explicit.values(), default=0.0)
        share = {level: self.history.get(level, (0.0, 0.0)) for level in LEVELS}
        building, close, near, territory, district = (share[level][0] for level in LEVELS)
        sources = sum(
            (
                self.model_p > 0.3,
                self.rule_p > 0.3,
                building > 0.5,
                near > 0.5,
                territory > 0.5,
                district > 0.5,
            )
        )
        return [
            1.0,
            self.model_p,
            _logit(self.model_p),
            self.rule_p,
            self.rule_measured_p,
            building,
            building * math.log1p(share[BUILDING][1]),
            near,
            near * math.log1p(share[NEAR][1]),
            territory,
            territory * math.log1p(share[TERRITORY][1]),
            district,
            district * math.log1p(share[DISTRICT][1]),
            self.building_any_share,
            topic_p,
            explicit,
            _logit(explicit),
            explicit - self.rival,
            _logit(explicit) - _logit(self.rival),
            float(sources),
            self.model_p * district,
            self.rule_p * district,
            district * topic_p,
            building * building * math.log1p(share[BUILDING][1]),
            district * district,
            self.rule_p * self.rule_p,
            self.model_p * self.rule_p,
            _logit(district),
            _logit(self.rule_p),
            _logit(territory),
            _logit(near),
            close,
            close * math.log1p(share[CLOSE][1]),
            _logit(close),
            self.close_any_share,
            self.over_topics,
            _logit(self.over_topics),
            float(len(self.by_topic)),
            float(self.topic_trusted),
            self.over_topics * (not self.topic_trusted),
            *(float(self.place_kind == kind) for kind in PlaceKind.values),
            float(self.building_known),
            float(self.point_known),
        ]

    def only_a_rule(self) -> bool:
        """Every source that names it is a routing rule (the sum over topics is made of them too)."""
        return set(self.explicit) - {ORGANISATION} <= set(RULE_PATHS)

    def likely_topic(self) -> Topic | None:
        """The most probable of the model's topics that lead to this organisation."""
        return max(self.by_topic.values(), key=lambda seen: seen[1], default=(None,))[0]

    def as_data(self) -> dict:
        return {
            "id": self.organisation.pk,
            "name": self.organisation.name,
            "p": round(self.p, 4),
            "path": self.path,
            "reasons": [self.reasons[path] for path in sorted(self.reasons, key=lambda k: -self.explicit[k])],
        }


@dataclass
class Decision:
    candidates: list[Candidate]
    threshold: float
    calibrated: bool

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def automatic(self) -> bool:
        return self.best is not None and self.best.p >= self.threshold

    def route(self) -> routing.Route:
        best = self.best
        if best.path in (RULE, ADMINISTRATION) and best.route is not None:
            reason = best.route.reason
        else:
            reason = best.reasons.get(best.path) or max(best.reasons.values(), key=len, default="")
        return routing.Route(best.organisation, best.route.rule if best.route else None, reason)

    def as_data(self) -> dict:
        return {
            "threshold": self.threshold,
            "calibrated": self.calibrated,
            "candidates": [c.as_data() for c in self.candidates[:3]],
        }


# ------------------------------------------------------------------ the calibration


def _read_calibration() -> dict | None:
    latest = RoutingCalibration.objects.order_by("-pk").first()
    return latest.data if latest is not None else None


_calibration = Remembered(_read_calibration, CALIBRATION_TTL_S)
calibration_changed = _calibration.changed  # connected in apps.py
forget_calibration = _calibration.forget


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _apply(calibration: dict, candidates: list[Candidate], topic_p: float) -> list[float]:
    """The candidates' scores (the mean over the folds' models), each as the precision held-out appeals
    showed at that score or above."""
    if not fits_this_code(calibration) or not candidates:
        return [0.0] * len(candidates)  # fitted by another version (`decide` keeps the explicit mode)
    rows = np.array([found.features(topic_p) for found in candidates])
    each = route_trees.Forest.of(calibration["models"]).p(rows)
    raw = np.mean([route_trees.compete(each[:, fold]) for fold in range(each.shape[1])], axis=0)
    cuts, precision = calibration["precision_above"]["x"], calibration["precision_above"]["y"]
    # the cuts are stored to six decimals: a score equal to a cut but for that rounding is at that cut
    steps = [bisect.bisect_right(cuts, float(score) + 1e-6) - 1 for score in raw]
    return [precision[step] if step >= 0 else 0.0 for step in steps]


# ------------------------------------------------------------------ the decision


def decide(
    *,
    topics: list[TopicChoice],
    organisations: list[tuple[Organisation, float, bool]] = (),
    model_promise: float = 0.0,
    territory: Territory | None = None,
    building: Building | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    place_kind: str = "",
    calibration: dict | None = None,
    use_calibration: bool = True,
) -> Decision:
    """The candidates from every source, each with its probability, the best first.

    `topics`: the appeal's topic (a person's choice) or the model's first guesses; `organisations`:
    the executor model's guesses as (organisation, probability, at or above its threshold);
    `model_promise`: the precision the model's thresholds were chosen for."""
    candidates: dict[int, Candidate] = {}

    def candidate(organisation: Organisation) -> Candidate:
        if organisation.pk not in candidates:
            candidates[organisation.pk] = Candidate(organisation)
        return candidates[organisation.pk]

    for organisation, p, trusted in organisations:
        found = candidate(organisation)
        found.model_p, found.model_trusted = p, trusted
        # below its threshold the model was measured less precise than it promises: at most even odds
        found.explicit[MODEL] = max(p, model_promise) if trusted else min(p, UNTRUSTED_GUESS)
        found.reasons[MODEL] = f"Определено по тексту: «{organisation}» (уверенность {p:.2f})"
    table = routing.table()
    memory = place_history.history()
    building_id = building.pk if building is not None else None
    territory_id = territory.pk if territory is not None else None
    district_id = _district(table, territory)
    weights = [max(c.p, model_promise) if c.trusted and c.p < 1 else c.p for c in topics]
    # the topics' weights as probabilities of exclusive events: together never more than one
    scale = 1.0 / max(1.0, sum(weights))
    for choice, weight in zip(topics, weights, strict=True):
        route = routing.route(
            topic=choice.topic, territory=territory, place_kind=place_kind, building=building
        )
        if route is not None:
            precision, measured = rule_precision(route.rule)
            if route.rule is None:
                precision, measured = _fallback_precision(calibration)
            found = candidate(route.organisation)
            path = RULE if route.rule is not None else ADMINISTRATION
            found.route = found.route or route
            found.rule_p += choice.p * precision
            found.rule_measured_p += choice.p * precision if measured else 0.0
            found.explicit[path] = max(found.explicit.get(path, 0.0), weight * precision)
            _supports(found, choice, weight * scale, precision)
            if path not in found.reasons:
                measured_text = (
                    f"точность {route.rule.measured_precision:.0%} по {route.rule.measured_support} обращениям"
                    if measured and route.rule is not None
                    else "точность не измерена"
                    if route.rule is not None
                    else f"точность {precision:.0%}"
                )
                found.reasons[path] = (
                    f"{route.reason}; {measured_text}; тема «{choice.topic}» ({choice.p:.2f})"
                )
        evidence = {
            BUILDING: memory.at_building(choice.topic.pk, building_id),
            CLOSE: memory.close_by(choice.topic.pk, latitude, longitude),
            NEAR: memory.near(choice.topic.pk, latitude, longitude),
            TERRITORY: memory.on_territory(choice.topic.pk, territory_id),
            DISTRICT: memory.in_district(choice.topic.pk, district_id, place_kind),
        }
        for level, seen in evidence.items():
            for organisation_id, n in seen.counts.most_common(3):
                organisation = table.organisations.get(organisation_id)
                if organisation is None or not organisation.is_active:
                    continue
                found = candidate(organisation)
                share = found.history.setdefault(level, [0.0, 0.0])
                share[0] += choice.p * n / seen.total
                share[1] += choice.p * seen.total
                own = (n + 1) / (seen.total + 2)
                _supports(found, choice, weight * scale, own)
                smoothed = weight * own
                if level not in found.explicit or smoothed > found.explicit[level]:
                    found.explicit[level] = smoothed
                    if level != DISTRICT or district_id != territory_id:  # else said by the territory's
                        found.reasons[level] = _history_reason(
                            level, n, seen.total, choice.topic, organisation
                        )
    around = memory.close_by_any_topic(latitude, longitude)
    seen_here = memory.at_building_any_topic(building_id) if building_id else place_history.NOTHING
    trusted = bool(topics) and topics[0].trusted
    for found in candidates.values():
        found.building_any_share = seen_here.share(found.organisation.pk)
        found.close_any_share = around.share(found.organisation.pk)
        found.topic_trusted = trusted
        found.place_kind, found.building_known = place_kind or "", building_id is not None
        found.point_known = latitude is not None and longitude is not None
        found.over_topics = sum(weight * own for _, weight, own in found.by_topic.values())
        if len(found.by_topic) > 1:  # with one topic the sum is that topic's own best path
            found.explicit[ORGANISATION] = found.over_topics
            found.reasons[ORGANISATION] = _over_topics_reason(found)
    topic_p = max((c.p for c in topics), default=0.0)
    calibrated = use_calibration and fits_this_code(calibration)
    own = sorted((max(c.explicit.values(), default=0.0) for c in candidates.values()), reverse=True)
    for found in candidates.values():
        mine = max(found.explicit.values(), default=0.0)
        found.rival = own[1] if len(own) > 1 and mine == own[0] else own[0] if len(own) > 1 else 0.0
        found.path = max(found.explicit, key=found.explicit.get)
        found.p = found.explicit[found.path]
    if calibrated:
        found_all = list(candidates.values())
        for found, p in zip(found_all, _apply(calibration, found_all, topic_p), strict=True):
            found.p = min(p, max(found.explicit.values())) if found.only_a_rule() else p
    ranked = sorted(candidates.values(), key=lambda c: (-c.p, c.organisation.pk))
    return Decision(ranked, required_precision(), calibrated)


def _district(table: routing.Table, territory: Territory | None) -> int | None:
    if territory is None:
        return None
    chain = [int(x) for x in reversed(territory.path.strip("/").split("/")) if x]
    return next(
        (
            pk
            for pk in chain
            if pk in table.territories and table.territories[pk].kind in place_history.DISTRICT_KINDS
        ),
        None,
    )


def _supports(found: Candidate, choice: TopicChoice, weight: float, own: float) -> None:
    """One source names `found` for the topic `choice` with its own probability `own`; the topic keeps
    the best of its sources."""
    known = found.by_topic.get(choice.topic.pk)
    if known is None or own > known[2]:
        found.by_topic[choice.topic.pk] = (choice.topic, weight, own)


def _over_topics_reason(found: Candidate) -> str:
    topics = sorted(found.by_topic.values(), key=lambda seen: -seen[1])
    named = ", ".join(f"«{topic}» ({weight:.2f})" for topic, weight, _ in topics)
    return (
        f"Темы {named} ведут к «{found.organisation}»: тема не ясна, организация — "
        f"с вероятностью {found.over_topics:.2f}"
    )


def _fallback_precision(calibration: dict | None) -> tuple[float, bool]:
    """The administration of the territory when no rule names anyone: a guess, not the region's word;
    unmeasured, it is taken as just enough to route a topic a person chose."""
    measured = (calibration or {}).get("administration_precision")
    return (measured, True) if measured is not None else (required_precision(), False)


def _history_reason(level: str, n: int, total: int, topic: Topic, organisation: Organisation) -> str:
    where = {
        BUILDING: "в этом здании",
        CLOSE: "по соседству (до 80 м)",
        NEAR: "рядом (до 300 м)",
        TERRITORY: "на этой территории",
        DISTRICT: "в этом районе на таком же месте",
    }[level]
    return f"История места: {where} «{organisation}» приняла {n} из {total} обращений по теме «{topic}»"


def fits_this_code(calibration: dict | None) -> bool:
    """A calibration this version can apply (one of another kind, or over other features, is not)."""
    return (
        bool(calibration and calibration.get("models"))
        and calibration.get("kind") == KIND
        and calibration.get("features") == list(FEATURES)
    )


def current_calibration() -> dict | None:
    return _calibration.get()


# ------------------------------------------------------------------ fitting on held-out appeals


def _precision_above(
    scores: np.ndarray, right: np.ndarray, bound_z: float = BOUND_Z
) -> tuple[list[float], list[float]]:
    """As the text model's thresholds are chosen: for each score, the precision of the held-out
    appeals whose chosen candidate scored at or above the lowest cut at or under it that is at least
    that precise (so the map never falls as the score rises); cuts with fewer than MIN_ABOVE appeals
    above them promise nothing. `right` may be a probability of being right (see `fit`). The
    precision is the lower bound at `bound_z` (0: the estimate itself)."""
    order = np.argsort(-scores)
    ranked = scores[order]
    above = np.arange(1, len(order) + 1)
    precision = _lower_bound(np.cumsum(right[order]) / above, above, bound_z)
    precision[: MIN_ABOVE - 1] = 0.0
    # a cut falls between scores: within equal scores only the last position is one
    precision[np.r_[ranked[1:] == ranked[:-1], False]] = 0.0
    rising = np.maximum.accumulate(precision[::-1])
    return [round(float(x), 6) for x in ranked[::-1]], [round(float(p), 6) for p in rising]


def _lower_bound(precision: np.ndarray, n: np.ndarray, z: float) -> np.ndarray:
    """Wilson's lower bound of a share `precision` measured on `n` appeals."""
    if z <= 0:
        return precision
    z2 = z * z
    spread = z * np.sqrt(precision * (1 - precision) / n + z2 / (4 * n * n))
    return (precision + z2 / (2 * n) - spread) / (1 + z2 / n)


def fit(samples: list[tuple[Decision, float, int | None]], bound_z: float = BOUND_Z) -> dict:
    """A calibration from held-out appeals: (their decision before calibration, the topic's top
    probability, the organisation that really answered).

    The appeals are cut in FOLDS folds; a model is fitted on all but each fold and scores that fold,
    so every appeal's score comes from a model that had not seen it, and intake scores with the mean
    of the FOLDS models (models of the same kind as those that made the map). The map from score to
    precision is read from those scores, the chosen candidate's rightness smoothed first by an
    isotonic fit on the score (right or wrong is a coin; the smoothed rate moves the cut less from
    one set of appeals to the next), and each cut promises the lower bound of its precision
    (`bound_z`), so that «at least 0.95» holds on appeals the map was not read from."""
    rows, labels, groups = [], [], []
    for index, (decision, topic_p, truth) in enumerate(samples):
        for found in decision.candidates:
            rows.append(found.features(topic_p))
            labels.append(1.0 if found.organisation.pk == truth else 0.0)
            groups.append(index)
    empty = {"kind": KIND, "models": [], "precision_above": {"x": [], "y": []}, "features": list(FEATURES)}
    if not rows:
        return empty
    X, y, groups = np.array(rows), np.array(labels), np.array(groups)
    folds = groups % FOLDS
    held_out, models = np.zeros(len(y)), []
    for fold in range(FOLDS):
        train = folds != fold
        if not train.any() or train.all() or len(set(y[train])) < 2:
            continue
        test = ~train
        stored, held_out[test] = route_trees.fit_and_score(X[train], y[train], X[test], groups[test])
        models.append(stored)
    if not models:  # appeals of one fold only (or all right): one model on them all
        if len(set(y)) < 2:
            return empty
        stored, held_out = route_trees.fit_and_score(X, y, X, groups)
        models.append(stored)
    # each appeal's chosen candidate: the best held-out score of its rows (rows are in appeal order)
    order = np.lexsort((-held_out, groups))
    top = order[np.r_[True, groups[order][1:] != groups[order][:-1]]]
    best_score, best_right = held_out[top], y[top]
    smoothed = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit_transform(
        best_score, best_right
    )
    cuts, precision = _precision_above(best_score, smoothed, bound_z)
    return {
        "kind": KIND,
        "bound_z": bound_z,
        "features": list(FEATURES),
        "models": models,
        "precision_above": {"x": cuts, "y": precision},
        "appeals": len(samples),
        "with_candidates": len(best_score),
    }
