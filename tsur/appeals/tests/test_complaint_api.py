"""The complaint book over the API: companies file tickets; citizens' complaints pass only with an overdue one."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from tsur.appeals.choices import EventKind, Status
from tsur.appeals.models import Appeal, ComplaintTicket
from tsur.appeals.tests.factories import RuleFactory, TicketFactory, TopicFactory
from tsur.core.choices import OrganisationKind, Role
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory, user_with_role

pytestmark = pytest.mark.django_db
TICKETS = "/api/v1/complaint-tickets/"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


def client_for(user=None):
    client = APIClient()
    if user:
        client.force_authenticate(user)
    return client


@pytest.fixture
def company():
    return OrganisationFactory(kind=OrganisationKind.MANAGEMENT_COMPANY, name="УК «Уютный дом»")


@pytest.fixture
def complaint_setup(company):
    building = BuildingFactory(management_company=company)
    topic = TopicFactory(complaint_book=True)
    RuleFactory(topic=topic, organisation=None, to_management_company=True)
    return building, topic


def ticket_payload(company, **overrides):
    now = timezone.now()
    return {
        "organisation": company.pk,
        "number": "Z-15",
        "text": "Не работает освещение в подъезде",
        "filed_at": (now - timedelta(days=5)).isoformat(),
        "due_at": (now - timedelta(days=1)).isoformat(),
        **overrides,
    }


def test_company_staff_file_tickets_in_the_book(company):
    staff = client_for(user_with_role(Role.EXECUTOR, organisation=company))
    response = staff.post(TICKETS, ticket_payload(company), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["overdue"] is True
    assert ComplaintTicket.objects.get().created_by.assignments.get().organisation == company


def test_another_organisation_cannot_file_for_the_company(company):
    outsider = client_for(user_with_role(Role.EXECUTOR, organisation=OrganisationFactory()))
    assert outsider.post(TICKETS, ticket_payload(company), format="json").status_code == 403
    assert ComplaintTicket.objects.count() == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"organisation": 999999},
        {"due_at": "позавчера"},
        {"number": ""},
        {"due_at": (timezone.now() - timedelta(days=30)).isoformat()},
    ],
    ids=["unknown company", "bad date", "no number", "due before filed"],
)
def test_bad_tickets_are_refused(company, overrides):
    staff = client_for(user_with_role(Role.EXECUTOR, organisation=company))
    response = staff.post(TICKETS, ticket_payload(company, **overrides), format="json")
    assert response.status_code == 400, response.content
    assert ComplaintTicket.objects.count() == 0


def test_duplicate_ticket_number_is_refused(company):
    staff = client_for(user_with_role(Role.EXECUTOR, organisation=company))
    assert staff.post(TICKETS, ticket_payload(company), format="json").status_code == 201
    assert staff.post(TICKETS, ticket_payload(company), format="json").status_code == 400
    assert ComplaintTicket.objects.count() == 1


def test_company_marks_a_ticket_fulfilled_once(company):
    ticket = TicketFactory(organisation=company)
    staff = client_for(user_with_role(Role.EXECUTOR, organisation=company))
    assert staff.post(f"{TICKETS}{ticket.pk}/fulfil/", {}, format="json").status_code == 200
    assert staff.post(f"{TICKETS}{ticket.pk}/fulfil/", {}, format="json").status_code == 400


def test_tickets_of_other_companies_are_not_found(company):
    ticket = TicketFactory(organisation=company)
    other = client_for(user_with_role(Role.EXECUTOR, organisation=OrganisationFactory()))
    assert other.get(f"{TICKETS}{ticket.pk}/").status_code == 404
    assert other.get(TICKETS).json()["count"] == 0


def test_citizen_complaint_without_a_ticket_is_told_what_to_do_first(complaint_setup):
    building, topic = complaint_setup
    response = client_for().post(
        "/api/v1/appeals/",
        {
            "personal_data_consent": True,
            "text": "В подъезде темно",
            "topic": topic.code,
            "building": building.pk,
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "complaint_ticket_required"
    assert "Сначала подайте заявку в управляющую организацию" in body["detail"]
    assert Appeal.objects.count() == 0


def test_citizen_complaint_with_an_overdue_ticket_escalates(complaint_setup, company):
    building, topic = complaint_setup
    ticket = TicketFactory(organisation=company, number="Z-77")
    response = client_for().post(
        "/api/v1/appeals/",
        {
            "personal_data_consent": True,
            "text": "В подъезде темно уже месяц",
            "topic": topic.code,
            "building": building.pk,
            "complaint_ticket_number": "Z-77",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    appeal = Appeal.objects.get()
    assert (appeal.status, appeal.organisation, appeal.complaint_ticket) == (Status.ASSIGNED, company, ticket)
    assert appeal.events.filter(kind=EventKind.COMPLAINT_LINKED).count() == 1
    assert list(ticket.escalations.all()) == [appeal]


def test_effectiveness_counts_late_tickets_and_escalations(complaint_setup, company):
    building, topic = complaint_setup
    TicketFactory(organisation=company, number="Z-1")  # overdue, never fulfilled
    TicketFactory(
        organisation=company, number="Z-2", due_at=timezone.now() + timedelta(days=2)
    )  # still in time
    done = TicketFactory(organisation=company, number="Z-3")
    done.fulfilled_at = done.due_at - timedelta(hours=1)
    done.save()
    client_for().post(
        "/api/v1/appeals/",
        {
            "personal_data_consent": True,
            "text": "Темно в подъезде",
            "topic": topic.code,
            "building": building.pk,
            "complaint_ticket_number": "Z-1",
        },
        format="json",
    )
    OrganisationFactory(kind=OrganisationKind.MANAGEMENT_COMPANY)  # another company, not in the staff's scope
    staff = client_for(user_with_role(Role.SUPERVISOR, organisation=company))
    rows = staff.get(f"{TICKETS}effectiveness/").json()
    assert rows == [
        {
            "id": company.pk,
            "name": company.name,
            "tickets": 3,
            "late_tickets": 1,
            "escalations": 1,
            "on_time_share": 0.667,
        }
    ]


def test_fulfilment_is_dated_by_the_server(company):
    ticket = TicketFactory(organisation=company)  # overdue
    staff = client_for(user_with_role(Role.EXECUTOR, organisation=company))
    response = staff.post(
        f"{TICKETS}{ticket.pk}/fulfil/", {"fulfilled_at": "2000-01-01T00:00:00Z"}, format="json"
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.fulfilled_at > ticket.due_at  # still counts as late


def test_a_ticket_cannot_have_a_far_deadline(company):
    staff = client_for(user_with_role(Role.EXECUTOR, organisation=company))
    far = ticket_payload(company, due_at="2099-01-01T00:00:00Z")
    assert staff.post(TICKETS, far, format="json").status_code == 400


def test_residents_contacts_in_the_book_are_for_the_company_and_operators_only(company):
    TicketFactory(organisation=company, citizen_name="Иванова", citizen_phone="+79991112233")
    analyst = client_for(user_with_role(Role.ANALYST))
    operator = client_for(user_with_role(Role.OPERATOR))
    assert analyst.get(TICKETS).json()["results"][0]["citizen_phone"] is None
    assert operator.get(TICKETS).json()["results"][0]["citizen_phone"] == "+79991112233"


def test_a_ticket_about_another_building_does_not_open_the_gate(complaint_setup, company):
    building, topic = complaint_setup
    TicketFactory(organisation=company, number="Z-9", building=BuildingFactory(management_company=company))
    response = client_for().post(
        "/api/v1/appeals/",
        {
            "personal_data_consent": True,
            "text": "Темно",
            "topic": topic.code,
            "building": building.pk,
            "complaint_ticket_number": "Z-9",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "complaint_ticket_unknown"
    assert Appeal.objects.count() == 0


def test_redirect_to_a_management_company_without_a_ticket_is_refused(complaint_setup, company):
    from tsur.appeals import actions
    from tsur.appeals.tests.factories import AppealFactory
    from tsur.core.errors import DomainError

    building, topic = complaint_setup
    appeal = AppealFactory(
        topic=topic,
        building=building,
        status=Status.IN_WORK,
        resolution_due=timezone.now() + timedelta(days=3),
    )
    with pytest.raises(DomainError, match="книги жалоб"):
        actions.redirect(appeal, None, reason="Это к УК", organisation=company)
    appeal.refresh_from_db()
    assert (appeal.status, appeal.organisation == company) == (Status.IN_WORK, False)
