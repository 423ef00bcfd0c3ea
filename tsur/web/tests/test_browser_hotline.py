"""The hotline and the console by keyboard, in a real browser (Debian's chromium driven by Playwright):
the operator reaches every control by Tab with a visible focus, files a call whose similar appeal is
offered once the address is picked from the register's suggestions, and adds the caller to it (no
new appeal); then merges a duplicate from its card; the supervisor sees the load per person. Every
control of these pages has a name a screen reader can say; each page is photographed at 1366×768 and
at 390 px, and nothing sticks out sideways."""

import pytest

from tsur.appeals import actions
from tsur.appeals.choices import Status
from tsur.appeals.models import Appeal, Follower

from .test_browser_workspace import shoot, sign_in, sign_out

pytestmark = pytest.mark.django_db(transaction=True)

# every visible control of the page's main part whose accessible name would be empty
UNNAMED = """() => Array.from(document.querySelectorAll(
    "body input:not([type=hidden]), body select, body textarea, body button, body a[href]"))
  .filter((el) => el.getClientRects().length > 0)
  .filter((el) => {
    const labelled = (el.getAttribute("aria-labelledby") || "").split(" ").filter(Boolean)
      .map((id) => (document.getElementById(id) || {}).textContent || "").join("");
    const name = (el.getAttribute("aria-label") || "") + labelled
      + Array.from(el.labels || [], (label) => label.textContent).join("")
      + (["BUTTON", "A"].includes(el.tagName) ? el.textContent : "") + (el.title || "");
    return !name.trim();
  })
  .map((el) => el.outerHTML.slice(0, 160))"""


def focus_after_tabs(page, how_many: int) -> list[dict]:
    """Press Tab `how_many` times on a page just opened (the keyboard starts at its top): what got the
    focus each time, and whether it showed an outline."""
    seen = []
    for _ in range(how_many):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const el = document.activeElement; const style = getComputedStyle(el);
            return {tag: el.tagName, name: el.getAttribute("aria-label") || el.textContent.trim().slice(0, 60),
                    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0}; }"""
        )
        if focused["tag"] == "BODY":  # past the last control
            break
        seen.append(focused)
    return seen


def test_a_call_joins_the_similar_appeal_and_a_duplicate_is_merged_from_its_card(
    live_server, browser_page, region
):
    page, url = browser_page, live_server.url
    working = region["working"]
    twin, _ = actions.register(
        channel="portal", text="Не вывозят мусор второй день", building=working.building, moderate=True
    )
    appeals_before = Appeal.objects.count()

    # the console by keyboard: the skip link first, then every control, the ticks named by number
    sign_in(page, url, "operator")
    page.goto(f"{url}/console/?queue=open")
    walk = focus_after_tabs(page, 80)
    assert walk[0]["name"] == "К содержимому"
    assert f"Отметить обращение {working.number}" in [w["name"] for w in walk]
    assert all(w["outline"] for w in walk), [w for w in walk if not w["outline"]]
    assert page.evaluate(UNNAMED) == []
    shoot(page, "console-bulk")

    # the hotline: the text, the address picked from the register by keyboard, the similar appeal
    page.click("#new-call")
    page.wait_for_url("**/console/new/")
    assert page.evaluate(UNNAMED) == []
    shoot(page, "hotline")
    page.fill("textarea[name=text]", "Не вывозят мусор уже неделю, контейнеры переполнены")
    page.fill("input[name=address]", "Седова 5")
    page.wait_for_selector("#address-options [role=option]")
    assert page.get_attribute("input[name=address]", "aria-expanded") == "true"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.input_value("input[name=address]") == "ул. Седова, д. 5"
    assert page.input_value("input[name=building]") == str(working.building_id)
    page.wait_for_selector("#similar button[name=join]")
    assert working.number in page.inner_text("#similar")
    page.fill("input[name=name]", "Петров Пётр")
    page.fill("input[name=phone]", "+79210000001")
    page.check("input[name=consent]")
    assert page.evaluate(UNNAMED) == []
    shoot(page, "hotline-similar")
    page.click(f"#similar button[name=join][value='{working.number}']")
    page.wait_for_selector(".alert.ok")
    assert page.url == f"{url}/console/appeals/{working.number}/"
    assert f"№ {working.number}" in page.inner_text(".alert.ok")
    assert Appeal.objects.count() == appeals_before  # joined, nothing new filed
    follower = Follower.objects.get(appeal=working)
    assert (follower.name, follower.phone) == ("Петров Пётр", "+79210000001")

    # a duplicate merged from its card
    page.goto(f"{url}/console/appeals/{twin.number}/")
    assert working.number in page.inner_text(".similar")
    page.click("text=Это дубликат — объединить")
    page.wait_for_selector(".alert.ok")
    assert page.inner_text(".alert.ok") == "Обращение объединено с основным."
    twin.refresh_from_db()
    assert (twin.status, twin.merged_into_id) == (Status.MERGED, working.pk)
    sign_out(page)

    # the supervisor: the load per person, the bulk hand-over, a card with the reassign form
    actions.take(working, region["executor"])
    sign_in(page, url, "supervisor")
    assert "executor" in page.inner_text("#load-people")
    assert page.evaluate(UNNAMED) == []
    shoot(page, "work-supervisor")
    page.goto(f"{url}/work/appeals/{working.number}/")
    page.click("#step-reassign summary")
    assert page.evaluate(UNNAMED) == []
    shoot(page, "work-card-reassign")

    assert page.csp_violations == []
    assert page.console_errors == []
