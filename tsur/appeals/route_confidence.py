"""Whether intake may send an appeal to an organisation with no person's step, and what to suggest.

Every source names candidate organisations: the text model's executor, the routing rules for the
topics the model (or the filer) names, and the register's history of the place (who took up appeals
on this topic at this building, nearby, on this territory: `place_history`). Each candidate gets the
probability that it is the organisation that must solve the appeal:

- with a calibration (`RoutingCalibration`, fitted on held-out appeals by `fit`): a logistic model of
  what the sources say about the candidate, its output mapped to the precision measured on the
  held-out appeals (isotonic), for appeals whose topic the text model chose;
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
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from tsur.core.memo import Remembered
from tsur.core.models import Building, Organisation, Territory

from . import place_history, routing
from .models import RoutingCalibration, RoutingRule, Topic

MODEL = "executor model"
RULE = "topic + rule"
ADMINISTRATION = "topic + administration"
BUILDING = "history: building"
NEAR = "history: nearby"
TERRITORY = "history: territory"
LEVELS = (BUILDING, NEAR, TERRITORY)
# a measured rule counts when it decided at least this many appeals of the history
MIN_SUPPORT = 5
CALIBRATION_TTL_S = 300.0
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
    "building_any_share",
    "topic_p",
    "explicit_p",
    "explicit_logit",
)


def required_precision() -> float:
    return float(settings.TSUR.get("AUTO_ROUTE_PRECISION", 0.95))


def rule_precision(rule: RoutingRule | None) -> tuple[float, bool]:
    """(precision to rely on, whether measured): a measured rule's share of right routes, pulled
    towards one half by two imaginary appeals (19 of 19 is 0.95, 3 of 3 only 0.8); a rule never measured
    is the region's word and is taken as given."""
    if rule is None or rule.measured_precision is None or rule.measured_support < MIN_SUPPORT:
        return 1.0, False
    right = rule.measured_precision * rule.measured_support
    return (right + 1) / (rule.measured_support + 2), True


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
    reasons: dict = field(default_factory=dict)  # path → sentence
    p: float = 0.0
    path: str = ""

    def features(self, topic_p: float) -> list[float]:
        explicit = max(self.explicit.values(), default=0.0)
        share = {level: self.history.get(level, (0.0, 0.0)) for level in LEVELS}
        return [
            1.0,
            self.model_p,
            _logit(self.model_p),
            self.rule_p,
            self.rule_measured_p,
            share[BUILDING][0],
            share[BUILDING][0] * math.log1p(share[BUILDING][1]),
            share[NEAR][0],
            share[NEAR][0] * math.log1p(share[NEAR][1]),
            share[TERRITORY][0],
            share[TERRITORY][0] * math.log1p(share[TERRITORY][1]),
            self.building_any_share,
            topic_p,
            explicit,
            _logit(explicit),
        ]

    def only_a_rule(self) -> bool:
        return set(self.explicit) <= {RULE, ADMINISTRATION}

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
            reason = best.reasons[best.path]
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


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def _apply(calibration: dict, candidate: Candidate, topic_p: float) -> float:
    raw = float(_sigmoid(np.dot(calibration["weights"], candidate.features(topic_p))))
    knots, values = calibration["isotonic"]["x"], calibration["isotonic"]["y"]
    step = bisect.bisect_right(knots, raw) - 1
    if step < 0:  # below every chosen candidate of the held-out appeals: nothing measured, the raw score
        return min(raw, values[0]) if values else raw
    return values[step]


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
    for choice in topics:
        weight = max(choice.p, model_promise) if choice.trusted and choice.p < 1 else choice.p
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
            NEAR: memory.near(choice.topic.pk, latitude, longitude),
            TERRITORY: memory.on_territory(choice.topic.pk, territory_id),
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
                smoothed = weight * (n + 1) / (seen.total + 2)
                if level not in found.explicit or smoothed > found.explicit[level]:
                    found.explicit[level] = smoothed
                    found.reasons[level] = _history_reason(level, n, seen.total, choice.topic, organisation)
    if building_id:
        seen = memory.at_building_any_topic(building_id)
        for found in candidates.values():
            found.building_any_share = seen.share(found.organisation.pk)
    topic_p = max((c.p for c in topics), default=0.0)
    calibrated = use_calibration and bool(calibration and calibration.get("weights"))
    for found in candidates.values():
        found.path = max(found.explicit, key=found.explicit.get)
        found.p = found.explicit[found.path]
        if calibrated:
            found.p = _apply(calibration, found, topic_p)
            if found.only_a_rule():
                found.p = min(found.p, max(found.explicit.values()))
    ranked = sorted(candidates.values(), key=lambda c: (-c.p, c.organisation.pk))
    return Decision(ranked, required_precision(), calibrated)


