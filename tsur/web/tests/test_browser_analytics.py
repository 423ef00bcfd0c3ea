"""The analytics pages in a real browser: an analyst reads March's KPI table, opens the appeals
behind a figure, then the ratings and the complaint book. No page breaks the Content-Security-Policy
or sticks out sideways on a phone; every page is photographed into var/screenshots/."""

import pytest

from tsur.analytics.tests import timeline
from tsur.core.choices import Role
from tsur.core.tests.factories import user_with_role

from .test_browser_workspace import shoot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

MARCH = "period=month&day=2026-03-15"


def test_an_analyst_reads_the_figures_and_opens_their_appeals(live_server, browser_page):
    page, url = browser_page, live_server.url
    tl = timeline.build()
    user_with_role(Role.ANALYST, username="analyst")

    sign_in(page, url, "analyst")
    page.goto(f"{url}/analytics/?{MARCH}")
    assert page.inner_text("#kpi-table tfoot [data-kpi=received]") == "9"
    assert page.inner_text("#kpi-table tfoot [data-kpi=on_time_share]").endswith("%")
    shoot(page, "analytics-kpi")

    page.click("#kpi-table tfoot [data-kpi=redirect_rate] a")
    page.wait_for_url("**/analytics/appeals/**")
    assert page.inner_text("#drill-list tbody").count(tl.appeals["A2"].number) == 1
    shoot(page, "analytics-appeals")

    page.goto(f"{url}/analytics/ratings/?{MARCH}&dimension=organisation")
    assert "Индекс = 100 ×" in page.inner_text("#formula")
    shoot(page, "analytics-ratings")

    page.goto(f"{url}/analytics/complaint-book/?{MARCH}")
    page.wait_for_selector("#complaints-table")
    shoot(page, "analytics-complaint-book")

    assert page.csp_violations == [] and page.console_errors == []
