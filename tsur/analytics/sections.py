"""The weekly report's figures, read from the KPI definitions (`kpi`), the ratings (`ratings`) and
the spike detector's signals: nothing here defines a figure of its own, it only chooses which to show
and words the change against the week before."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from . import charts, complaints, kpi, ratings
from .signal_models import Signal

TREND_WEEKS = 12


@dataclass
class ReportData:
    """Everything the report shows, gathered once and rendered twice (HTML and PDF)."""

    week_start: date
    week_end: date  # the Sunday
    totals: list[dict] = field(default_factory=list)  # headline figures: this week, the one before, change
    trend_labels: list[str] = field(default_factory=list)
    trend: list[charts.Series] = field(default_factory=list)
    trend_chart: str = ""
    on_time_chart: str = ""
    ratings_chart: str = ""
    problems_chart: str = ""
    ratings: list[dict] = field(default_factory=list)  # municipalities: name, index, change, place
    organisations: list[dict] = field(default_factory=list)
    index_formula: str = ""
    top_problems: list[dict] = field(default_factory=list)  # topic, block, count, change
    worst_overdue: list[dict] = field(default_factory=list)  # organisation, overdue now, oldest days
    anomalies: list[dict] = field(default_factory=list)
    complaint_book: list[dict] = field(default_factory=list)


# the headline figures, in the order the report shows them
HEADLINE = (
    "received",
    "answered",
    "on_time_share",
    "overdue_now",
    "first_response_median",
    "resolution_median",
    "redirect_rate",
    "auto_share",
    "rating_avg",
)
TOP_PROBLEMS = 10
ORGANISATIONS_AT_EACH_END = 5


def gather(week_start: date, now=None) -> ReportData:
    now = now or timezone.now()
    week = kpi.Period(week_start, week_start + timedelta(days=6))
    data = ReportData(week_start=week.first, week_end=week.last)
    _headline(data, week, now)
    _trend(data, week, now)
    _ratings(data, week, now)
    _top_problems(data, week, now)
    _worst_overdue(data, now)
    _anomalies(data, week)
    _complaint_book(data, week, now)
    return data


def text_of(value, unit: str) -> str:
    """A KPI's value as the report prints it."""
    if value is None:
        return "—"
    if unit == "share":
        return f"{value * 100:.1f} %".replace(".", ",")
    if unit == "days":
        return _("%(n)s раб. дн.") % {"n": f"{value:.1f}".replace(".", ",")}
    if unit == "mark":
        return f"{value:.2f}".replace(".", ",")
    return charts._number(value)


def change_of(value, previous, unit: str, higher_is_better: bool | None) -> tuple[str, str]:
    """(the change in words, its tone: good, bad or neutral)."""
    if value is None or previous is None:
        return "—", ""
    delta = value - previous
    if unit == "share":
        delta_text = f"{abs(delta) * 100:.1f} п. п.".replace(".", ",")
        still = abs(delta) < 0.0005
    elif unit in ("days", "mark"):
        delta_text = f"{abs(delta):.2f}".replace(".", ",")
        still = abs(delta) < 0.005
    else:
        delta_text = charts._number(abs(delta))
        still = delta == 0
    if still:
        return _("без изменений"), ""
    tone = "" if higher_is_better is None else ("good" if (delta > 0) == higher_is_better else "bad")
    return ("+" if delta > 0 else "−") + delta_text, tone


def _headline(data: ReportData, week: kpi.Period, now) -> None:
    _rows, this = kpi.table(None, "channel", week, now=now)
    _rows, before = kpi.table(None, "channel", week.previous(), now=now)
    for key in HEADLINE:
        one = kpi.BY_KEY[key]
        change, tone = change_of(this.values[key], before.values[key], one.unit, one.higher_is_better)
        data.totals.append(
            {
                "key": key,
                "label": str(one.label),
                "value": this.values[key],
                "value_text": text_of(this.values[key], one.unit),
                "previous_text": text_of(before.values[key], one.unit),
                "change_text": change,
                "tone": tone,
            }
        )


def _trend(data: ReportData, week: kpi.Period, now) -> None:
    received, answered, on_time = [], [], []
    for n in range(TREND_WEEKS - 1, -1, -1):
        first = week.first - timedelta(days=7 * n)
        one = kpi.Period(first, first + timedelta(days=6))
        _rows, total = kpi.table(None, "channel", one, now=now, percentiles=False)
        data.trend_labels.append(f"{first:%d.%m}")
        received.append(total.values["received"])
        answered.append(total.values["answered"])
        share = total.values["on_time_share"]
        on_time.append(None if share is None else round(share * 100, 1))
    data.trend = [
        charts.Series(_("Поступило"), received),
        charts.Series(_("Дан ответ"), answered),
    ]
    data.trend_chart = charts.line_chart(
        data.trend_labels, data.trend, title=_("Поступило и отвечено по неделям")
    )
    data.on_time_chart = charts.line_chart(
        data.trend_labels,
        [charts.Series(_("Доля ответов в срок"), on_time)],
        title=_("Доля ответов в срок"),
        unit=" %",
    )


