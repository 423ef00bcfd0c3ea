"""The complaint book's effectiveness per management company, over a period: tickets filed with the
company, fulfilled in time, late; the complaints that reached the region because a ticket was not
fulfilled in time (read from the appeals' timelines: «complaint_linked»); and the repeats among
those, a league table of the companies."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, F, Q
from django.utils import timezone

from tsur.appeals.choices import EventKind
from tsur.appeals.models import AppealEvent, ComplaintTicket
from tsur.core.choices import OrganisationKind
from tsur.core.models import Organisation

from .kpi import Period

REPEAT_WINDOW = timedelta(days=90)


@dataclass
class CompanyRow:
    key: int
    label: str
    tickets: int = 0
    in_time: int = 0  # fulfilled by the ticket's term
    late: int = 0  # fulfilled after it, or its term passed unfulfilled by now
    open: int = 0  # unfulfilled, the term still running
    escalations: int = 0  # complaints that reached the region with one of the company's tickets
    repeats: int = 0  # of those, about a building complained of within the 90 days before
    rank: int | None = None

    @property
    def in_time_share(self) -> float | None:
        """Fulfilled in time ÷ tickets whose outcome is known (fulfilled, or the term passed)."""
        known = self.in_time + self.late
        return self.in_time / known if known else None


def _companies(user):
    found = Organisation.objects.filter(kind=OrganisationKind.MANAGEMENT_COMPANY)
    return found if user is None else found.restrict(user)


def league(user, period: Period, now: datetime | None = None) -> list[CompanyRow]:
    """Management companies as far as the user's scope reaches, best first: by the share of tickets
    fulfilled in time, then by fewer escalations; a company with no known outcome comes last."""
    now = now or timezone.now()
    companies = dict(_companies(user).values_list("pk", "name"))
    rows = {pk: CompanyRow(pk, name) for pk, name in companies.items()}
    tickets = (
        ComplaintTicket.objects.filter(
            organisation__in=list(companies), filed_at__gte=period.start, filed_at__lt=period.end
        )
        .values("organisation")
        .annotate(
            n=Count("pk"),
            in_time=Count("pk", filter=Q(fulfilled_at__lte=F("due_at"))),
            late=Count(
                "pk", filter=Q(fulfilled_at__gt=F("due_at")) | Q(fulfilled_at__isnull=True, due_at__lt=now)
            ),
        )
    )
    for t in tickets:
        row = rows[t["organisation"]]
        row.tickets, row.in_time, row.late = t["n"], t["in_time"], t["late"]
        row.open = row.tickets - row.in_time - row.late
    linked = AppealEvent.objects.filter(
        kind=EventKind.COMPLAINT_LINKED, at__gte=period.start - REPEAT_WINDOW, at__lt=period.end
    ).values_list("data__organisation", "appeal__building_id", "appeal__address", "at")
    seen = defaultdict(list)  # (company, place) → moments of complaints
    for company, building, address, at in sorted(linked, key=lambda x: x[3]):
        if company not in rows:
            continue
        place = f"b{building}" if building else " ".join((address or "").lower().split())
        earlier = [t for t in seen[company, place] if at - REPEAT_WINDOW <= t < at] if place else []
        if at >= period.start:
            rows[company].escalations += 1
            rows[company].repeats += bool(earlier)
        seen[company, place].append(at)
    ranked = sorted(
        rows.values(),
        key=lambda r: (r.in_time_share is None, -(r.in_time_share or 0), r.escalations, r.label),
    )
    for place, row in enumerate((r for r in ranked if r.in_time_share is not None), start=1):
        row.rank = place
    return ranked
