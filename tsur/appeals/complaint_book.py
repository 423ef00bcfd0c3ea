"""The unified complaint book: when a complaint about a management company may reach the region."""

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from tsur.core.choices import OrganisationKind
from tsur.core.errors import DomainError
from tsur.core.models import Organisation

from .models import ComplaintTicket, Topic


def applies(topic: Topic | None, organisation: Organisation | None) -> bool:
    return bool(
        topic is not None
        and topic.complaint_book
        and organisation is not None
        and organisation.kind == OrganisationKind.MANAGEMENT_COMPANY
    )


def _local(at: datetime) -> str:
    return timezone.localtime(at, timezone=_tz()).strftime("%d.%m.%Y %H:%M")


def _tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo(settings.TIME_ZONE)


def unfulfilled_ticket(organisation: Organisation, number: str, at: datetime) -> ComplaintTicket:
    """The company's ticket `number`, if it was not fulfilled in time; otherwise a refusal that says what to do."""
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
