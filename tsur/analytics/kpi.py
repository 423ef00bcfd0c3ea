"""Every KPI of the register, defined once: what each counts, over which appeals, and which appeals
stand behind its figure. Pages, exports and the weekly report read them from here.

Every figure is about the appeals *registered* in a period (whole local days), grouped by one
dimension (organisation, municipality, thematic block, topic, channel) and narrowed by filters, as
far as the reader's scope reaches. The figures are read from the per-appeal facts
(tsur.analytics.facts), which are derived from the appeals' timelines; what depends on the moment
(«overdue now») compares the stored deadline with `now` when read, so it stays true with no write.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Aggregate, Count, FloatField, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tsur.appeals import deadlines
from tsur.appeals.choices import Channel
from tsur.appeals.models import ThematicBlock, Topic
from tsur.core.models import Organisation, Territory

from .models import AppealFact

# ------------------------------------------------------------------ periods


@dataclass(frozen=True)
class Period:
    """Whole local days from `first` to `last` inclusive (as the console's «с» and «по»)."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first, time.min))

    @property
    def end(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.last + timedelta(days=1), time.min))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> "Period":
        """The period just before, of the same kind: the previous quarter or month when this one is
        a whole quarter or month, otherwise as many days just before."""
        if self.first.day == 1 and (self.last + timedelta(days=1)).day == 1:
            months = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1
            year, month = self.first.year, self.first.month - months
            while month < 1:
                month += 12
                year -= 1
            return Period(date(year, month, 1), self.first - timedelta(days=1))
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def __str__(self):
        return f"{self.first:%d.%m.%Y} — {self.last:%d.%m.%Y}"

    @classmethod
    def quarter_of(cls, day: date) -> "Period":
        month = 3 * ((day.month - 1) // 3) + 1
        first = date(day.year, month, 1)
        following = date(day.year + (month == 10), 1 if month == 10 else month + 3, 1)
        return cls(first, following - timedelta(days=1))

    @classmethod
    def month_of(cls, day: date) -> "Period":
        first = day.replace(day=1)
        following = date(day.year + (day.month == 12), 1 if day.month == 12 else day.month + 1, 1)
        return cls(first, following - timedelta(days=1))

    @classmethod
    def week_of(cls, day: date) -> "Period":
        first = day - timedelta(days=day.weekday())
        return cls(first, first + timedelta(days=6))


# ------------------------------------------------------------------ dimensions


@dataclass(frozen=True)
class Dimension:
    key: str
    label: str
    column: str
    model: type | None = None
    # the console's query parameter that selects one group, and how a group's key is written there
    param: str = ""
    param_of: Callable = str


def _code(model):
    def code_of(pk):
        return model.objects.filter(pk=pk).values_list("code", flat=True).first() or ""

    return code_of


DIMENSIONS = {
    d.key: d
    for d in (
        Dimension("organisation", _("Организация"), "organisation_id", Organisation, "organisation"),
        Dimension("municipality", _("Муниципалитет"), "municipality_id", Territory, "territory"),
        Dimension("block", _("Тематический блок"), "block_id", ThematicBlock, "block", _code(ThematicBlock)),
        Dimension("topic", _("Тема"), "topic_id", Topic, "topic", _code(Topic)),
        Dimension("channel", _("Канал"), "channel", None, "channel"),
    )
}


def labels(dimension: Dimension, keys) -> dict:
    """The names of the groups' keys."""
    if dimension.model is None:
        return {k: str(Channel(k).label) if k in Channel.values else k for k in keys}
    return dict(
        dimension.model.objects.filter(pk__in=[k for k in keys if k is not None]).values_list("pk", "name")
    )


# ------------------------------------------------------------------ counts behind the KPIs


def overdue_now(now: datetime, prefix: str = "") -> Q:
    """The register's own «просрочено» (`deadlines.overdue_now`), read from the facts."""
    return deadlines.overdue_now(now, prefix, responded="first_response_at")


def conditions(now: datetime, prefix: str = "") -> dict[str, Q]:
    """The appeals each count is made of (a fact filter; `prefix` "fact__" for an Appeal filter);
    the drill-down lists show exactly these."""

    def q(**lookups) -> Q:
        return Q(**{prefix + k: v for k, v in lookups.items()})

    return {
        "received": Q(),
        "answered": q(answered=True),
        "answered_on_time": q(answered=True, answered_on_time=True),
        "answered_late": q(answered=True, answered_on_time=False),
        "overdue_now": overdue_now(now, prefix),
        "ever_answered": q(ever_answered=True),
        "reopened": q(reopened__gt=0),
        "redirected": q(redirected__gt=0),
        "auto_routed": q(auto_routed=True),
        "rated": q(rating__isnull=False),
        "confirmed": q(confirmed=True),
        "repeat": q(repeat=True),
        "first_responded": q(first_response_wsec__isnull=False),
        "resolved": q(resolution_wsec__isnull=False),
    }


# what the console's «Показатель» filter calls each set of appeals behind a figure
DRILL_LABELS = {
    "received": _("поступившие"),
    "answered": _("с ответом в силе"),
    "answered_on_time": _("отвеченные в срок"),
    "answered_late": _("отвеченные с опозданием"),
    "overdue_now": _("просроченные сейчас"),
    "ever_answered": _("получавшие ответ"),
    "reopened": _("возобновлённые"),
    "redirected": _("перенаправленные"),
    "auto_routed": _("направленные без оператора"),
    "rated": _("оценённые заявителем"),
    "confirmed": _("подтверждённые заявителем"),
    "repeat": _("повторные (то же место и тема за 90 дней)"),
    "first_responded": _("получившие первый ответ"),
    "resolved": _("решённые"),
}


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile of a column (NULLs left out)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def percentile(values: list[float], fraction: float) -> float | None:
    """The same continuous percentile as PostgreSQL's percentile_cont, over sorted values."""
    if not values:
        return None
    position = fraction * (len(values) - 1)
    lower = int(position)
    upper = min(lower + 1, len(values) - 1)
    return values[lower] + (values[upper] - values[lower]) * (position - lower)


PERCENTILES = {
    "first_response_median": ("first_response_wsec", 0.5),
    "first_response_p90": ("first_response_wsec", 0.9),
    "resolution_median": ("resolution_wsec", 0.5),
    "resolution_p90": ("resolution_wsec", 0.9),
}


# ------------------------------------------------------------------ the KPIs


@dataclass(frozen=True)
class Kpi:
    """One figure: its name, unit, the definition in words (shown on the pages), how it is computed
    from a group's counts, and which count's appeals its figure opens."""

    key: str
    label: str
    unit: str  # "n", "share", "days", "mark"
    definition: str
    value: Callable[[dict], float | int | None]
    drill: str
    higher_is_better: bool | None = None


def _share(numerator: str, denominator: Callable[[dict], int]):
    def value(c):
        d = denominator(c)
        return c[numerator] / d if d else None

    return value


def _days(key: str):
    def value(c):
        seconds = c.get(key)
        return None if seconds is None else seconds / 86400

    return value


KPIS: list[Kpi] = [
    Kpi("received", _("Поступило"), "n",
        _("Обращений, зарегистрированных за период."),
        lambda c: c["received"], "received"),
    Kpi("answered", _("Дан ответ"), "n",
        _("Из них тех, по которым ответ дан и остаётся в силе (ответ дан или обращение закрыто); "
          "возобновлённое после ответа не считается, пока не дан новый ответ."),
        lambda c: c["answered"], "answered", True),
    Kpi("on_time_share", _("Доля ответов в срок"), "share",
        _("Отвечено в срок ÷ (отвечено + открыто и просрочено сейчас): оставленное без ответа "
          "обращение не улучшает показатель. «В срок» — ответ дан до срока решения, действовавшего "
          "в момент ответа (с продлением и паузами на уточнение)."),
        _share("answered_on_time", lambda c: c["answered"] + c["overdue_now"]), "answered_on_time", True),
    Kpi("overdue_now", _("Просрочено сейчас"), "n",
        _("Открытых обращений, у которых срок решения уже прошёл, а ответа нет (кроме ожидающих "
          "уточнения от заявителя)."),
        lambda c: c["overdue_now"], "overdue_now", False),
    Kpi("first_response_median", _("Первый ответ, медиана"), "days",
        _("Медиана времени от регистрации до первого ответа заявителю (запрос уточнения, "
          "промежуточный или окончательный ответ), в рабочих днях производственного календаря."),
        _days("first_response_median"), "first_responded", False),
    Kpi("first_response_p90", _("Первый ответ, 90-й перцентиль"), "days",
        _("90 % первых ответов даны быстрее, в рабочих днях."),
        _days("first_response_p90"), "first_responded", False),
    Kpi("resolution_median", _("Решение, медиана"), "days",
        _("Медиана времени от регистрации до ответа, который остаётся в силе, в рабочих днях, без "
          "времени ожидания уточнения от заявителя."),
        _days("resolution_median"), "resolved", False),
    Kpi("resolution_p90", _("Решение, 90-й перцентиль"), "days",
        _("90 % обращений решены быстрее, в рабочих днях, без ожидания уточнения."),
        _days("resolution_p90"), "resolved", False),
    Kpi("reopen_rate", _("Доля возобновлённых"), "share",
        _("Возобновлённые хотя бы раз ÷ получившие ответ хотя бы раз."),
        _share("reopened", lambda c: c["ever_answered"]), "reopened", False),
    Kpi("redirect_rate", _("Доля перенаправленных"), "share",
        _("Перенаправленные хотя бы раз (ошибка маршрутизации) ÷ поступившие."),
        _share("redirected", lambda c: c["received"]), "redirected", False),
    Kpi("auto_share", _("Направлено без оператора"), "share",
        _("Направленные исполнителю при регистрации решением платформы (модель или измеренное "
          "правило), без шага человека ÷ поступившие."),
        _share("auto_routed", lambda c: c["received"]), "auto_routed", True),
    Kpi("rating_avg", _("Средняя оценка"), "mark",
        _("Средняя последняя оценка ответа заявителем (1–5) там, где она поставлена."),
        lambda c: c["rating_sum"] / c["rated"] if c["rated"] else None, "rated", True),
    Kpi("confirmed_share", _("Доля подтверждённых"), "share",
        _("Закрытые заявителем или контролёром как решённые (не автоматически) ÷ получившие ответ "
          "хотя бы раз."),
        _share("confirmed", lambda c: c["ever_answered"]), "confirmed", True),
    Kpi("repeat_share", _("Доля повторных"), "share",
        _("Обращения, до которых в течение 90 дней уже было обращение по той же теме о том же месте "
          "(доме или адресе) ÷ поступившие."),
        _share("repeat", lambda c: c["received"]), "repeat", False),
]  # fmt: skip
BY_KEY = {k.key: k for k in KPIS}
COUNTS = tuple(conditions(timezone.now()))


# ------------------------------------------------------------------ reading


def facts_for(user, period: Period | None = None, filters: dict | None = None) -> QuerySet:
    """The facts a user may count: their scope, the period, the console's filters (organisation,
    territory with everything inside it, block, topic, channel)."""
    found = AppealFact.objects.all() if user is None else AppealFact.objects.restrict(user)
    if period is not None:
        found = found.filter(registered_at__gte=period.start, registered_at__lt=period.end)
    return found.filter(narrowed_by(filters or {}))


def narrowed_by(filters: dict, block: str = "block") -> Q:
    """The console's filters of the dimensions (organisation, territory with everything inside it,
    block, topic, channel) as a condition, for the facts and (`block="topic__block"`) for the
    appeals: the console's lists and the KPIs select alike."""
    where = Q()
    lookups = {"organisation": "organisation", "block": block, "topic": "topic", "channel": "channel"}
    for name, lookup in lookups.items():
        if filters.get(name):
            where &= Q(**{lookup: filters[name]})
    if filters.get("territory"):
        where &= Q(territory__path__startswith=filters["territory"].path)
    return where


@dataclass
class Row:
    key: object  # the group's key (None: the group of appeals without one; "total" for the total)
    label: str
    counts: dict
    values: dict = field(default_factory=dict)


def _counts(facts: QuerySet, column: str | None, now: datetime, percentiles: bool = True) -> dict:
    # named apart from the fields their filters read (an annotation would shadow the field)
    # counted over a column of the period's covering index (the key is not in it): an index-only scan
    aggregates = {
        f"n_{name}": Count("registered_at", filter=q) if q else Count("registered_at")
        for name, q in conditions(now).items()
    }
    aggregates["n_rating_sum"] = Sum("rating")
    postgres = connection.vendor == "postgresql"
    if postgres and percentiles:
        aggregates |= {f"n_{k}": PercentileCont(col, f) for k, (col, f) in PERCENTILES.items()}
    if column is None:
        rows = {"total": facts.aggregate(**aggregates)}
    else:
        rows = {r.pop(column): r for r in facts.order_by().values(column).annotate(**aggregates)}
    rows = {key: {name[2:]: value for name, value in row.items()} for key, row in rows.items()}
    if percentiles and not postgres:  # SQLite: the percentiles in Python over the measured times
        for col in {c for c, _f in PERCENTILES.values()}:
            found = defaultdict(list)
            query = facts.order_by().filter(**{f"{col}__isnull": False})
            for key, value in query.values_list(column or "pk", col):
                found[key if column else "total"].append(value)
            for values in found.values():
                values.sort()
            for key, row in rows.items():
                for name, (c, fraction) in PERCENTILES.items():
                    if c == col:
                        row[name] = percentile(found.get(key, []), fraction)
    for row in rows.values():
        row["rating_sum"] = row["rating_sum"] or 0
    return rows


def _total(facts: QuerySet, grouped: dict, percentiles: bool) -> dict:
    """The counts of all groups together (they add up); the percentiles over all the facts again."""
    total = {name: sum(row[name] for row in grouped.values()) for name in (*COUNTS, "rating_sum")}
    if not percentiles:
        return total
    if connection.vendor == "postgresql":
        found = facts.order_by().aggregate(**{k: PercentileCont(c, f) for k, (c, f) in PERCENTILES.items()})
        return total | found
    for name, (col, fraction) in PERCENTILES.items():
        values = sorted(facts.order_by().filter(**{f"{col}__isnull": False}).values_list(col, flat=True))
        total[name] = percentile(values, fraction)
    return total


def evaluate(counts: dict) -> dict:
    counts = {k: None for k in PERCENTILES} | counts
    return {k.key: k.value(counts) for k in KPIS}


def table(
    user,
    dimension: str,
    period: Period | None,
    filters: dict | None = None,
    now: datetime | None = None,
    *,
    percentiles: bool = True,
) -> tuple[list[Row], Row]:
    """Every KPI per group of `dimension`, and the total: (rows by appeals received, the total row).
    Without `percentiles` the four time figures are left out (None): the ratings do not use them."""
    now = now or timezone.now()
    dim = DIMENSIONS[dimension]
    facts = facts_for(user, period, filters)
    grouped = _counts(facts, dim.column, now, percentiles)
    names = labels(dim, grouped)
    rows = [Row(key, names.get(key, str(_("не указано"))), c, evaluate(c)) for key, c in grouped.items()]
    rows.sort(key=lambda r: (-r.counts["received"], r.label))
    total = _total(facts, grouped, percentiles)
    return rows, Row("total", str(_("Итого")), total, evaluate(total))


def drill_appeals(appeals: QuerySet, name: str, now: datetime, data: dict | None = None) -> QuerySet:
    """The appeals (an Appeal queryset) behind one set of DRILL_LABELS, as counted now. `data`: the
    console's filters (since, until and those of `facts_for`), applied to the facts too, so that the
    facts behind a figure are found by their own indexes before any appeal is read."""
    data = data or {}
    period = None
    if data.get("since") or data.get("until"):
        period = Period(data.get("since") or date(1900, 1, 1), data.get("until") or date(9999, 12, 30))
    found = facts_for(None, period, data).filter(drill(name, now))
    return appeals.filter(pk__in=found.values("appeal_id"))


def drill(kpi_or_count: str, now: datetime) -> Q:
    """The fact filter of the appeals behind a KPI's figure (or behind one of the counts)."""
    name = BY_KEY[kpi_or_count].drill if kpi_or_count in BY_KEY else kpi_or_count
    return conditions(now)[name]


def drill_params(
    kpi_key: str, period: Period | None, dimension: str | None = None, key=None, filters: dict | None = None
) -> dict | None:
    """The console's query parameters that list the appeals behind one figure (None: the group of
    appeals with no value of the dimension, which the console cannot select)."""
    params = {"queue": "all", "kpi": BY_KEY[kpi_key].drill if kpi_key in BY_KEY else kpi_key}
    if period is not None:
        params |= {"since": period.first.isoformat(), "until": period.last.isoformat()}
    for name, value in (filters or {}).items():
        if value:
            params[name] = (
                getattr(value, "code", None) if name in ("block", "topic") else getattr(value, "pk", value)
            )
    if dimension is not None and key != "total":
        if key is None:
            return None
        dim = DIMENSIONS[dimension]
        params[dim.param] = dim.param_of(key)
    return params
