"""What the register learns from an appeal's text at intake: topic, executor and place.

The text model (`tsur.nlp`) reads the text with the appeal's context and says which topic, category
and executor its best guesses name, and whether each is at or above its threshold; here those names
become the register's topic and organisation, and the street and house found in the text a building
of the register. Below a threshold the appeal waits for an operator, whose decision becomes a
training label (`learning`).

The reference data looked up at every intake (topics, organisations, districts, the street index of
the buildings) changes by the week while appeals come by the second, so each process remembers it
(`tsur.core.memo`), forgotten at once when it changes in this process (signals connected in
apps.py) and within the times below in the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count, Max, Q

from tsur.core.choices import PlaceKind, TerritoryKind
from tsur.core.memo import Remembered, RememberedByKey
from tsur.core.models import Building, Organisation, Territory
from tsur.nlp import places
from tsur.nlp import understanding as text_model

from . import routing
from .models import Topic

if TYPE_CHECKING:
    from tsur.nlp.model import TextModel  # scikit-learn: loaded with the first model, not at import

# Topics, organisations and districts: an edit in another process is seen within this time.
REFERENCE_TTL_S = 300.0
# Buildings: whether any was added or removed elsewhere is asked this often (one cheap aggregate);
# the street index is built again only then, or after BUILDING_INDEX_TTL_S for addresses edited in
# place elsewhere (building it reads every building: seconds for a city).
BUILDINGS_CHECK_TTL_S = 600.0
BUILDING_INDEX_TTL_S = 3600.0
# A point's territory is told by the buildings within this distance (and about as near as the nearest).
POINT_REACH_M = 300.0
POINT_MARGIN_M = 60.0
DISTRICT_KINDS = (TerritoryKind.CITY_DISTRICT, TerritoryKind.MUNICIPAL_DISTRICT, TerritoryKind.URBAN_OKRUG)


@dataclass
class Understanding:
    """Predictions for one appeal, resolved to register objects, with what the timeline records."""

    model_version: str = ""
    topic: Topic | None = None
    topic_confidence: float = 0.0
    topic_trusted: bool = False
    organisation: Organisation | None = None
    organisation_confidence: float = 0.0
    organisation_trusted: bool = False
    place: places.PlaceMention = field(default_factory=places.PlaceMention)
    building: Building | None = None
    territory: Territory | None = None
    mentioned_organisations: list[int] = field(default_factory=list)
    guesses: dict = field(default_factory=dict)
    # the model's first topics resolved to the register's, with their probability (for suggestions)
    topic_choices: list[tuple[Topic, float]] = field(default_factory=list)
    # the executor's first guesses resolved to organisations, with their probability (for routing)
    organisation_choices: list[tuple[Organisation, float]] = field(default_factory=list)
    # the precision the model's thresholds were chosen for (what a trusted guess promises)
    promise: float = 0.0

    def as_event_data(self) -> dict:
        data = {"model": self.model_version, "predictions": self.guesses}
        if self.topic is not None:
            data["topic"] = {
                "code": self.topic.code,
                "confidence": round(self.topic_confidence, 4),
                "trusted": self.topic_trusted,
            }
        if self.organisation is not None:
            data["organisation"] = {
                "id": self.organisation.pk,
                "name": self.organisation.name,
                "confidence": round(self.organisation_confidence, 4),
                "trusted": self.organisation_trusted,
            }
        if place := self.place.as_data():
            data["place"] = place
        if self.mentioned_organisations:
            data["mentioned_organisations"] = self.mentioned_organisations
        return data


# ------------------------------------------------------------------ reference data


def _read_topic(key: tuple[str, frozenset[str]]) -> Topic | None:
    """The active topic the model's value names (by code or name); of two with one name, the one
    in the predicted category."""
    value, categories = key
    candidates = list(
        Topic.objects.filter(Q(code=value) | Q(name=value), is_active=True).select_related("block")
    )
    if len(candidates) > 1:
        candidates.sort(key=lambda t: t.category not in categories)
    return candidates[0] if candidates else None


def _read_organisation(value: str) -> Organisation | None:
    return Organisation.objects.filter(Q(name=value) | Q(short_name=value), is_active=True).first()


def _read_organisation_names() -> list[tuple[int, str]]:
    return list(Organisation.objects.filter(is_active=True).values_list("pk", "name"))


def _read_district(key: tuple[int, str]) -> str:
    """The territory itself or its ancestor that is a district of a city or a municipal district."""
    territory = Territory.objects.filter(pk=key[0]).first()
    if territory is None:
        return ""
    if territory.kind in DISTRICT_KINDS:
        return territory.name
    ancestors = [t for t in territory.ancestors() if t.kind in DISTRICT_KINDS]
    return ancestors[-1].name if ancestors else ""


def _read_buildings_version() -> tuple:
    return tuple(Building.objects.aggregate(n=Count("pk"), last=Max("pk")).values())


def _build_index(version: tuple) -> places.BuildingIndex:
    return places.BuildingIndex.build(
        Building.objects.values_list("pk", "address", "territory_id").iterator(chunk_size=5000)
    )


def _build_point_index(version: tuple) -> places.PointIndex:
    return places.PointIndex.build(
        Building.objects.values_list("pk", "latitude", "longitude", "territory_id").iterator(chunk_size=5000)
    )


def _read_district_names() -> list[tuple[re.Pattern, int]]:
    """A pattern per district for its name in any case form: «Петроградский район», «в Петроградском
    р-не»; the stem is the name's first word without its ending."""
    found = []
    for pk, name in Territory.objects.filter(kind__in=DISTRICT_KINDS).values_list("pk", "name"):
        words = name.split()
        if not words or len(words[0]) < 5:
            continue
        stem = re.escape(words[0][:-2].lower())
        found.append((re.compile(rf"(?<![а-яё]){stem}[а-яё]*\s+(?:район|р-н|р\.)", re.IGNORECASE), pk))
    return found


