"""Answer review in a real browser: the executor picks a template (htmx fills the text in, the
executor edits it) and sends the answer, which waits; the supervisor sees it in /work/ with the
«отписка» flag and returns it; the executor sees the comment; the operator approves the next one.
No page breaks the Content-Security-Policy; every page is photographed into var/screenshots/."""

import pytest

from tsur.appeals import actions
from tsur.appeals.choices import Status
from tsur.appeals.models import AnswerTemplate, Appeal, ReviewRule

from .test_browser_workspace import shoot, sign_in, sign_out

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_answer_is_picked_from_a_template_returned_then_approved(live_server, browser_page, region):
    page, url = browser_page, live_server.url
    appeal = region["working"]
    ReviewRule.objects.create(organisation=region["ours"])
    AnswerTemplate.objects.create(
        topic=region["yard"], name="Мусор вывезен", text="По обращению № {номер}: мусор вывезен [дата]."
    )
    actions.take(appeal, region["executor"])

    # the executor: the template fills the text box, the executor finishes the sentence
    sign_in(page, url, "executor")
    page.goto(f"{url}/work/appeals/{appeal.number}/")
    page.click("#step-answer summary")
    with page.expect_response(lambda response: "/answer-template/" in response.url):
        page.select_option("select[name=answer-template]", label="Мусор вывезен")
    # the box htmx swapped in carries the filled text (a string to evaluate would break the CSP)
    page.wait_for_selector("#id_answer-text:has-text('мусор вывезен')")
    assert page.input_value("#id_answer-text") == f"По обращению № {appeal.number}: мусор вывезен [дата]."
    page.fill("#id_answer-text", "Ваше обращение рассмотрено и направлено в подрядную организацию.")
    shoot(page, "work-answer-template")
    page.click("#step-answer button")
    page.wait_for_selector(".alert.ok")
    assert page.inner_text("#status") == "Ответ на проверке"
    sign_out(page)

    # the supervisor: the tab of answers in review, the flag, the return with a comment
    sign_in(page, url, "supervisor")
    page.goto(f"{url}/work/?queue=review")
    assert page.locator("[data-queue=review]").inner_text() == "1"
    page.click(f"text={appeal.number}")
    page.wait_for_selector("#placeholder-flag")
    assert "Только общие фразы" in page.inner_text("#placeholder-flag")
    shoot(page, "work-card-review")
    page.fill("textarea[name=return_answer-comment]", "Напишите, что сделано и когда")
    page.click("#form-return_answer button")
    page.wait_for_selector(".alert.ok")
    sign_out(page)

    # the executor sees why, answers again; the operator approves from the console's queue
    sign_in(page, url, "executor")
    page.goto(f"{url}/work/appeals/{appeal.number}/")
    assert page.inner_text("#return-comment") == "Напишите, что сделано и когда"
    shoot(page, "work-card-returned")
    page.click("#step-answer summary")
    page.fill("#id_answer-text", "Мусор у дома вывезен сегодня, площадка убрана.")
    page.click("#step-answer button")
    page.wait_for_selector(".alert.ok")
    sign_out(page)
    sign_in(page, url, "operator")
    assert page.locator("[data-queue=review]").inner_text() == "1"
    page.goto(f"{url}/console/?queue=review")
    page.click(f"text={appeal.number}")
    page.click("#form-approve_answer button")
    page.wait_for_selector(".alert.ok")
    assert page.inner_text("#status") == "Дан ответ"
    assert Appeal.objects.get(pk=appeal.pk).status == Status.ANSWERED
    assert page.csp_violations == [] and page.console_errors == []
