"""League tables of municipalities and organisations: a composite index of the KPIs (tsur.analytics.kpi)
whose weights are a setting (`TSUR_RATING_WEIGHTS`), with the change against the previous period.

    index = 100 × Σ wᵢ·sᵢ ÷ Σ wᵢ

over the components sᵢ (each from 0, worst, to 1, best) that the group has a value of: a group with
no rated answer is judged on the rest, not marked down for it.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import kpi


@dataclass(frozen=True)
class Component:
    key: str
    label: str
    formula: str

    def score(self, values: dict, counts: dict) -> float | None:
        if self.key == "on_time":
            return values["on_time_share"]
        if self.key == "overdue":
            return 1 - counts["overdue_now"] / counts["received"] if counts["received"] else None
        if self.key == "reopen":
            return None if values["reopen_rate"] is None else 1 - values["reopen_rate"]
        if self.key == "satisfaction":
            return None if values["rating_avg"] is None else (values["rating_avg"] - 1) / 4
        if self.key == "redirect":
            return None if values["redirect_rate"] is None else 1 - values["redirect_rate"]
        raise LookupError(self.key)


COMPONENTS = {
    c.key: c
    for c in (
        Component("on_time", _("ответы в срок"), _("доля ответов в срок")),
        Component("overdue", _("нет просрочки"), _("1 − просрочено сейчас ÷ поступило")),
        Component("reopen", _("не возобновлялись"), _("1 − доля возобновлённых")),
        Component("satisfaction", _("оценка"), _("(средняя оценка − 1) ÷ 4")),
        Component("redirect", _("верная маршрутизация"), _("1 − доля перенаправленных")),
    )
}
DIMENSIONS = ("municipality", "organisation")


def weights(spec: str | None = None) -> dict[str, float]:
    """The weights from the setting: "on_time=0.4,overdue=0.2,…" (a component left out weighs 0)."""
    spec = settings.TSUR["RATING_WEIGHTS"] if spec is None else spec
    found = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _sep, value = part.partition("=")
        name = name.strip()
        if name not in COMPONENTS:
            raise ImproperlyConfigured(
                f"TSUR_RATING_WEIGHTS: unknown component {name!r} ({', '.join(COMPONENTS)})"
            )
        try:
            found[name] = float(value)
        except ValueError as error:
            raise ImproperlyConfigured(f"TSUR_RATING_WEIGHTS: {part!r} is not name=number") from error
        if found[name] < 0:
            raise ImproperlyConfigured(f"TSUR_RATING_WEIGHTS: {name} must not be negative")
    if not any(found.values()):
        raise ImproperlyConfigured("TSUR_RATING_WEIGHTS: at least one weight must be positive")
    return found


def formula(w: dict[str, float] | None = None) -> str:
    """The index as the pages show it, with the weights in force."""
    w = weights() if w is None else w
    terms = " + ".join(f"{w[k]:g}·[{COMPONENTS[k].formula}]" for k in COMPONENTS if w.get(k))
    return f"{_('Индекс')} = 100 × ({terms}) ÷ {sum(w.values()):g}"


def index(values: dict, counts: dict, w: dict[str, float]) -> tuple[float | None, dict]:
    scores = {k: COMPONENTS[k].score(values, counts) for k in COMPONENTS if w.get(k)}
    known = {k: s for k, s in scores.items() if s is not None}
    total = sum(w[k] for k in known)
    if not total:
        return None, scores
    return 100 * sum(w[k] * s for k, s in known.items()) / total, scores


@dataclass
class Standing:
    key: object
    label: str
    received: int
    index: float | None
    scores: dict
    previous_index: float | None = None
    rank: int | None = None
    previous_rank: int | None = None
    values: dict = field(default_factory=dict)

    @property
    def change(self) -> float | None:
        if self.index is None or self.previous_index is None:
            return None
        return self.index - self.previous_index

    @property
    def rank_change(self) -> int | None:
        """Places gained (positive) or lost against the previous period."""
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank


def _standings(user, dimension, period, filters, now, w, least) -> dict:
    rows, _total = kpi.table(user, dimension, period, filters, now, percentiles=False)
    found = {}
    for row in rows:
        if row.key is None:
            continue
        value, scores = index(row.values, row.counts, w)
        found[row.key] = Standing(
            row.key, row.label, row.counts["received"], value, scores, values=row.values
        )
    ranked = sorted(
        (s for s in found.values() if s.index is not None and s.received >= least),
        key=lambda s: (-s.index, -s.received, s.label),
    )
    for place, standing in enumerate(ranked, start=1):
        standing.rank = place
    return found


def league(
    user,
    dimension: str,
    period: kpi.Period,
    filters: dict | None = None,
    now: datetime | None = None,
    *,
    least: int | None = None,
) -> list[Standing]:
    """The groups of `dimension` ranked by the index in `period` (those with at least `least`
    appeals; the others follow unranked), each with its index and place in the previous period."""
    if dimension not in DIMENSIONS:
        raise LookupError(dimension)
    now = now or timezone.now()
    w = weights()
    least = settings.TSUR["RATING_MIN_APPEALS"] if least is None else least
    current = _standings(user, dimension, period, filters, now, w, least)
    before = _standings(user, dimension, period.previous(), filters, now, w, least)
    for key, standing in current.items():
        if key in before:
            standing.previous_index = before[key].index
            standing.previous_rank = before[key].rank
    return sorted(current.values(), key=lambda s: (s.rank is None, s.rank or 0, -s.received, s.label))
