"""The hotline's operator writes down the mark a caller gives the answer on the phone: the same
`rate` action as the author's page, offered on the console's card once the answer is given."""

import pytest

from tsur.appeals import actions
from tsur.appeals.choices import EventKind
from tsur.core.choices import Role
from tsur.core.tests.factories import user_with_role

from .conftest import login

pytestmark = pytest.mark.django_db


def test_the_operator_records_the_caller_s_mark_once(region):
    appeal = region["working"]
    executor = user_with_role(Role.EXECUTOR, organisation=region["ours"])
    actions.take(appeal, executor)
    actions.answer(appeal, executor, text="Контейнерная площадка убрана 3 декабря")
    client = login(region["operator"])
    url = f"/console/appeals/{appeal.number}/rate/"

    card = client.get(f"/console/appeals/{appeal.number}/").content.decode()
    first = client.post(url, {"rate-rating": "4", "rate-comment": "Убрали, но поздно"})
    again = client.post(url, {"rate-rating": "1"})

    appeal.refresh_from_db()
    assert 'name="rate-rating"' in card
    assert first.status_code == 302 and again.status_code in (302, 403)
    assert (appeal.rating, appeal.rating_comment) == (4, "Убрали, но поздно")
    [rated] = appeal.events.filter(kind=EventKind.RATED)
    assert (rated.actor, rated.data) == (region["operator"], {"rating": 4})


def test_no_mark_before_the_answer(region):
    client = login(region["operator"])

    card = client.get(f"/console/appeals/{region['working'].number}/").content.decode()
    refused = client.post(f"/console/appeals/{region['working'].number}/rate/", {"rate-rating": "5"})

    region["working"].refresh_from_db()
    assert 'name="rate-rating"' not in card
    assert refused.status_code in (302, 403, 409)
    assert region["working"].rating is None