_topics = RememberedByKey(_read_topic, REFERENCE_TTL_S)
_organisations = RememberedByKey(_read_organisation, REFERENCE_TTL_S)
_organisation_names = Remembered(_read_organisation_names, REFERENCE_TTL_S)
_districts = RememberedByKey(_read_district, REFERENCE_TTL_S)
_district_names = Remembered(_read_district_names, REFERENCE_TTL_S)
_buildings_version = Remembered(_read_buildings_version, BUILDINGS_CHECK_TTL_S)
# one index, for the version of the buildings it was built from
_building_index = RememberedByKey(_build_index, BUILDING_INDEX_TTL_S, max_items=1)
_point_index = RememberedByKey(_build_point_index, BUILDING_INDEX_TTL_S, max_items=1)


def building_index() -> places.BuildingIndex:
    """The streets and houses of the register's buildings."""
    return _building_index.get(_buildings_version.get())


_reference = (_topics, _organisations, _organisation_names, _districts, _district_names)


def reference_changed(*args, using: str | None = None, **kwargs) -> None:
    """A receiver for the signals of topics, blocks, organisations and territories."""
    for memo in _reference:
        memo.changed(using=using)


def buildings_changed(*args, using: str | None = None, **kwargs) -> None:
    """A receiver for the signals of buildings."""
    _buildings_version.changed(using=using)
    _building_index.changed(using=using)
    _point_index.changed(using=using)


def forget() -> None:
    """Read the reference data again on the next appeal (tests, imports that send no signals)."""
    for memo in (*_reference, _buildings_version, _building_index, _point_index):
        memo.forget()


# ------------------------------------------------------------------ the place


def _chain(territory_id: int | None) -> list[int]:
    """The territory and those containing it, the smallest first."""
    territory = routing.table().territories.get(territory_id) if territory_id else None
    if territory is None:
        return []
    return [int(x) for x in reversed(territory.path.strip("/").split("/")) if x]


def _district_of(territory_id: int | None) -> int | None:
    territories = routing.table().territories
    return next(
        (pk for pk in _chain(territory_id) if pk in territories and territories[pk].kind in DISTRICT_KINDS),
        None,
    )


def territory_at(latitude: float | None, longitude: float | None) -> Territory | None:
    """The territory a point lies in, told by the register's buildings around it: the territory of
    the nearest (within POINT_REACH_M) when every building about as near lies in it, or the district
    they share; None where territories meet and the point cannot tell."""
    if latitude is None or longitude is None:
        return None
    around = _point_index.get(_buildings_version.get()).around(latitude, longitude, POINT_REACH_M)
    if not around:
        return None
    reach = max(2 * around[0][0], around[0][0] + POINT_MARGIN_M)
    territories = {territory_id for metres, _, territory_id in around if metres <= reach}
    if len(territories) > 1:
        districts = {_district_of(t) for t in territories}
        territories = districts if len(districts) == 1 and None not in districts else set()
    if len(territories) != 1:
        return None
    return routing.table().territories.get(territories.pop())