def _fallback_precision(calibration: dict | None) -> tuple[float, bool]:
    """The administration of the territory when no rule names anyone: a guess, not the region's word;
    unmeasured, it is taken as just enough to route a topic a person chose."""
    measured = (calibration or {}).get("administration_precision")
    return (measured, True) if measured is not None else (required_precision(), False)


def _history_reason(level: str, n: int, total: int, topic: Topic, organisation: Organisation) -> str:
    where = {BUILDING: "в этом здании", NEAR: "рядом (до 300 м)", TERRITORY: "на этой территории"}[level]
    return f"История места: {where} «{organisation}» приняла {n} из {total} обращений по теме «{topic}»"


def current_calibration() -> dict | None:
    return _calibration.get()


# ------------------------------------------------------------------ fitting on held-out appeals


def _fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> np.ndarray:
    """Newton's method on the log-loss with an L2 penalty (the bias too, lightly: a tiny set stays finite)."""
    w = np.zeros(X.shape[1])
    for _ in range(steps):
        p = _sigmoid(X @ w)
        gradient = X.T @ (p - y) + l2 * w
        hessian = (X * (p * (1 - p))[:, None]).T @ X + l2 * np.eye(X.shape[1])
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w


def _isotonic(scores: np.ndarray, right: np.ndarray) -> tuple[list[float], list[float]]:
    """Pool adjacent violators: the precision of the chosen candidate as a non-decreasing step function
    of its score; the steps' lower ends as knots."""
    order = np.argsort(scores)
    blocks = []  # [total right, count, lowest score]
    for i in order:
        blocks.append([float(right[i]), 1.0, float(scores[i])])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            r, n, _ = blocks.pop()
            blocks[-1][0] += r
            blocks[-1][1] += n
    return [b[2] for b in blocks], [b[0] / b[1] for b in blocks]


def fit(samples: list[tuple[Decision, float, int | None]]) -> dict:
    """A calibration from held-out appeals: (their decision before calibration, the topic's top
    probability, the organisation that really answered). The logistic weights are fitted on all of
    them; the isotonic map on scores each half got from weights fitted on the other half, so that the
    precision it promises was measured on appeals the weights had not seen."""
    rows, labels, groups = [], [], []
    for index, (decision, topic_p, truth) in enumerate(samples):
        for found in decision.candidates:
            rows.append(found.features(topic_p))
            labels.append(1.0 if found.organisation.pk == truth else 0.0)
            groups.append(index)
    if not rows:
        return {"weights": [], "isotonic": {"x": [], "y": []}, "features": list(FEATURES)}
    X, y, groups = np.array(rows), np.array(labels), np.array(groups)
    weights = _fit_logistic(X, y)
    held_out = np.zeros(len(y))
    for half in (0, 1):
        train = groups % 2 != half
        held_out[~train] = _sigmoid(X[~train] @ _fit_logistic(X[train], y[train]))
    best_score, best_right = [], []
    for index in range(len(samples)):
        mine = np.flatnonzero(groups == index)
        if len(mine):
            top = mine[np.argmax(held_out[mine])]
            best_score.append(held_out[top])
            best_right.append(y[top])
    knots, values = _isotonic(np.array(best_score), np.array(best_right))
    return {
        "features": list(FEATURES),
        "weights": [round(float(w), 6) for w in weights],
        "isotonic": {"x": [round(k, 6) for k in knots], "y": [round(v, 6) for v in values]},
        "appeals": len(samples),
        "with_candidates": len(best_score),
    }
