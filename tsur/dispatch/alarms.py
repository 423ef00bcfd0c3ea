"""Deciding from readings what they mean for alarms: a rule violated for long enough (or changing too
fast, or silent too long) raises or repeats an alarm, a normal reading brings an open one back to
normal. The changes themselves are actions (`tsur.dispatch.actions`); this module only decides.

Rules are applied by an `Evaluator`. In a request it is short-lived and asks the database the few
things a batch does not tell (since when a threshold has been crossed, the value a rate window ago).
In the MQTT consumer it lives as long as the process and remembers them per series, so a batch of
thousands of readings costs one query for the open alarms and writes only when an alarm changes.
That memory assumes one consumer sees all readings of a device (docs/dispatch.md: scaling out).
"""

import time
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, connection
from django.db.models import Max, Min, Q
from django.utils import timezone

from tsur.core.errors import InvalidTransition

from . import actions
from .choices import AlarmState, Condition
from .models import Alarm, AlarmRule, Device, Reading

RULES_TTL_S = 10.0  # a long-lived evaluator sees rule changes within this
# A series remembers for its rate rules at most this many readings per window (one every window /
# HISTORY_POINTS, 2 s for 10 minutes), however often its controller reports: the consumer's memory
# is then bounded by its devices, not by their rate. A rate then spans up to that much more than
# its window, which only smooths it.
HISTORY_POINTS = 300
UNKNOWN = object()


def _violating(rule: AlarmRule) -> Q:
    if rule.condition == Condition.ABOVE:
        return Q(value__gt=rule.threshold)
    if rule.condition == Condition.BELOW:
        return Q(value__lt=rule.threshold)
    return Q(value__gte=0.5)


@dataclass
class Series:
    """What an evaluator remembers of one device's metric."""

    newest_at: datetime | None = None
    runs: dict[int, datetime | None] = field(default_factory=dict)  # rule → violated since (None: fine)
    history: deque = field(default_factory=deque)  # (at, value) from `complete_from` on, thinned
    complete_from: datetime | None = None


