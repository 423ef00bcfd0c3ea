"""Spikes: a topic rising in a territory far above its own baseline.

A series is one topic in one territory (the appeal's own territory). Every hour (`tasks.detect`)
the last 24 hours, `[end − 24 h, end)` with `end` the hour just begun, are compared with the same
24 hours of the same weekday in each of the previous `WEEKS` weeks: the weekday and the time of day
come from the baseline itself, so a weekly cycle (busy Mondays, quiet Sundays) is no surprise. The
season and trend come from a factor: the topic's count in the whole region over the seven days
before the window, against the mean of the seven days before each baseline window (clamped to
`TREND_LIMITS`); heating complaints that rise everywhere in October raise every territory's
expectation with them.

The baseline's counts `c₁ … c_N` are taken as Poisson with an unknown rate; with a Jeffreys-like
prior Gamma(½, 0) for the rate, the count expected in the window is negative binomial,
r = Σcₖ + ½, p = N ∕ (N + trend) (mean r·trend ∕ N): the few weeks of history widen the tail
instead of being trusted as an exact rate. The window signals when

    observed ≥ MIN_COUNT   and   P(X ≥ observed | baseline) < ALPHA.

False alarms: for a series whose rate does not change, the chance that one evaluation signals is
at most ALPHA (the p-value of a discrete distribution is conservative, and the predictive
distribution is wider than the true Poisson; `tests/test_anomalies.py` checks it by simulation on
thousands of flat series). A series is evaluated 24 times a day, and ALPHA is the daily rate
divided by 24 (a union bound), so

    false alarms per series per day ≤ FALSE_ALARMS_PER_SERIES_PER_DAY = 1e-4,

about one in 27 years for one series; for a region with 2,000 active series (100 topics × 20
territories), at most one false signal in five days, and fewer because of the minimum count. The
minimum count (5) keeps small numbers quiet: 1 → 3 never signals however rare it is.

One signal per series and window: while a signal's window overlaps the next evaluation's, the next
evaluation of the series updates that signal (its count and appeals grow) instead of raising
another, and nobody is told twice. A new signal stores the appeals behind it and the active
dispatch outage that explains it (one linked to those appeals, or one whose topics include the
signal's in a territory above or below it), and one e-mail goes to each analyst whose scope covers
the territory and each supervisor of an organisation serving it (`tsur.notify` deliveries, sent on
commit and retried by its sweep).
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from scipy.stats import nbinom

from tsur.appeals.choices import Status
from tsur.appeals.models import Appeal, Topic
from tsur.core.choices import Role
from tsur.core.models import RoleAssignment, Territory
from tsur.dispatch.choices import OutageState
from tsur.dispatch.models import Outage
from tsur.notify import publish
from tsur.notify.choices import ChannelKind
from tsur.notify.choices import Topic as NoticeTopic
from tsur.notify.models import Delivery

from .signal_models import Signal

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
WEEK = timedelta(days=7)
WEEKS = 8
EVALUATIONS_PER_DAY = 24
FALSE_ALARMS_PER_SERIES_PER_DAY = 1e-4
ALPHA = FALSE_ALARMS_PER_SERIES_PER_DAY / EVALUATIONS_PER_DAY
MIN_COUNT = 5
PRIOR_SHAPE = 0.5
TREND_LIMITS = (0.5, 3.0)
# refused appeals (spam, not an appeal) are no sign of a problem
COUNTED = ~Q(status=Status.REJECTED)


@dataclass
class Series:
    """The counts of one topic in one territory: the window and the same window 1 … N weeks ago."""

    topic_id: int
    territory_id: int | None
    observed: int
    history: list[int]
    trend: float = 1.0
    expected: float = 0.0
    p_value: float = 1.0
    before: list[int] = field(default_factory=list)  # the 7 days before each window, 0 … N


def surprise(observed: int, history: list[int], trend: float = 1.0) -> tuple[float, float]:
    """(expected count, P(X ≥ observed)) under the negative binomial predictive of the baseline."""
    weeks = len(history)
    shape = sum(history) + PRIOR_SHAPE
    p = weeks / (weeks + trend)
    expected = shape * trend / weeks
    if observed <= 0:
        return expected, 1.0
    return expected, float(nbinom.sf(observed - 1, shape, p))


def is_signal(observed: int, p_value: float, alpha: float = ALPHA) -> bool:
    return observed >= MIN_COUNT and p_value < alpha


def window_end(now: datetime) -> datetime:
    """The hour just begun: every evaluation within an hour sees the same window."""
    return now.replace(minute=0, second=0, microsecond=0)


def _windows(end: datetime) -> list[tuple[datetime, datetime]]:
    return [(end - WINDOW - k * WEEK, end - k * WEEK) for k in range(WEEKS + 1)]


def series(end: datetime) -> list[Series]:
    """Every topic × territory with its window, baseline and trend: one grouped query over the
    appeals of the last WEEKS weeks (the registration index), no loop over appeals."""
    windows = _windows(end)
    counts = {}
    for k, (start, stop) in enumerate(windows):
        counts[f"w{k}"] = Count("pk", filter=Q(registered_at__gte=start, registered_at__lt=stop))
        counts[f"b{k}"] = Count("pk", filter=Q(registered_at__gte=start - WEEK, registered_at__lt=start))
    rows = list(
        Appeal.objects.filter(COUNTED, topic__isnull=False, registered_at__gte=windows[-1][0] - WEEK)
        .filter(registered_at__lt=end)
        .values("topic", "territory")
        .annotate(**counts)
    )
    before_by_topic: dict[int, list[int]] = {}
    for row in rows:
        sums = before_by_topic.setdefault(row["topic"], [0] * (WEEKS + 1))
        for k in range(WEEKS + 1):
            sums[k] += row[f"b{k}"]
    found = []
    for row in rows:
        if row["territory"] is None:
            continue
        before = before_by_topic[row["topic"]]
        trend = (before[0] + 1) / (sum(before[1:]) / WEEKS + 1)
        trend = min(max(trend, TREND_LIMITS[0]), TREND_LIMITS[1])
        one = Series(
            topic_id=row["topic"],
            territory_id=row["territory"],
            observed=row["w0"],
            history=[row[f"w{k}"] for k in range(1, WEEKS + 1)],
            trend=trend,
            before=before,
        )
        one.expected, one.p_value = surprise(one.observed, one.history, one.trend)
        found.append(one)
    return found


def evaluate(now: datetime | None = None, alpha: float = ALPHA) -> list[Signal]:
    """Raise (or update) the signals of the window ending at the hour just begun; returns the new ones."""
    end = window_end(now or timezone.now())
    raised = []
    for one in series(end):
        if one.observed < MIN_COUNT or not is_signal(one.observed, one.p_value, alpha):
            continue
        signal = _store(one, end)
        if signal is not None:
            raised.append(signal)
    return raised


def _behind(one: Series, start: datetime, end: datetime) -> list[int]:
    return list(
        Appeal.objects.filter(
            COUNTED,
            topic=one.topic_id,
            territory=one.territory_id,
            registered_at__gte=start,
            registered_at__lt=end,
        ).values_list("pk", flat=True)
    )


def _store(one: Series, end: datetime) -> Signal | None:
    start = end - WINDOW
    baseline = {"weeks": one.history, "trend": round(one.trend, 3), "before": one.before}
    with transaction.atomic():
        current = (
            Signal.objects.select_for_update()
            .filter(topic=one.topic_id, territory=one.territory_id, window_end__gt=start)
            .order_by("-window_end")
            .first()
        )
        if current is not None:  # the same spike seen an hour later: it grows, nobody is told again
            if one.observed > current.observed:
                current.observed, current.expected, current.p_value = one.observed, one.expected, one.p_value
                current.window_start, current.window_end, current.baseline = start, end, baseline
                current.save(
                    update_fields=[
                        "observed",
                        "expected",
                        "p_value",
                        "window_start",
                        "window_end",
                        "baseline",
                    ]
                )
                current.appeals.set(_behind(one, start, end))
            return None
        appeals = _behind(one, start, end)
        try:
            with transaction.atomic():
                signal = Signal.objects.create(
                    topic_id=one.topic_id,
                    territory_id=one.territory_id,
                    window_start=start,
                    window_end=end,
                    observed=one.observed,
                    expected=one.expected,
                    p_value=one.p_value,
                    baseline=baseline,
                    outage=explaining_outage(one.topic_id, one.territory_id, appeals),
                    raised_at=timezone.now(),
                )
        except IntegrityError:  # another worker raised it meanwhile
            return None
        signal.appeals.set(appeals)
        signal.notified = len(notify(signal))
        signal.save(update_fields=["notified"])
    log.info("signal %s: %s", signal.pk, signal)
    return signal


def _related(a: str, b: str) -> bool:
    """Whether one territory lies within the other (materialised paths)."""
    return bool(a and b) and (a.startswith(b) or b.startswith(a))


def explaining_outage(topic_id: int, territory_id: int, appeal_ids: list[int]) -> Outage | None:
    """The active outage that explains the spike: one the appeals are linked to, else one whose
    topics include the signal's on an object in a territory above or below the signal's."""
    active = Outage.objects.filter(state=OutageState.ACTIVE)
    linked = active.filter(links__appeal__in=appeal_ids).order_by("-started_at").first()
    if linked is not None:
        return linked
    path = Territory.objects.filter(pk=territory_id).values_list("path", flat=True).first() or ""
    for outage in active.filter(topics=topic_id).select_related("object__territory").order_by("-started_at"):
        territory = outage.object.territory
        if territory is not None and _related(territory.path, path):
            return outage
    return None


def recipients(signal: Signal) -> list[str]:
    """Analysts whose scope covers the territory and supervisors of the organisations serving it
    (or with the territory in their scope): their e-mail addresses, each once."""
    path = signal.territory.path
    addresses: set[str] = set()
    assignments = (
        RoleAssignment.objects.filter(
            role__in=[Role.ANALYST, Role.SUPERVISOR], user__is_active=True, user__email__gt=""
        )
        .select_related("user", "territory", "organisation")
        .prefetch_related("organisation__territories")
    )
    for a in assignments:
        if a.territory_id:
            reaches = path.startswith(a.territory.path)
        elif a.organisation_id:
            reaches = a.role == Role.SUPERVISOR and any(
                _related(t.path, path) for t in a.organisation.territories.all()
            )
        else:
            reaches = True  # the whole region
        if reaches:
            addresses.add(a.user.email)
    return sorted(addresses)


def notify(signal: Signal) -> list[Delivery]:
    """One e-mail per recipient, stored in the caller's transaction and sent once it commits."""
    topic = Topic.objects.select_related("block").get(pk=signal.topic_id)
    subject = f"Всплеск обращений: {topic.name} — {signal.territory.name}"
    lines = [
        f"{topic.block.name}: {topic.name}",
        f"Территория: {signal.territory.name}",
        f"За 24 часа до {timezone.localtime(signal.window_end):%d.%m.%Y %H:%M}: "
        f"{signal.observed} обращений при ожидаемых {signal.expected:.1f} "
        f"(вероятность случайно: {signal.p_value:.1e}).",
    ]
    if signal.outage_id:
        lines.append(f"Вероятная причина: аварийное отключение — {signal.outage}.")
    lines.append("Обращения — на экране ситуационного центра: /situation/")
    payload = {
        "signal": signal.pk,
        "topic": topic.code,
        "territory": signal.territory_id,
        "observed": signal.observed,
        "expected": round(signal.expected, 2),
        "outage": signal.outage_id,
    }
    return publish.deliver(
        [
            Delivery(
                channel=ChannelKind.EMAIL,
                address=address,
                topic=NoticeTopic.ANOMALY,
                subject=subject,
                text="\n".join(lines),
                payload=payload,
            )
            for address in recipients(signal)
        ]
    )
