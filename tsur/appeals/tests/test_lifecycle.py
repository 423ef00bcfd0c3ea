"""Every lifecycle step from every status: allowed ones move the appeal and write one event,
refused ones raise InvalidTransition and change nothing."""

from datetime import timedelta

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from tsur.appeals import actions
from tsur.appeals.choices import FINAL_STATUSES, EventKind, Status
from tsur.appeals.models import AppealEvent
from tsur.appeals.tests.factories import AppealFactory
from tsur.core.choices import Role
from tsur.core.errors import DomainError, InvalidTransition
from tsur.core.tests.factories import OrganisationFactory, UserFactory, user_with_role

pytestmark = pytest.mark.django_db

EXPECTED = {
    "send_to_moderation": (Status.MODERATION, EventKind.SENT_TO_MODERATION),
    "assign": (Status.ASSIGNED, EventKind.ASSIGNED),
    "take": (Status.IN_WORK, EventKind.TAKEN),
    "request_clarification": (Status.CLARIFICATION, EventKind.CLARIFICATION_REQUESTED),
    "citizen_reply": (Status.IN_WORK, EventKind.CITIZEN_REPLIED),
    "interim_answer": (Status.INTERIM, EventKind.INTERIM_ANSWER),
    "answer": (Status.ANSWERED, EventKind.ANSWERED),
    "close": (Status.CLOSED, EventKind.CLOSED),
    "reopen": (Status.IN_WORK, EventKind.REOPENED),
    "reject": (Status.REJECTED, EventKind.REJECTED),
    "redirect": (Status.ASSIGNED, EventKind.REDIRECTED),
    "merge": (Status.MERGED, EventKind.MERGED),
    "extend": (None, EventKind.EXTENDED),  # the status stays
    "comment": (None, EventKind.COMMENTED),  # the status stays
    "approve_answer": (Status.ANSWERED, EventKind.ANSWERED),  # after ANSWER_APPROVED
    "return_answer": (Status.IN_WORK, EventKind.ANSWER_RETURNED),
    "set_priority": (None, EventKind.PRIORITY_CHANGED),  # the status stays
    "reassign": (None, EventKind.REASSIGNED),  # the status stays
    "rate": (None, EventKind.RATED),  # the status stays
}
TWO_EVENTS = {"merge", "approve_answer"}


def arguments(action, appeal):
    now = timezone.now()
    return {
        "send_to_moderation": {"reason": "Проверить адрес"},
        "assign": {"organisation": OrganisationFactory()},
        "take": {},
        "request_clarification": {"question": "Уточните номер подъезда"},
        "citizen_reply": {"text": "Второй подъезд"},
        "interim_answer": {"text": "Работы запланированы", "planned_at": now + timedelta(days=5)},
        "answer": {"text": "Мусор вывезен"},
        "close": {"how": "satisfied"},
        "reopen": {"reason": "Мусор снова лежит"},
        "reject": {"reason": "Обращение не содержит сути вопроса"},
        "redirect": {"reason": "Не в нашей компетенции", "organisation": OrganisationFactory()},
        "merge": {"into": AppealFactory(status=Status.IN_WORK)},
        "extend": {"until": appeal.resolution_due + timedelta(days=3), "reason": "Нужен подрядчик"},
        "comment": {"text": "Яма стала больше"},
        "approve_answer": {},
        "return_answer": {"comment": "Не указано, когда вывезут мусор"},
        "set_priority": {"priority": "high", "reason": "Угроза жизни: наледь над входом"},
        "reassign": {"assignee": user_with_role(Role.EXECUTOR, organisation=appeal.organisation)},
        "rate": {"rating": 4, "comment": "Сделали"},
    }[action]


def appeal_in(status):
    now = timezone.now()
    appeal = AppealFactory(
        status=status,
        registered_at=now - timedelta(days=2),
        clock_started_at=now - timedelta(days=2),
        resolution_due=now + timedelta(days=8),
        paused_since=now - timedelta(hours=5) if status == Status.CLARIFICATION else None,
        closed_at=now - timedelta(days=1)
        if status in (Status.CLOSED, Status.REJECTED, Status.MERGED)
        else None,
        answered_at=now - timedelta(days=1) if status in (Status.ANSWERED, Status.CLOSED) else None,
    )
    if status == Status.REVIEW:  # an answer waits for its reviewer
        AppealEvent.objects.create(
            appeal=appeal,
            kind=EventKind.ANSWER_SUBMITTED,
            at=now - timedelta(hours=1),
            status_from=Status.IN_WORK,
            status_to=Status.REVIEW,
            reason="Мусор вывезен 12.03, площадка убрана",
        )
    return appeal


CASES = [(action, status) for action in EXPECTED for status in Status.values]
IDS = [f"{a}-from-{s}" for a, s in CASES]


def take_step(action, status):
    # given
    appeal = appeal_in(status)
    actor = UserFactory()
    kwargs = arguments(action, appeal)
    before = model_to_dict(appeal)
    events_before = AppealEvent.objects.count()
    function = getattr(actions, action)

    if status in actions.ALLOWED_FROM[action]:
        # when
        result = function(appeal, actor, **kwargs)
        # then
        to, kind = EXPECTED[action]
        result.refresh_from_db()
        assert result.status == (to or status)
        event = result.events.order_by("-pk").first()
        assert (event.kind, event.actor_id, event.status_from) == (kind, actor.pk, status)
        assert AppealEvent.objects.count() == events_before + (2 if action in TWO_EVENTS else 1)
    else:
        # when / then
        with pytest.raises(InvalidTransition):
            function(appeal, actor, **kwargs)
        appeal.refresh_from_db()
        assert model_to_dict(appeal) == before
        assert AppealEvent.objects.count() == events_before


