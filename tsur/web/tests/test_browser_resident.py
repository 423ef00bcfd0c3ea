"""A resident's story in a real browser (Debian's chromium driven by Playwright): asks for a code,
reads it from the mail the platform wrote to files (the demo's mail backend, here in a temporary
folder), signs in, finds the answered appeal in «мои обращения», opens it, rates the answer and
confirms it — by keyboard and by the labels a screen reader announces. Every page is photographed at
1366×768 and at a phone's 390 px into var/screenshots/, and may not stick out sideways."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tsur.appeals import actions
from tsur.appeals.choices import Channel, EventKind, Status
from tsur.appeals.models import Appeal
from tsur.appeals.tests.factories import TopicFactory
from tsur.core.choices import Role
from tsur.core.tests.factories import OrganisationFactory, user_with_role

from .conftest import HOSTILE
from .test_browser_workspace import shoot

pytestmark = pytest.mark.django_db(transaction=True)


def code_in(folder) -> str:
    """The code in the one sign-in message the file backend wrote into `folder` (which also holds
    the notice of the answer)."""
    found = [
        match.group(1)
        for message in folder.iterdir()
        for match in re.finditer(
            r"код для входа в личный кабинет ЦУР: (\d{6})", message.read_text(encoding="utf-8")
        )
    ]
    assert len(found) == 1, found
    return found[0]


def test_a_resident_signs_in_with_a_code_rates_the_answer_and_confirms_it(
    live_server, browser_page, settings, tmp_path
):
    # given: the platform writes mail to files, as the demo does; an appeal of the resident answered
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    page, url = browser_page, live_server.url
    organisation = OrganisationFactory(name="ЖА Невского района")
    executor = user_with_role(Role.EXECUTOR, organisation=organisation)
    resident = user_with_role(
        Role.CITIZEN, username="maria@example.org", email="maria@example.org", password=None
    )
    earlier = timezone.now() - timedelta(days=2)
    appeal, _ = actions.register(
        channel=Channel.PORTAL,
        text=HOSTILE,
        address="ул. Седова, д. 5, кв. 17",
        topic=TopicFactory(name="Протечка кровли"),
        organisation=organisation,
        author=resident,
        personal_data_consent=True,
        at=earlier,
    )
    actions.take(appeal, executor, at=earlier + timedelta(hours=1))
    actions.answer(appeal, executor, text="Кровля отремонтирована, протечки нет.")
    key = appeal.access_key

    # the resident asks for a code, from the staff sign-in page's link
    page.goto(f"{url}/accounts/login/")
    page.get_by_role("link", name="Вход по электронной почте").click()
    page.wait_for_url("**/my/login/")
    shoot(page, "resident-ask-code")
    page.get_by_label("Электронная почта").fill("maria@example.org")
    page.keyboard.press("Enter")
    page.wait_for_url("**/my/login/code/")
    assert "maria@example.org" in page.inner_text("#code-sent")
    shoot(page, "resident-enter-code")

    # reads it in the mail and types it
    code = code_in(tmp_path / "mail")
    page.get_by_label("Код из письма").fill(code)
    page.keyboard.press("Enter")

    # lands on «мои обращения» and sees the appeal waiting for a mark
    page.wait_for_url(f"{url}/my/")
    assert [a.inner_text() for a in page.locator(".topbar nav a").all()] == ["Мои обращения"]
    row = page.locator("table.my-appeals tbody tr").first
    assert appeal.number in row.inner_text() and "Ответ дан — оцените" in row.inner_text()
    shoot(page, "resident-my")
    page.get_by_role("link", name=f"№ {appeal.number}").click()
    page.wait_for_url(f"**/a/{appeal.number}/")

    # the page shows the answer, and the text as text
    assert page.inner_text("#answer-text") == "Кровля отремонтирована, протечки нет."
    assert "<img src=x" in page.inner_text("#appeal-text")
    assert page.evaluate("window.pwned") is None
    shoot(page, "resident-appeal")

    # rates it by the labels, the keyboard submits
    page.get_by_label("5 — отлично, проблема решена").check()
    page.get_by_label("Отзыв (необязательно)").fill("Спасибо, всё сухо")
    page.get_by_label("Отзыв (необязательно)").press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector(".alert.ok")
    assert page.inner_text(".alert.ok") == "Спасибо за оценку."
    assert page.inner_text("#my-rating") == "Ваша оценка: 5 из 5 — «Спасибо, всё сухо»"

    # confirms it
    page.get_by_role("button", name="Подтвердить: проблема решена").click()
    page.wait_for_selector(".alert.ok")
    assert page.inner_text(".alert.ok") == "Решение подтверждено, обращение закрыто."
    assert page.inner_text("#status") == "Закрыто"
    shoot(page, "resident-appeal-closed")

    appeal = Appeal.objects.get(pk=appeal.pk)
    assert (appeal.status, appeal.rating, appeal.rating_comment) == (Status.CLOSED, 5, "Спасибо, всё сухо")
    kinds = list(appeal.events.filter(actor=resident).order_by("at", "pk").values_list("kind", flat=True))
    assert kinds[-2:] == [EventKind.RATED, EventKind.CLOSED]

    # the same appeal through the private link, without an account
    page.click(".topbar button:has-text('Выйти')")
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/a/{appeal.number}/{key}/")
    assert page.inner_text("#status") == "Закрыто"
    assert "кв. 17" not in page.inner_text("main")
    assert page.get_by_role("button", name="Возобновить: проблема не решена").count() == 1
    shoot(page, "resident-link")
    assert page.csp_violations == []
    assert page.console_errors == []
