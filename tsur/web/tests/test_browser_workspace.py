"""The workspace's story in a real browser (Debian's chromium driven by Playwright): the operator
finds a new appeal in moderation and accepts what the text model suggested, the executor takes it and
answers with a photo, the operator sees it answered; an executor of another organisation gets a 404.
Every page is photographed at 1366×768 and at a phone's 390 px into var/screenshots/."""

import pytest
from PIL import Image

from tsur.appeals.choices import Status
from tsur.appeals.models import Appeal
from tsur.core.choices import Role
from tsur.core.tests.factories import user_with_role

from .conftest import SCREENSHOTS

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "pass-Word-123"  # the factories' password
WIDE, PHONE = {"width": 1366, "height": 768}, {"width": 390, "height": 844}


def shoot(page, name: str) -> None:
    """The page as it looks at 1366×768 and on a phone; nothing may stick out sideways on either."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for size, suffix in ((WIDE, "1366"), (PHONE, "390")):
        page.set_viewport_size(size)
        page.wait_for_timeout(150)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{suffix}.png"), full_page=True)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} at {suffix} px is {overflow} px wider than the screen"
    page.set_viewport_size(WIDE)


def sign_in(page, url, username):
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()


def sign_out(page):
    page.click(".topbar button:has-text('Выйти')")
    page.wait_for_url("**/")


def test_an_appeal_goes_from_moderation_to_an_answer(live_server, browser_page, region, tmp_path):
    page, url = browser_page, live_server.url
    number = region["new"].number
    picture = tmp_path / "done.png"
    Image.new("RGB", (64, 48), "green").save(picture)
    user_with_role(Role.ANALYST, username="analyst")

    # the operator: the sign-in page, the moderation queue, the card with the model's suggestion
    page.goto(f"{url}/accounts/login/")
    assert "Вход в ЦУР" in page.content()  # Russian, though the browser asks for English
    shoot(page, "login")
    sign_in(page, url, "operator")
    assert page.url == f"{url}/console/"
    assert page.locator("[data-queue=moderation]").inner_text() == "1"
    shoot(page, "console-queue")
    page.fill("input[name=q]", "кровл")
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**q=*")
    page.click(f"text={number}")
    page.wait_for_selector("#accept-suggestion")
    assert "Протечка кровли" in page.inner_text(".understood")
    # the map is drawn by a script that may run after the card's form is in the page: wait for it
    page.wait_for_selector("#appeal-map[data-ready='1']", state="attached", timeout=10_000)
    assert page.evaluate("window.pwned") is None
    assert "<img src=x" in page.inner_text("#appeal-text")  # the text shown as text
    shoot(page, "console-card")
    page.click("#accept-suggestion")
    page.wait_for_selector(".alert.ok")
    assert page.inner_text(".alert.ok") == "Исполнитель назначен."
    assert page.inner_text("#status") == "Назначено исполнителю"
    shoot(page, "console-card-assigned")
    sign_out(page)

    # the executor of that organisation: the queue, take it into work, answer with a photo
    sign_in(page, url, "executor")
    assert page.url == f"{url}/work/"
    assert number in page.inner_text("table")
    shoot(page, "work-queue")
    page.click(f"text={number}")
    page.click("#step-take button")
    page.wait_for_selector(".alert.ok")
    assert page.inner_text("#status") == "В работе"
    page.click("#step-answer summary")
    page.fill("#step-answer textarea", "Кровля отремонтирована, протечки нет.")
    page.set_input_files("#step-answer input[type=file]", str(picture))
    shoot(page, "work-card")
    page.click("#step-answer button")
    page.wait_for_selector(".alert.ok")
    assert page.inner_text(".alert.ok") == "Ответ дан."
    assert page.locator(".photos img").count() == 1
    shoot(page, "work-card-answered")
    sign_out(page)

    # the operator sees it answered
    sign_in(page, url, "operator")
    page.goto(f"{url}/console/?queue=all&q={number}")
    row = page.locator("table.appeals tbody tr").first
    assert number in row.inner_text() and "Дан ответ" in row.inner_text()
    appeal = Appeal.objects.get(number=number)
    assert (appeal.status, appeal.organisation, appeal.photos.count()) == (Status.ANSWERED, region["ours"], 1)
    page.goto(f"{url}/accounts/logout/")
    shoot(page, "logout")
    page.click("main button")
    page.wait_for_url("**/")
    shoot(page, "home")

    # the leadership's overview
    sign_in(page, url, "analyst")
    assert page.url == f"{url}/overview/"
    shoot(page, "overview")
    sign_out(page)

    # an executor of another organisation: not found, in Russian, in the product's layout
    sign_in(page, url, "stranger")
    errors_before = len(page.console_errors)
    response = page.goto(f"{url}/work/appeals/{number}/")
    assert response.status == 404
    assert "Страница не найдена" in page.inner_text("main")
    shoot(page, "not-found")
    # the browser reports the 404 document itself on its console: that one is expected
    del page.console_errors[errors_before:]

    assert page.csp_violations == []
    assert page.console_errors == []
