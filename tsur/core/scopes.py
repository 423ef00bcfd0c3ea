"""The one place where a user's roles and scopes become a queryset restriction.

A staff role with no organisation and no territory covers the region; one with an organisation
covers it and its subordinates; one with a territory covers everything inside it. Every
authenticated user also sees what they authored. Views and the API never filter by hand.
"""

import time
from dataclasses import dataclass

from django.db.models import Q

from .choices import Role

STAFF_ROLES = frozenset(Role.values) - {Role.CITIZEN, Role.SYSTEM}


@dataclass(frozen=True)
class Scope:
    region: bool = False
    organisation_paths: tuple[str, ...] = ()
    territory_paths: tuple[str, ...] = ()
    author_id: int | None = None

    @property
    def is_staff(self) -> bool:
        """Whether any staff role reaches beyond the user's own appeals."""
        return bool(self.region or self.organisation_paths or self.territory_paths)

    @property
    def is_empty(self) -> bool:
        return not (self.region or self.organisation_paths or self.territory_paths or self.author_id)

    def q(
        self, *, organisation: str | None = None, territory: str | None = None, author: str | None = None
    ) -> Q:
        """A filter for a model whose organisation, territory and author live at the given lookups
        ("" names the model itself, for organisations and territories)."""
        if self.region:
            return Q()
        condition = Q(pk__in=[])
        if organisation is not None:
            lookup = f"{organisation}__path__startswith" if organisation else "path__startswith"
            for path in self.organisation_paths:
                condition |= Q(**{lookup: path})
        if territory is not None:
            lookup = f"{territory}__path__startswith" if territory else "path__startswith"
            for path in self.territory_paths:
                condition |= Q(**{lookup: path})
        if author and self.author_id:
            condition |= Q(**{author: self.author_id})
        return condition


def scope_for(user, roles: frozenset[str] | None = None) -> Scope:
    """The scope of `user`, optionally counting only some of their roles."""
    if user is None or not user.is_authenticated:
        return Scope()
    if user.is_superuser:
        return Scope(region=True)
    region = False
    organisations: list[str] = []
    territories: list[str] = []
    for assignment in _assignments(user):
        if assignment.role not in STAFF_ROLES or (roles is not None and assignment.role not in roles):
            continue
        if assignment.organisation_id:
            organisations.append(assignment.organisation.path)
        elif assignment.territory_id:
            territories.append(assignment.territory.path)
        else:
            region = True
    return Scope(
        region=region,
        organisation_paths=tuple(organisations),
        territory_paths=tuple(territories),
        author_id=user.pk,
    )


# A user's role assignments, remembered in the process for a few seconds: every request needs them.
# Changes made in this process are seen at once (signals, `forget_assignments`); in the other
# processes within ASSIGNMENTS_TTL_S.
ASSIGNMENTS_TTL_S = 5.0
_remembered: dict[int, tuple[float, list]] = {}


def forget_assignments(**kwargs) -> None:
    _remembered.clear()


def _assignments(user) -> list:
    """The user's role assignments, read once per user object (that is, once per request) and at
    most every few seconds per process."""
    cached = user.__dict__.get("_scope_assignments")
    if cached is None:
        now = time.monotonic()
        hit = _remembered.get(user.pk)
        if hit is not None and now - hit[0] < ASSIGNMENTS_TTL_S:
            cached = hit[1]
        else:
            cached = list(user.assignments.select_related("organisation", "territory"))
            if len(_remembered) >= 10_000:
                _remembered.clear()
            _remembered[user.pk] = (now, cached)
        user.__dict__["_scope_assignments"] = cached
    return cached
