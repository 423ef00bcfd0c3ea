"""Regulated deadlines through the actions: the production calendar, the 59-ФЗ cap, pauses,
extensions, redirection, and the periodic marking, escalation and automatic closing."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from tsur.appeals import actions, deadlines
from tsur.appeals.choices import Channel, CloseReason, DeadlineState, DeadlineUnit, EventKind, Status
from tsur.appeals.models import AppealEvent
from tsur.appeals.tests.factories import TopicFactory
from tsur.core.choices import Role
from tsur.core.errors import DomainError
from tsur.core.tests.factories import OrganisationFactory, user_with_role
from tsur.notify.models import Delivery, DeliveryState

pytestmark = pytest.mark.django_db

MSK = ZoneInfo("Europe/Moscow")
AT = datetime(2025, 3, 3, 10, 0, tzinfo=MSK)  # Monday
MICROSECOND = timedelta(microseconds=1)


def end_of(year, month, day):
    return datetime(year, month, day, 23, 59, 59, 999999, tzinfo=MSK)


def working_days_topic(resolution, first_response=2):
    return TopicFactory(
        resolution_amount=resolution,
        resolution_unit=DeadlineUnit.WORKING_DAYS,
        first_response_amount=first_response,
        first_response_unit=DeadlineUnit.WORKING_DAYS,
    )


def hours_topic(resolution, first_response=None):
    return TopicFactory(
        resolution_amount=resolution,
        resolution_unit=DeadlineUnit.HOURS,
        first_response_amount=first_response or resolution,
        first_response_unit=DeadlineUnit.HOURS,
    )


def register(topic, at, organisation=None, **kwargs):
    appeal, created = actions.register(
        channel=Channel.PORTAL,
        text="Во дворе не убран мусор",
        topic=topic,
        organisation=organisation or OrganisationFactory(),
        at=at,
        **kwargs,
    )
    assert created
    appeal.refresh_from_db()
    return appeal


def kinds(appeal):
    return list(appeal.events.order_by("at", "pk").values_list("kind", flat=True))


# ---------------------------------------------------------------- the deadlines at registration


def test_working_days_skip_the_new_year_holidays():
    # given: Tuesday 30 December; 31 December 2025 and 1-9 January 2026 are days off
    topic = working_days_topic(resolution=3, first_response=2)

    # when
    appeal = register(topic, datetime(2025, 12, 30, 10, 0, tzinfo=MSK))

    # then
    assert appeal.clock_started_at == datetime(2025, 12, 30, 10, 0, tzinfo=MSK)
    assert appeal.resolution_due == end_of(2026, 1, 14)
    assert appeal.first_response_due == end_of(2026, 1, 13)
    assert appeal.deadline_state == DeadlineState.OK


@pytest.mark.parametrize(
    ("days", "due"),
    [
        (1, end_of(2025, 11, 1)),  # Saturday 1 November 2025 is a working day
        (2, end_of(2025, 11, 5)),  # 2 November is Sunday, 3-4 November are days off
    ],
)
def test_a_transferred_working_saturday_counts(days, due):
    # given: Friday 31 October 2025
    topic = working_days_topic(resolution=days, first_response=1)

    # when
    appeal = register(topic, datetime(2025, 10, 31, 10, 0, tzinfo=MSK))

    # then
    assert appeal.resolution_due == due
    assert appeal.first_response_due == end_of(2025, 11, 1)


def test_hours_are_elapsed_time_even_over_a_holiday():
    # given: 31 December 2025, 18:00, a day off
    topic = hours_topic(resolution=24, first_response=2)
    at = datetime(2025, 12, 31, 18, 0, tzinfo=MSK)

    # when
    appeal = register(topic, at)

    # then
    assert appeal.resolution_due == at + timedelta(hours=24)
    assert appeal.resolution_due == datetime(2026, 1, 1, 18, 0, tzinfo=MSK)
    assert appeal.first_response_due == datetime(2025, 12, 31, 20, 0, tzinfo=MSK)


def test_a_long_regulation_is_capped_by_the_legal_30_days():
    # given: Friday 25 April 2025; 20 working days across the May holidays would end on 29 May
    topic = working_days_topic(resolution=20, first_response=2)
    at = datetime(2025, 4, 25, 10, 0, tzinfo=MSK)
    assert deadlines.due_after(at, 20, DeadlineUnit.WORKING_DAYS) == end_of(2025, 5, 29)

    # when
    appeal = register(topic, at)

    # then: 30 calendar days end on Sunday 25 May, so on Monday 26 May
    assert deadlines.legal_limit(appeal) == end_of(2025, 5, 26)
    assert appeal.resolution_due == end_of(2025, 5, 26)
    assert appeal.first_response_due == end_of(2025, 4, 29)


def test_an_appeal_without_a_topic_gets_the_legal_30_days():
    # when
    appeal, _ = actions.register(channel=Channel.PORTAL, text="Непонятно что", at=AT)

    # then
    appeal.refresh_from_db()
    assert (appeal.status, appeal.first_response_due, appeal.resolution_due) == (
        Status.MODERATION,
        None,
        end_of(2025, 4, 2),
    )


# ---------------------------------------------------------------- pause


def test_waiting_for_the_citizen_moves_the_deadline_by_the_time_waited():
    # given
    appeal = register(working_days_topic(resolution=10), AT)
    assert appeal.resolution_due == end_of(2025, 3, 17)
    actions.take(appeal, None, at=AT + timedelta(hours=1))
    asked = datetime(2025, 3, 4, 12, 0, tzinfo=MSK)
    actions.request_clarification(appeal, None, question="Уточните номер подъезда", at=asked)

    # when
    actions.citizen_reply(appeal, None, text="Второй подъезд", at=asked + timedelta(days=2))

    # then
    appeal.refresh_from_db()
    assert appeal.resolution_due == end_of(2025, 3, 19)
    assert (appeal.status, appeal.paused_since, appeal.paused_seconds) == (
        Status.IN_WORK,
        None,
        2 * 24 * 3600,
    )
    assert appeal.first_responded_at == asked
    assert deadlines.legal_limit(appeal) == end_of(2025, 4, 2) + timedelta(days=2)
    assert appeal.events.get(kind=EventKind.CITIZEN_REPLIED).data == {"paused_seconds": 172800}


# ---------------------------------------------------------------- extension


def in_work(at):
    appeal = register(working_days_topic(resolution=10), at)
    actions.take(appeal, None, at=at + timedelta(hours=1))
    appeal.refresh_from_db()
    return appeal


@pytest.fixture
def running_appeal():
    # registered Monday 3 March 2025, 10 working days: due 17 March
    return in_work(AT)


def test_extension_is_allowed_up_to_the_legal_limit_with_extension(running_appeal):
    # given: 3 March + 60 days is 2 May, a day off; then the weekend: the limit is 5 May
    until = end_of(2025, 5, 5)
    assert deadlines.legal_limit(running_appeal, extended=True) == until
    at = datetime(2025, 3, 12, 9, 0, tzinfo=MSK)

    # when
    actions.extend(running_appeal, None, until=until, reason="Нужен подрядчик", at=at)

    # then
    running_appeal.refresh_from_db()
    assert (running_appeal.status, running_appeal.resolution_due, running_appeal.extension_reason) == (
        Status.IN_WORK,
        until,
        "Нужен подрядчик",
    )
    event = running_appeal.events.get(kind=EventKind.EXTENDED)
    assert (event.at, event.reason, event.status_from, event.status_to) == (
        at,
        "Нужен подрядчик",
        Status.IN_WORK,
        Status.IN_WORK,
    )
    assert event.data["to"] == "2025-05-05T23:59:59.999999+03:00"
    assert datetime.fromisoformat(event.data["from"]) == end_of(2025, 3, 17)


def test_extension_past_the_legal_limit_is_refused_and_changes_nothing(running_appeal):
    # given
    before = model_to_dict(running_appeal)
    events = AppealEvent.objects.count()

    # when / then
    with pytest.raises(DomainError, match="05.05.2025") as refused:
        actions.extend(
            running_appeal,
            None,
            until=end_of(2025, 5, 5) + MICROSECOND,
            reason="Нужен подрядчик",
            at=datetime(2025, 3, 12, 9, 0, tzinfo=MSK),
        )
    assert refused.value.field == "until"
    running_appeal.refresh_from_db()
    assert model_to_dict(running_appeal) == before
    assert AppealEvent.objects.count() == events


def test_the_extension_limit_is_exactly_60_calendar_days():
    # given: registered Monday 2 June 2025 (due 17 June); 60 days later is Friday 1 August, a working day
    appeal = in_work(datetime(2025, 6, 2, 10, 0, tzinfo=MSK))
    at = datetime(2025, 6, 10, 9, 0, tzinfo=MSK)

    # when / then: one microsecond more is refused, the limit itself is allowed
    with pytest.raises(DomainError, match="01.08.2025"):
        actions.extend(appeal, None, until=end_of(2025, 8, 1) + MICROSECOND, reason="Нужен подрядчик", at=at)
    actions.extend(appeal, None, until=end_of(2025, 8, 1), reason="Нужен подрядчик", at=at)
    appeal.refresh_from_db()
    assert (appeal.resolution_due, appeal.extension_reason) == (end_of(2025, 8, 1), "Нужен подрядчик")


@pytest.mark.parametrize("shift", [timedelta(0), -timedelta(days=1)], ids=["same", "earlier"])
def test_extension_not_later_than_the_current_deadline_is_refused(running_appeal, shift):
    # given
    before = model_to_dict(running_appeal)
    events = AppealEvent.objects.count()

    # when / then
    with pytest.raises(DomainError, match="позже текущего"):
        actions.extend(
            running_appeal,
            None,
            until=end_of(2025, 3, 17) + shift,
            reason="Нужен подрядчик",
            at=datetime(2025, 3, 12, 9, 0, tzinfo=MSK),
        )
    running_appeal.refresh_from_db()
    assert model_to_dict(running_appeal) == before
    assert AppealEvent.objects.count() == events


def test_moderation_and_reassignment_keep_a_granted_extension():
    # given: extended, then sent back to moderation and assigned to the same organisation, same topic
    appeal = register(working_days_topic(resolution=10), AT)
    until = datetime(2025, 4, 1, 18, 0, tzinfo=MSK)
    actions.extend(appeal, None, until=until, reason="Нужен подрядчик", at=AT + timedelta(days=1))
    actions.send_to_moderation(appeal, None, reason="Проверить адрес", at=AT + timedelta(days=2))

    # when
    actions.assign(appeal, None, organisation=appeal.organisation, at=AT + timedelta(days=2, hours=1))

    # then
    appeal.refresh_from_db()
    assert (appeal.status, appeal.resolution_due, appeal.extension_reason) == (
        Status.ASSIGNED,
        until,
        "Нужен подрядчик",
    )
    reassigned = appeal.events.get(kind=EventKind.ASSIGNED, status_from=Status.MODERATION)
    assert "resolution_due" not in reassigned.data


def test_reassignment_after_a_redirect_to_moderation_keeps_the_pause():
    # given: two days waiting for the citizen (due 17 -> 19 March), then no other route: back to moderation
    appeal = register(working_days_topic(resolution=10), AT)
    actions.take(appeal, None, at=AT + timedelta(hours=1))
    asked = datetime(2025, 3, 4, 12, 0, tzinfo=MSK)
    actions.request_clarification(appeal, None, question="Уточните номер подъезда", at=asked)
    actions.citizen_reply(appeal, None, text="Второй подъезд", at=asked + timedelta(days=2))
    actions.redirect(appeal, None, reason="Не в нашей компетенции", at=asked + timedelta(days=3))
    appeal.refresh_from_db()
    assert (appeal.status, appeal.resolution_due, appeal.paused_seconds) == (
        Status.MODERATION,
        end_of(2025, 3, 19),
        172800,
    )

    # when: the operator assigns it; the clock still runs from registration
    actions.assign(appeal, None, organisation=OrganisationFactory(), at=asked + timedelta(days=3, hours=1))

    # then
    appeal.refresh_from_db()
    assert (appeal.clock_started_at, appeal.paused_seconds) == (AT, 172800)
    assert appeal.resolution_due == end_of(2025, 3, 19)


# ---------------------------------------------------------------- redirection


def test_redirect_gives_the_new_organisation_a_fresh_clock(running_appeal):
    # given
    old = running_appeal.organisation
    new = OrganisationFactory(name="Дорожное агентство")
    at = datetime(2025, 3, 6, 15, 0, tzinfo=MSK)  # Thursday

    # when
    actions.redirect(running_appeal, None, reason="Не в нашей компетенции", organisation=new, at=at)

    # then: 10 working days from Thursday 6 March (8 March 2025 is a Saturday) end on 20 March
    running_appeal.refresh_from_db()
    assert (running_appeal.status, running_appeal.organisation, running_appeal.clock_started_at) == (
        Status.ASSIGNED,
        new,
        at,
    )
    assert running_appeal.registered_at == AT
    assert running_appeal.resolution_due == end_of(2025, 3, 20)
    assert running_appeal.first_response_due == end_of(2025, 3, 10)
    assert running_appeal.deadline_state == DeadlineState.OK
    event = running_appeal.events.get(kind=EventKind.REDIRECTED)
    assert event.data["from_organisation"] == old.pk
    assert event.data["to_organisation"] == new.pk
    assert datetime.fromisoformat(event.data["resolution_due"]) == end_of(2025, 3, 20)
    assert deadlines.legal_limit(running_appeal) == end_of(2025, 4, 7)  # 5 April is a Saturday


# ---------------------------------------------------------------- periodic marking


def test_mark_deadlines_raises_soon_then_overdue_once_each():
    # given: 100 hours to solve, so «срок истекает» from the 80th hour
    organisation = OrganisationFactory()
    appeal = register(hours_topic(resolution=100), AT, organisation=organisation)
    due = AT + timedelta(hours=100)
    assert appeal.resolution_due == due

    # when / then: not yet
    assert actions.mark_deadlines(now=AT + timedelta(hours=80) - MICROSECOND) == {"soon": 0, "overdue": 0}
    appeal.refresh_from_db()
    assert appeal.deadline_state == DeadlineState.OK

    # when / then: the last fifth of the period begins
    assert actions.mark_deadlines(now=AT + timedelta(hours=80)) == {"soon": 1, "overdue": 0}
    assert actions.mark_deadlines(now=AT + timedelta(hours=90)) == {"soon": 0, "overdue": 0}
    assert actions.mark_deadlines(now=due) == {"soon": 0, "overdue": 0}
    appeal.refresh_from_db()
    assert appeal.deadline_state == DeadlineState.SOON

    # when / then: past the deadline
    assert actions.mark_deadlines(now=due + MICROSECOND) == {"soon": 0, "overdue": 1}
    assert actions.mark_deadlines(now=due + timedelta(days=3)) == {"soon": 0, "overdue": 0}
    appeal.refresh_from_db()
    assert (appeal.status, appeal.deadline_state) == (Status.ASSIGNED, DeadlineState.OVERDUE)

    assert kinds(appeal) == [
        EventKind.REGISTERED,
        EventKind.ASSIGNED,
        EventKind.DEADLINE_SOON,
        EventKind.ESCALATED,
        EventKind.OVERDUE,
        EventKind.ESCALATED,
    ]
    soon, soon_escalated, overdue, overdue_escalated = appeal.events.order_by("at", "pk")[2:]
    assert (soon.at, soon.actor, soon.organisation, soon.status_to) == (
        AT + timedelta(hours=80),
        None,
        organisation,
        Status.ASSIGNED,
    )
    assert datetime.fromisoformat(soon.data["due"]) == due
    assert (soon_escalated.at, soon_escalated.reason, soon_escalated.data) == (
        AT + timedelta(hours=80),
        "Срок истекает",
        {"to": "supervisor", "because": "deadline_soon", "deadline": "resolution"},
    )
    assert overdue.at == due + MICROSECOND
    assert datetime.fromisoformat(overdue.data["due"]) == due
    assert (overdue_escalated.reason, overdue_escalated.data) == (
        "Просрочено",
        {"to": "supervisor", "because": "overdue", "deadline": "resolution"},
    )


def test_a_missed_first_response_is_overdue_against_its_own_deadline():
    # given: first response in 1 working day (end of Tuesday 4 March), resolution in 10
    appeal = register(working_days_topic(resolution=10, first_response=1), AT)

    # when
    counts = actions.mark_deadlines(now=datetime(2025, 3, 5, 0, 0, tzinfo=MSK))

    # then
    assert counts == {"soon": 0, "overdue": 1}
    appeal.refresh_from_db()
    assert appeal.deadline_state == DeadlineState.OVERDUE
    assert datetime.fromisoformat(appeal.events.get(kind=EventKind.OVERDUE).data["due"]) == end_of(2025, 3, 4)


def test_mark_deadlines_ignores_paused_and_answered_appeals():
    # given: three appeals on the same 100 hours; one waits for the citizen, one is answered
    topic = hours_topic(resolution=100)
    running, paused, answered = register(topic, AT), register(topic, AT), register(topic, AT)
    for appeal in (paused, answered):
        actions.take(appeal, None, at=AT + timedelta(hours=1))
    actions.request_clarification(paused, None, question="Уточните адрес", at=AT + timedelta(hours=2))
    actions.answer(answered, None, text="Мусор вывезен", at=AT + timedelta(hours=2))

    # when
    counts = actions.mark_deadlines(now=AT + timedelta(hours=500))

    # then
    assert counts == {"soon": 0, "overdue": 1}
    running.refresh_from_db()
    assert running.deadline_state == DeadlineState.OVERDUE
    for appeal in (paused, answered):
        appeal.refresh_from_db()
        assert appeal.deadline_state == DeadlineState.OK
        assert not appeal.events.filter(
            kind__in=[EventKind.DEADLINE_SOON, EventKind.OVERDUE, EventKind.ESCALATED]
        ).exists()


def test_escalation_mails_the_organisations_supervisor_once(django_capture_on_commit_callbacks, mailoutbox):
    # given: recent events notify, so this appeal lives on the real clock; 90 of 100 hours have passed
    now = timezone.now()
    organisation = OrganisationFactory()
    user_with_role(Role.SUPERVISOR, organisation=organisation, email="boss@example.org")
    user_with_role(Role.SUPERVISOR, organisation=organisation, email="")
    user_with_role(Role.SUPERVISOR, organisation=organisation, email="former@example.org", is_active=False)
    user_with_role(Role.EXECUTOR, organisation=organisation, email="worker@example.org")
    user_with_role(Role.SUPERVISOR, organisation=OrganisationFactory(), email="stranger@example.org")
    appeal = register(hours_topic(resolution=100), now - timedelta(hours=90), organisation=organisation)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        counts = actions.mark_deadlines(now=now)
    with django_capture_on_commit_callbacks(execute=True) as repeated:
        again = actions.mark_deadlines(now=now)

    # then
    assert (counts, again, repeated) == ({"soon": 1, "overdue": 0}, {"soon": 0, "overdue": 0}, [])
    assert list(Delivery.objects.values_list("address", "state")) == [
        ("boss@example.org", DeliveryState.SENT)
    ]
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["boss@example.org"]
    assert mail.subject == f"Обращение № {appeal.number}: Эскалация руководителю"
    assert mail.body == f"Обращение № {appeal.number}\nСтатус: Назначено исполнителю\n\nСрок истекает"


def test_escalation_in_the_past_mails_nobody(django_capture_on_commit_callbacks, mailoutbox):
    # given: a supervisor, and an appeal whose deadline passed long ago (a replayed history)
    organisation = OrganisationFactory()
    user_with_role(Role.SUPERVISOR, organisation=organisation, email="boss@example.org")
    appeal = register(hours_topic(resolution=100), AT, organisation=organisation)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        counts = actions.mark_deadlines(now=AT + timedelta(hours=101))

    # then
    assert counts == {"soon": 0, "overdue": 1}
    assert appeal.events.filter(kind=EventKind.ESCALATED).count() == 1
    assert not Delivery.objects.exists()
    assert mailoutbox == []


# ---------------------------------------------------------------- automatic closing


def test_autoclose_closes_answered_appeals_left_without_reaction(settings):
    # given
    settings.TSUR = {**settings.TSUR, "AUTOCLOSE_DAYS": 10}
    topic = working_days_topic(resolution=10)
    old, recent, running = register(topic, AT), register(topic, AT), register(topic, AT)
    for appeal in (old, recent, running):
        actions.take(appeal, None, at=AT + timedelta(hours=1))
    actions.answer(old, None, text="Мусор вывезен", at=AT + timedelta(days=1))
    actions.answer(recent, None, text="Мусор вывезен", at=AT + timedelta(days=1, hours=2))
    now = AT + timedelta(days=11, hours=1)  # 10 days and 1 hour after the first answer

    # when
    closed = actions.autoclose(now=now)

    # then
    assert closed == 1
    old.refresh_from_db()
    assert (old.status, old.close_reason, old.closed_at) == (Status.CLOSED, CloseReason.AUTO, now)
    event = old.events.get(kind=EventKind.CLOSED)
    assert (event.actor, event.reason, event.data, event.status_from) == (
        None,
        "Нет реакции заявителя",
        {"how": "auto"},
        Status.ANSWERED,
    )
    recent.refresh_from_db()
    running.refresh_from_db()
    assert (recent.status, recent.close_reason, recent.closed_at) == (Status.ANSWERED, "", None)
    assert running.status == Status.IN_WORK
    assert actions.autoclose(now=now) == 0


def test_a_late_first_response_does_not_hide_a_late_resolution():
    # given: a first response missed, then given; later the resolution deadline passes too
    organisation = OrganisationFactory()
    appeal = register(hours_topic(resolution=100), AT, organisation=organisation)
    appeal.first_response_due = AT + timedelta(hours=10)
    appeal.save()
    assert actions.mark_deadlines(now=AT + timedelta(hours=11)) == {"soon": 0, "overdue": 1}
    actions.take(appeal, None, at=AT + timedelta(hours=12))
    actions.interim_answer(
        appeal, None, text="Работаем", planned_at=AT + timedelta(hours=90), at=AT + timedelta(hours=12)
    )
    # when: the state is lowered once the first response is given, then raised at the resolution deadline
    assert actions.mark_deadlines(now=AT + timedelta(hours=13)) == {"soon": 0, "overdue": 0}
    appeal.refresh_from_db()
    assert appeal.deadline_state == DeadlineState.OK
    assert actions.mark_deadlines(now=AT + timedelta(hours=101)) == {"soon": 0, "overdue": 1}
    # then: two breaches, each against its own deadline
    breaches = appeal.events.filter(kind=EventKind.OVERDUE).order_by("at")
    assert [e.data["deadline"] for e in breaches] == ["first_response", "resolution"]


def test_a_term_is_extended_once_and_only_before_it_ends():
    appeal = register(hours_topic(resolution=100), AT, organisation=OrganisationFactory())
    actions.extend(
        appeal, None, until=AT + timedelta(days=10), reason="Нужен подрядчик", at=AT + timedelta(hours=1)
    )
    with pytest.raises(DomainError, match="одно продление"):
        actions.extend(appeal, None, until=AT + timedelta(days=20), reason="Ещё", at=AT + timedelta(hours=2))
    other = register(hours_topic(resolution=100), AT, organisation=OrganisationFactory())
    with pytest.raises(DomainError, match="уже истёк"):
        actions.extend(
            other, None, until=AT + timedelta(days=20), reason="Поздно", at=AT + timedelta(hours=101)
        )
    other.refresh_from_db()
    assert (other.resolution_due, other.extension_reason) == (AT + timedelta(hours=100), "")
