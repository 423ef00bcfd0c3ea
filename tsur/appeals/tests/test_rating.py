"""The author's mark for the answer (issue 16): 1–5 with a comment, once per answer, in ANSWERED and
CLOSED only; a RATED event with the mark in its data, not public; the same step through the REST API,
where the author and an operator at the hotline may take it and nobody else."""

from datetime import timedelta

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone
from rest_framework.test import APIClient

from tsur.appeals import actions
from tsur.appeals.choices import EventKind, Status
from tsur.appeals.models import AppealEvent
from tsur.appeals.tests.factories import AppealFactory
from tsur.core.choices import Role
from tsur.core.errors import DomainError, InvalidTransition
from tsur.core.tests.factories import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def resident():
    return user_with_role(Role.CITIZEN, username="resident@example.org")


def answered(author, **fields):
    now = timezone.now()
    return AppealFactory(
        status=Status.ANSWERED,
        author=author,
        registered_at=now - timedelta(days=5),
        clock_started_at=now - timedelta(days=5),
        resolution_due=now + timedelta(days=5),
        answered_at=now - timedelta(hours=3),
        **fields,
    )


def test_a_mark_is_stored_with_its_event(resident):
    appeal = answered(resident)

    actions.rate(appeal, resident, rating=4, comment="Сделали, но не сразу")

    appeal.refresh_from_db()
    event = appeal.events.get()
    assert (appeal.rating, appeal.rating_comment, appeal.status) == (
        4,
        "Сделали, но не сразу",
        Status.ANSWERED,
    )
    assert appeal.rated_at == event.at
    assert (event.kind, event.actor, event.data, event.reason, event.public) == (
        EventKind.RATED,
        resident,
        {"rating": 4},
        "Сделали, но не сразу",
        False,
    )


@pytest.mark.parametrize("rating", [0, 6, -1, "5", 4.5, True, None])
def test_a_mark_outside_one_to_five_is_refused(resident, rating):
    appeal = answered(resident)
    before = model_to_dict(appeal)

    with pytest.raises(DomainError):
        actions.rate(appeal, resident, rating=rating)

    appeal.refresh_from_db()
    assert model_to_dict(appeal) == before
    assert not appeal.events.exists()


def test_markup_in_the_comment_is_refused(resident):
    appeal = answered(resident)
    with pytest.raises(DomainError, match="HTML"):
        actions.rate(appeal, resident, rating=3, comment="<b>плохо</b>")
    appeal.refresh_from_db()
    assert appeal.rating is None


@pytest.mark.parametrize("status", [s for s in Status.values if s not in (Status.ANSWERED, Status.CLOSED)])
def test_there_is_nothing_to_rate_before_an_answer(resident, status):
    appeal = AppealFactory(status=status, author=resident)
    with pytest.raises(InvalidTransition):
        actions.rate(appeal, resident, rating=5)
    appeal.refresh_from_db()
    assert appeal.rating is None


def test_a_closed_appeal_may_still_be_rated(resident):
    appeal = answered(resident)
    actions.close(appeal, resident)

    actions.rate(appeal, resident, rating=5)

    appeal.refresh_from_db()
    assert (appeal.status, appeal.rating) == (Status.CLOSED, 5)


def test_an_answer_is_rated_once_and_the_next_answer_after_reopening_again(resident):
    executor = user_with_role(Role.EXECUTOR)
    appeal = answered(resident)
    actions.rate(appeal, resident, rating=2)

    # the same answer cannot be marked again, nor after its appeal is closed
    with pytest.raises(DomainError, match="уже оценён"):
        actions.rate(appeal, resident, rating=5)
    actions.close(appeal, resident)
    with pytest.raises(DomainError, match="уже оценён"):
        actions.rate(appeal, resident, rating=5)

    # reopened and answered anew: the new answer gets its own mark
    actions.reopen(appeal, resident, reason="Снова течёт")
    actions.answer(appeal, executor, text="Кровля заменена целиком")
    actions.rate(appeal, resident, rating=5)

    appeal.refresh_from_db()
    marks = list(appeal.events.filter(kind=EventKind.RATED).values_list("data", flat=True))
    assert (appeal.rating, marks) == (5, [{"rating": 2}, {"rating": 5}])


# ------------------------------------------------------------------ REST


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_author_rates_through_the_api(resident):
    appeal = answered(resident)

    response = api(resident).post(
        f"/api/v1/appeals/{appeal.number}/rate/", {"rating": 1, "comment": "Ничего не сделано"}, format="json"
    )

    assert response.status_code == 200, response.content
    appeal.refresh_from_db()
    assert (appeal.rating, appeal.rating_comment) == (1, "Ничего не сделано")
    assert "rate" not in response.json()["allowed_actions"]  # marked: not offered again
    assert "reopen" in response.json()["allowed_actions"]


def test_an_operator_writes_down_a_callers_mark(resident):
    appeal = answered(resident)
    operator = user_with_role(Role.OPERATOR)

    response = api(operator).post(f"/api/v1/appeals/{appeal.number}/rate/", {"rating": 4}, format="json")

    assert response.status_code == 200, response.content
    assert AppealEvent.objects.get(appeal=appeal, kind=EventKind.RATED).actor == operator


@pytest.mark.parametrize(
    ("body", "status"),
    [({"rating": 7}, 400), ({"rating": "пять"}, 400), ({}, 400), ({"rating": 3, "comment": "<i>x</i>"}, 400)],
)
def test_a_bad_mark_through_the_api_is_a_400_and_changes_nothing(resident, body, status):
    appeal = answered(resident)

    response = api(resident).post(f"/api/v1/appeals/{appeal.number}/rate/", body, format="json")

    assert response.status_code == status
    appeal.refresh_from_db()
    assert appeal.rating is None and not appeal.events.exists()


def test_a_second_mark_through_the_api_is_refused(resident):
    appeal = answered(resident)
    client = api(resident)
    assert (
        client.post(f"/api/v1/appeals/{appeal.number}/rate/", {"rating": 3}, format="json").status_code == 200
    )

    response = client.post(f"/api/v1/appeals/{appeal.number}/rate/", {"rating": 5}, format="json")

    assert response.status_code == 400
    appeal.refresh_from_db()
    assert appeal.rating == 3


def test_an_executor_may_not_rate_the_answer_of_their_own_organisation(resident):
    appeal = answered(resident)
    executor = user_with_role(Role.EXECUTOR, organisation=appeal.organisation)

    response = api(executor).post(f"/api/v1/appeals/{appeal.number}/rate/", {"rating": 5}, format="json")

    assert response.status_code == 403
    appeal.refresh_from_db()
    assert appeal.rating is None


def test_another_resident_does_not_find_the_appeal(resident):
    appeal = answered(resident)
    other = user_with_role(Role.CITIZEN, username="other@example.org")

    response = api(other).post(f"/api/v1/appeals/{appeal.number}/rate/", {"rating": 1}, format="json")

    assert response.status_code == 404
    appeal.refresh_from_db()
    assert appeal.rating is None


def test_reopening_after_the_window_is_refused_through_the_api(resident, settings):
    appeal = answered(resident)
    actions.close(
        appeal, resident, at=timezone.now() - timedelta(days=settings.TSUR["REOPEN_WINDOW_DAYS"] + 1)
    )

    response = api(resident).post(
        f"/api/v1/appeals/{appeal.number}/reopen/", {"reason": "Снова"}, format="json"
    )

    assert response.status_code == 409
    appeal.refresh_from_db()
    assert (appeal.status, appeal.reopen_count) == (Status.CLOSED, 0)
