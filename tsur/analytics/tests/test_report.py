"""The weekly report's machinery: when it is due, how it is drawn (charts in the PDF), the archive's
pages and who may open them, the mail to subscribers."""

import re
import zlib
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tsur.analytics import charts, report, sections
from tsur.analytics.models import ReportState, ReportSubscription, WeeklyReport
from tsur.core.choices import Role
from tsur.core.tests.factories import user_with_role
from tsur.notify.models import Delivery

MSK = ZoneInfo("Europe/Moscow")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _sample(week: date) -> sections.ReportData:
    """A report's figures as the sections would gather them, fixed by hand."""
    data = sections.ReportData(week_start=week, week_end=date.fromordinal(week.toordinal() + 6))
    data.totals = [
        {
            "label": "Поступило",
            "value_text": "1 204",
            "previous_text": "1 150",
            "change_text": "+54",
            "tone": "",
        }
    ]
    data.trend_labels = [f"{n:02d}.10" for n in range(1, 13)]
    data.trend_chart = charts.line_chart(
        data.trend_labels,
        [charts.Series("Поступило", [100 + n * 7 for n in range(12)]), charts.Series("Отвечено", [90] * 12)],
    )
    data.ratings = [
        {
            "place": 1,
            "name": "Невский район <b>",
            "index_text": "87,5",
            "move_text": "+2",
            "tone": "good",
            "received": 310,
            "on_time_text": "91 %",
            "overdue_now": 4,
        }
    ]
    data.ratings_chart = charts.bar_chart([("Невский район <b>", 87.5, 2.0), ("Кировский район", 70.0, -3.0)])
    data.problems_chart = charts.bar_chart([("Протечка кровли", 120, 30)], better="lower")
    data.top_problems = [{"topic": "Протечка кровли"}]
    return data


def test_a_line_chart_scales_to_a_round_ceiling_and_escapes_its_labels():
    svg = charts.line_chart(["<w1>", "w2"], [charts.Series("A&B", [0, 37])])
    assert "&lt;w1&gt;" in svg and "A&amp;B" in svg and "<w1>" not in svg
    # 37 → an axis to 50 (the next of 1, 2, 2.5, 5 × 10ⁿ), gridlines at 0, 12.5, 25, 37.5, 50
    assert ">50<" in svg and ">25<" in svg
    points = re.search(r'points="([^"]+)"', svg).group(1).split()
    (x0, y0), (x1, y1) = (tuple(map(float, p.split(","))) for p in points)
    assert x0 < x1 and y0 > y1  # the higher value is drawn higher


def test_a_bar_chart_colours_the_change_by_which_way_is_better():
    rising_good = charts.bar_chart([("Индекс", 80, 5)], better="higher")
    rising_bad = charts.bar_chart([("Жалобы", 80, 5)], better="lower")
    assert 'fill="#2a7a3b">+5' in rising_good
    assert 'fill="#b23a48">+5' in rising_bad
    assert "−3" in charts.bar_chart([("x", 1, -3)])


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 11, 30, 6, 59, tzinfo=MSK), None),  # Monday before seven: not yet
        (datetime(2026, 11, 30, 7, 0, tzinfo=MSK), date(2026, 11, 23)),  # seven: the week that ended
        (datetime(2026, 12, 2, 15, 0, tzinfo=MSK), date(2026, 11, 23)),  # the worker was down till Wednesday
        (
            datetime(2026, 11, 29, 23, 0, tzinfo=MSK),
            date(2026, 11, 16),
        ),  # Sunday: the week before last week's
    ],
)
@pytest.mark.django_db
def test_the_report_is_due_from_monday_seven_in_the_regions_time(now, expected):
    assert report.due(now) == expected


@pytest.mark.django_db
def test_a_week_with_its_report_is_not_due_again_unless_it_failed():
    now = datetime(2026, 11, 30, 8, 0, tzinfo=MSK)
    made = WeeklyReport.objects.create(week_start=date(2026, 11, 23), state=ReportState.READY)
    assert report.due(now) is None
    made.state = ReportState.FAILED
    made.save()
    assert report.due(now) == date(2026, 11, 23)


