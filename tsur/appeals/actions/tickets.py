"""The unified complaint book's steps: a management company enters a resident's ticket, and marks
it fulfilled. A complaint about the company reaches the region only with a ticket not fulfilled in
time (tsur.appeals.complaint_book), so both steps are recorded with who and when."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from tsur.core.errors import DomainError
from tsur.core.models import Building, Organisation, User
from tsur.core.text import clean_text

from ..models import ComplaintTicket, ComplaintTicketEvent
from .base import moment

LONGEST_TERM = timedelta(days=30)
CLOCK_SKEW = timedelta(minutes=5)


def check_terms(filed_at: datetime, due_at: datetime, at: datetime) -> None:
    """A ticket's dates as the book accepts them: filed by now, due within 30 days after filing."""
    if filed_at > at + CLOCK_SKEW:
        raise DomainError("Заявка не может быть подана в будущем.", field="filed_at")
    if due_at - filed_at > LONGEST_TERM:
        raise DomainError("Срок исполнения заявки — не больше 30 дней с подачи.", field="due_at")
    if due_at < filed_at:
        raise DomainError("Срок исполнения не может быть раньше подачи заявки.", field="due_at")


def file_ticket(
    actor: User | None,
    *,
    organisation: Organisation,
    number: str,
    text: str,
    filed_at: datetime,
    due_at: datetime,
    building: Building | None = None,
    address: str = "",
    citizen_name: str = "",
    citizen_phone: str = "",
    at: datetime | None = None,
) -> ComplaintTicket:
    """Enter a ticket the resident filed with the company, with its own number and term."""
    at = moment(at)
    number = clean_text(number, field="number", limit=64)
    check_terms(filed_at, due_at, at)
    ticket = ComplaintTicket(
        organisation=organisation,
        number=number,
        building=building,
        address=clean_text(address, field="address", required=False, limit=400),
        text=clean_text(text),
        citizen_name=clean_text(citizen_name, field="citizen_name", required=False, limit=200),
        citizen_phone=clean_text(citizen_phone, field="citizen_phone", required=False, limit=32),
        filed_at=filed_at,
        due_at=due_at,
        created_by=actor if actor and actor.pk else None,
    )
    try:
        with transaction.atomic():
            ticket.save()
            ComplaintTicketEvent.objects.create(
                ticket=ticket, kind=ComplaintTicketEvent.Kind.FILED, at=at, actor=ticket.created_by
            )
    except IntegrityError as error:  # the same number entered concurrently
        raise DomainError("Заявка с таким номером уже есть в книге жалоб.", field="number") from error
    return ticket


def fulfil(
    ticket: ComplaintTicket | int, actor: User | None, *, at: datetime | None = None
) -> ComplaintTicket:
    """The company did what the ticket asked, at the server's time: it cannot be dated back before
    its term to spare the company a complaint."""
    at = moment(at)
    with transaction.atomic():
        pk = ticket.pk if isinstance(ticket, ComplaintTicket) else ticket
        ticket = ComplaintTicket.objects.select_for_update().select_related("organisation").get(pk=pk)
        if ticket.fulfilled_at is not None:
            raise DomainError("Заявка уже отмечена как выполненная.", code="already_fulfilled")
        ticket.fulfilled_at = at
        ticket.save(update_fields=["fulfilled_at"])
        ComplaintTicketEvent.objects.create(
            ticket=ticket,
            kind=ComplaintTicketEvent.Kind.FULFILLED,
            at=at,
            actor=actor if actor and actor.pk else None,
        )
    return ticket
