"""What a form offers while a person types: addresses from the building register, and the topics the
text model reads in a text. Used by the portal and by the operator at the hotline; neither reveals
anything about appeals or people."""

from tsur.core.models import Building

from . import understanding
from .models import Topic

ADDRESS_WORDS = 6
TEXT_LIMIT = 3000


def addresses(query: str, *, limit: int = 8) -> list[Building]:
    """Buildings whose address holds every word typed (in any order, any case, ё as е)."""
    words = Building.key_for(query or "").split()[:ADDRESS_WORDS]
    if sum(len(w) for w in words) < 3:
        return []
    found = Building.objects.select_related("territory")
    for word in words:
        found = found.filter(address_key__contains=word)
    return list(found.order_by("address_key")[:limit])


def topics(text: str, *, place_kind: str = "", building: Building | None = None) -> list[tuple[Topic, float]]:
    """Up to three topics for the text, most likely first, with the model's probability; none
    without a model or for a text too short to read."""
    text = (text or "").strip()[:TEXT_LIMIT]
    if len(text.split()) < 2:
        return []
    understood = understanding.understand(
        text,
        place_kind=place_kind,
        building=building,
        territory=building.territory if building is not None else None,
    )
    return understood.topic_choices if understood is not None else []
