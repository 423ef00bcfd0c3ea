"""`tsur social_simulate` runs the fakes with the simulated feed: incidents form from it."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from tsur.appeals.choices import Channel
from tsur.appeals.models import Appeal
from tsur.social.models import Post, Source

pytestmark = pytest.mark.django_db


def test_two_rounds_form_incidents(settings):
    if not Path(settings.TSUR["DEMO_DATA"]).exists():
        pytest.fail(f"the demo export is needed: {settings.TSUR['DEMO_DATA']}")
    out = io.StringIO()

    call_command("social_simulate", rounds=2, posts=30, interval=0, play=True, answer_after=0, stdout=out)

    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["раунд 1", "раунд 2"]
    assert Source.objects.count() == 3
    assert Post.objects.count() >= 50  # 60 posted, a few the same words (copies are kept too)
    assert Appeal.objects.filter(channel=Channel.SOCIAL).exists()
    assert not Source.objects.exclude(last_error="").exists()  # every network answered