def _pdf_drawing(pdf: bytes) -> str:
    """The page content streams of a PDF, inflated: where its vector drawing operators are."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, flags=re.S)
    out = []
    for raw in streams:
        try:
            out.append(zlib.decompress(raw).decode("latin-1"))
        except zlib.error:
            continue
    return "\n".join(out)


def test_the_report_renders_to_a_pdf_with_its_charts():
    data = _sample(date(2026, 11, 23))
    body = report.render_html(data)
    assert "Невский район &lt;b&gt;" in body and "<svg" in body
    pdf = report.render_pdf(body)
    assert pdf.startswith(b"%PDF-")
    with_charts = len(re.findall(r" l\b", _pdf_drawing(pdf)))
    # the same report without its charts: what is left are the tables' rules
    data.trend_chart = data.ratings_chart = data.problems_chart = ""
    without = len(re.findall(r" l\b", _pdf_drawing(report.render_pdf(report.render_html(data)))))
    # the trend's two polylines alone are 2 × 11 segments, its gridlines 5 more
    assert with_charts - without >= 27


def test_the_pdf_fetches_nothing_whatever_reaches_its_html():
    with pytest.raises(ValueError):
        report._no_fetching().fetch("file:///etc/passwd")
    # an image pointing at a local file is refused, not embedded: the PDF still renders
    pdf = report.render_pdf('<p>x</p><img src="file:///etc/passwd"><img src="http://10.0.0.1/x.png">')
    assert pdf.startswith(b"%PDF-") and b"root:" not in pdf


@pytest.mark.django_db
def test_the_archive_is_for_analysts_and_leadership_only():
    item = WeeklyReport.objects.create(
        week_start=date(2026, 11, 16), state=ReportState.READY, html="<p>x</p>"
    )
    for role, expected in [
        (Role.ANALYST, 200),
        (Role.LEADERSHIP, 200),
        (Role.ADMINISTRATOR, 200),
        (Role.OPERATOR, 403),
        (Role.EXECUTOR, 403),
        (Role.CITIZEN, 403),
    ]:
        client = _client(user_with_role(role))
        assert client.get(reverse("web:analytics-reports")).status_code == expected, role
        assert client.get(reverse("web:analytics-report", args=[item.pk])).status_code == expected, role
    assert Client().get(reverse("web:analytics-reports")).status_code == 302


@pytest.mark.django_db
def test_a_report_made_on_demand_is_archived_with_its_pdf_and_downloadable(monkeypatch):
    week = report.last_full_week()
    monkeypatch.setattr(sections, "gather", lambda start: _sample(start))
    analyst = user_with_role(Role.ANALYST)
    client = _client(analyst)
    # a week that has not ended, or not a Monday, is refused and nothing is made
    assert client.post(reverse("web:analytics-report-make"), {"week": "2099-01-05"}).status_code == 400
    assert client.post(reverse("web:analytics-report-make"), {"week": "not a date"}).status_code == 400
    assert not WeeklyReport.objects.exists()

    response = client.post(reverse("web:analytics-report-make"), {"week": week.isoformat()})
    item = WeeklyReport.objects.get()
    assert response.status_code == 302 and response.url == reverse("web:analytics-report", args=[item.pk])
    assert item.state == ReportState.READY and item.made_by == analyst and item.week_start == week
    page = client.get(response.url)
    assert "Невский район &lt;b&gt;" in page.content.decode()
    download = client.get(reverse("web:analytics-report-pdf", args=[item.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF-")
    # made again on demand: the same week's report is replaced, not duplicated, and not mailed
    ReportSubscription.objects.create(user=analyst)
    client.post(reverse("web:analytics-report-make"), {"week": week.isoformat()})
    assert WeeklyReport.objects.count() == 1 and not Delivery.objects.exists()


@pytest.mark.django_db
def test_the_scheduled_report_is_mailed_once_to_its_subscribers_as_a_link(
    monkeypatch, django_capture_on_commit_callbacks
):
    from tsur.analytics import tasks

    monkeypatch.setattr(sections, "gather", lambda start: _sample(start))
    monkeypatch.setattr(report, "due", lambda now=None: date(2026, 11, 23))
    reader = user_with_role(Role.LEADERSHIP)
    reader.email = "governor@example.org"
    reader.save()
    ReportSubscription.objects.create(user=reader)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.weekly_report_when_due.call_local()
    delivery = Delivery.objects.get()
    item = WeeklyReport.objects.get()
    assert delivery.address == "governor@example.org" and delivery.topic == "report"
    assert reverse("web:analytics-report", args=[item.pk]) in delivery.text
    assert item.mailed_at is not None
    assert [m.to for m in mail.outbox] == [["governor@example.org"]]


@pytest.mark.django_db
def test_subscribing_and_unsubscribing():
    analyst = user_with_role(Role.ANALYST)
    client = _client(analyst)
    client.post(reverse("web:analytics-report-subscribe"), {"subscribe": "1"})
    client.post(reverse("web:analytics-report-subscribe"), {"subscribe": "1"})
    assert ReportSubscription.objects.filter(user=analyst).count() == 1
    client.post(reverse("web:analytics-report-subscribe"), {"subscribe": "0"})
    assert not ReportSubscription.objects.exists()
    assert (
        _client(user_with_role(Role.OPERATOR))
        .post(reverse("web:analytics-report-subscribe"), {"subscribe": "1"})
        .status_code
        == 403
    )


@pytest.mark.django_db
def test_the_reports_figures_are_the_kpis_of_the_week_and_the_one_before():
    """The KPI tests' fixed timeline: in the week of 2 March 2026 seven appeals were registered (A1–A7:
    five on «Уборка двора», two on «Ямы»), in the week before one (A0, «Уборка двора»); on 31 March
    A6 (organisation A) and A8 (organisation B, no first response) are overdue."""
    from . import timeline

    tl = timeline.build()
    data = sections.gather(date(2026, 3, 2), now=timeline.NOW)
    headline = {row["key"]: row for row in data.totals}
    assert (headline["received"]["value_text"], headline["received"]["previous_text"]) == ("7", "1")
    assert headline["received"]["change_text"] == "+6"
    assert [(p["topic"], p["count"], p["change"]) for p in data.top_problems] == [
        ("Уборка двора", 5, 4),
        ("Ямы", 2, 2),
    ]
    assert data.worst_overdue == [
        {"name": tl.org_a.name, "overdue": 1, "received": 5},
        {"name": tl.org_b.name, "overdue": 1, "received": 4},
    ]
    assert data.trend_labels[-1] == "02.03" and len(data.trend_labels) == sections.TREND_WEEKS
    assert data.trend[0].values[-2:] == [1, 7]
    body = report.render_html(data)
    for planted in (timeline.NAME, timeline.PHONE, timeline.FLAT):
        assert planted not in body
    assert report.render_pdf(body).startswith(b"%PDF-")
