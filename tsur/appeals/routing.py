"""Which organisation must solve an appeal, and why.

Rules match on topic (or its block), territory (the appeal's or any territory containing it),
kind of place and building. The most specific rule wins; equal specificity is settled by the rule's
priority. With no rule, the appeal goes to the administration of the smallest territory that has
one. The result carries a sentence that the appeal keeps as the reason of its route.
"""

from dataclasses import dataclass

from django.db.models import Q

from tsur.core.choices import OrganisationKind
from tsur.core.models import Building, Organisation, Territory

from .models import RoutingRule, Topic


@dataclass(frozen=True)
class Route:
    organisation: Organisation
    rule: RoutingRule | None
    reason: str


def _territory_chain(territory: Territory | None) -> list[Territory]:
    """The territory and everything containing it, the smallest first."""
    return list(reversed(territory.ancestors())) if territory else []


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
    chain = _territory_chain(territory)
    # deeper territories are more specific: the appeal's own territory has the largest depth
    depth = {t.pk: len(chain) - i for i, t in enumerate(chain)}
    if topic is not None:
        rules = RoutingRule.objects.filter(is_active=True).filter(
            Q(topic=topic) | Q(topic__isnull=True, block=topic.block_id) | Q(topic__isnull=True, block__isnull=True)
        )
        rules = rules.filter(Q(territory__isnull=True) | Q(territory__in=list(depth)))
        rules = rules.filter(Q(place_kind="") | Q(place_kind=place_kind))
        rules = rules.filter(Q(building__isnull=True) | Q(building=building) if building else Q(building__isnull=True))
        rules = rules.select_related("organisation")
        for rule in sorted(rules, key=lambda r: _specificity(r, depth), reverse=True):
            organisation = _target(rule, building)
            if organisation is None or organisation.pk in exclude or not organisation.is_active:
                continue
            return Route(organisation, rule, _describe(rule, organisation))
    return _fallback(chain, exclude)


def _target(rule: RoutingRule, building: Building | None) -> Organisation | None:
    if rule.to_management_company:
        return building.management_company if building else None
    return rule.organisation


def _describe(rule: RoutingRule, organisation: Organisation) -> str:
    parts = []
    if rule.topic_id:
        parts.append(f"тема «{rule.topic}»")
    elif rule.block_id:
        parts.append(f"блок «{rule.block}»")
    if rule.building_id:
        parts.append(f"здание «{rule.building}»")
    elif rule.territory_id:
        parts.append(f"территория «{rule.territory}»")
    if rule.place_kind:
        parts.append(f"место «{rule.get_place_kind_display()}»")
    target = "управляющая организация здания" if rule.to_management_company else "организация"
    condition = ", ".join(parts) or "общее правило"
    return f"Правило №{rule.pk} ({condition}) → {target} «{organisation}»"


def _fallback(chain: list[Territory], exclude: tuple[int, ...]) -> Route | None:
    if not chain:
        return None
    administrations = (
        Organisation.objects.filter(
            kind=OrganisationKind.MUNICIPAL_ADMINISTRATION, is_active=True, territories__in=[t.pk for t in chain]
        )
        .exclude(pk__in=exclude)
        .prefetch_related("territories")
        .distinct()
    )
    by_territory: dict[int, Organisation] = {}
    for organisation in administrations.order_by("pk"):
        for t in organisation.territories.all():
            by_territory.setdefault(t.pk, organisation)
    for territory in chain:
        if territory.pk in by_territory:
            organisation = by_territory[territory.pk]
            return Route(
                organisation, None, f"Нет правила: администрация территории «{territory}» — «{organisation}»"
            )
    return None
