"""What the register learns from an appeal's text at intake: topic, executor and place.

The model directory says what its targets mean here (`bindings`: which target is the topic, which
the executor) and which appeal field fills each context column (`context_bindings`). A prediction
counts only at or above its target's threshold, chosen on the dev split for the wanted precision;
below it the appeal waits for an operator, whose decision becomes a training label.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q

from . import places

if TYPE_CHECKING:
    from .model import TextModel
# scikit-learn, SciPy and the embeddings load with the first model, not with every process that
# imports the register's actions (management commands, job workers, web workers without a model).

log = logging.getLogger(__name__)

TARGET_ROLES = ("topic", "category", "organisation")
CONTEXT_FIELDS = ("place_kind", "district", "territory", "address")

_lock = threading.Lock()
# directory → (manifest modification time, model or None when it could not be loaded)
_cache: dict[str, tuple[float, TextModel | None]] = {}


def current_model(directory: str | Path | None = None) -> TextModel | None:
    """The model the register uses, reloaded when its directory is rewritten; None when absent or
    unreadable (a broken model is not retried until its manifest changes)."""
    path = Path(directory or settings.TSUR["NLP_MODEL"] or "")
    if not str(path) or not (path / "manifest.json").exists():
        return None
    try:
        stamp = (path / "manifest.json").stat().st_mtime
    except OSError:
        return None
    key = str(path.resolve())
    cached = _cache.get(key)
    if cached and cached[0] == stamp:
        return cached[1]
    # Loading takes seconds: while one thread loads, the others go on with the model they had.
    if not _lock.acquire(blocking=cached is None):
        return cached[1]
    try:
        cached = _cache.get(key)
        if cached and cached[0] == stamp:
            return cached[1]
        try:
            from .model import TextModel

            model = TextModel.load(path)
        except Exception:  # a broken model must not stop intake: appeals go to moderation instead
            log.exception("text model in %s cannot be loaded", path)
            model = None
        _cache[key] = (stamp, model)
        return model
    finally:
        _lock.release()


def forget_models() -> None:
    """Drop loaded models and the reference data remembered for intake (tests, after imports)."""
    with _lock:
        _cache.clear()
    _recent.clear()


@dataclass
class Understanding:
    """Predictions for one appeal, resolved to register objects, with what the timeline records."""

    model_version: str = ""
    topic: object = None
    topic_confidence: float = 0.0
    topic_trusted: bool = False
    organisation: object = None
    organisation_confidence: float = 0.0
    organisation_trusted: bool = False
    place: places.PlaceMention = field(default_factory=places.PlaceMention)
    building: object = None
    territory: object = None
    mentioned_organisations: list[int] = field(default_factory=list)
    guesses: dict = field(default_factory=dict)

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


class _Recent:
    """Reference data looked up at every intake (topics, organisations, districts) kept for a few
    minutes per process: it changes by the week, intake comes by the second."""

    TTL_S = 300

    def __init__(self):
        self._items: dict = {}
        self._lock = threading.Lock()

    def get(self, key, load):
        now = time.monotonic()
        hit = self._items.get(key)
        if hit is not None and now - hit[0] < self.TTL_S:
            return hit[1]
        value = load()
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[key] = (now, value)
        return value

    def clear(self):
        with self._lock:
            self._items.clear()


_recent = _Recent()


def context_value(name: str, *, place_kind: str = "", territory=None, address: str = "") -> str:
    from tsur.core.choices import PlaceKind

    if name == "place_kind":
        return str(PlaceKind(place_kind).label) if place_kind in PlaceKind.values else ""
    if name == "address":
        return address
    if territory is None:
        return ""
    if name == "territory":
        return territory.name
    return _recent.get(("district", territory.pk, territory.path), lambda: _district_name(territory))


def _district_name(territory) -> str:
    """The territory itself or its ancestor that is a district of a city or a municipal district."""
    from tsur.core.choices import TerritoryKind

    districts = (TerritoryKind.CITY_DISTRICT, TerritoryKind.MUNICIPAL_DISTRICT, TerritoryKind.URBAN_OKRUG)
    if territory.kind in districts:
        return territory.name
    ancestors = [t for t in territory.ancestors() if t.kind in districts]
    return ancestors[-1].name if ancestors else ""


def _resolve_topic(value: str, categories: set[str]):
    from tsur.appeals.models import Topic

    def load():
        candidates = list(
            Topic.objects.filter(Q(code=value) | Q(name=value), is_active=True).select_related("block")
        )
        if len(candidates) > 1:
            candidates.sort(key=lambda t: t.category not in categories)
        return candidates[0] if candidates else None

    return _recent.get(("topic", value, frozenset(categories)), load)


def _resolve_organisation(value: str):
    from tsur.core.models import Organisation

    return _recent.get(
        ("organisation", value),
        lambda: Organisation.objects.filter(Q(name=value) | Q(short_name=value), is_active=True).first(),
    )


def _organisation_names() -> list[tuple[int, str]]:
    from tsur.core.models import Organisation

    return _recent.get(
        ("organisation names",),
        lambda: list(Organisation.objects.filter(is_active=True).values_list("pk", "name")),
    )


def understand(
    text: str,
    *,
    place_kind: str = "",
    territory=None,
    building=None,
    address: str = "",
    model: TextModel | None = None,
) -> Understanding | None:
    """Predict what the appeal is about, who answers it and where it is; None without a model."""
    from tsur.core.models import Building, Territory

    model = model or current_model()
    if model is None:
        return None
    result = Understanding(model_version=model.manifest.get("trained_at", ""))
    if building is None and territory is None:
        result.place = places.locate(text)
        if result.place.building_id:
            # the street index may be minutes old: a building deleted since is simply not found
            result.building = (
                Building.objects.select_related("territory").filter(pk=result.place.building_id).first()
            )
            if result.building is None:
                result.place.building_id = None
            else:
                territory = result.territory = result.building.territory
                result.place.territory_id = result.building.territory_id
        elif result.place.territory_id:
            territory = result.territory = Territory.objects.filter(pk=result.place.territory_id).first()
            if result.territory is None:
                result.place.territory_id = None
    names = places.organisation_names(text)
    if names:
        result.mentioned_organisations = places.match_organisations(names, _organisation_names())
    bindings = model.manifest.get("bindings", {})
    context = {
        column: context_value(field_name, place_kind=place_kind, territory=territory, address=address)
        for column, field_name in model.manifest.get("context_bindings", {}).items()
    }
    from .features import Example

    guesses = model.predict([Example(text, context)])[0]
    result.guesses = {
        target: [{"value": g.value, "p": round(g.probability, 4)} for g in ranked]
        for target, ranked in guesses.items()
    }
    categories = {g.value for g in guesses.get(bindings.get("category", ""), [])[:1]}
    bindings = {role: target for role, target in bindings.items() if target in guesses}
    if target := bindings.get("topic"):
        best = guesses[target][0]
        result.topic = _resolve_topic(best.value, categories)
        result.topic_confidence = best.probability
        result.topic_trusted = (
            result.topic is not None and best.probability >= model.classifiers[target].threshold
        )
    if target := bindings.get("organisation"):
        best = guesses[target][0]
        result.organisation = _resolve_organisation(best.value)
        result.organisation_confidence = best.probability
        result.organisation_trusted = (
            result.organisation is not None and best.probability >= model.classifiers[target].threshold
        )
    return result