class Evaluator:
    def __init__(self, remember: bool = False):
        self.remember = remember
        self._series: dict[tuple[int, int], Series] = {}
        self._rules: dict[int, list[AlarmRule]] | None = None
        self._rules_at = 0.0
        self._anchors: dict[tuple[int, int, int], tuple[datetime, float]] = {}
        self._by_object: dict[tuple[int, int], list[AlarmRule]] = {}  # (object, metric) → its rules

    def rules(self) -> dict[int, list[AlarmRule]]:
        """Active rules by metric id (cached for a few seconds when remembering)."""
        if self._rules is None or not self.remember or time.monotonic() - self._rules_at > RULES_TTL_S:
            by_metric = defaultdict(list)
            for rule in AlarmRule.objects.filter(is_active=True).select_related("metric"):
                by_metric[rule.metric_id].append(rule)
            self._rules, self._rules_at = dict(by_metric), time.monotonic()
            self._by_object = {}
        return self._rules

    def evaluate(self, samples: Iterable[tuple[Device, int, float, datetime]]) -> list[Alarm]:
        """Apply the rules to stored readings given as (device, metric id, value, measured at)."""
        rules = self.rules()
        by_series: dict[tuple[int, int], list[tuple[datetime, float]]] = defaultdict(list)
        devices: dict[int, Device] = {}
        for device, metric_id, value, at in samples:
            if metric_id in rules:
                by_series[device.id, metric_id].append((at, value))
                devices[device.id] = device
        if not by_series:
            return []
        open_alarms = {
            (alarm.object_id, alarm.rule_id): alarm
            for alarm in Alarm.objects.exclude(state=AlarmState.CLEARED).only(
                "id", "object_id", "rule_id", "state", "last_seen_at", "normal_since"
            )
        }
        work = []
        for (device_id, metric_id), points in by_series.items():
            device = devices[device_id]
            applicable = self._applicable(device, metric_id, rules)
            if not applicable:
                continue
            series = self._series.get((device_id, metric_id)) if self.remember else None
            if series is None:
                series = Series()
                if self.remember:
                    self._series[device_id, metric_id] = series
            points.sort()
            if series.newest_at is not None and points[-1][0] <= series.newest_at:
                continue  # a late batch (a buffer emptied, a redelivery) says nothing about now
            work.append((device, metric_id, series, points, applicable))
        wanted = []
        for device, metric_id, series, points, applicable in work:
            for rule in applicable:
                if rule.condition == Condition.RATE:
                    target = points[-1][0] - timedelta(seconds=rule.window_seconds)
                    if _needs_anchor(series, points, target):
                        wanted.append((device.id, metric_id, rule.window_seconds, target))
        self._anchors = _anchors(wanted)
        touched = []
        for device, metric_id, series, points, applicable in work:
            for rule in applicable:
                try:
                    alarm = self._apply(rule, device, metric_id, series, points, open_alarms)
                except (InvalidTransition, IntegrityError):  # another worker moved the alarm meanwhile
                    continue
                if alarm is not None:
                    touched.append(alarm)
            self._remember(series, points, applicable)
        return touched

    def _applicable(self, device: Device, metric_id: int, rules) -> list[AlarmRule]:
        key = (device.object_id, metric_id)
        found = self._by_object.get(key)
        if found is None:
            kind = device.object.kind
            found = self._by_object[key] = [
                rule
                for rule in rules[metric_id]
                if rule.object_id == device.object_id
                or (rule.object_id is None and rule.object_kind in ("", kind))
            ]
        return found

    def _apply(self, rule, device, metric_id, series, points, open_alarms) -> Alarm | None:
        at, value = points[-1]
        open_alarm = open_alarms.get((device.object_id, rule.id))
        if open_alarm is not None and at < open_alarm.last_seen_at:
            return None  # a late reading says nothing about now
        if rule.condition == Condition.RATE:
            rate = self._rate(rule, device, metric_id, series, points)
            if rate is None:
                return None
            if abs(rate) > rule.threshold:
                return actions.raise_or_repeat(device.object, rule, round(rate, 4), at)
        elif rule.condition != Condition.NO_DATA:  # silence is decided by `check_silence`
            since = self._violated_since(rule, device, metric_id, series, points)
            if since is not None:
                if at - since >= timedelta(seconds=rule.hold_seconds):
                    return actions.raise_or_repeat(device.object, rule, value, at)
                return None
        if open_alarm is None:
            return None
        if open_alarm.state == AlarmState.ACTIVE and open_alarm.normal_since is not None:
            return None  # already marked as back to normal
        return actions.back_to_normal(open_alarm, value, at)

    def _violated_since(self, rule, device, metric_id, series, points) -> datetime | None:
        """Since when the series has been violating the rule without a break (None: it is not)."""
        since = series.runs.get(rule.id, UNKNOWN) if series.newest_at is not None else UNKNOWN
        for at, value in points:
            if not rule.violated_by(value):
                since = None
            elif since is None:
                since = at
        if since is UNKNOWN:  # violating all through the batch, and nothing known before it
            since = (
                _run_began(rule, device.id, metric_id, points[-1][0]) if rule.hold_seconds else points[0][0]
            )
        series.runs[rule.id] = since
        return since

    def _rate(self, rule, device, metric_id, series, points) -> float | None:
        """Change per minute between the newest reading and the last one at least the window before it."""
        at, value = points[-1]
        target = at - timedelta(seconds=rule.window_seconds)
        earlier = None
        if series.complete_from is not None and series.complete_from <= target:
            for point in series.history:
                if point[0] > target:
                    break
                earlier = point
        if earlier is None:
            for point in points:
                if point[0] > target:
                    break
                earlier = point
        if earlier is None and _needs_anchor(series, points, target):
            # from the database (fetched for the whole batch): the newest reading a window before
            earlier = self._anchors.get((device.id, metric_id, rule.window_seconds))
            if self.remember:
                # From here on the series' memory stands for the database. Readings stored between
                # that one and the first remembered (if any) are not loaded: until a window has
                # passed, a rate may span a little more than the window, which only smooths it.
                if earlier is not None:
                    series.history.appendleft(earlier)
                series.complete_from = earlier[0] if earlier is not None else target
        if earlier is None:
            return None
        minutes = (at - earlier[0]).total_seconds() / 60
        return (value - earlier[1]) / minutes if minutes > 0 else None

    def _remember(self, series: Series, points, rules) -> None:
        series.newest_at = points[-1][0]
        if not self.remember:
            return
        windows = [rule.window_seconds for rule in rules if rule.condition == Condition.RATE]
        if not windows:
            return
        if series.complete_from is None:
            series.complete_from = points[0][0]
        history = series.history
        step = timedelta(seconds=min(windows) / HISTORY_POINTS)
        last = history[-1][0] if history else None
        for point in points:
            if last is None or point[0] - last >= step:
                history.append(point)
                last = point[0]
        cutoff = points[-1][0] - timedelta(seconds=max(windows))
        trimmed = False
        while len(history) > 1 and history[1][0] <= cutoff:
            history.popleft()
            trimmed = True
        if trimmed:  # complete from the oldest kept, which is as far back as any window looks
            series.complete_from = history[0][0]


