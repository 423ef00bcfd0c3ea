"""`tsur.core.db.insert`: rows written by the kept statement are the rows the ORM would write."""

import pytest
from django.utils import timezone

from tsur.appeals.choices import EventKind
from tsur.appeals.models import Appeal, AppealEvent
from tsur.appeals.tests.factories import AppealFactory
from tsur.core import db
from tsur.core.tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def test_rows_inserted_at_once_read_back_as_the_orm_writes_them():
    organisation = OrganisationFactory()
    now = timezone.now()
    appeal = Appeal(
        number="26-9999999",
        channel="portal",
        text="Текст «с кавычками» и \\ обратной чертой",
        registered_at=now,
        clock_started_at=now,
        organisation=organisation,
        latitude=59.9,
        longitude=None,
        attributes={"этаж": 3, "список": ["а", "б"], "нет": None},
    )
    db.insert([appeal])
    assert appeal.pk and not appeal._state.adding and appeal.updated_at is not None  # auto_now applied
    stored = Appeal.objects.get(pk=appeal.pk)
    twin = Appeal(**{f.attname: getattr(appeal, f.attname) for f in Appeal._meta.concrete_fields})
    twin.pk, twin.number = None, "26-9999998"
    twin.save()
    through_orm = Appeal.objects.get(pk=twin.pk)
    for field in Appeal._meta.concrete_fields:
        if field.attname not in ("id", "number", "updated_at"):
            assert getattr(stored, field.attname) == getattr(through_orm, field.attname), field.attname

    events = [
        AppealEvent(appeal=appeal, kind=EventKind.REGISTERED, at=now, status_to="registered", data={"a": 1}),
        AppealEvent(appeal=appeal, kind=EventKind.COMMENTED, at=now, status_to="registered", reason="x"),
    ]
    db.insert(events)
    assert [e.pk for e in events] == list(appeal.events.order_by("pk").values_list("pk", flat=True))
    assert appeal.events.get(kind=EventKind.REGISTERED).data == {"a": 1}

    appeal.text = "исправлено"  # an inserted object is an ordinary stored object afterwards
    appeal.save(update_fields=["text"])
    assert Appeal.objects.get(pk=appeal.pk).text == "исправлено"


def test_what_it_does_not_take():
    from django.db.models import F

    now = timezone.now()
    with pytest.raises(TypeError):
        db.insert(
            [
                Appeal(
                    number="1",
                    channel="portal",
                    text="x",
                    registered_at=now,
                    clock_started_at=F("registered_at"),
                )
            ]
        )
    appeal = AppealFactory()
    with pytest.raises(TypeError):
        db.insert([appeal])  # already stored
    assert Appeal.objects.count() == 1


def test_a_worker_keeps_a_bounded_number_of_statements_whatever_the_numbers_of_rows():
    """A list page journals one row per appeal it shows, so every page size makes its own statement;
    a long-lived worker must not keep one of every length it ever wrote (bench/memory.py)."""
    appeal = AppealFactory()
    db._statement.cache_clear()
    for rows in range(1, 201):
        db.insert(
            [AppealEvent(appeal=appeal, kind=EventKind.COMMENTED, at=timezone.now()) for _ in range(rows)]
        )

    assert db._statement.cache_info().currsize == 64
    assert appeal.events.count() == 200 * 201 // 2  # each statement wrote all its rows
    sql, _fields = db._statement(AppealEvent, "default", 200)  # the longest, kept as the last one used
    assert sql.count("%s") == 200 * len(_fields)
