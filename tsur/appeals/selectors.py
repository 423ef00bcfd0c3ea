"""Reads of the register that are more than a filter."""

from django.db.models import Q, QuerySet

from tsur.core.scopes import scope_for

from .models import Appeal, ComplaintTicket


def appeals_visible_to(user) -> QuerySet[Appeal]:
    """Every appeal the user may see: by organisation, territory or region, plus their own."""
    if user is None or not user.is_authenticated:
        return Appeal.objects.none()
    scope = scope_for(user)
    if scope.region:
        return Appeal.objects.all()  # (an empty Q would swallow nothing but vanish in the OR below)
    return Appeal.objects.filter(
        scope.q(organisation="organisation", territory="territory", author="author") | Q(submitted_by=user.pk)
    )


def tickets_visible_to(user) -> QuerySet[ComplaintTicket]:
    scope = scope_for(user)
    if scope.is_empty:
        return ComplaintTicket.objects.none()
    return ComplaintTicket.objects.filter(
        scope.q(organisation="organisation", territory="building__territory", author="created_by")
    )
