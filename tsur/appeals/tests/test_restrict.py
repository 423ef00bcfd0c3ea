"""One restriction API: `restrict(user, action)` on appeals and complaint tickets, `Scope.covers` for
an object in hand, and one definition of what the public sees, shared by REST and Open311."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tsur.appeals import actions
from tsur.appeals.choices import Status
from tsur.appeals.models import Appeal, ComplaintTicket, ComplaintTicketEvent
from tsur.appeals.tests.factories import AppealFactory, TicketFactory
from tsur.core.choices import OrganisationKind, Role
from tsur.core.errors import DomainError
from tsur.core.models import Organisation
from tsur.core.scopes import scope_for
from tsur.core.tests.factories import OrganisationFactory, TerritoryFactory, UserFactory, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


@pytest.fixture
def two_organisations():
    parent = OrganisationFactory(name="Администрация района")
    return parent, OrganisationFactory(name="Отдел благоустройства", parent=parent), OrganisationFactory()


def numbers(queryset) -> set[str]:
    return set(queryset.values_list("number", flat=True))


def test_an_executor_sees_and_works_only_the_appeals_of_their_organisation_and_below(two_organisations):
    parent, child, other = two_organisations
    mine, below, elsewhere = (
        AppealFactory(organisation=parent),
        AppealFactory(organisation=child),
        AppealFactory(organisation=other),
    )
    executor = user_with_role(Role.EXECUTOR, organisation=parent)

    assert numbers(Appeal.objects.restrict(executor)) == {mine.number, below.number}
    assert numbers(Appeal.objects.restrict(executor, "take")) == {mine.number, below.number}
    assert numbers(Appeal.objects.restrict(executor, "assign")) == set()
    assert not scope_for(executor).covers(organisation=other)
    assert scope_for(executor).covers(organisation=child)
    assert elsewhere.number not in numbers(Appeal.objects.restrict(executor))


def test_an_analyst_of_the_region_sees_everything_and_may_take_no_step():
    appeals = [AppealFactory(), AppealFactory()]
    analyst = user_with_role(Role.ANALYST)

    assert numbers(Appeal.objects.restrict(analyst)) == {a.number for a in appeals}
    assert numbers(Appeal.objects.restrict(analyst, "answer")) == set()


def test_a_territorial_operator_reaches_the_appeals_inside_their_territory():
    district = TerritoryFactory()
    okrug = TerritoryFactory(parent=district)
    inside, outside = AppealFactory(territory=okrug), AppealFactory(territory=TerritoryFactory())
    operator = user_with_role(Role.OPERATOR, territory=district)

    assert numbers(Appeal.objects.restrict(operator, "assign")) == {inside.number}
    assert outside.number not in numbers(Appeal.objects.restrict(operator))


def test_a_citizen_reaches_their_own_appeals_for_the_steps_an_author_may_take():
    citizen = user_with_role(Role.CITIZEN)
    own, filed_for_them, other = (
        AppealFactory(author=citizen),
        AppealFactory(submitted_by=citizen),
        AppealFactory(),
    )

    assert numbers(Appeal.objects.restrict(citizen)) == {own.number, filed_for_them.number}
    assert numbers(Appeal.objects.restrict(citizen, "reopen")) == {own.number}
    assert numbers(Appeal.objects.restrict(citizen, "answer")) == set()
    assert other.number not in numbers(Appeal.objects.restrict(citizen))


def test_nobody_signed_out_is_reached_and_an_unknown_action_is_a_programming_error():
    AppealFactory()
    assert numbers(Appeal.objects.restrict(None)) == set()
    with pytest.raises(LookupError):
        Appeal.objects.restrict(user_with_role(Role.OPERATOR), "dance")


def test_the_complaint_book_and_organisations_are_restricted_the_same_way():
    company, other = (OrganisationFactory(kind=OrganisationKind.MANAGEMENT_COMPANY) for _ in range(2))
    ours, theirs = TicketFactory(organisation=company), TicketFactory(organisation=other)
    staff = user_with_role(Role.EXECUTOR, organisation=company)

    assert set(ComplaintTicket.objects.restrict(staff)) == {ours}
    assert set(ComplaintTicket.objects.restrict(staff, "fulfil")) == {ours}
    assert theirs not in ComplaintTicket.objects.restrict(staff)
    assert set(Organisation.objects.restrict(staff)) == {company}


@pytest.mark.parametrize("status", [Status.REGISTERED, Status.MODERATION, Status.REJECTED])
def test_what_is_not_published_is_hidden_alike_from_rest_and_open311(status):
    appeal = AppealFactory(status=status, number="26-0000101")

    rest = APIClient().get(f"/api/v1/appeals/{appeal.number}/status/")
    open311 = Client().get(f"/open311/v2/requests/{appeal.number}.json")

    assert (rest.status_code, open311.status_code) == (404, 404)
    assert appeal.number not in numbers(Appeal.objects.published())


def test_a_published_appeal_is_shown_alike_by_rest_and_open311_and_its_filer_sees_their_own():
    published = AppealFactory(status=Status.IN_WORK, number="26-0000102")
    citizen = UserFactory()
    own = AppealFactory(status=Status.MODERATION, number="26-0000103", author=citizen)
    signed_in = APIClient()
    signed_in.force_authenticate(citizen)

    assert APIClient().get(f"/api/v1/appeals/{published.number}/status/").json()["status"] == Status.IN_WORK
    assert Client().get(f"/open311/v2/requests/{published.number}.json").status_code == 200
    assert signed_in.get(f"/api/v1/appeals/{own.number}/status/").json()["status"] == Status.MODERATION
    assert numbers(Appeal.objects.published(citizen)) == {published.number, own.number}


def test_filing_and_fulfilling_a_ticket_are_recorded_with_who_and_when():
    company = OrganisationFactory(kind=OrganisationKind.MANAGEMENT_COMPANY)
    staff = user_with_role(Role.EXECUTOR, organisation=company)
    now = timezone.now()

    ticket = actions.file_ticket(
        staff,
        organisation=company,
        number="Z-7",
        text="Не работает лифт",
        filed_at=now - timezone.timedelta(days=2),
        due_at=now + timezone.timedelta(days=1),
        at=now,
    )
    actions.fulfil(ticket, staff, at=now + timezone.timedelta(hours=3))

    events = list(ticket.events.values_list("kind", "actor", "at"))
    assert events == [
        (ComplaintTicketEvent.Kind.FILED, staff.pk, now),
        (ComplaintTicketEvent.Kind.FULFILLED, staff.pk, now + timezone.timedelta(hours=3)),
    ]
    with pytest.raises(DomainError, match="уже отмечена"):
        actions.fulfil(ticket, staff)
    ticket.refresh_from_db()
    assert (ticket.fulfilled_at, ticket.events.count()) == (now + timezone.timedelta(hours=3), 2)


def test_a_ticket_with_impossible_terms_is_refused_and_nothing_is_stored():
    company = OrganisationFactory(kind=OrganisationKind.MANAGEMENT_COMPANY)
    now = timezone.now()
    with pytest.raises(DomainError, match="30 дней"):
        actions.file_ticket(
            None,
            organisation=company,
            number="Z-8",
            text="Течёт крыша",
            filed_at=now - timezone.timedelta(days=40),
            due_at=now,
        )
    assert (ComplaintTicket.objects.count(), ComplaintTicketEvent.objects.count()) == (0, 0)
