"""Which incident a post is about: the register's near-duplicate measure (tsur.nlp.duplicates: common
lemmas and character trigrams) between the post and the posts already in each open incident, among
incidents of the last hours whose place does not contradict the post's (another building or another
district is another problem), across networks.

`Index` keeps the signatures of the open incidents in memory for one pass over a batch of posts; an
inverted index of lemmas gives the few incidents worth comparing, so a post costs the same with ten
open incidents as with ten thousand. `open_incidents` reads it from the register (and keeps it
between batches); the benchmark and the tests fill it directly.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

from tsur.nlp import duplicates

# a lemma met in this many incidents says nothing about which one («двор», «дом»): not a key
COMMON = 200
# the same street and house named: that much less alike the words may be, when the incident is the
# only one open there; a house with n open incidents (a big block where lighting, graffiti and a door
# are three problems) gives each 1/n of it — the house says less about which of them a post is about
# (measured on a dev half of the labelled set: bench/social.py, decision 0031)
SAME_PLACE_BONUS = 0.3
MAX_COMPARED = 50
KEPT_SIGNATURES = 8


@dataclass
class Open:
    key: int
    territory_id: int | None
    building_id: int | None
    last_at: datetime
    signatures: list = field(default_factory=list)
    places: set = field(default_factory=set)
    words: set = field(default_factory=set)


@dataclass(frozen=True)
class Match:
    key: int
    similarity: float


class Index:
    def __init__(self, *, threshold: float | None = None, window_hours: int | None = None):
        config = settings.SOCIAL
        self.threshold = config["MERGE_SIMILARITY"] if threshold is None else threshold
        self.window = timedelta(hours=config["MERGE_WINDOW_HOURS"] if window_hours is None else window_hours)
        self.incidents: dict[int, Open] = {}
        self.by_word: dict[str, set[int]] = defaultdict(set)
        self.by_place: dict[str, set[int]] = defaultdict(set)
        # the signature of every text added (kept by text: a signature is the text's alone), so
        # that an incident read again, or the index built anew, does not compute its posts' again
        self.signatures: dict[str, tuple] = {}

    def add(
        self,
        key: int,
        text: str,
        at: datetime,
        *,
        territory_id=None,
        building_id=None,
        signature=None,
        place="",
    ):
        """A post of incident `key` (a new incident with its first post, or one more post)."""
        signature = signature or self.signature(text)
        self.signatures[text] = signature
        found = self.incidents.get(key)
        if found is None:
            found = self.incidents[key] = Open(key, territory_id, building_id, at)
        found.last_at = max(found.last_at, at)
        found.territory_id = found.territory_id or territory_id
        found.building_id = found.building_id or building_id
        found.signatures = [*found.signatures[-(KEPT_SIGNATURES - 1) :], signature]
        if place:
            found.places.add(place)
            self.by_place[place].add(key)
        found.words |= signature[0]
        for word in signature[0]:
            self.by_word[word].add(key)

    def signature(self, text: str, kept: dict[str, tuple] | None = None) -> tuple:
        """The text's signature: as added before (here, or in `kept`: an index this one replaces),
        or computed."""
        found = self.signatures.get(text)
        if found is None and kept is not None:
            found = kept.get(text)
        return found if found is not None else duplicates.signature(text)

    def drop(self, key: int) -> None:
        """Forget incident `key` (it is read again, or it is no longer open)."""
        found = self.incidents.pop(key, None)
        if found is None:
            return
        for place in found.places:
            keys = self.by_place.get(place)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self.by_place[place]
        for word in found.words:
            keys = self.by_word.get(word)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self.by_word[word]

    def match(
        self, text: str, at: datetime, *, territory_id=None, building_id=None, signature=None, place=""
    ) -> Match | None:
        """The open incident this post is most likely about, if any is alike enough."""
        signature = signature or duplicates.signature(text)
        counts: dict[int, int] = defaultdict(int)
        for word in signature[0]:
            keys = self.by_word.get(word)
            if keys and len(keys) < COMMON:
                for key in keys:
                    counts[key] += 1
        best = None
        for key, _shared in sorted(counts.items(), key=lambda kv: -kv[1])[:MAX_COMPARED]:
            incident = self.incidents[key]
            if at - incident.last_at > self.window or incident.last_at - at > self.window:
                continue
            if building_id and incident.building_id and building_id != incident.building_id:
                continue
            if territory_id and incident.territory_id and territory_id != incident.territory_id:
                continue
            if place and incident.places and place not in incident.places:
                continue  # another house named: another problem
            score = max(duplicates.alike(signature, theirs) for theirs in incident.signatures)
            if place and place in incident.places:
                score = min(1.0, score + SAME_PLACE_BONUS / len(self.by_place[place]))
            if score >= self.threshold and (best is None or score > best.similarity):
                best = Match(key, score)
        return best
