"""The dispatcher's board in a real browser (Debian's chromium driven by Playwright): log in, see the
failed object on the map and its alarm, acknowledge it, open the outage and answer its appeals."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tsur.appeals import actions
from tsur.appeals.tests.factories import TopicFactory
from tsur.core.choices import Role
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory, user_with_role
from tsur.dispatch import ingest, reference
from tsur.dispatch.choices import AlarmState, ObjectKind
from tsur.dispatch.models import Alarm, Device, EngineeringObject, Outage

from .conftest import SCREENSHOTS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def failure():
    reference.ensure()
    owner = OrganisationFactory(name="Теплосеть")
    building = BuildingFactory(address="ул. Садовая, д. 5", latitude=59.931, longitude=30.311)
    plant = EngineeringObject.objects.create(
        code="k1",
        name="Котельная №1",
        kind=ObjectKind.BOILER_HOUSE,
        owner=owner,
        latitude=59.93,
        longitude=30.31,
    )
    plant.serves.set([building])
    EngineeringObject.objects.create(
        code="k2",
        name='<img src=x onerror="window.pwned=1">Котельная №2',  # data, not markup
        kind=ObjectKind.BOILER_HOUSE,
        owner=owner,
        latitude=59.95,
        longitude=30.35,
    )
    appeal, _ = actions.register(
        channel="portal",
        text="Нет отопления",
        building=building,
        topic=TopicFactory(code="zhkh-no-heating", name="Отсутствие отопления"),
        organisation=owner,
        at=timezone.now() - timedelta(minutes=20),
    )
    device, _ = Device.issue("plc-k1", plant)
    ingest.accept(device, [{"metric": "fault", "value": 1, "unit": "flag", "at": timezone.now().isoformat()}])
    return {"appeal": appeal, "alarm": Alarm.objects.get(object=plant)}


def test_a_dispatcher_acknowledges_an_alarm_and_answers_the_outage(live_server, browser_page, failure):
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 768})
    user_with_role(Role.DISPATCHER, username="dispatcher")
    page.goto(f"{live_server.url}/accounts/login/?next=/dispatch/")
    page.fill("input[name=username]", "dispatcher")
    page.fill("input[name=password]", "pass-Word-123")
    page.click("input[type=submit]")

    page.wait_for_selector("#alarms tbody tr")
    row = page.locator("#alarms tbody tr").first
    assert "Котельная №1" in row.inner_text() and "Авария контроллера" in row.inner_text()
    assert "авария" in row.inner_text() and "flag" not in row.inner_text()
    # at 1366 px the table stays inside its card and the button is whole
    card = page.locator(".side .card").first.bounding_box()
    button = row.get_by_role("button", name="Квитировать").bounding_box()
    assert button["x"] + button["width"] <= card["x"] + card["width"]
    assert page.evaluate(
        "document.querySelector('#alarms').scrollWidth <= document.querySelector('#alarms').parentElement.clientWidth"
    )
    assert page.locator("[data-count=critical]").inner_text() == "1"
    assert page.get_attribute("#map", "data-markers") == "2"  # both objects drawn
    for marker in page.locator("#map path.leaflet-interactive").all():
        marker.hover()  # tooltips, one with the hostile name
    page.wait_for_timeout(300)
    assert page.evaluate("window.pwned") is None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dispatch-board.png"))

    row.get_by_role("button", name="Квитировать").click()
    page.wait_for_selector("#alarms tbody tr .pill.acknowledged")
    failure["alarm"].refresh_from_db()
    assert failure["alarm"].state == AlarmState.ACKNOWLEDGED

    page.click("#outages tbody a")
    page.wait_for_selector("h1")
    assert failure["appeal"].number in page.content()
    planned = (timezone.localtime() + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M")
    page.fill("input[name=planned_at]", planned)
    page.get_by_role("button", name="Ответить всем").click()
    page.wait_for_selector(".alert.ok")
    assert "Промежуточный ответ дан: 1" in page.inner_text(".alert.ok")
    page.screenshot(path=str(SCREENSHOTS / "dispatch-outage.png"), full_page=True)
    failure["appeal"].refresh_from_db()
    assert failure["appeal"].status == "interim"
    assert Outage.objects.get().expected_end_at is not None
    assert page.csp_violations == []
    assert page.console_errors == []


@pytest.mark.parametrize(
    ("url", "ready"), [("/api/docs/", ".swagger-ui .opblock"), ("/api/redoc/", "redoc h1")]
)
def test_the_api_documentation_works_under_the_content_security_policy(live_server, browser_page, url, ready):
    page = browser_page
    response = page.goto(f"{live_server.url}{url}")
    assert "script-src 'self'" in response.headers["content-security-policy"]

    page.wait_for_selector(ready, timeout=15_000)

    assert "appeals" in page.content()
    # Redoc's own page asks a CDN for fonts and a logo: refusing those is the policy at work
    assert [
        v
        for v in page.csp_violations
        if not re.search(r"'https://(fonts\.googleapis\.com|cdn\.redoc\.ly)/", v)
    ] == []
