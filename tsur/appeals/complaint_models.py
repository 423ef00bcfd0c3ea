"""The unified complaint book: tickets a resident filed with a management company, and their steps.
Imported by tsur.appeals.models (Django finds models there)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tsur.core.models import Building, Organisation, User
from tsur.core.scopes import RestrictedQuerySet

from . import policies


class ComplaintTicketQuerySet(RestrictedQuerySet):
    """The complaint book as far as a user's scope reaches (the company's own staff, the territory
    of the building, and what the user entered)."""

    scope_lookups = {
        "organisation": "organisation",
        "territory": "building__territory",
        "author": "created_by",
    }
    action_roles = policies.TICKET_ROLES


class ComplaintTicket(models.Model):
    """A ticket a resident filed with a management company (the unified complaint book).
    A complaint about the company reaches the region only when such a ticket was not fulfilled in time."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("управляющая организация"),
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    number = models.CharField(_("номер заявки"), max_length=64)
    building = models.ForeignKey(
        Building, verbose_name=_("здание"), null=True, blank=True, on_delete=models.SET_NULL
    )
    address = models.CharField(_("адрес"), max_length=400, blank=True)
    text = models.TextField(_("суть заявки"))
    citizen_name = models.CharField(_("заявитель"), max_length=200, blank=True)
    citizen_phone = models.CharField(_("телефон заявителя"), max_length=32, blank=True)
    filed_at = models.DateTimeField(_("подана"))
    due_at = models.DateTimeField(_("срок исполнения"))
    fulfilled_at = models.DateTimeField(_("исполнена"), null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ComplaintTicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("заявка в книге жалоб")
        verbose_name_plural = _("книга жалоб")
        ordering = ["-filed_at"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "number"], name="ticket_unique_number"),
            models.CheckConstraint(
                condition=Q(due_at__gte=models.F("filed_at")), name="ticket_due_after_filed"
            ),
        ]

    def __str__(self):
        return f"{self.organisation}: {self.number}"


class ComplaintTicketEvent(models.Model):
    """A step in the life of a complaint-book ticket: entered by the company, marked fulfilled. The
    companies' effectiveness is read from these and from the appeals' timelines."""

    class Kind(models.TextChoices):
        FILED = "filed", _("Внесена в книгу жалоб")
        FULFILLED = "fulfilled", _("Отмечена выполненной")

    ticket = models.ForeignKey(ComplaintTicket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("событие"), max_length=16, choices=Kind.choices)
    at = models.DateTimeField(_("когда"))
    actor = models.ForeignKey(
        User, verbose_name=_("кто"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("событие заявки книги жалоб")
        verbose_name_plural = _("события заявок книги жалоб")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.ticket}: {self.get_kind_display()}"