def _ratings(data: ReportData, week: kpi.Period, now) -> None:
    league = ratings.league(None, "municipality", week, now=now)
    data.index_formula = ratings.formula()
    league = [r for r in league if r.rank is not None]
    for row in league:
        data.ratings.append(
            {
                "place": row.rank,
                "name": row.label,
                "index_text": "—" if row.index is None else f"{row.index:.1f}".replace(".", ","),
                "move_text": _move(row.rank_change),
                "tone": "" if not row.rank_change else ("good" if row.rank_change > 0 else "bad"),
                "received": row.values.get("received", 0),
                "on_time_text": text_of(row.values.get("on_time_share"), "share"),
                "overdue_now": row.values.get("overdue_now", 0),
            }
        )
    if league:
        data.ratings_chart = charts.bar_chart(
            [(r.label, r.index or 0, r.change) for r in league[:15]], title=_("Индекс муниципалитетов")
        )
    organisations = [r for r in ratings.league(None, "organisation", week, now=now) if r.rank is not None]
    n = ORGANISATIONS_AT_EACH_END
    shown = organisations if len(organisations) <= 2 * n else organisations[:n] + organisations[-n:]
    for i, row in enumerate(shown):
        data.organisations.append(
            {
                "place": row.rank,
                "name": row.label,
                "index_text": "—" if row.index is None else f"{row.index:.1f}".replace(".", ","),
                "move_text": _move(row.rank_change),
                "tone": "" if not row.rank_change else ("good" if row.rank_change > 0 else "bad"),
                "received": row.values.get("received", 0),
                "on_time_text": text_of(row.values.get("on_time_share"), "share"),
                "gap": len(organisations) > 2 * n and i == n,
            }
        )


def _move(change: int | None) -> str:
    """A change of place: positive when it climbed."""
    if change is None:
        return _("новый")
    if change == 0:
        return "="
    return f"▲{change}" if change > 0 else f"▼{-change}"


def _top_problems(data: ReportData, week: kpi.Period, now) -> None:
    rows, _total = kpi.table(None, "topic", week, now=now, percentiles=False)
    before_rows, _total = kpi.table(None, "topic", week.previous(), now=now, percentiles=False)
    before = {r.key: r.values["received"] for r in before_rows}
    top = [r for r in rows if r.key is not None][:TOP_PROBLEMS]
    for row in top:
        data.top_problems.append(
            {
                "topic": row.label,
                "count": row.values["received"],
                "change": row.values["received"] - before.get(row.key, 0),
            }
        )
    if top:
        data.problems_chart = charts.bar_chart(
            [(p["topic"], p["count"], p["change"]) for p in data.top_problems],
            title=_("Темы недели"),
            better="lower",
        )


def _worst_overdue(data: ReportData, now) -> None:
    rows, _total = kpi.table(None, "organisation", None, now=now, percentiles=False)
    worst = sorted(
        (r for r in rows if r.key is not None and r.values["overdue_now"]),
        key=lambda r: -r.values["overdue_now"],
    )
    data.worst_overdue = [
        {"name": r.label, "overdue": r.values["overdue_now"], "received": r.values["received"]}
        for r in worst[:10]
    ]


def _anomalies(data: ReportData, week: kpi.Period) -> None:
    signals = (
        Signal.objects.filter(window_end__gt=week.start, window_start__lt=week.end)
        .select_related("topic", "territory", "outage")
        .order_by("window_start")
    )
    for signal in signals[:30]:
        data.anomalies.append(
            {
                "topic": signal.topic.name,
                "territory": signal.territory.name,
                "when": f"{timezone.localtime(signal.window_start):%d.%m %H:%M}",
                "observed": signal.observed,
                "expected_text": f"{signal.expected:.1f}".replace(".", ","),
                "explained_by": str(signal.outage) if signal.outage_id else "",
            }
        )


def _complaint_book(data: ReportData, week: kpi.Period, now) -> None:
    for row in [r for r in complaints.league(None, week, now=now) if r.tickets][:15]:
        data.complaint_book.append(
            {
                "place": row.rank or "—",
                "name": row.label,
                "filed": row.tickets,
                "on_time_text": text_of(row.in_time_share, "share"),
                "escalations": row.escalations,
                "repeats": row.repeats,
            }
        )
