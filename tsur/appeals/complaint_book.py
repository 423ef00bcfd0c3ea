"""The unified complaint book: when a complaint about a management company may reach the region."""

from datetime import datetime

from django.db.models import Count, F, Q
from django.utils import timezone

from tsur.core.choices import OrganisationKind
from tsur.core.errors import DomainError
from tsur.core.models import Building, Organisation

from .choices import EventKind
from .models import AppealEvent, ComplaintTicket, Topic


def applies(topic: Topic | None, organisation: Organisation | None) -> bool:
    return bool(
        topic is not None
        and topic.complaint_book
        and organisation is not None
        and organisation.kind == OrganisationKind.MANAGEMENT_COMPANY
    )


def _local(at: datetime) -> str:
    return timezone.localtime(at).strftime("%d.%m.%Y %H:%M")


def unfulfilled_ticket(
    organisation: Organisation, number: str, at: datetime, building: Building | None = None
) -> ComplaintTicket:
    """The company's ticket `number` about this building, if it was not fulfilled in time; otherwise a
    refusal that says what to do. A ticket about another building is as good as unknown."""
    number = (number or "").strip()
    if not number:
        raise DomainError(
            f"Обращения по этой теме к управляющей организации «{organisation}» принимаются через книгу жалоб. "
            "Сначала подайте заявку в управляющую организацию. Если она не будет выполнена в срок, "
            "подайте обращение снова и укажите номер этой заявки.",
            code="complaint_ticket_required",
            field="complaint_ticket_number",
        )
    ticket = ComplaintTicket.objects.filter(organisation=organisation, number=number).first()
    if (
        ticket is not None
        and ticket.building_id
        and building is not None
        and ticket.building_id != building.pk
    ):
        ticket = None
    if ticket is None:
        raise DomainError(
            f"Заявка № {number} не найдена в книге жалоб управляющей организации «{organisation}». "
            "Проверьте номер заявки.",
            code="complaint_ticket_unknown",
            field="complaint_ticket_number",
        )
    if ticket.fulfilled_at is not None and ticket.fulfilled_at <= at:
        raise DomainError(
            f"Заявка № {number} отмечена как выполненная {_local(ticket.fulfilled_at)}. "
            "Если проблема осталась, подайте новую заявку в управляющую организацию.",
            code="complaint_ticket_fulfilled",
            field="complaint_ticket_number",
        )
    if ticket.due_at > at:
        raise DomainError(
            f"Срок исполнения заявки № {number} ещё не истёк: до {_local(ticket.due_at)}. "
            "Если к этому времени заявка не будет выполнена, подайте обращение снова.",
            code="complaint_ticket_not_due",
            field="complaint_ticket_number",
        )
    return ticket


def effectiveness(organisations) -> list[dict]:
    """Per management company: tickets in the book, those not fulfilled in time, and the complaints
    that reached the region because of them (read from the appeals' timelines)."""
    now = timezone.now()
    rows = organisations.annotate(
        ticket_count=Count("tickets", distinct=True),
        late_tickets=Count(
            "tickets",
            filter=Q(tickets__fulfilled_at__isnull=True, tickets__due_at__lt=now)
            | Q(tickets__fulfilled_at__gt=F("tickets__due_at")),
            distinct=True,
        ),
    ).values("id", "name", "ticket_count", "late_tickets")
    escalations = dict(
        AppealEvent.objects.filter(kind=EventKind.COMPLAINT_LINKED)
        .values_list("data__organisation")
        .annotate(n=Count("id"))
        .values_list("data__organisation", "n")
    )
    result = []
    for row in rows:
        row["tickets"] = row.pop("ticket_count")
        row["escalations"] = escalations.get(row["id"], 0)
        row["on_time_share"] = round(1 - row["late_tickets"] / row["tickets"], 3) if row["tickets"] else None
        result.append(row)
    return result
