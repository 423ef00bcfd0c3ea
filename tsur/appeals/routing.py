"""Which organisation must solve an appeal, and why.

Rules match on topic (or its block), territory (the appeal's or any territory containing it),
kind of place and building. The most specific rule wins; equal specificity is settled by the rule's
priority. With no rule, the appeal goes to the administration of the smallest territory that has
one. The result carries a sentence that the appeal keeps as the reason of its route.

Routing runs on every registration, so each process keeps the active rules, the organisations and
the territories in memory (`table()`): a route costs no query. A change made in this process is seen
at once (`changed`, connected in apps.py); one made in another process within TABLE_TTL_S.
"""

from collections import defaultdict
from dataclasses import dataclass

from tsur.core.choices import OrganisationKind
from tsur.core.memo import Remembered
from tsur.core.models import Building, Organisation, Territory

from .models import RoutingRule, Topic

TABLE_TTL_S = 10.0


@dataclass(frozen=True)
class Route:
    organisation: Organisation
    rule: RoutingRule | None
    reason: str


class Table:
    """The active rules indexed by what they name, with every organisation and territory."""

    def __init__(self):
        # Read in separate statements, so what is referred to is read after what refers to it: an
        # organisation or territory added meanwhile is then found, not missing.
        rules = list(RoutingRule.objects.filter(is_active=True).order_by("pk"))
        served = list(
            Organisation.territories.through.objects.filter(
                organisation__kind=OrganisationKind.MUNICIPAL_ADMINISTRATION, organisation__is_active=True
            )
            .order_by("organisation_id", "territory_id")
            .values_list("territory_id", "organisation_id")
        )
        self.territories: dict[int, Territory] = Territory.objects.in_bulk()
        self.organisations: dict[int, Organisation] = Organisation.objects.in_bulk()
        # (topic, block, building) -> rules; a rule names a topic or a block or neither
        self.rules: dict[tuple, list[RoutingRule]] = defaultdict(list)
        for rule in rules:
            if rule.territory_id in self.territories:
                rule.territory = self.territories[rule.territory_id]
            block_id = None if rule.topic_id else rule.block_id
            self.rules[(rule.topic_id, block_id, rule.building_id)].append(rule)
        # territory -> the active municipal administrations serving it, in order of creation
        self.administrations: dict[int, list[Organisation]] = defaultdict(list)
        for territory_id, organisation_id in served:
            if organisation_id in self.organisations:  # deleted meanwhile
                self.administrations[territory_id].append(self.organisations[organisation_id])

    def candidates(
        self, topic: Topic, chain: list[int], place_kind: str, building: Building | None
    ) -> list[RoutingRule]:
        within = set(chain)
        found = []
        named = (
            [(topic.pk, None), (None, topic.block_id), (None, None)]
            if topic.block_id
            else [(topic.pk, None), (None, None)]
        )
        places = (None, building.pk) if building is not None and building.pk else (None,)
        for what in named:
            for where in places:
                for rule in self.rules.get((*what, where), ()):
                    if rule.place_kind and rule.place_kind != place_kind:
                        continue
                    if rule.territory_id and rule.territory_id not in within:
                        continue
                    found.append(rule)
        return found


_table = Remembered(Table, TABLE_TTL_S)
table = _table.get  # the routing table of this process, read again once it is TABLE_TTL_S old
forget = _table.forget
changed = _table.changed  # connected in apps.py


def _chain_ids(territory: Territory | None) -> list[int]:
    """Ids of the territory and everything containing it, the smallest first (read off its path)."""
    if territory is None:
        return []
    return [int(x) for x in reversed(territory.path.strip("/").split("/")) if x]


def _specificity(rule: RoutingRule, depth: dict[int, int]) -> tuple:
    return (
        rule.building_id is not None,
        rule.topic_id is not None,
        depth.get(rule.territory_id, -1) if rule.territory_id else -1,
        bool(rule.place_kind),
        rule.block_id is not None,
        rule.priority,
        -rule.pk,
    )


def route(
    *,
    topic: Topic | None,
    territory: Territory | None,
    place_kind: str = "",
    building: Building | None = None,
    exclude: tuple[int, ...] = (),
) -> Route | None:
    rules = table()
    chain = _chain_ids(territory)
    # deeper territories are more specific: the appeal's own territory has the largest depth
    depth = {pk: len(chain) - i for i, pk in enumerate(chain)}
    if topic is not None:
        for rule in sorted(
            rules.candidates(topic, chain, place_kind or "", building),
            key=lambda r: _specificity(r, depth),
            reverse=True,
        ):
            if rule.to_management_company:
                target = building.management_company_id if building else None
            else:
                target = rule.organisation_id
            organisation = rules.organisations.get(target)
            if organisation is None or organisation.pk in exclude or not organisation.is_active:
                continue
            return Route(organisation, rule, _describe(rule, organisation, topic, building))
    return _fallback(rules, chain, exclude)


def _describe(rule: RoutingRule, organisation: Organisation, topic: Topic, building: Building | None) -> str:
    parts = []
    if rule.topic_id:
        parts.append(f"тема «{topic}»")
    elif rule.block_id:
        parts.append(f"блок «{topic.block}»")
    if rule.building_id:
        parts.append(f"здание «{building}»")
    elif rule.territory_id:
        parts.append(f"территория «{rule.territory}»")
    if rule.place_kind:
        parts.append(f"место «{rule.get_place_kind_display()}»")
    target = "управляющая организация здания" if rule.to_management_company else "организация"
    condition = ", ".join(parts) or "общее правило"
    return f"Правило №{rule.pk} ({condition}) → {target} «{organisation}»"


def _fallback(rules: Table, chain_ids: list[int], exclude: tuple[int, ...]) -> Route | None:
    for pk in chain_ids:
        territory = rules.territories.get(pk)
        if territory is None:
            continue
        for organisation in rules.administrations.get(pk, ()):
            if organisation.pk not in exclude:
                return Route(
                    organisation,
                    None,
                    f"Нет правила: администрация территории «{territory}» — «{organisation}»",
                )
    return None
