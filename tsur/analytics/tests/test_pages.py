"""The same figures through the pages as through kpi.py; every figure opens exactly its appeals; an
analyst sees figures and never a citizen's name, phone or flat; a supervisor sees their organisation."""

import re
from datetime import date

import pytest
from django.test import Client
from django.utils import timezone

from tsur.analytics import kpi, ratings
from tsur.appeals.tests.factories import TicketFactory
from tsur.core.choices import OrganisationKind, Role
from tsur.core.tests.factories import user_with_role

from . import timeline
from .timeline import FLAT, NAME, NOW, PHONE

pytestmark = pytest.mark.django_db

MARCH = {"period": "month", "day": "2026-03-15"}


@pytest.fixture
def tl(monkeypatch):
    built = timeline.build()
    monkeypatch.setattr(timezone, "now", lambda: NOW)  # the pages read «now» for «overdue now»
    return built


def client_of(role, **scope):
    client = Client()
    client.force_login(user_with_role(role, **scope))
    return client


def cell(html: str, key, name: str) -> tuple[str, str | None]:
    """(text, link) of one figure in the row of `key`."""
    row = re.search(rf'<tr[^>]*data-key="{key}"[^>]*>(.*?)</tr>', html, re.S).group(1)
    found = re.search(rf'data-kpi="{name}">(?:<a href="([^"]+)">)?([^<]*)', row)
    return found.group(2), (found.group(1) or "").replace("&amp;", "&") or None


def test_the_kpi_page_shows_the_hand_computed_figures(tl):
    html = client_of(Role.ANALYST).get("/analytics/", MARCH).content.decode()
    assert cell(html, "total", "received")[0] == "9"
    assert cell(html, "total", "on_time_share")[0] == "62,5 %"  # 5 ÷ (6 answered + 2 overdue now)
    assert cell(html, "total", "first_response_median")[0] == "1,5"
    assert cell(html, "total", "resolution_p90")[0] == "14,0"
    assert cell(html, "total", "rating_avg")[0] == "3,5"
    assert cell(html, tl.org_a.pk, "on_time_share")[0] == "75,0 %"
    assert cell(html, tl.org_b.pk, "on_time_share")[0] == "50,0 %"  # A2, A5 ÷ (3 + A8)


def test_every_figure_opens_exactly_its_appeals(tl):
    analyst = client_of(Role.ANALYST)
    html = analyst.get("/analytics/", MARCH).content.decode()
    expected = {
        ("total", "overdue_now"): {"A6", "A8"},
        ("total", "redirect_rate"): {"A2"},
        ("total", "repeat_share"): {"A8"},
        ("total", "reopen_rate"): {"A4"},
        ("total", "on_time_share"): {"A1", "A2", "A3", "A4", "A5"},
        (tl.org_a.pk, "received"): {"A1", "A3", "A4", "A6"},
        (tl.org_b.pk, "answered"): {"A2", "A5", "A7"},
    }
    numbers = {a.number: name for name, a in tl.appeals.items()}
    for (key, name), appeals in expected.items():
        _text, link = cell(html, key, name)
        assert link.startswith("/analytics/appeals/?")
        listed = analyst.get(link).content.decode()
        shown = {
            numbers[n]
            for n in re.findall(r'<td class="nowrap c-num">(\d[\d-]+)</td>', listed)
            if n in numbers
        }
        assert shown == appeals, (key, name)


def test_an_operator_is_sent_to_the_console_with_the_same_filter(tl):
    operator = client_of(Role.ADMINISTRATOR)
    html = operator.get("/analytics/", MARCH).content.decode()
    _text, link = cell(html, "total", "overdue_now")
    assert link.startswith("/console/?") and "kpi=overdue_now" in link and "since=2026-03-01" in link
    listed = operator.get(link).content.decode()
    assert tl.appeals["A6"].number in listed and tl.appeals["A7"].number not in listed


