"""The spike detector: a spike signals (once, with its appeals, its outage and one e-mail per
recipient), a flat series and a weekly cycle do not, the minimum count keeps small numbers quiet,
and the false-alarm rate stated in the module holds on simulated flat series."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tsur.analytics import anomalies
from tsur.analytics.models import Signal
from tsur.appeals.models import Appeal
from tsur.appeals.tests.factories import AppealFactory, TopicFactory
from tsur.core.choices import Role
from tsur.core.tests.factories import OrganisationFactory, TerritoryFactory, user_with_role
from tsur.dispatch.choices import ObjectKind, OutageState
from tsur.dispatch.models import EngineeringObject, Outage
from tsur.notify.choices import Topic as NoticeTopic
from tsur.notify.models import Delivery

pytestmark = pytest.mark.django_db

# a Monday, 23:30 in the region: the window is Sunday 23:00 → Monday 23:00
NOW = datetime(2026, 3, 2, 23, 30, tzinfo=ZoneInfo("Europe/Moscow"))
END = NOW.replace(minute=0)


def plant(topic, territory, day_offsets: dict[int, int], hour: int = 12) -> None:
    """`n` appeals on the topic in the territory at `hour` of the day `offset` days before NOW's."""
    appeals = []
    for offset, n in day_offsets.items():
        at = NOW.replace(hour=hour, minute=0) - timedelta(days=offset)
        appeals += [
            AppealFactory.build(topic=topic, territory=territory, organisation=None, registered_at=at)
            for _ in range(n)
        ]
    Appeal.objects.bulk_create(appeals)


def weeks_ago(n_each: int, weeks: int = anomalies.WEEKS) -> dict[int, int]:
    return {7 * k: n_each for k in range(1, weeks + 1)}


@pytest.fixture
def series():
    territory = TerritoryFactory(name="Невский район")
    return TopicFactory(name="Нет горячей воды"), territory


def test_the_baseline_is_the_negative_binomial_of_the_same_weeks():
    # given eight weeks of 2 a window: r = 16.5, p = 8/9, mean 16.5/8
    expected, p = anomalies.surprise(0, [2] * 8)
    assert expected == pytest.approx(2.0625)
    assert p == 1.0
    # P(X ≥ 1) = 1 − P(0) = 1 − (8/9)^16.5
    assert anomalies.surprise(1, [2] * 8)[1] == pytest.approx(1 - (8 / 9) ** 16.5)
    # the trend scales the expectation: twice the region's level, twice the count expected
    assert anomalies.surprise(0, [2] * 8, trend=2.0)[0] == pytest.approx(4.125)


def test_the_minimum_count_keeps_small_numbers_quiet(series):
    # a series that was silent for eight weeks: 3 and 4 appeals are improbable (below a loose alpha
    # of 0.001) but too few to call a spike; 5 is one
    loose = 0.001
    for observed in (3, 4):
        assert anomalies.surprise(observed, [0] * 8)[1] < loose
        assert not anomalies.is_signal(observed, anomalies.surprise(observed, [0] * 8)[1], loose)
    assert anomalies.is_signal(5, anomalies.surprise(5, [0] * 8)[1], loose)
    # and in the register: 1 a week before, 4 now: no signal; one more, and there is
    topic, territory = series
    plant(topic, territory, {7: 1, 0: 4})
    assert anomalies.evaluate(NOW, alpha=loose) == []
    plant(topic, territory, {0: 1})
    assert [s.observed for s in anomalies.evaluate(NOW, alpha=loose)] == [5]


