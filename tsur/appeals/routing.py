"""Which organisation must solve an appeal, and why.

Rules match on topic (or its block), territory (the appeal's or any territory containing it),
kind of place and building. The most specific rule wins; equal specificity is settled by the rule's
priority. With no rule, the appeal goes to the administration of the smallest territory that has
one. The result carries a sentence that the appeal keeps as the reason of its route.
"""

from dataclasses import dataclass

from django.db import connection

from tsur.core.choices import OrganisationKind
from tsur.core.models import Building, Organisation, Territory

from .models import RoutingRule, Topic


@dataclass(frozen=True)
class Route:
    organisation: Organisation
    rule: RoutingRule | None
    reason: str


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


# Hand-written because this runs on every registration and the ORM's compilation of the same
# query costs several times its execution. Only the candidates' keys are read; the winner's
# organisation is loaded afterwards.
RULES_SQL = """
SELECT r.id, r.topic_id, r.block_id, r.territory_id, r.place_kind, r.building_id, r.organisation_id,
       r.to_management_company, r.priority, t.name
FROM appeals_routingrule r LEFT JOIN core_territory t ON t.id = r.territory_id
WHERE r.is_active
  AND (r.topic_id = %s OR (r.topic_id IS NULL AND (r.block_id = %s OR r.block_id IS NULL)))
  AND (r.place_kind = '' OR r.place_kind = %s)
  AND (r.building_id IS NULL OR r.building_id = %s)
  AND (r.territory_id IS NULL {territories})
"""


def _candidates(
    topic: Topic, chain: list[int], place_kind: str, building: Building | None
) -> list[RoutingRule]:
    territories = f"OR r.territory_id IN ({', '.join(['%s'] * len(chain))})" if chain else ""
    params = [topic.pk, topic.block_id, place_kind or "", building.pk if building else None, *chain]
    with connection.cursor() as cursor:
        cursor.execute(RULES_SQL.format(territories=territories), params)
        rows = cursor.fetchall()
    rules = []
    for (
        pk,
        topic_id,
        block_id,
        territory_id,
        kind,
        building_id,
        organisation_id,
        to_mc,
        priority,
        t_name,
    ) in rows:
        rule = RoutingRule(
            pk=pk,
            topic_id=topic_id,
            block_id=block_id,
            territory_id=territory_id,
            place_kind=kind,
            building_id=building_id,
            organisation_id=organisation_id,
            to_management_company=to_mc,
            priority=priority,
        )
        if topic_id == topic.pk:
            rule.topic = topic
        if territory_id:
            rule.territory = Territory(pk=territory_id, name=t_name)
        if building_id and building is not None:
            rule.building = building
        rules.append(rule)
    return rules


def route(
    *,
    topic: Topic | None,
    territory: Territory | None,
    place_kind: str = "",
    building: Building | None = None,
    exclude: tuple[int, ...] = (),
) -> Route | None:
    chain = _chain_ids(territory)
    # deeper territories are more specific: the appeal's own territory has the largest depth
    depth = {pk: len(chain) - i for i, pk in enumerate(chain)}
    if topic is not None:
        rules = sorted(
            _candidates(topic, chain, place_kind, building),
            key=lambda r: _specificity(r, depth),
            reverse=True,
        )
        wanted = {r.organisation_id for r in rules if r.organisation_id}
        if (
            building is not None
            and building.management_company_id
            and any(r.to_management_company for r in rules)
        ):
            wanted.add(building.management_company_id)
        organisations = Organisation.objects.in_bulk(wanted) if wanted else {}
        for rule in rules:
            if rule.to_management_company:
                target = building.management_company_id if building else None
            else:
                target = rule.organisation_id
            organisation = organisations.get(target)
            if organisation is None or organisation.pk in exclude or not organisation.is_active:
                continue
            return Route(organisation, rule, _describe(rule, organisation))
    return _fallback(chain, exclude)


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


def _fallback(chain_ids: list[int], exclude: tuple[int, ...]) -> Route | None:
    if not chain_ids:
        return None
    territories = Territory.objects.in_bulk(chain_ids)
    chain = [territories[pk] for pk in chain_ids if pk in territories]
    administrations = (
        Organisation.objects.filter(
            kind=OrganisationKind.MUNICIPAL_ADMINISTRATION, is_active=True, territories__in=chain_ids
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
