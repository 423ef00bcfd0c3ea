"""The wall screen in a real browser (Debian's chromium driven by Playwright): an analyst opens
/situation/, an appeal is registered meanwhile, and within five seconds the counter changes and its
hexagon appears on the map, without reloading; the screen is photographed at 1920×1080 and at a
phone's 390 px (and its compact version) into var/screenshots/, and nothing sticks out sideways."""

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from tsur.appeals import actions
from tsur.appeals.choices import Channel
from tsur.appeals.tests.factories import BlockFactory, RuleFactory, TopicFactory
from tsur.core.choices import Role
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory, TerritoryFactory, user_with_role

from .conftest import SCREENSHOTS
from .test_browser_workspace import sign_in

pytestmark = pytest.mark.django_db(transaction=True)
WALL, PHONE = {"width": 1920, "height": 1080}, {"width": 390, "height": 844}


def shoot(page, name: str, size: dict) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(size)
    page.wait_for_timeout(400)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=size is PHONE)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{name} is {overflow} px wider than the screen"


def test_the_wall_shows_a_new_appeal_within_five_seconds(live_server, browser_page):
    cache.clear()
    page, url = browser_page, live_server.url
    district = TerritoryFactory(name="Невский район")
    housing, roads = BlockFactory(code="zhkh", name="ЖКХ"), BlockFactory(code="roads", name="Дороги")
    water = TopicFactory(code="no-water", name="Нет горячей воды", block=housing)
    pits = TopicFactory(code="pits", name="Ямы на дороге", block=roads)
    vodokanal = OrganisationFactory(name="Водоканал Санкт-Петербурга")
    RuleFactory(topic=water, territory=district, organisation=vodokanal)
    RuleFactory(topic=pits, territory=district, organisation=OrganisationFactory(name="ГУ «Дорожник»"))
    houses = [
        BuildingFactory(
            address=f"пр. Обуховской Обороны, д. {n}",
            territory=district,
            latitude=59.88 + n / 400,
            longitude=30.42 + n / 700,
        )
        for n in range(1, 25)
    ]
    # the corners of the region's map (buildings without appeals)
    BuildingFactory(address="Рыбацкий пр., д. 1", territory=district, latitude=59.86, longitude=30.30)
    BuildingFactory(address="Рыбацкий пр., д. 99", territory=district, latitude=59.96, longitude=30.50)
    earlier = timezone.now() - timedelta(hours=3)
    for n, house in enumerate(houses):
        actions.register(
            channel=Channel.HOTLINE,
            text="Нет горячей воды" if n % 3 else "Яма у дома",
            topic=water if n % 3 else pits,
            building=house,
            author_name="Скрытая Персона",
            author_phone="+79990000001",
            at=earlier,
        )
    user_with_role(Role.ANALYST, username="analyst")

    sign_in(page, url, "analyst")
    page.set_viewport_size(WALL)
    page.goto(f"{url}/situation/")
    received = page.locator("[data-counter=received]")
    # (the page's CSP refuses eval, so the waits are selectors, not functions)
    page.wait_for_selector("[data-counter=received][data-value]", state="attached")
    page.wait_for_selector("#map:not([data-cells='0'])", state="attached")
    before = int(received.get_attribute("data-value"))
    cells_before = int(page.get_attribute("#map", "data-cells"))
    appeals_before = int(page.get_attribute("#map", "data-appeals"))
    assert appeals_before == 24
    shoot(page, "situation-1920", WALL)

    # an appeal far from the others, in a place of its own on the map, registered as a call would be
    faraway = BuildingFactory(
        address="ул. Седова, д. 97", territory=district, latitude=59.8700, longitude=30.3300
    )
    started = time.monotonic()
    actions.register(
        channel=Channel.HOTLINE, text="Нет горячей воды третий день", topic=water, building=faraway
    )
    page.wait_for_selector(
        f"[data-counter=received][data-value='{before + 1}']", state="attached", timeout=5000
    )
    page.wait_for_selector(f"#map[data-appeals='{appeals_before + 1}']", state="attached", timeout=5000)
    seen_after = time.monotonic() - started
    assert seen_after < 5
    assert int(page.get_attribute("#map", "data-cells")) == cells_before + 1
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # never reloaded

    # the colour by overdue share, then a figure opens its list of as many appeals
    page.click("button[data-mode=overdue]")
    assert page.get_attribute("button[data-mode=overdue]", "aria-pressed") == "true"
    shoot(page, "situation-1920-overdue", WALL)
    page.click("[data-counter=received]")
    page.wait_for_selector("#found")
    assert int(page.get_attribute("#found", "data-count")) == before + 1
    assert "Скрытая Персона" not in page.content() and "+79990000001" not in page.content()
    shoot(page, "situation-list-1920", WALL)

    # the leader's phone
    page.goto(f"{url}/situation/")
    page.wait_for_selector("#map:not([data-cells='0'])", state="attached")
    shoot(page, "situation-390", PHONE)
    page.goto(f"{url}/situation/?compact")
    page.wait_for_selector("#map:not([data-cells='0'])", state="attached")
    shoot(page, "situation-compact-390", PHONE)

    assert page.csp_violations == []
    assert page.console_errors == []
    print(f"the new appeal was on the wall {seen_after:.2f} s after its registration")
