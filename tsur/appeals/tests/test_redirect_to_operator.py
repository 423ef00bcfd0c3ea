"""An executor who does not know whose an appeal is returns it to the operator (moderation), not to
whatever the routing rules would choose next; the same step through the REST API."""

import pytest
from rest_framework.test import APIClient

from tsur.appeals import actions
from tsur.appeals.choices import EventKind, Status
from tsur.appeals.tests.factories import RuleFactory, TopicFactory
from tsur.core.choices import Role
from tsur.core.errors import DomainError
from tsur.core.tests.factories import OrganisationFactory, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def assigned():
    topic = TopicFactory()
    ours, next_in_line = OrganisationFactory(), OrganisationFactory()
    RuleFactory(topic=topic, organisation=next_in_line)  # what routing would choose instead
    appeal, _ = actions.register(channel="portal", text="Не наш участок", topic=topic, organisation=ours)
    return appeal, ours, user_with_role(Role.EXECUTOR, organisation=ours)


def test_returned_to_the_operator_the_appeal_waits_in_moderation(assigned):
    appeal, ours, executor = assigned
    client = APIClient()
    client.force_authenticate(executor)

    response = client.post(
        f"/api/v1/appeals/{appeal.number}/redirect/",
        {"reason": "Не наш участок", "to_operator": True},
        format="json",
    )

    appeal.refresh_from_db()
    assert response.status_code == 200
    assert (appeal.status, appeal.organisation) == (Status.MODERATION, None)
    event = appeal.events.get(kind=EventKind.REDIRECTED)
    assert event.data == {"from_organisation": ours.pk, "to_moderation": True}


def test_an_organisation_and_a_return_to_the_operator_exclude_each_other(assigned):
    appeal, _ours, executor = assigned
    with pytest.raises(DomainError):
        actions.redirect(appeal, executor, reason="?", organisation=OrganisationFactory(), to_operator=True)
    appeal.refresh_from_db()
    assert appeal.status == Status.ASSIGNED
