"""The analytics pages for analysts, leadership and supervisors (a supervisor sees their
organisation): the KPI table by any dimension and period, the ratings, the complaint book's league
table. Figures only, never a citizen's data; every figure opens its appeals in the console's
filter (or, for those without the console, in the read-only list of `figure_views`, with the same
query parameters)."""

from urllib.parse import urlencode

from django import forms as django_forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from tsur.analytics import complaints, kpi, ratings

from . import forms, places

PAGE_SIZE = 50
PERIODS = [
    ("quarter", gettext_lazy("квартал")),
    ("month", gettext_lazy("месяц")),
    ("week", gettext_lazy("неделя")),
    ("custom", gettext_lazy("с … по …")),
]
FILTERS = ("organisation", "territory", "block", "topic", "channel")


class AnalyticsForm(forms.QueueFilterForm):
    """The console's filters that the KPIs understand, the dimension and the period."""

    dimension = django_forms.ChoiceField(
        label=gettext_lazy("Группировать по"),
        required=False,
        choices=[(d.key, d.label) for d in kpi.DIMENSIONS.values()],
    )
    period = django_forms.ChoiceField(label=gettext_lazy("Период"), required=False, choices=PERIODS)
    day = django_forms.DateField(label=gettext_lazy("Дата в периоде"), required=False, widget=forms.DATE)

    def __init__(self, *args, dimensions=None, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("q", "status", "deadline_state", "sort", "kpi"):
            del self.fields[name]
        if dimensions == ():
            del self.fields["dimension"]
            for name in FILTERS:  # the complaint book is counted per company over the period alone
                del self.fields[name]
        elif dimensions is not None:
            self.fields["dimension"].choices = [(k, kpi.DIMENSIONS[k].label) for k in dimensions]
        order = ["dimension", "period", "day", "since", "until", *FILTERS]
        self.order_fields(order)

    def period_of(self) -> kpi.Period:
        data = self.cleaned_data if self.is_valid() else {}
        kind, day = data.get("period") or "quarter", data.get("day") or timezone.localdate()
        if kind == "custom" and data.get("since") and data.get("until") and data["since"] <= data["until"]:
            return kpi.Period(data["since"], data["until"])
        if kind == "month":
            return kpi.Period.month_of(day)
        if kind == "week":
            return kpi.Period.week_of(day)
        return kpi.Period.quarter_of(day)

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {name: data[name] for name in FILTERS if data.get(name) and name in self.fields}

    def dimension_of(self, default: str) -> str:
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("dimension") or default


def _require(request) -> None:
    if not places.may_open(request.user, places.ANALYTICS):
        raise PermissionDenied(_("Показатели доступны аналитикам, руководству и руководителям организаций."))


def _list_url(user, params: dict | None) -> str | None:
    """Where a figure's appeals are listed: the console for those who work in it, else the list here."""
    if params is None:
        return None
    base = (
        reverse("web:console") if places.may_open(user, places.CONSOLE) else reverse("web:analytics-appeals")
    )
    return f"{base}?{urlencode(params)}"


def shown(value, unit: str) -> str:
    """A figure as the pages write it: a share in per cent, times in working days, a mark."""
    if value is None:
        return "—"
    if unit == "share":
        return f"{number_format(round(value * 100, 1), 1)} %"
    if unit in ("days", "mark"):
        return number_format(round(value, 1), 1)
    return number_format(value, 0, force_grouping=True)


def _cells(user, row, period, dimension, filters) -> list[dict]:
    return [
        {
            "kpi": k.key,
            "text": shown(row.values[k.key], k.unit),
            "url": _list_url(user, kpi.drill_params(k.key, period, dimension, row.key, filters)),
        }
        for k in kpi.KPIS
    ]


@login_required
@require_GET
def kpi_table(request):
    """Every KPI by the chosen dimension over the chosen period, with the total."""
    _require(request)
    form = AnalyticsForm(request.GET)
    period, filters, dimension = form.period_of(), form.filters(), form.dimension_of("organisation")
    rows, total = kpi.table(request.user, dimension, period, filters)
    context = {
        "section": "analytics",
        "tab": "kpi",
        "form": form,
        "period": period,
        "dimension": kpi.DIMENSIONS[dimension],
        "kpis": kpi.KPIS,
        "rows": [{"row": r, "cells": _cells(request.user, r, period, dimension, filters)} for r in rows],
        "total": {"row": total, "cells": _cells(request.user, total, period, None, filters)},
    }
    return render(request, "web/analytics/kpi.html", context)


@login_required
@require_GET
def ratings_page(request):
    """League tables of municipalities or organisations by the composite index."""
    _require(request)
    form = AnalyticsForm(request.GET, dimensions=ratings.DIMENSIONS)
    period, filters, dimension = form.period_of(), form.filters(), form.dimension_of("municipality")
    standings = ratings.league(request.user, dimension, period, filters)
    weights = ratings.weights()
    for s in standings:
        s.cells = [shown(s.scores.get(k), "share") for k in ratings.COMPONENTS if weights.get(k)]
        s.index_text = shown(s.index, "mark")
        s.change_text = "—" if s.change is None else f"{s.change:+.1f}".replace(".", ",")
        params = kpi.drill_params("received", period, dimension, s.key, filters)
        s.url = _list_url(request.user, params)
    context = {
        "section": "analytics",
        "tab": "ratings",
        "form": form,
        "period": period,
        "previous": period.previous(),
        "dimension": kpi.DIMENSIONS[dimension],
        "standings": standings,
        "components": [ratings.COMPONENTS[k] for k in ratings.COMPONENTS if weights.get(k)],
        "weights": weights,
        "formula": ratings.formula(weights),
        "least": settings.TSUR["RATING_MIN_APPEALS"],
    }
    return render(request, "web/analytics/ratings.html", context)


@login_required
@require_GET
def complaint_book(request):
    """The management companies' league table of the complaint book."""
    _require(request)
    form = AnalyticsForm(request.GET, dimensions=())
    period = form.period_of()
    rows = complaints.league(request.user, period)
    for r in rows:
        r.share_text = shown(r.in_time_share, "share")
    context = {"section": "analytics", "tab": "complaints", "form": form, "period": period, "rows": rows}
    return render(request, "web/analytics/complaint_book.html", context)