@pytest.mark.parametrize(("action", "status"), CASES, ids=IDS)
def test_every_step_from_every_status(action, status):
    take_step(action, status)


ALLOWED_CASES = [(a, s) for a, s in CASES if s in actions.ALLOWED_FROM[a]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("action", "status"), ALLOWED_CASES, ids=[f"{a}-from-{s}" for a, s in ALLOWED_CASES])
def test_every_step_opens_its_own_transaction(action, status):
    """Outside a test's wrapping transaction, as in a web worker on PostgreSQL: a step that locked the
    appeal without opening a transaction would fail here (select_for_update outside a transaction)."""
    take_step(action, status)


def test_every_step_that_changes_an_appeal_is_wrapped_as_a_lifecycle_step():
    """Each public function of the actions that takes an appeal goes through `base.step` (its
    transaction, lock and check), or is the named entry point of such a step."""
    entry_points = {"register", "intake_key", "mark_deadlines", "autoclose", "file_ticket", "fulfil"}
    entry_points |= {"erase_expired_personal_data", "record_contacts_seen"}  # many appeals; a journal row
    entry_points |= {"claim"}  # many appeals' author, no step of any (a resident proved the e-mail)
    entry_points |= {"together"}  # a batch of steps in one transaction; each step in it is a step
    wrapped_elsewhere = {
        "add_photo": actions.intake._add_photo,
        "erase_personal_data": actions.privacy._erase,
    }
    for name in actions.__all__:
        function = getattr(actions, name)
        if not callable(function) or name in entry_points:
            continue
        step = wrapped_elsewhere.get(name, function)
        assert getattr(step, "step", None) in actions.ALLOWED_FROM, name


@pytest.mark.parametrize("status", Status.values)
def test_an_outage_link_keeps_the_status_and_is_refused_once_the_appeal_is_final(status):
    appeal = appeal_in(status)
    events_before = appeal.events.count()
    if status in FINAL_STATUSES:
        with pytest.raises(InvalidTransition):
            actions.link_to_outage(appeal, None, outage_id=7, note="Авария на котельной")
        assert appeal.events.count() == events_before
        return
    actions.link_to_outage(appeal, None, outage_id=7, note="Авария на котельной")
    appeal.refresh_from_db()
    assert appeal.events.count() == events_before + 1
    event = appeal.events.get(kind=EventKind.OUTAGE_LINKED)
    assert (appeal.status, event.kind, event.status_from, event.data) == (
        status,
        EventKind.OUTAGE_LINKED,
        status,
        {"outage": 7},
    )


def test_reopen_counts_a_repeat_and_restarts_the_clock():
    appeal = appeal_in(Status.ANSWERED)
    later = timezone.now()
    actions.reopen(appeal, None, reason="Не сделано", at=later)
    appeal.refresh_from_db()
    assert (appeal.status, appeal.reopen_count, appeal.answered_at) == (Status.IN_WORK, 1, None)
    assert appeal.clock_started_at == later
    assert appeal.resolution_due > later


def test_reopen_refused_after_the_window(settings):
    settings.TSUR = {**settings.TSUR, "REOPEN_WINDOW_DAYS": 30}
    appeal = appeal_in(Status.CLOSED)
    appeal.closed_at = timezone.now() - timedelta(days=31)
    appeal.save()
    with pytest.raises(InvalidTransition, match="более 30 дней"):
        actions.reopen(appeal, None, reason="Не сделано")
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED


def test_merge_into_itself_or_a_closed_appeal_is_refused():
    appeal = appeal_in(Status.IN_WORK)
    with pytest.raises(DomainError):
        actions.merge(appeal, None, into=appeal)
    closed = appeal_in(Status.CLOSED)
    with pytest.raises(InvalidTransition):
        actions.merge(appeal, None, into=closed)
    appeal.refresh_from_db()
    assert (appeal.status, appeal.merged_into_id) == (Status.IN_WORK, None)


def test_merge_links_the_duplicate_and_tells_the_main_appeal():
    duplicate, main = appeal_in(Status.MODERATION), appeal_in(Status.IN_WORK)
    actions.merge(duplicate, None, into=main, reason="Тот же двор")
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == (Status.MERGED, main.pk)
    attached = main.events.get(kind=EventKind.DUPLICATE_ATTACHED)
    assert attached.data == {"duplicate": duplicate.number}


def test_answer_records_whether_it_was_on_time():
    late = appeal_in(Status.IN_WORK)
    late.resolution_due = timezone.now() - timedelta(hours=1)
    late.save()
    actions.answer(late, None, text="Сделано")
    assert late.events.get(kind=EventKind.ANSWERED).data == {"on_time": False}


def test_interim_answer_needs_a_future_planned_date():
    appeal = appeal_in(Status.IN_WORK)
    with pytest.raises(DomainError, match="в будущем"):
        actions.interim_answer(appeal, None, text="План", planned_at=timezone.now() - timedelta(days=1))
    appeal.refresh_from_db()
    assert appeal.status == Status.IN_WORK


@pytest.mark.parametrize("text", ["", "   ", "<script>alert(1)</script>", "x" * 4001, 42])
def test_bad_texts_are_refused(text):
    appeal = appeal_in(Status.IN_WORK)
    with pytest.raises(DomainError):
        actions.request_clarification(appeal, None, question=text)
    appeal.refresh_from_db()
    assert appeal.status == Status.IN_WORK
