"""Facts follow the timeline as each step is written, are rebuilt by the command, and the ratings'
weights come from the setting."""

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from tsur.analytics import facts, ratings
from tsur.analytics.models import AppealFact
from tsur.appeals import actions, signals
from tsur.appeals.choices import Channel, Status
from tsur.appeals.models import Appeal
from tsur.appeals.tests.factories import TopicFactory
from tsur.core.tests.factories import OrganisationFactory

MSK = ZoneInfo("Europe/Moscow")


def moment(day, hour, month=3):
    return datetime(2026, month, day, hour, tzinfo=MSK)


@pytest.mark.django_db
def test_each_step_rewrites_the_fact_in_its_own_transaction():
    appeal, _ = actions.register(
        channel=Channel.PORTAL,
        text="Яма на дороге",
        topic=TopicFactory(),
        organisation=OrganisationFactory(),
        at=moment(2, 10),
    )
    assert AppealFact.objects.get(appeal=appeal).status == Status.ASSIGNED
    actions.take(appeal, None, at=moment(2, 11))
    actions.answer(appeal, None, text="Заделана", at=moment(3, 16))
    fact = AppealFact.objects.get(appeal=appeal)
    # Mon 10:00 → Tue 16:00: 14 h of Monday and 16 h of Tuesday
    assert (fact.status, fact.answered, fact.resolution_wsec) == (Status.ANSWERED, True, 30 * 3600)
    actions.reopen(appeal, None, reason="Снова яма", at=moment(4, 9))
    fact = AppealFact.objects.get(appeal=appeal)
    assert (fact.status, fact.answered, fact.ever_answered, fact.reopened) == (Status.IN_WORK, False, True, 1)


@pytest.mark.django_db
def test_steps_taken_together_have_their_facts_written_once_at_the_end_of_the_batch():
    """`together`: the facts are refreshed once, for every appeal the steps wrote to, still inside
    the transaction — and come out as the steps one by one would have written them."""
    topic, organisation = TopicFactory(), OrganisationFactory()
    alone, _ = actions.register(
        channel=Channel.PORTAL, text="Яма", topic=topic, organisation=organisation, at=moment(2, 10)
    )
    actions.take(alone, None, at=moment(2, 11))
    sent = []

    def told(sender, appeal_ids, **kwargs):
        sent.append(set(appeal_ids))

    signals.events_recorded.connect(told, dispatch_uid="test-told")
    try:
        with actions.together():
            first, _ = actions.register(
                channel=Channel.PORTAL, text="Яма", topic=topic, organisation=organisation, at=moment(2, 10)
            )
            second, _ = actions.register(
                channel=Channel.PORTAL, text="Люк", topic=topic, organisation=organisation, at=moment(2, 10)
            )
            actions.take(first, None, at=moment(2, 11))
            assert not AppealFact.objects.filter(appeal__in=[first, second]).exists()
    finally:
        signals.events_recorded.disconnect(dispatch_uid="test-told")

    assert sent == [{first.pk, second.pk}]
    written = {f.appeal_id: f for f in AppealFact.objects.filter(appeal__in=[first, second])}
    assert (written[first.pk].status, written[second.pk].status) == (Status.IN_WORK, Status.ASSIGNED)
    # the same history taken step by step: the same fact
    fields = [f.name for f in AppealFact._meta.concrete_fields if f.name not in ("appeal", "refreshed_at")]
    same = AppealFact.objects.filter(appeal__in=[alone, first]).values_list(*fields)
    assert len(set(same)) == 1


@pytest.mark.django_db
def test_a_batch_that_fails_leaves_nothing():
    with pytest.raises(RuntimeError), actions.together():
        actions.register(channel=Channel.PORTAL, text="Яма", topic=TopicFactory(), at=moment(2, 10))
        raise RuntimeError("the batch fails half-way")

    assert not Appeal.objects.exists()
    assert not AppealFact.objects.exists()


@pytest.mark.django_db
def test_the_command_rebuilds_what_was_lost():
    appeal, _ = actions.register(
        channel=Channel.HOTLINE, text="Нет света", topic=TopicFactory(), organisation=OrganisationFactory()
    )
    AppealFact.objects.all().delete()
    out = StringIO()
    call_command("analytics_rebuild", stdout=out)
    assert AppealFact.objects.get(appeal=appeal).channel == Channel.HOTLINE
    assert "Пересчитано обращений: 1" in out.getvalue()


def test_working_seconds_skip_weekends_and_holidays():
    # Fri 06.03 22:00 → Tue 10.03 02:00: 2 h of Friday, the weekend and the 9 March holiday, 2 h
    assert facts.working_seconds(moment(6, 22), moment(10, 2)) == 4 * 3600
    assert facts.working_seconds(moment(7, 10), moment(8, 10)) == 0  # a weekend
    assert facts.working_seconds(moment(10, 2), moment(6, 22)) == 0


def test_the_weights_come_from_the_setting():
    assert ratings.weights("on_time=2, satisfaction=1") == {"on_time": 2.0, "satisfaction": 1.0}
    assert ratings.formula({"on_time": 2.0, "satisfaction": 1.0}) == (
        "Индекс = 100 × (2·[доля ответов в срок] + 1·[(средняя оценка − 1) ÷ 4]) ÷ 3"
    )
    for wrong in ("speed=1", "on_time=much", "on_time=0", "on_time=-1"):
        with pytest.raises(ImproperlyConfigured):
            ratings.weights(wrong)


@pytest.mark.django_db
@pytest.mark.parametrize("copy_from", [1, 10_000])
def test_a_rebuild_writes_the_facts_the_steps_wrote(monkeypatch, copy_from):
    """Rebuilt in one chunk (copied and upserted on PostgreSQL from COPY_FROM facts on, a statement
    each below), every fact of the fixed timeline comes out as its steps wrote it, field by field."""
    from . import timeline

    timeline.build()
    written = {f["appeal_id"]: f for f in AppealFact.objects.values()}
    AppealFact.objects.filter(appeal_id__in=list(written)[:3]).delete()  # lost ones come back too
    AppealFact.objects.update(status="", answered=False, reopened=99)  # and wrong ones are overwritten
    monkeypatch.setattr(facts, "COPY_FROM", copy_from)

    assert facts.rebuild() == len(written) == 10
    rebuilt = {f["appeal_id"]: f for f in AppealFact.objects.values()}
    assert rebuilt.keys() == written.keys()
    for key, fact in written.items():
        assert {**rebuilt[key], "refreshed_at": None} == {**fact, "refreshed_at": None}
