"""The moderator's queue in a real browser: keys choose a post and decide it, the complaint opens an
incident, whose page lists the posts. No page breaks the Content-Security-Policy; both are
photographed into var/screenshots/."""

import pytest
from django.utils import timezone

from tsur.appeals.choices import Channel
from tsur.appeals.models import Appeal
from tsur.core.choices import Role
from tsur.core.tests.factories import user_with_role
from tsur.social import actions
from tsur.social.choices import Label, LabelledBy
from tsur.social.connectors import Item
from tsur.social.models import Post
from tsur.social.tests.factories import SourceFactory

from .test_browser_workspace import shoot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_moderator_decides_with_one_key(live_server, browser_page):
    page, url = browser_page, live_server.url
    user_with_role(Role.OPERATOR, username="operator")
    now = timezone.now()
    actions.ingest(
        SourceFactory(),
        [
            Item("wall-1_1", "Кто знает, когда на Белградской 20 починят фонари?", now),
            Item("wall-1_2", "Подскажите хорошего ветеринара в Купчино", now),
        ],
        at=now,
    )

    sign_in(page, url, "operator")
    page.goto(f"{url}/social/")
    page.wait_for_selector("#social-queue")
    shoot(page, "social-queue")
    page.keyboard.press("j")  # the second post: chatter
    page.keyboard.press("4")
    page.wait_for_selector(".alert.ok")
    page.keyboard.press("2")  # the first one, now alone: a question to the center
    page.wait_for_selector("#queue-empty")

    decided = dict(Post.objects.values_list("external_id", "label"))
    assert decided == {"wall-1_1": Label.QUESTION, "wall-1_2": Label.OTHER}
    assert set(Post.objects.values_list("labelled_by", flat=True)) == {LabelledBy.MODERATOR}
    incident = Appeal.objects.get(channel=Channel.SOCIAL)
    page.click(f"text={incident.number}")
    page.wait_for_selector("#posts-title")
    assert "починят фонари" in page.inner_text(".social-queue")
    shoot(page, "social-incident")
    assert page.csp_violations == [] and page.console_errors == []