def possible_territories(text: str, territory: Territory | None) -> set[int] | None:
    """The territories an appeal can be in: everything in the district of its known territory, and
    in the districts its text names; None when nothing says."""
    districts = {pk for pattern, pk in _district_names.get() if pattern.search(text)}
    if territory is not None:
        districts.add(_district_of(territory.pk) or territory.pk)
    if not districts:
        return None
    territories = routing.table().territories
    return {pk for pk in territories if districts.intersection(_chain(pk))}


def locate(
    text: str, territory: Territory | None = None
) -> tuple[places.PlaceMention, Building | None, Territory | None]:
    """Where the text says the problem is, with no text model: the street and house it names matched
    to a building of the register (and the building's territory), or the street to the one
    territory it runs in (`territory`, a place already known, narrows the choice). Returns the
    mention, the building and the territory the text names (None for what it does not)."""
    place = places.locate(text, building_index(), possible_territories(text, territory))
    if place.building_id:
        # the street index may be minutes old: a building deleted since is simply not found
        building = Building.objects.select_related("territory").filter(pk=place.building_id).first()
        if building is None:
            place.building_id = None
            return place, None, None
        place.territory_id = building.territory_id
        return place, building, building.territory
    if place.territory_id:
        found = Territory.objects.filter(pk=place.territory_id).first()
        if found is None:
            place.territory_id = None
        return place, None, found
    return place, None, None


def named_district(text: str) -> Territory | None:
    """The one district the text names («в Невском районе»); None when it names none or several."""
    named = {pk for pattern, pk in _district_names.get() if pattern.search(text)}
    return routing.table().territories.get(named.pop()) if len(named) == 1 else None


# ------------------------------------------------------------------ understanding


def context_value(name: str, *, place_kind: str = "", territory=None, address: str = "") -> str:
    """The value of the appeal's field `name` (`tsur.nlp.understanding.CONTEXT_FIELDS`) as the
    model reads it: the Russian name of the kind of place, the district's name…"""
    if name == "place_kind":
        return str(PlaceKind(place_kind).label) if place_kind in PlaceKind.values else ""
    if name == "address":
        return address
    if territory is None:
        return ""
    if name == "territory":
        return territory.name
    # the path in the key: a territory moved under another district elsewhere is read again at once
    return _districts.get((territory.pk, territory.path))


def understand(
    text: str,
    *,
    place_kind: str = "",
    territory: Territory | None = None,
    building: Building | None = None,
    address: str = "",
    model: TextModel | None = None,
) -> Understanding | None:
    """Predict what the appeal is about, who answers it and where it is; None without a model."""
    model = model or text_model.current_model()
    if model is None:
        return None
    result = Understanding(model_version=model.manifest.get("trained_at", ""))
    if building is None:
        result.place, result.building, result.territory = locate(text, territory)
        if result.place.building_id or result.place.territory_id:
            territory = result.territory
    names = places.organisation_names(text)
    if names:
        result.mentioned_organisations = places.match_organisations(names, _organisation_names.get())
    fields = {
        name: context_value(name, place_kind=place_kind, territory=territory, address=address)
        for name in text_model.context_fields(model)
    }
    reading = text_model.read(model, text, fields)
    result.guesses = reading.guesses
    category = reading.best.get("category")
    categories = frozenset([category.value] if category else [])
    topic_target = model.manifest.get("bindings", {}).get("topic", "")
    for guess in reading.guesses.get(topic_target, [])[:3]:
        choice = _topics.get((guess["value"], categories))
        if choice is not None and all(choice.pk != known.pk for known, _ in result.topic_choices):
            result.topic_choices.append((choice, guess["p"]))
    organisation_target = model.manifest.get("bindings", {}).get("organisation", "")
    for guess in reading.guesses.get(organisation_target, [])[:3]:
        choice = _organisations.get(guess["value"])
        if choice is not None and all(choice.pk != known.pk for known, _ in result.organisation_choices):
            result.organisation_choices.append((choice, guess["p"]))
    result.promise = float(
        model.manifest.get("targets", {}).get(topic_target, {}).get("target_precision") or 0.0
    )
    if topic := reading.best.get("topic"):
        result.topic = _topics.get((topic.value, frozenset([category.value] if category else [])))
        result.topic_confidence = topic.probability
        result.topic_trusted = result.topic is not None and topic.trusted
    if organisation := reading.best.get("organisation"):
        result.organisation = _organisations.get(organisation.value)
        result.organisation_confidence = organisation.probability
        result.organisation_trusted = result.organisation is not None and organisation.trusted
    return result
