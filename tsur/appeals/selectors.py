"""Reads for dashboards that are more than a filter."""

from dataclasses import dataclass

from django.db.models import QuerySet

from .choices import EventKind
from .models import AppealEvent


@dataclass(frozen=True)
class RoutingFigures:
    """How the register routed the appeals of a period: by itself (no person's step) and how many of
    those were redirected later (each one a wrong route someone had to correct)."""

    registered: int
    automatic: int
    redirected: int

    @property
    def automatic_share(self) -> float | None:
        return self.automatic / self.registered if self.registered else None

    @property
    def redirected_share(self) -> float | None:
        return self.redirected / self.automatic if self.automatic else None


def routing_figures(appeals: QuerySet) -> RoutingFigures:
    """For the given appeals: how many the register routed by its own decision at intake (the event
    records the decision's path; an organisation the filer named is not the register's decision)."""
    automatic = AppealEvent.objects.filter(
        appeal__in=appeals, kind=EventKind.ASSIGNED, actor__isnull=True, data__has_key="path"
    ).values("appeal_id")
    redirected = (
        AppealEvent.objects.filter(appeal_id__in=automatic, kind=EventKind.REDIRECTED)
        .values("appeal_id")
        .distinct()
    )
    return RoutingFigures(appeals.count(), automatic.count(), redirected.count())
