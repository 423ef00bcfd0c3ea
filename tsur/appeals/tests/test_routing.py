"""Routing: which organisation gets an appeal, by which rule, and what happens when nothing matches."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tsur.appeals import actions, routing
from tsur.appeals.choices import Channel, EventKind, Status
from tsur.appeals.models import Appeal
from tsur.appeals.tests.factories import BlockFactory, RuleFactory, TopicFactory
from tsur.core import memo
from tsur.core.choices import OrganisationKind, PlaceKind, TerritoryKind
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory, TerritoryFactory

pytestmark = pytest.mark.django_db

MSK = ZoneInfo("Europe/Moscow")
AT = datetime(2025, 3, 3, 10, 0, tzinfo=MSK)


@pytest.fixture
def region():
    return TerritoryFactory(name="Регион", kind=TerritoryKind.REGION)


@pytest.fixture
def district(region):
    return TerritoryFactory(name="Центральный район", kind=TerritoryKind.CITY_DISTRICT, parent=region)


@pytest.fixture
def okrug(district):
    return TerritoryFactory(name="МО Литейный округ", kind=TerritoryKind.MUNICIPAL_OKRUG, parent=district)


@pytest.fixture
def topic():
    return TopicFactory(name="Уборка двора")


def administration(*territories, **kwargs):
    organisation = OrganisationFactory(kind=OrganisationKind.MUNICIPAL_ADMINISTRATION, **kwargs)
    organisation.territories.set(territories)
    return organisation


def management_company(**kwargs):
    return OrganisationFactory(kind=OrganisationKind.MANAGEMENT_COMPANY, **kwargs)


def register(topic, territory=None, **kwargs):
    return actions.register(
        channel=Channel.PORTAL, text="Не убран двор", topic=topic, territory=territory, at=AT, **kwargs
    )


# ---------------------------------------------------------------- specificity


def test_topic_and_territory_rule_beats_topic_only_rule(topic, okrug):
    # given
    RuleFactory(topic=topic, priority=100)
    specific = RuleFactory(topic=topic, territory=okrug)

    # when
    result = routing.route(topic=topic, territory=okrug)

    # then
    assert (result.organisation, result.rule) == (specific.organisation, specific)


def test_district_rule_applies_to_an_okrug_inside_it(topic, district, okrug):
    # given
    RuleFactory(topic=topic, territory=TerritoryFactory(name="Другой район"))
    district_rule = RuleFactory(topic=topic, territory=district)

    # when
    result = routing.route(topic=topic, territory=okrug)

    # then
    assert result.rule == district_rule
    assert result.organisation == district_rule.organisation


def test_okrug_rule_beats_district_rule_and_district_rule_beats_region_rule(topic, region, district, okrug):
    # given
    region_rule = RuleFactory(topic=topic, territory=region, priority=50)
    district_rule = RuleFactory(topic=topic, territory=district, priority=10)
    okrug_rule = RuleFactory(topic=topic, territory=okrug)
    other_okrug = TerritoryFactory(kind=TerritoryKind.MUNICIPAL_OKRUG, parent=district)

    # when
    in_okrug = routing.route(topic=topic, territory=okrug)
    in_other_okrug = routing.route(topic=topic, territory=other_okrug)
    in_region = routing.route(topic=topic, territory=region)

    # then
    assert in_okrug.rule == okrug_rule
    assert in_other_okrug.rule == district_rule
    assert in_region.rule == region_rule


def test_building_rule_beats_everything(topic, okrug):
    # given
    building = BuildingFactory(territory=okrug, kind=PlaceKind.BUILDING)
    RuleFactory(topic=topic, territory=okrug, place_kind=PlaceKind.BUILDING, priority=1000)
    building_rule = RuleFactory(building=building)  # any topic, no territory, lowest priority

    # when
    result = routing.route(topic=topic, territory=okrug, place_kind=PlaceKind.BUILDING, building=building)

    # then
    assert result.rule == building_rule


def test_building_rule_does_not_apply_to_another_building(topic, okrug):
    # given
    building, neighbour = BuildingFactory(territory=okrug), BuildingFactory(territory=okrug)
    RuleFactory(building=building)
    topic_rule = RuleFactory(topic=topic)

    # when
    result = routing.route(topic=topic, territory=okrug, building=neighbour)

    # then
    assert result.rule == topic_rule


def test_place_kind_rule_beats_the_rule_without_a_place_and_applies_only_to_that_place(topic, okrug):
    # given
    general = RuleFactory(topic=topic)
    park_rule = RuleFactory(topic=topic, place_kind=PlaceKind.PARK)

    # when
    in_park = routing.route(topic=topic, territory=okrug, place_kind=PlaceKind.PARK)
    in_yard = routing.route(topic=topic, territory=okrug, place_kind=PlaceKind.YARD)
    nowhere = routing.route(topic=topic, territory=okrug)

    # then
    assert in_park.rule == park_rule
    assert in_yard.rule == general
    assert nowhere.rule == general


def test_block_rule_is_used_when_there_is_no_topic_rule(okrug):
    # given
    block = BlockFactory()
    topic, sibling = TopicFactory(block=block), TopicFactory(block=block)
    RuleFactory(organisation=OrganisationFactory())  # the catch-all rule: no topic, no block
    RuleFactory(block=BlockFactory())  # another block's rule never applies
    block_rule = RuleFactory(block=block)
    topic_rule = RuleFactory(topic=sibling)

    # when
    for_topic = routing.route(topic=topic, territory=okrug)
    for_sibling = routing.route(topic=sibling, territory=okrug)

    # then
    assert for_topic.rule == block_rule
    assert for_sibling.rule == topic_rule


def test_the_reason_names_a_block_rule_and_a_general_rule(okrug):
    # given
    block = BlockFactory(name="ЖКХ")
    topic = TopicFactory(block=block)
    organisation = OrganisationFactory(name="Жилищный комитет")
    block_rule = RuleFactory(block=block, organisation=organisation)
    general = RuleFactory(organisation=organisation)

    # when
    by_block = routing.route(topic=topic, territory=okrug)
    block_rule.is_active = False
    block_rule.save()
    by_general = routing.route(topic=topic, territory=okrug)

    # then
    assert by_block.reason == f"Правило №{block_rule.pk} (блок «ЖКХ») → организация «Жилищный комитет»"
    assert by_general.reason == f"Правило №{general.pk} (общее правило) → организация «Жилищный комитет»"


def test_the_reason_names_a_building_rule(topic, okrug):
    # given
    building = BuildingFactory(territory=okrug, address="ул. Садовая, д. 1")
    vodokanal = OrganisationFactory(name="ГУП «Водоканал»")
    rule = RuleFactory(topic=topic, building=building, organisation=vodokanal)

    # when
    result = routing.route(topic=topic, territory=okrug, building=building)

    # then
    assert result.reason == (
        f"Правило №{rule.pk} (тема «Уборка двора», здание «ул. Садовая, д. 1») → "
        "организация «ГУП «Водоканал»»"
    )


def test_priority_breaks_ties_between_equally_specific_rules(topic, okrug):
    # given
    RuleFactory(topic=topic, territory=okrug, priority=1)
    preferred = RuleFactory(topic=topic, territory=okrug, priority=5)
    RuleFactory(topic=topic, territory=okrug, priority=3)

    # when
    result = routing.route(topic=topic, territory=okrug)

    # then
    assert result.rule == preferred


def test_equal_priority_is_settled_by_the_older_rule(topic, okrug):
    # given
    older = RuleFactory(topic=topic, territory=okrug)
    RuleFactory(topic=topic, territory=okrug)

    # when
    result = routing.route(topic=topic, territory=okrug)

    # then
    assert result.rule == older


# ---------------------------------------------------------------- what is skipped


def test_inactive_rule_is_skipped(topic, okrug):
    # given
    RuleFactory(topic=topic, territory=okrug, is_active=False)
    active = RuleFactory(topic=topic)

    # when
    result = routing.route(topic=topic, territory=okrug)

    # then
    assert result.rule == active


def test_rule_to_an_inactive_organisation_is_skipped(topic, okrug):
    # given
    RuleFactory(topic=topic, territory=okrug, organisation=OrganisationFactory(is_active=False))
    active = RuleFactory(topic=topic)

    # when
    result = routing.route(topic=topic, territory=okrug)

    # then
    assert result.rule == active


def test_management_company_rule_sends_to_the_buildings_company(topic, okrug):
    # given
    company = management_company(name="УК «Уютный дом»")
    building = BuildingFactory(territory=okrug, management_company=company)
    RuleFactory(topic=topic)
    rule = RuleFactory(topic=topic, territory=okrug, to_management_company=True, organisation=None)

    # when
    result = routing.route(topic=topic, territory=okrug, building=building)

    # then
    assert (result.organisation, result.rule) == (company, rule)
    assert result.reason == (
        f"Правило №{rule.pk} (тема «{topic}», территория «{okrug}») → управляющая организация здания "
        "«УК «Уютный дом»»"
    )


def test_management_company_rule_is_skipped_without_a_company(topic, okrug):
    # given
    building = BuildingFactory(territory=okrug, management_company=None)
    RuleFactory(topic=topic, territory=okrug, to_management_company=True, organisation=None)
    fallback_rule = RuleFactory(topic=topic)

    # when
    with_building = routing.route(topic=topic, territory=okrug, building=building)
    without_building = routing.route(topic=topic, territory=okrug)

    # then
    assert with_building.rule == fallback_rule
    assert without_building.rule == fallback_rule


def test_management_company_rule_naming_an_organisation_is_skipped_without_a_building(topic, okrug):
    # given: the check constraint allows a rule with both targets
    RuleFactory(topic=topic, territory=okrug, to_management_company=True, organisation=OrganisationFactory())
    fallback_rule = RuleFactory(topic=topic)

    # when
    result = routing.route(topic=topic, territory=okrug)

    # then: exactly as for a building without a company
    assert result.rule == fallback_rule


def test_management_company_rule_is_skipped_when_the_company_is_inactive(topic, okrug):
    # given
    building = BuildingFactory(territory=okrug, management_company=management_company(is_active=False))
    RuleFactory(topic=topic, territory=okrug, to_management_company=True, organisation=None)
    fallback_rule = RuleFactory(topic=topic)

    # when
    result = routing.route(topic=topic, territory=okrug, building=building)

    # then
    assert result.rule == fallback_rule


def test_exclude_skips_the_current_organisation(topic, okrug):
    # given
    current = RuleFactory(topic=topic, territory=okrug)
    next_best = RuleFactory(topic=topic)

    # when
    result = routing.route(topic=topic, territory=okrug, exclude=(current.organisation_id,))

    # then
    assert (result.organisation, result.rule) == (next_best.organisation, next_best)


def test_exclude_also_applies_to_the_administration_fallback(topic, district, okrug):
    # given
    own = administration(okrug)
    upper = administration(district)

    # when
    result = routing.route(topic=topic, territory=okrug, exclude=(own.pk,))

    # then
    assert (result.organisation, result.rule) == (upper, None)


def test_redirect_without_an_organisation_routes_past_the_current_one(topic, okrug):
    # given
    current = RuleFactory(topic=topic, territory=okrug)
    next_best = RuleFactory(topic=topic)
    appeal, _ = register(topic, okrug)
    assert appeal.organisation == current.organisation

    # when
    actions.redirect(appeal, None, reason="Не наша территория", at=AT.replace(hour=12))

    # then
    appeal.refresh_from_db()
    assert (appeal.status, appeal.organisation, appeal.routing_rule) == (
        Status.ASSIGNED,
        next_best.organisation,
        next_best,
    )
    event = appeal.events.get(kind=EventKind.REDIRECTED)
    assert event.data["from_organisation"] == current.organisation_id
    assert event.data["to_organisation"] == next_best.organisation_id


# ---------------------------------------------------------------- no rule: the administration


def test_without_a_rule_the_smallest_territorys_administration_wins(topic, region, district, okrug):
    # given
    administration(region, name="Правительство региона")
    district_administration = administration(district, name="Администрация Центрального района")
    RuleFactory(topic=TopicFactory())  # a rule on another topic does not count

    # when
    result = routing.route(topic=topic, territory=okrug)

    # then
    assert (result.organisation, result.rule) == (district_administration, None)
    assert result.reason == (
        "Нет правила: администрация территории «Центральный район» — «Администрация Центрального района»"
    )


def test_fallback_walks_up_and_skips_inactive_or_foreign_administrations(topic, region, district, okrug):
    # given
    region_administration = administration(region)
    administration(district, is_active=False)
    administration(TerritoryFactory(parent=region))  # a neighbouring district
    OrganisationFactory(kind=OrganisationKind.AGENCY).territories.set([okrug])  # not an administration

    # when
    result = routing.route(topic=topic, territory=okrug)

    # then
    assert (result.organisation, result.rule) == (region_administration, None)


def test_no_rule_and_no_administration_gives_no_route(topic, okrug):
    # given
    RuleFactory(topic=topic, territory=TerritoryFactory())

    # when
    result = routing.route(topic=topic, territory=okrug)

    # then
    assert result is None


def test_no_route_puts_the_registered_appeal_into_moderation(topic, okrug):
    # given
    RuleFactory(topic=TopicFactory())

    # when
    appeal, created = register(topic, okrug)

    # then
    appeal.refresh_from_db()
    assert created is True
    assert (appeal.status, appeal.organisation, appeal.routing_rule, appeal.routing_reason) == (
        Status.MODERATION,
        None,
        None,
        "",
    )
    assert list(appeal.events.values_list("kind", "status_from", "status_to", "reason")) == [
        (EventKind.REGISTERED, "", Status.REGISTERED, ""),
        (EventKind.SENT_TO_MODERATION, Status.REGISTERED, Status.MODERATION, "Не найден маршрут"),
    ]


# ---------------------------------------------------------------- registration follows the route


def test_register_with_a_topic_and_a_rule_goes_straight_to_the_organisation(topic, okrug):
    # given
    organisation = OrganisationFactory(name="Жилищное агентство")
    rule = RuleFactory(topic=topic, territory=okrug, organisation=organisation)

    # when
    appeal, created = register(topic, okrug)

    # then
    appeal = Appeal.objects.get(pk=appeal.pk)
    expected_reason = (
        f"Правило №{rule.pk} (тема «Уборка двора», территория «МО Литейный округ») → "
        "организация «Жилищное агентство»"
    )
    assert created is True
    assert (appeal.status, appeal.organisation, appeal.routing_rule, appeal.routing_reason) == (
        Status.ASSIGNED,
        organisation,
        rule,
        expected_reason,
    )
    assigned = appeal.events.get(kind=EventKind.ASSIGNED)
    assert (assigned.status_from, assigned.reason, assigned.organisation) == (
        Status.REGISTERED,
        expected_reason,
        organisation,
    )
    # a rule never measured is the region's word: routed alone, and the timeline says so
    assert assigned.data == {
        "automatic": True,
        "path": "topic + rule",
        "p": 1.0,
        "threshold": 0.95,
        "calibrated": False,
        "candidates": [
            {
                "id": organisation.pk,
                "name": "Жилищное агентство",
                "p": 1.0,
                "path": "topic + rule",
                "reasons": [f"{expected_reason}; точность не измерена; тема «Уборка двора» (1.00)"],
            }
        ],
    }


def test_register_routes_by_the_buildings_territory_and_kind(topic, district, okrug):
    # given
    building = BuildingFactory(territory=okrug, kind=PlaceKind.YARD, address="ул. Жуковского, д. 3")
    RuleFactory(topic=topic, territory=district)
    yard_rule = RuleFactory(topic=topic, territory=district, place_kind=PlaceKind.YARD)

    # when
    appeal, _ = register(topic, address="ул. Жуковского, д. 3")

    # then
    appeal.refresh_from_db()
    assert (appeal.building, appeal.territory, appeal.place_kind) == (building, okrug, PlaceKind.YARD)
    assert (appeal.status, appeal.routing_rule) == (Status.ASSIGNED, yard_rule)
    assert appeal.routing_reason == (
        f"Правило №{yard_rule.pk} (тема «Уборка двора», территория «Центральный район», место «Двор») → "
        f"организация «{yard_rule.organisation}»"
    )


def test_register_falls_back_to_the_administration(topic, district, okrug):
    # given
    district_administration = administration(district, name="Администрация Центрального района")

    # when
    appeal, _ = register(topic, okrug)

    # then
    appeal.refresh_from_db()
    assert (appeal.status, appeal.organisation, appeal.routing_rule) == (
        Status.ASSIGNED,
        district_administration,
        None,
    )
    assert appeal.routing_reason == (
        "Нет правила: администрация территории «Центральный район» — «Администрация Центрального района»"
    )


# ---------------------------------------------------------------- the table a process remembers


def test_a_change_made_in_this_process_is_routed_by_at_once(
    topic, district, okrug, django_assert_num_queries
):
    # given: the table is in memory and a route costs no query
    district_administration = administration(district)
    assert routing.route(topic=topic, territory=okrug).organisation == district_administration
    with django_assert_num_queries(0):
        routing.route(topic=topic, territory=okrug)

    # when / then: each kind of change is seen by the next route
    own = administration(okrug)
    assert routing.route(topic=topic, territory=okrug).organisation == own
    own.territories.set([district])
    assert routing.route(topic=topic, territory=okrug).organisation == district_administration
    rule = RuleFactory(topic=topic, territory=okrug)
    assert routing.route(topic=topic, territory=okrug).rule == rule
    rule.organisation.is_active = False
    rule.organisation.save()
    assert routing.route(topic=topic, territory=okrug).rule is None
    rule.delete()
    okrug.name = "МО Смольнинское"
    okrug.save()
    other = RuleFactory(topic=topic, territory=okrug)
    assert "территория «МО Смольнинское»" in routing.route(topic=topic, territory=okrug).reason
    other.is_active = False
    other.save()
    assert routing.route(topic=topic, territory=okrug).organisation == district_administration


def test_a_change_made_elsewhere_is_seen_once_the_table_is_old(topic, okrug, monkeypatch):
    # given: a rule changed by another process (no signal reaches this one)
    first = RuleFactory(topic=topic, territory=okrug)
    later_target = OrganisationFactory()
    assert routing.route(topic=topic, territory=okrug).rule == first
    type(first).objects.filter(pk=first.pk).update(is_active=False)
    second = RuleFactory.build(topic=topic, territory=okrug, organisation=later_target)
    type(first).objects.bulk_create([second])  # bulk_create sends no signal either

    # when / then: until the table is TABLE_TTL_S old, the process routes by what it remembers
    assert routing.route(topic=topic, territory=okrug).rule == first
    later = memo.time.monotonic() + routing.TABLE_TTL_S
    monkeypatch.setattr(memo.time, "monotonic", lambda: later)
    assert routing.route(topic=topic, territory=okrug).organisation == later_target


def test_a_change_saved_while_the_table_is_being_read_is_not_lost(topic, okrug, monkeypatch):
    """A thread that began reading the table before a change must not keep what it read: the next
    route reads again (gunicorn runs threads; here the change happens inside the read)."""
    old = RuleFactory(topic=topic, territory=okrug)
    new_target = OrganisationFactory()
    read = routing.Table.__init__
    changed = []

    def read_while_another_request_saves(self):
        read(self)
        if not changed:
            changed.append(RuleFactory(topic=topic, territory=okrug, priority=10, organisation=new_target))

    monkeypatch.setattr(routing.Table, "__init__", read_while_another_request_saves)
    assert routing.route(topic=topic, territory=okrug).rule == old  # read before the change
    assert routing.route(topic=topic, territory=okrug).rule == changed[0]


def test_a_change_committed_after_another_thread_read_the_table_is_seen(
    topic, okrug, django_capture_on_commit_callbacks
):
    """Between a save and its commit another request may read the table without the change; the
    commit forgets it again."""
    old = RuleFactory(topic=topic, territory=okrug)
    with django_capture_on_commit_callbacks(execute=True):
        new = RuleFactory(topic=topic, territory=okrug, priority=10)
        hidden = type(new).objects.filter(pk=new.pk)
        hidden.update(is_active=False)  # what another connection sees before the commit
        assert routing.route(topic=topic, territory=okrug).rule == old
        hidden.update(is_active=True)  # (no signal)
        assert routing.route(topic=topic, territory=okrug).rule == old  # that read is kept...
    assert routing.route(topic=topic, territory=okrug).rule == new  # ...until the commit
