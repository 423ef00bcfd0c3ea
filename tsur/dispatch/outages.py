"""Outages, read: which appeals an outage is about, which outages an appeal is about, what the
citizen is told. Every change of an outage is an action in `tsur.dispatch.actions`.

An alarm by a rule that `opens_outage` opens one for the object (unless one is active); appeals on
the matching topics from those buildings (or within the object's radius) are linked to it, the
ones filed up to `LOOKBACK` before the alarm and every new one while it lasts. The operator answers
them all at once; when the outage ends, every linked appeal still open gets the final answer, so
each citizen is told.
"""

from datetime import timedelta

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from tsur.appeals.choices import FINAL_STATUSES
from tsur.appeals.models import Appeal
from tsur.nlp.duplicates import around, distance_m

from .choices import OutageState
from .models import Outage

LOOKBACK = timedelta(hours=12)  # residents often call before the controller's alarm reaches anyone


def _near(outage: Outage, appeal: Appeal) -> bool:
    return (
        outage.radius_m > 0
        and None not in (outage.latitude, appeal.latitude)
        and distance_m(outage.latitude, outage.longitude, appeal.latitude, appeal.longitude)
        <= outage.radius_m
    )


def _building_ids(outage: Outage) -> set[int]:
    cached = getattr(outage, "_building_ids", None)
    if cached is None:
        cached = outage._building_ids = set(outage.buildings.values_list("pk", flat=True))
    return cached


def reaches(outage: Outage, appeal: Appeal) -> bool:
    """Whether the appeal's place is one the outage left without its service."""
    return appeal.building_id in _building_ids(outage) or _near(outage, appeal)


def candidates(outage: Outage) -> list[Appeal]:
    """Open appeals on the outage's topics from its buildings or its radius, not linked yet."""
    appeals = (
        Appeal.objects.filter(topic__in=outage.topics.all(), registered_at__gte=outage.started_at - LOOKBACK)
        .exclude(status__in=FINAL_STATUSES)
        .exclude(outage_links__outage=outage)
    )
    place = Q(building__in=outage.buildings.all())
    if outage.radius_m and outage.latitude is not None:
        place |= around(outage.latitude, outage.longitude, outage.radius_m)
    return [a for a in appeals.filter(place) if reaches(outage, a)]


def about(appeal: Appeal) -> list[Outage]:
    """The active outages a new or re-routed appeal is about."""
    with connection.cursor() as cursor:  # every registration asks: the cheapest question first
        cursor.execute("SELECT 1 FROM dispatch_outage WHERE state = %s LIMIT 1", [OutageState.ACTIVE])
        if cursor.fetchone() is None:
            return []
    active = Outage.objects.filter(state=OutageState.ACTIVE, topics=appeal.topic_id).select_related("object")
    return [outage for outage in active if reaches(outage, appeal)]


def linked_open(outage: Outage, within=None):
    """Open linked appeals; `within` (a queryset of appeals) limits them to what the actor may act on."""
    appeals = Appeal.objects.filter(outage_links__outage=outage).exclude(status__in=FINAL_STATUSES)
    if within is not None:
        appeals = appeals.filter(pk__in=within.values("pk"))
    return appeals.order_by("registered_at")


def _plain(text: str) -> str:
    """Names and notes as they may go into a timeline reason (which refuses markup)."""
    return text.replace("<", "«").replace(">", "»")


def public_note(outage: Outage) -> str:
    """What the appeal's timeline tells the citizen when it is linked to the outage."""
    note = (
        f"Аварийное отключение ({outage.services_display()}) на объекте «{_plain(outage.object.name)}» известно "
        f"диспетчерской службе с {timezone.localtime(outage.started_at):%d.%m.%Y %H:%M}."
    )
    if outage.expected_end_at:
        note += f" Плановое восстановление: {timezone.localtime(outage.expected_end_at):%d.%m.%Y %H:%M}."
    if outage.public_note:
        note += f" {_plain(outage.public_note)}"
    return note[:2000]
