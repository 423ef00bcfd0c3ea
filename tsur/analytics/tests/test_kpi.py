"""Every KPI against values computed by hand from the fixed timeline of `timeline.py` (its
docstring lists the appeals; the working days of March 2026 are 2–6, 10–13, 16–20, 23–27, 30–31)."""

from datetime import date

import pytest

from tsur.analytics import facts, kpi
from tsur.analytics.models import AppealFact
from tsur.appeals import deadlines
from tsur.appeals.choices import RUNNING_STATUSES, DeadlineState, Status
from tsur.appeals.models import Appeal

from . import timeline
from .timeline import NOW

pytestmark = pytest.mark.django_db

MARCH = kpi.Period(date(2026, 3, 1), date(2026, 3, 31))
DAY = 86400


@pytest.fixture
def tl():
    return timeline.build()


def test_the_timeline_is_what_the_docstring_says(tl):
    a = {k: v for k, v in tl.appeals.items()}
    for appeal in a.values():
        appeal.refresh_from_db()
    assert a["A2"].organisation == tl.org_b
    assert a["A8"].status == Status.ASSIGNED and a["A8"].organisation == tl.org_b
    assert a["A6"].status == Status.IN_WORK
    assert a["A9"].status == Status.REJECTED


def test_every_fact_by_hand(tl):
    f = {name: AppealFact.objects.get(appeal=appeal) for name, appeal in tl.appeals.items()}
    # working seconds from registration to the first response
    assert {n: x.first_response_wsec for n, x in f.items()} == {
        "A0": 23 * 3600,  # Fri 27.02 10:00 → Mon 02.03 09:00: 14 h + the weekend + 9 h
        "A1": 2 * DAY,
        "A2": 4 * DAY,
        "A3": 1 * DAY,
        "A4": 1 * DAY,
        "A5": 1 * DAY,
        "A6": None,
        "A7": 11 * DAY,
        "A8": None,
        "A9": None,
    }
    # A3: 8 working days less the 2 it waited for the citizen; A5: 17, in time thanks to the extension
    assert {n: x.resolution_wsec for n, x in f.items() if n != "A0"} == {
        "A1": 2 * DAY,
        "A2": 4 * DAY,
        "A3": 3 * DAY,
        "A4": 5 * DAY,
        "A5": 17 * DAY,
        "A6": None,
        "A7": 11 * DAY,
        "A8": None,
        "A9": None,
    }
    assert [n for n, x in f.items() if x.answered_on_time] == ["A0", "A1", "A2", "A3", "A4", "A5"]
    assert [n for n, x in f.items() if x.repeat] == ["A8"]
    assert [n for n, x in f.items() if x.auto_routed] == ["A8"]
    assert [n for n, x in f.items() if x.redirected] == ["A2"]
    assert [n for n, x in f.items() if x.reopened] == ["A4"]
    assert [n for n, x in f.items() if x.confirmed] == ["A1"]
    assert {n: x.rating for n, x in f.items() if x.rating} == {"A1": 5, "A3": 2}
    assert f["A2"].organisation == tl.org_b and f["A3"].municipality == tl.d2


def test_the_total_of_march(tl):
    _rows, total = kpi.table(None, "organisation", MARCH, now=NOW)
    v, c = total.values, total.counts
    # overdue now: A6 (both deadlines passed) and A8 (no first response by the end of 25.03)
    assert (c["received"], c["answered"], c["answered_on_time"], c["overdue_now"]) == (9, 6, 5, 2)
    assert v["on_time_share"] == pytest.approx(5 / 8)
    assert v["overdue_now"] == 2
    assert v["first_response_median"] == pytest.approx(1.5)  # of 1, 1, 1, 2, 4, 11
    assert v["first_response_p90"] == pytest.approx(7.5)
    assert v["resolution_median"] == pytest.approx(4.5)  # of 2, 3, 4, 5, 11, 17
    assert v["resolution_p90"] == pytest.approx(14.0)
    assert v["reopen_rate"] == pytest.approx(1 / 6)
    assert v["redirect_rate"] == pytest.approx(1 / 9)
    assert v["auto_share"] == pytest.approx(1 / 9)
    assert v["rating_avg"] == pytest.approx(3.5)
    assert v["confirmed_share"] == pytest.approx(1 / 6)
    assert v["repeat_share"] == pytest.approx(1 / 9)


