"""The unified complaint book: a complaint about a management company reaches the region only with
the number of the company's ticket that was not fulfilled in time."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.forms.models import model_to_dict

from tsur.appeals import actions
from tsur.appeals.choices import Channel, EventKind, Status
from tsur.appeals.models import Appeal, AppealEvent
from tsur.appeals.tests.factories import RuleFactory, TicketFactory, TopicFactory
from tsur.core.choices import OrganisationKind, Role
from tsur.core.errors import DomainError
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory, TerritoryFactory, user_with_role

pytestmark = pytest.mark.django_db

MSK = ZoneInfo("Europe/Moscow")
AT = datetime(2025, 3, 3, 10, 0, tzinfo=MSK)


@pytest.fixture
def company():
    return OrganisationFactory(name="УК «Уютный дом»", kind=OrganisationKind.MANAGEMENT_COMPANY)


@pytest.fixture
def building(company):
    return BuildingFactory(territory=TerritoryFactory(), management_company=company)


@pytest.fixture
def topic():
    return TopicFactory(name="Протечка кровли", complaint_book=True)


@pytest.fixture
def company_rule(topic):
    return RuleFactory(topic=topic, to_management_company=True, organisation=None)


def ticket(organisation, number="УК-17", *, due_at=AT - timedelta(days=3), fulfilled_at=None):
    return TicketFactory(
        organisation=organisation,
        number=number,
        filed_at=AT - timedelta(days=10),
        due_at=due_at,
        fulfilled_at=fulfilled_at,
    )


def register(topic, building, number="", **kwargs):
    return actions.register(
        channel=Channel.PORTAL,
        text="Течёт крыша над квартирой",
        topic=topic,
        building=building,
        complaint_ticket_number=number,
        at=AT,
        **kwargs,
    )


def refused(topic, building, number, code, **kwargs):
    appeals, events = Appeal.objects.count(), AppealEvent.objects.count()
    with pytest.raises(DomainError) as error:
        register(topic, building, number, **kwargs)
    assert (error.value.code, error.value.field) == (code, "complaint_ticket_number")
    assert (Appeal.objects.count(), AppealEvent.objects.count()) == (appeals, events)
    return error.value


# ---------------------------------------------------------------- registration: refusals


@pytest.mark.parametrize("number", ["", "   "], ids=["empty", "blank"])
def test_a_complaint_without_a_ticket_number_is_refused(topic, building, company_rule, number):
    # when / then
    error = refused(topic, building, number, "complaint_ticket_required")
    assert "«УК «Уютный дом»»" in error.message


def test_an_unknown_ticket_number_is_refused(topic, building, company, company_rule):
    # given
    ticket(company, "УК-17")

    # when / then
    error = refused(topic, building, "УК-18", "complaint_ticket_unknown")
    assert error.message.startswith("Заявка № УК-18 не найдена")


def test_a_ticket_of_another_company_is_unknown(topic, building, company_rule):
    # given
    other = OrganisationFactory(kind=OrganisationKind.MANAGEMENT_COMPANY)
    ticket(other, "УК-17")

    # when / then
    refused(topic, building, "УК-17", "complaint_ticket_unknown")


def test_a_ticket_still_within_its_term_is_refused(topic, building, company, company_rule):
    # given: due at 12:00 Moscow time, two hours after the complaint
    ticket(company, "УК-17", due_at=AT + timedelta(hours=2))

    # when / then
    error = refused(topic, building, "УК-17", "complaint_ticket_not_due")
    assert "до 03.03.2025 12:00" in error.message


@pytest.mark.parametrize(
    "fulfilled_at",
    [AT - timedelta(days=5), AT - timedelta(days=1)],
    ids=["fulfilled-in-time", "fulfilled-late"],
)
def test_a_fulfilled_ticket_is_refused(topic, building, company, company_rule, fulfilled_at):
    # given
    ticket(company, "УК-17", fulfilled_at=fulfilled_at)

    # when / then
    refused(topic, building, " УК-17 ", "complaint_ticket_fulfilled")


# ---------------------------------------------------------------- registration: accepted


def test_an_overdue_unfulfilled_ticket_lets_the_complaint_through(topic, building, company, company_rule):
    # given
    overdue = ticket(company, "УК-17")

    # when
    appeal, created = register(topic, building, "УК-17")

    # then
    appeal.refresh_from_db()
    assert created is True
    assert (appeal.status, appeal.organisation, appeal.routing_rule, appeal.complaint_ticket) == (
        Status.ASSIGNED,
        company,
        company_rule,
        overdue,
    )
    assert list(appeal.events.values_list("kind", flat=True)) == [
        EventKind.REGISTERED,
        EventKind.COMPLAINT_LINKED,
        EventKind.ASSIGNED,
    ]
    linked = appeal.events.get(kind=EventKind.COMPLAINT_LINKED)
    assert (linked.data["ticket"], linked.data["organisation"]) == ("УК-17", company.pk)
    assert datetime.fromisoformat(linked.data["ticket_due_at"]) == AT - timedelta(days=3)


def test_the_gate_also_applies_to_a_rule_naming_the_company(topic, building, company):
    # given: the rule names the company itself instead of «the building's company»
    RuleFactory(topic=topic, organisation=company)

    # when / then
    refused(topic, building, "", "complaint_ticket_required")
    overdue = ticket(company, "УК-17")
    appeal, _ = register(topic, building, "УК-17")
    appeal.refresh_from_db()
    assert (appeal.status, appeal.organisation, appeal.complaint_ticket) == (
        Status.ASSIGNED,
        company,
        overdue,
    )


def test_the_gate_also_applies_to_a_company_given_at_registration(topic, building, company):
    # when / then
    refused(topic, None, "", "complaint_ticket_required", organisation=company)


def test_a_topic_outside_the_complaint_book_needs_no_ticket(building, company):
    # given
    topic = TopicFactory(complaint_book=False)
    RuleFactory(topic=topic, to_management_company=True, organisation=None)

    # when
    appeal, created = register(topic, building)

    # then
    appeal.refresh_from_db()
    assert (created, appeal.status, appeal.organisation, appeal.complaint_ticket) == (
        True,
        Status.ASSIGNED,
        company,
        None,
    )
    assert not appeal.events.filter(kind=EventKind.COMPLAINT_LINKED).exists()


@pytest.mark.parametrize(
    "kind", [OrganisationKind.AGENCY, OrganisationKind.UTILITY, OrganisationKind.MUNICIPAL_ADMINISTRATION]
)
def test_the_same_topic_routed_elsewhere_needs_no_ticket(topic, building, kind):
    # given
    organisation = OrganisationFactory(kind=kind)
    RuleFactory(topic=topic, organisation=organisation)

    # when
    appeal, created = register(topic, building)

    # then
    appeal.refresh_from_db()
    assert (created, appeal.status, appeal.organisation, appeal.complaint_ticket) == (
        True,
        Status.ASSIGNED,
        organisation,
        None,
    )


def test_a_complaint_waiting_for_moderation_is_not_checked_yet(topic, building, company_rule):
    # when
    appeal, created = register(topic, building, moderate=True)

    # then
    appeal.refresh_from_db()
    assert (created, appeal.status, appeal.organisation, appeal.complaint_ticket) == (
        True,
        Status.MODERATION,
        None,
        None,
    )


# ---------------------------------------------------------------- moderation: actions.assign


@pytest.fixture
def operator():
    return user_with_role(Role.OPERATOR)


@pytest.fixture
def moderated(topic, building):
    appeal, _ = register(topic, building, moderate=True)
    appeal.refresh_from_db()
    assert appeal.status == Status.MODERATION
    return appeal


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("", "complaint_ticket_required"),
        ("УК-99", "complaint_ticket_unknown"),
        ("УК-future", "complaint_ticket_not_due"),
        ("УК-done", "complaint_ticket_fulfilled"),
    ],
)
def test_assigning_to_the_company_checks_the_ticket(moderated, operator, company, number, code):
    # given
    ticket(company, "УК-future", due_at=AT + timedelta(days=1))
    ticket(company, "УК-done", fulfilled_at=AT - timedelta(days=4))
    before = model_to_dict(moderated)
    events = AppealEvent.objects.count()

    # when / then
    with pytest.raises(DomainError) as error:
        actions.assign(
            moderated,
            operator,
            organisation=company,
            complaint_ticket_number=number,
            at=AT + timedelta(hours=1),
        )
    assert error.value.code == code
    moderated.refresh_from_db()
    assert model_to_dict(moderated) == before
    assert AppealEvent.objects.count() == events


def test_assigning_to_the_company_with_an_overdue_ticket_links_it(moderated, operator, company):
    # given
    overdue = ticket(company, "УК-17")

    # when
    actions.assign(
        moderated, operator, organisation=company, complaint_ticket_number="УК-17", at=AT + timedelta(hours=1)
    )

    # then
    moderated.refresh_from_db()
    assert (moderated.status, moderated.organisation, moderated.complaint_ticket) == (
        Status.ASSIGNED,
        company,
        overdue,
    )


def test_assigning_by_the_routing_rules_checks_the_ticket_too(moderated, operator, company, company_rule):
    # when / then
    with pytest.raises(DomainError) as error:
        actions.assign(moderated, operator, at=AT + timedelta(hours=1))
    assert error.value.code == "complaint_ticket_required"
    overdue = ticket(company, "УК-17")
    actions.assign(moderated, operator, complaint_ticket_number="УК-17", at=AT + timedelta(hours=1))
    moderated.refresh_from_db()
    assert (moderated.status, moderated.organisation, moderated.routing_rule, moderated.complaint_ticket) == (
        Status.ASSIGNED,
        company,
        company_rule,
        overdue,
    )


def test_changing_the_topic_to_a_complaint_book_topic_checks_the_ticket(building, operator, company, topic):
    # given: registered without a topic, so it waits in moderation
    appeal, _ = actions.register(channel=Channel.PORTAL, text="Течёт крыша", building=building, at=AT)

    # when / then
    with pytest.raises(DomainError) as error:
        actions.assign(appeal, operator, organisation=company, topic=topic, at=AT + timedelta(hours=1))
    assert error.value.code == "complaint_ticket_required"
    appeal.refresh_from_db()
    assert (appeal.status, appeal.topic, appeal.organisation) == (Status.MODERATION, None, None)


def test_assigning_elsewhere_needs_no_ticket(moderated, operator):
    # given
    agency = OrganisationFactory(kind=OrganisationKind.AGENCY)

    # when
    actions.assign(moderated, operator, organisation=agency, at=AT + timedelta(hours=1))

    # then
    moderated.refresh_from_db()
    assert (moderated.status, moderated.organisation, moderated.complaint_ticket) == (
        Status.ASSIGNED,
        agency,
        None,
    )


def test_a_ticket_linked_in_moderation_appears_on_the_timeline(moderated, operator, company):
    # given
    ticket(company, "УК-17")

    # when
    actions.assign(
        moderated, operator, organisation=company, complaint_ticket_number="УК-17", at=AT + timedelta(hours=1)
    )

    # then
    linked = [
        (e.actor, e.data.get("ticket"), e.data.get("organisation"))
        for e in moderated.events.filter(kind=EventKind.COMPLAINT_LINKED)
    ]
    assert linked == [(operator, "УК-17", company.pk)]