def _needs_anchor(series: Series, points, target: datetime) -> bool:
    """Whether neither the series' memory nor the batch can tell the reading a window back."""
    covered = series.complete_from is not None and series.complete_from <= target
    return not covered and points[0][0] > target


def _anchors(
    wanted: list[tuple[int, int, int, datetime]],
) -> dict[tuple[int, int, int], tuple[datetime, float]]:
    """For each (device, metric, window, target): the newest stored reading at or before the target
    and no older than a window before it, as (measured at, value). One query on PostgreSQL."""
    if not wanted:
        return {}
    found = {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.i, r.measured_at, r.value"
                " FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[], %s::timestamptz[])"
                " WITH ORDINALITY AS s (d, m, lo, hi, i)"
                " JOIN LATERAL (SELECT measured_at, value FROM dispatch_reading"
                "   WHERE device_id = s.d AND metric_id = s.m AND measured_at > s.lo AND measured_at <= s.hi"
                "   ORDER BY measured_at DESC LIMIT 1) AS r ON true",
                [
                    [w[0] for w in wanted],
                    [w[1] for w in wanted],
                    [w[3] - timedelta(seconds=w[2]) for w in wanted],
                    [w[3] for w in wanted],
                ],
            )
            for i, measured_at, value in cursor.fetchall():
                device_id, metric_id, window, _target = wanted[i - 1]
                found[device_id, metric_id, window] = (measured_at, value)
        return found
    for device_id, metric_id, window, target in wanted:
        row = (
            Reading.objects.filter(
                device=device_id,
                metric=metric_id,
                measured_at__lte=target,
                measured_at__gt=target - timedelta(seconds=window),  # older: no rate
            )
            .order_by("-measured_at")
            .values_list("measured_at", "value")
            .first()
        )
        if row is not None:
            found[device_id, metric_id, window] = row
    return found


def _run_began(rule: AlarmRule, device_id: int, metric_id: int, at: datetime) -> datetime | None:
    """From the stored series: since when it has been violating up to `at`, looking back no further
    than the hold time needs."""
    series = Reading.objects.filter(device=device_id, metric=metric_id, measured_at__lte=at)
    window = series.filter(measured_at__gt=at - timedelta(seconds=rule.hold_seconds))
    last_normal = window.exclude(_violating(rule)).aggregate(at=Max("measured_at"))["at"]
    if last_normal is not None:
        return window.filter(measured_at__gt=last_normal).aggregate(at=Min("measured_at"))["at"]
    before = (
        series.filter(measured_at__lte=at - timedelta(seconds=rule.hold_seconds))
        .order_by("-measured_at")
        .values_list("measured_at", "value")
        .first()
    )
    if before is not None and rule.violated_by(before[1]):
        return before[0]  # violating at least since then: long enough
    return window.aggregate(at=Min("measured_at"))["at"]


def check_silence(now: datetime | None = None) -> int:
    """«No data»: raise for every controller whose metric has been silent longer than a rule allows
    (a fresh reading brings the alarm back to normal through `evaluate`). Returns alarms touched."""
    now = now or timezone.now()
    touched = 0
    for rule in AlarmRule.objects.filter(is_active=True, condition=Condition.NO_DATA).select_related(
        "metric"
    ):
        devices = Device.objects.filter(is_active=True).select_related("object")
        if rule.object_id:
            devices = devices.filter(object=rule.object_id)
        if rule.object_kind:
            devices = devices.filter(object__kind=rule.object_kind)
        horizon = now - timedelta(seconds=rule.hold_seconds)
        heard = set(
            Reading.objects.filter(metric=rule.metric, measured_at__gte=horizon, measured_at__lte=now)
            .values_list("device_id", flat=True)
            .distinct()
        )
        for device in devices.exclude(pk__in=heard) if heard else devices:
            last = (
                Reading.objects.filter(device=device, metric=rule.metric, measured_at__lte=now)
                .order_by("-measured_at")
                .values_list("measured_at", flat=True)
                .first()
            )
            since = last or device.last_seen_at
            if since is None or now - since <= timedelta(seconds=rule.hold_seconds):
                continue
            actions.raise_or_repeat(device.object, rule, round((now - since).total_seconds()), now)
            touched += 1
    return touched