def test_an_analyst_sees_figures_but_no_personal_data(tl):
    TicketFactory(organisation=tl.org_b, citizen_name=NAME, citizen_phone=PHONE, address=FLAT)
    analyst = client_of(Role.ANALYST)
    pages = ["/analytics/", "/analytics/ratings/", "/analytics/complaint-book/"]
    html = "".join(analyst.get(p, MARCH).content.decode() for p in pages)
    for key in ("received", "overdue_now", "answered"):
        link = cell(analyst.get("/analytics/", MARCH).content.decode(), "total", key)[1]
        html += analyst.get(link).content.decode()
    assert "62,5 %" in html
    for planted in (NAME.split()[0], PHONE, FLAT, "pantelei"):
        assert planted not in html


def test_a_supervisor_sees_their_organisation_only(tl):
    supervisor = client_of(Role.SUPERVISOR, organisation=tl.org_a)
    html = supervisor.get("/analytics/", MARCH).content.decode()
    assert cell(html, "total", "received")[0] == "4"
    assert f'data-key="{tl.org_b.pk}"' not in html


def test_ratings_page_shows_the_index_with_its_formula(tl, settings):
    settings.TSUR = {**settings.TSUR, "RATING_MIN_APPEALS": 1, "RATING_WEIGHTS": "on_time=1,overdue=1"}
    html = (
        client_of(Role.LEADERSHIP).get("/analytics/ratings/", MARCH | {"dimension": "organisation"}).content
    )
    html = html.decode()
    assert "1·[доля ответов в срок] + 1·[1 − просрочено сейчас ÷ поступило]" in html
    # A: (3/4 + (1 − 1/4)) ÷ 2 = 75.0; B: (2/4 + (1 − 1/4)) ÷ 2 = 62.5 (A8 overdue now); A first
    rows = re.findall(r'<tr data-key="(\d+)"><td class="num">(\d+)</td>.*?an-index">([^<]+)<', html, re.S)
    assert rows == [(str(tl.org_a.pk), "1", "75,0"), (str(tl.org_b.pk), "2", "62,5")]


def test_the_league_against_the_previous_period(tl, settings):
    settings.TSUR = {**settings.TSUR, "RATING_MIN_APPEALS": 1, "RATING_WEIGHTS": "on_time=1"}
    march = kpi.Period(date(2026, 3, 1), date(2026, 3, 31))
    assert march.previous() == kpi.Period(date(2026, 2, 1), date(2026, 2, 28))
    standings = {s.key: s for s in ratings.league(None, "organisation", march, now=NOW)}
    a = standings[tl.org_a.pk]
    # February: A0 answered in time → 100; March: 3 of 4 → 75; a fall of 25 points
    assert (a.previous_index, a.index, a.change) == (
        pytest.approx(100),
        pytest.approx(75),
        pytest.approx(-25),
    )
    assert standings[tl.org_b.pk].previous_index is None


def test_the_complaint_book_league(tl):
    company = tl.org_b
    company.kind = OrganisationKind.MANAGEMENT_COMPANY
    company.save()
    at = timeline.at
    TicketFactory(organisation=company, filed_at=at(2, 9), due_at=at(5, 9), fulfilled_at=at(4, 9))
    TicketFactory(organisation=company, filed_at=at(3, 9), due_at=at(6, 9), fulfilled_at=at(9, 9))
    TicketFactory(organisation=company, filed_at=at(4, 9), due_at=at(10, 9))  # never fulfilled
    TicketFactory(organisation=company, filed_at=at(30, 9), due_at=at(3, 9, month=4))  # term runs
    html = client_of(Role.ANALYST).get("/analytics/complaint-book/", MARCH).content.decode()
    row = re.search(rf'<tr data-key="{company.pk}">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'<td class="num">([^<]*)</td>', row) == ["1", "4", "1", "2", "1", "33,3 %", "0", "0"]
