"""The dispatcher's board in a real browser (Debian's chromium driven by Playwright): log in, see the
failed object on the map and its alarm, acknowledge it, open the outage and answer its appeals."""

import os
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tsur.appeals import actions
from tsur.appeals.tests.factories import TopicFactory
from tsur.core.choices import Role
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory, user_with_role
from tsur.dispatch import ingest, reference
from tsur.dispatch.choices import AlarmState, ObjectKind
from tsur.dispatch.models import Alarm, Device, EngineeringObject, Outage

pytestmark = pytest.mark.django_db(transaction=True)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("TSUR_SCREENSHOTS", "var/screenshots"))


@pytest.fixture
def browser_page(monkeypatch):
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is needed for the browser tests: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes between
    # browser steps are ordinary synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="ru-RU")
        # what the Content-Security-Policy refused, as the browser reports it on the console
        page.csp_violations = []
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text and page.csp_violations.append(message.text)
            ),
        )
        yield page
        browser.close()
        # the ORM calls made under Playwright's loop opened connections of their own context: closed
        # here, or the test database could not be dropped at the end
        from django.db import connections

        connections.close_all()


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
    user_with_role(Role.DISPATCHER, username="dispatcher")
    page.goto(f"{live_server.url}/accounts/login/?next=/dispatch/")
    page.fill("input[name=username]", "dispatcher")
    page.fill("input[name=password]", "pass-Word-123")
    page.click("input[type=submit]")

    page.wait_for_selector("#alarms tbody tr")
    row = page.locator("#alarms tbody tr").first
    assert "Котельная №1" in row.inner_text() and "Авария контроллера" in row.inner_text()
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
