"""Reads of the register that are more than a filter."""

from django.db.models import QuerySet

from tsur.core.scopes import scope_for

from .models import Appeal, ComplaintTicket


def appeals_visible_to(user) -> QuerySet[Appeal]:
    """Every appeal the user may see: by organisation, territory or region, plus their own."""
    scope = scope_for(user)
    if scope.is_empty:
        return Appeal.objects.none()
    return Appeal.objects.filter(scope.q(organisation="organisation", territory="territory", author="author"))


def tickets_visible_to(user) -> QuerySet[ComplaintTicket]:
    scope = scope_for(user)
    if scope.is_empty:
        return ComplaintTicket.objects.none()
    return ComplaintTicket.objects.filter(
        scope.q(organisation="organisation", territory="building__territory", author="created_by")
    )