def test_by_organisation(tl):
    rows, _total = kpi.table(None, "organisation", MARCH, now=NOW)
    by = {r.key: r for r in rows}
    a, b, none = by[tl.org_a.pk], by[tl.org_b.pk], by[None]
    assert (a.counts["received"], b.counts["received"], none.counts["received"]) == (4, 4, 1)
    assert a.values["on_time_share"] == pytest.approx(3 / 4)  # A1, A3, A4 in time; A6 overdue
    assert b.values["on_time_share"] == pytest.approx(2 / 4)  # A2, A5 in time; A7 late; A8 overdue
    assert a.values["resolution_median"] == pytest.approx(3.0)  # of 2, 3, 5
    assert b.values["first_response_median"] == pytest.approx(4.0)  # of 1, 4, 11
    assert none.values["on_time_share"] is None


def test_by_municipality_block_and_channel(tl):
    rows, _ = kpi.table(None, "municipality", MARCH, now=NOW)
    assert {r.key: r.counts["received"] for r in rows} == {tl.d1.pk: 7, tl.d2.pk: 2}
    rows, _ = kpi.table(None, "block", MARCH, now=NOW)
    assert {r.key: r.counts["received"] for r in rows} == {tl.t1.block_id: 6, tl.t2.block_id: 3}
    rows, _ = kpi.table(None, "channel", MARCH, now=NOW)
    assert {r.key: r.counts["received"] for r in rows} == {"portal": 6, "hotline": 2, "app": 1}


def test_overdue_now_follows_the_clock_without_a_write(tl):
    def overdue(now):
        return kpi.table(None, "organisation", MARCH, now=now)[1].counts["overdue_now"]

    # of the appeals still running, A6's first response was due at the end of Wed 04.03 (its
    # resolution at the end of 17.03) and A8's first response at the end of Wed 25.03
    assert overdue(timeline.at(4, 12)) == 0
    assert overdue(timeline.at(5, 12)) == 1  # A6
    assert overdue(timeline.at(25, 12)) == 1  # A6
    assert overdue(NOW) == 2  # A6, A8


def test_overdue_now_is_the_register_s_own_state(tl):
    """The KPIs count as overdue exactly the appeals the register itself calls overdue at that
    moment (`deadlines.state_at`, which the job worker marks and escalates)."""
    for now in (timeline.at(4, 12), timeline.at(5, 12), NOW):
        register = {
            a.pk
            for a in Appeal.objects.filter(status__in=RUNNING_STATUSES)
            if deadlines.state_at(a, now) == DeadlineState.OVERDUE
        }
        behind = kpi.drill_appeals(Appeal.objects.all(), "overdue_now", now, {})
        assert set(behind.values_list("pk", flat=True)) == register, now


def test_filters_and_the_period(tl):
    _, total = kpi.table(None, "topic", MARCH, {"topic": tl.t2}, now=NOW)
    assert total.counts["received"] == 3
    _, february = kpi.table(None, "topic", kpi.Period(date(2026, 2, 1), date(2026, 2, 28)), now=NOW)
    assert february.counts["received"] == 1


def test_facts_rebuilt_from_scratch_are_the_same(tl):
    before = list(AppealFact.objects.order_by("pk").values())
    AppealFact.objects.all().delete()
    assert facts.rebuild() == 10
    after = list(AppealFact.objects.order_by("pk").values())
    strip = [{k: v for k, v in row.items() if k != "refreshed_at"} for row in before]
    assert strip == [{k: v for k, v in row.items() if k != "refreshed_at"} for row in after]
    assert kpi.table(None, "organisation", MARCH, now=NOW)[1].counts["answered_on_time"] == 5
