"""The portal's story in a real browser: a resident opens the front page, files an appeal with the
address found as they type, a click on the map and a photo, and reaches the number page with the
private link; the status page and the public map answer for that number and that place. Every page
is photographed at 1366×768 and at a phone's 390 px into var/screenshots/."""

import re

import pytest
from PIL import Image

from tsur.appeals import access, actions
from tsur.appeals.choices import Channel, Status
from tsur.appeals.models import Appeal, AppealPhoto
from tsur.appeals.tests.factories import BlockFactory, RuleFactory, TopicFactory
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory, TerritoryFactory

from .test_browser_workspace import shoot

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_resident_files_an_appeal_with_a_map_click_and_a_photo(live_server, browser_page, tmp_path):
    page, url = browser_page, live_server.url
    district = TerritoryFactory(name="Невский район")
    yard = TopicFactory(
        code="yard-dirty", name="Неубранный двор", block=BlockFactory(code="zhkh", name="ЖКХ")
    )
    RuleFactory(topic=yard, territory=district, organisation=OrganisationFactory(name="ЖА Невского района"))
    BuildingFactory(address="ул. Седова, д. 5", territory=district, latitude=59.90, longitude=30.40)
    across = BuildingFactory(address="ул. Седова, д. 7", territory=district, latitude=59.91, longitude=30.41)
    published, _ = actions.register(channel=Channel.HOTLINE, text="Яма во дворе", topic=yard, building=across)
    assert published.status == Status.ASSIGNED
    picture = tmp_path / "yard.png"
    Image.new("RGB", (64, 48), "olive").save(picture)

    page.goto(f"{url}/")
    shoot(page, "portal-home")
    page.click("#file-appeal")
    page.wait_for_selector("#pick-map[data-ready='1']", state="attached", timeout=10_000)
    page.fill("#id_text", "Во дворе третью неделю не убирают мусор у контейнеров")
    # the address from the register, chosen with the keyboard
    page.fill("#id_address", "Седова 5")
    page.wait_for_selector("#address-options li")
    page.press("#id_address", "ArrowDown")
    page.press("#id_address", "Enter")
    assert page.input_value("#id_address") == "ул. Седова, д. 5"
    assert page.input_value("input[name=building]") != ""
    # then the exact spot by a click on the map: the point is the click's
    page.click("#pick-map", position={"x": 200, "y": 120})
    clicked = (
        float(page.input_value("input[name=latitude]")),
        float(page.input_value("input[name=longitude]")),
    )
    assert clicked != (59.90, 30.40)
    assert "на карте" in page.inner_text("#place-status")
    page.set_input_files("#id_photos", str(picture))
    page.fill("#id_name", "Мария")
    page.fill("#id_email", "maria@example.org")
    page.check("#id_personal_data_consent")
    shoot(page, "portal-new")
    page.click("#send-appeal")
    page.wait_for_selector("#appeal-number")

    appeal = Appeal.objects.exclude(pk=published.pk).get()
    assert page.inner_text("#appeal-number").endswith(f"№ {appeal.number}")
    link = page.inner_text("#private-link")
    found = re.fullmatch(rf"{re.escape(url)}/a/{re.escape(appeal.number)}/([^/]+)/", link)
    assert found and access.opens(appeal, found.group(1))
    # the point clicked; the house still found by the address typed
    assert (appeal.latitude, appeal.longitude) == clicked
    assert appeal.building.address == "ул. Седова, д. 5"
    assert AppealPhoto.objects.filter(appeal=appeal).count() == 1
    assert (appeal.author_email, appeal.consent_source) == ("maria@example.org", "citizen")
    shoot(page, "portal-sent")

    # anybody follows the published appeal by its number, and sees it counted on the map
    page.goto(f"{url}/")
    page.fill("#status-number", published.number)
    page.press("#status-number", "Enter")
    page.wait_for_selector("#status")
    assert page.inner_text("#status") == str(Status(published.status).label)
    assert "Яма во дворе" not in page.content()
    shoot(page, "portal-status")
    page.goto(f"{url}/map/")
    page.wait_for_selector("#map[data-cells]", state="attached", timeout=10_000)
    assert "1" in page.inner_text("#map-summary")
    shoot(page, "portal-map")
    assert page.csp_violations == []
    assert page.console_errors == []
