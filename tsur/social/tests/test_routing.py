"""With the register's text model: the incident gets its topic and executor from the text, routed
by intake like any appeal, and posts in two networks about one lamp make one incident."""

import pytest
from django.utils import timezone

from tsur.appeals.choices import Channel, EventKind, Status
from tsur.appeals.models import Appeal
from tsur.appeals.tests.test_understanding import region_model, register_of_region  # noqa: F401 - fixtures
from tsur.social import actions
from tsur.social.choices import Network
from tsur.social.connectors import Item

from .factories import SourceFactory

pytestmark = pytest.mark.django_db


def test_the_incident_is_understood_and_routed_by_the_text(register_of_region):  # noqa: F811
    now = timezone.now()
    vk, telegram = SourceFactory(network=Network.VK), SourceFactory(network=Network.TELEGRAM)

    actions.ingest(
        vk, [Item("wall-1_1", "Не горит фонарь, на улице темно совсем, ул. Садовая, д. 3", now)], at=now
    )
    actions.ingest(
        telegram, [Item("tg-5_9", "Садовая 3 — фонарь не горит, темно на улице, когда починят", now)], at=now
    )

    (incident,) = Appeal.objects.filter(channel=Channel.SOCIAL)
    assert incident.social_posts.count() == 2
    assert incident.topic == register_of_region["topics"]["Освещение"]
    assert incident.organisation == register_of_region["organisations"]["Горсвет"]
    assert incident.status == Status.ASSIGNED
    kinds = list(incident.events.order_by("pk").values_list("kind", flat=True))
    assert kinds == [
        EventKind.REGISTERED,
        EventKind.UNDERSTOOD,
        EventKind.ASSIGNED,
        EventKind.POST_ATTACHED,
        EventKind.POST_ATTACHED,
    ]