def test_a_spike_signals_once_with_its_appeals_its_outage_and_one_mail_each(series):
    topic, territory = series
    other = TerritoryFactory(name="Выборгский район")
    plant(topic, territory, {**weeks_ago(2), 0: 16})
    plant(topic, other, {**weeks_ago(2), 0: 2})  # the neighbour is quiet
    utility = OrganisationFactory(name="Теплосеть")
    utility.territories.add(territory)
    analyst = user_with_role(Role.ANALYST, email="analyst@example.org")
    user_with_role(Role.ANALYST, territory=other, email="elsewhere@example.org")
    supervisor = user_with_role(Role.SUPERVISOR, organisation=utility, email="chief@example.org")
    user_with_role(Role.SUPERVISOR, organisation=OrganisationFactory(), email="other-chief@example.org")
    boiler = EngineeringObject.objects.create(
        code="k-1", name="Котельная № 1", kind=ObjectKind.BOILER_HOUSE, territory=territory, owner=utility
    )
    outage = Outage.objects.create(
        object=boiler, state=OutageState.ACTIVE, started_at=NOW - timedelta(hours=3)
    )
    outage.topics.add(topic)

    raised = anomalies.evaluate(NOW)

    assert len(raised) == 1
    signal = raised[0]
    assert (signal.topic, signal.territory, signal.observed) == (topic, territory, 16)
    assert (signal.window_start, signal.window_end) == (END - timedelta(hours=24), END)
    assert signal.baseline["weeks"] == [2] * 8
    # the trend: the region's 7 days before the window (2 + 2 on day 7) against the mean of the 7
    # days before each baseline window (4 for seven of them, none before the eighth): 5 / 4.5
    assert signal.expected == pytest.approx(16.5 / 8 * (4 + 1) / (28 / 8 + 1))
    assert signal.p_value < anomalies.ALPHA
    assert signal.appeals.count() == 16
    assert set(signal.appeals.values_list("territory", flat=True)) == {territory.pk}
    assert signal.outage == outage
    mails = Delivery.objects.filter(topic=NoticeTopic.ANOMALY)
    assert sorted(mails.values_list("address", flat=True)) == sorted([analyst.email, supervisor.email])
    assert signal.notified == 2

    # an hour later the same spike is the same signal: it grows, nobody is told again
    plant(topic, territory, {0: 2}, hour=23)
    assert anomalies.evaluate(NOW + timedelta(hours=1)) == []
    signal.refresh_from_db()
    assert (Signal.objects.count(), signal.observed, signal.appeals.count()) == (1, 18, 18)
    assert mails.count() == 2


def test_a_flat_series_does_not_signal(series):
    topic, territory = series
    plant(topic, territory, dict.fromkeys(range(0, 63), 6))
    assert anomalies.evaluate(NOW) == []
    assert Signal.objects.count() == 0


def test_a_weekly_cycle_is_no_surprise(series):
    # busy Mondays (25), quiet other days (2): today is a Monday
    topic, territory = series
    plant(topic, territory, {d: (25 if d % 7 == 0 else 2) for d in range(0, 63)})
    assert anomalies.evaluate(NOW) == []
    # the last seven days' daily mean would have called this Monday a spike
    assert anomalies.surprise(25, [round((25 + 6 * 2) / 7)] * 8)[1] < anomalies.ALPHA


def test_a_region_wide_rise_of_the_topic_raises_the_expectation(series):
    # the season: the topic has doubled across the region over the last week, here too
    topic, territory = series
    plant(topic, territory, {**dict.fromkeys(range(8, 71), 2), **dict.fromkeys(range(1, 8), 5), 0: 16})
    one = next(s for s in anomalies.series(END) if s.territory_id == territory.pk)
    assert (one.observed, one.history) == (16, [5, 2, 2, 2, 2, 2, 2, 2])
    # the 7 days before the window (35) against the mean of the 7 days before each baseline window (14)
    assert one.trend == pytest.approx((35 + 1) / (14 + 1))
    assert one.expected == pytest.approx(19.5 / 8 * 2.4)
    assert anomalies.evaluate(NOW) == []
    # without the season's factor the same count would have been a spike
    assert anomalies.surprise(16, one.history, trend=1.0)[1] < anomalies.ALPHA


def test_the_stated_false_alarm_rate_holds_on_flat_series():
    # 4,000 series whose rate never changes, at three levels; one evaluation each at a loose alpha
    # (the stated ALPHA is too rare to count in a test): the share that signals stays within it
    rng = np.random.default_rng(17)
    alpha = 0.01
    for rate in (3, 8, 20):
        history = rng.poisson(rate, size=(4000, anomalies.WEEKS))
        observed = rng.poisson(rate, size=4000)
        alarms = sum(
            anomalies.is_signal(int(x), anomalies.surprise(int(x), list(h))[1], alpha)
            for x, h in zip(observed, history, strict=True)
        )
        bound = 4000 * alpha + 3 * (4000 * alpha * (1 - alpha)) ** 0.5  # three standard deviations
        assert alarms <= bound, (rate, alarms)
        assert alarms > 0, rate  # calibrated, not blind: some flat series do cross a loose alpha
    # and the stated daily rate is the per-evaluation alpha times the evaluations of a day
    assert anomalies.ALPHA * anomalies.EVALUATIONS_PER_DAY == pytest.approx(
        anomalies.FALSE_ALARMS_PER_SERIES_PER_DAY
    )
