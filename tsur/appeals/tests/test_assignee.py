"""The person inside the organisation who works on an appeal: the one who takes it, or whom the
supervisor hands it to (`reassign`), told by e-mail; the REST step checks the role and the scope."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tsur.appeals import actions, policies
from tsur.appeals.choices import EventKind, Status
from tsur.appeals.models import Appeal, AppealEvent
from tsur.appeals.tests.factories import AppealFactory
from tsur.core.choices import Role
from tsur.core.errors import DomainError
from tsur.core.tests.factories import OrganisationFactory, user_with_role
from tsur.notify.models import Delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisation():
    cache.clear()  # the API's rate limits
    company = OrganisationFactory(name="ЖА Невского района")
    return {
        "company": company,
        "appeal": AppealFactory(status=Status.ASSIGNED, organisation=company),
        "executor": user_with_role(Role.EXECUTOR, organisation=company, username="ivanov"),
        "colleague": user_with_role(
            Role.EXECUTOR, organisation=company, username="petrov", email="petrov@example.org"
        ),
        "supervisor": user_with_role(Role.SUPERVISOR, organisation=company, username="boss"),
        "stranger": user_with_role(Role.EXECUTOR, organisation=OrganisationFactory(), username="other"),
    }


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_taking_an_appeal_makes_the_person_its_assignee(organisation):
    appeal = organisation["appeal"]

    actions.take(appeal, organisation["executor"])

    appeal.refresh_from_db()
    assert (appeal.status, appeal.assignee) == (Status.IN_WORK, organisation["executor"])


def test_the_supervisor_hands_an_appeal_to_a_colleague_who_is_told(organisation):
    appeal = organisation["appeal"]
    actions.take(appeal, organisation["executor"])

    actions.reassign(
        appeal, organisation["supervisor"], assignee=organisation["colleague"], reason="В отпуске"
    )

    appeal.refresh_from_db()
    event = appeal.events.get(kind=EventKind.REASSIGNED)
    assert (appeal.status, appeal.assignee) == (Status.IN_WORK, organisation["colleague"])
    assert (event.actor, event.reason, event.public) == (organisation["supervisor"], "В отпуске", False)
    assert event.data == {"from": organisation["executor"].pk, "to": organisation["colleague"].pk}
    told = Delivery.objects.filter(payload__kind=EventKind.REASSIGNED)
    assert [d.address for d in told] == ["petrov@example.org"]


def test_a_person_of_another_organisation_or_the_same_one_again_is_refused(organisation):
    appeal = organisation["appeal"]
    actions.take(appeal, organisation["executor"])

    with pytest.raises(DomainError, match="не работает"):
        actions.reassign(appeal, organisation["supervisor"], assignee=organisation["stranger"])
    with pytest.raises(DomainError, match="уже у этого сотрудника"):
        actions.reassign(appeal, organisation["supervisor"], assignee=organisation["executor"])

    appeal.refresh_from_db()
    assert appeal.assignee == organisation["executor"]
    assert not AppealEvent.objects.filter(kind=EventKind.REASSIGNED).exists()


def test_people_of_the_organisation_above_may_be_given_it_but_not_those_below(organisation):
    parent = OrganisationFactory(name="Администрация района")
    company = organisation["company"]
    company.parent = parent
    company.save()
    child = OrganisationFactory(name="Участок № 3", parent=company)
    above = user_with_role(Role.SUPERVISOR, organisation=parent, username="head")
    below = user_with_role(Role.EXECUTOR, organisation=child, username="foreman")
    inactive = user_with_role(Role.EXECUTOR, organisation=company, username="gone", is_active=False)
    company.refresh_from_db()

    people = set(policies.assignable(company))

    assert above in people and organisation["colleague"] in people
    assert below not in people and inactive not in people


def test_redirecting_to_another_organisation_drops_the_assignee(organisation):
    appeal = organisation["appeal"]
    actions.take(appeal, organisation["executor"])

    actions.redirect(appeal, organisation["executor"], reason="Не наше", organisation=OrganisationFactory())

    appeal.refresh_from_db()
    assert (appeal.status, appeal.assignee) == (Status.ASSIGNED, None)


def test_the_rest_step_is_the_supervisors(organisation):
    appeal = organisation["appeal"]
    url = f"/api/v1/appeals/{appeal.number}/reassign/"
    body = {"assignee": organisation["colleague"].pk, "reason": "Ближе к объекту"}

    by_executor = api(organisation["executor"]).post(url, body, format="json")
    by_stranger = api(organisation["stranger"]).post(url, body, format="json")
    to_stranger = api(organisation["supervisor"]).post(
        url, {"assignee": organisation["stranger"].pk}, format="json"
    )
    unchanged = Appeal.objects.get(pk=appeal.pk).assignee
    done = api(organisation["supervisor"]).post(url, body, format="json")

    assert (by_executor.status_code, by_stranger.status_code, to_stranger.status_code) == (403, 404, 400)
    assert unchanged is None
    assert done.status_code == 200 and done.json()["number"] == appeal.number
    assert Appeal.objects.get(pk=appeal.pk).assignee == organisation["colleague"]
