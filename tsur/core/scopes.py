"""The one place where a user's roles and scopes become a restriction.

A staff role with no organisation and no territory covers the region; one with an organisation
covers it and its subordinates; one with a territory covers everything inside it. Every
authenticated user also reaches what they authored. A model whose objects are scoped gets a
`RestrictedQuerySet` (`Model.objects.restrict(user, action)`); a single object already in hand is
checked with `Scope.covers`. Views, the API and pages never filter by hand.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from django.db import models
from django.db.models import Q

from .choices import Role

STAFF_ROLES = frozenset(Role.values) - {Role.CITIZEN, Role.SYSTEM}
AUTHOR = "author"  # in a table of roles per action: the object's own author may take it too
VIEW = "view"


def _under(path: str | None, prefixes: Iterable[str]) -> bool:
    return bool(path) and any(path.startswith(p) for p in prefixes)


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

    def covers(self, *, organisation=None, territory=None, author_id: int | None = None) -> bool:
        """Whether the scope reaches an object of this organisation, in this territory (each a tree
        node or None), or written by this author."""
        if self.region:
            return True
        return (
            (organisation is not None and _under(organisation.path, self.organisation_paths))
            or (territory is not None and _under(territory.path, self.territory_paths))
            or (author_id is not None and author_id == self.author_id)
        )

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


def scope_for(user, roles: Iterable[str] | None = None) -> Scope:
    """The scope of `user`, optionally counting only some of their roles."""
    if user is None or not user.is_authenticated:
        return Scope()
    if user.is_superuser:
        return Scope(region=True)
    region = False
    organisations: list[str] = []
    territories: list[str] = []
    for assignment in user.role_assignments():
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


class RestrictedQuerySet(models.QuerySet):
    """Objects scoped by an organisation, a territory and an author.

    A model declares where these live (`scope_lookups`, as for `Scope.q`) and which roles may take
    each action (`action_roles`; `VIEW` defaults to every staff role, and `AUTHOR` in a set lets the
    object's author act too). `restrict(user, action)` keeps what the user may take `action` on."""

    scope_lookups: ClassVar[dict[str, str]] = {}
    action_roles: ClassVar[dict[str, frozenset[str]]] = {}

    def restrict(self, user, action: str = VIEW):
        condition = self.restriction(user, action)
        return self.all() if condition == Q() else self.filter(condition)

    def restriction(self, user, action: str = VIEW) -> Q:
        """The condition `restrict` filters by, to combine with others (Q() when nothing is kept out)."""
        if user is None or not user.is_authenticated:
            return Q(pk__in=[])
        roles = self.action_roles.get(action)
        if roles is None and action != VIEW:
            raise LookupError(f"no roles are declared for {action!r} on {self.model.__name__}")
        scope = scope_for(user, None if roles is None else roles - {AUTHOR})
        if scope.region:
            return Q()
        lookups = dict(self.scope_lookups)
        if roles is not None and AUTHOR not in roles:
            lookups.pop("author", None)
        return scope.q(**lookups) | self.also_reached_by(user, action)

    def also_reached_by(self, user, action: str) -> Q:
        """What the user reaches beyond their scope (for appeals: what they submitted)."""
        return Q(pk__in=[])
