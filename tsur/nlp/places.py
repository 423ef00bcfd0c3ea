"""Places and organisations named in an appeal's text, matched to the register.

natasha's address grammar finds «ул. Мебельная, д. 47 к. 1» in free text; the street is reduced to
a key of lemmas without its type word («Мебельная улица», «ул. Мебельной» → «мебельный»), which is
how buildings are indexed too, so the house found in the text meets the building in the register
and through it the territory. A street alone still tells the territory when all of its houses lie
in one district. Organisations are found by natasha's NER and by the quoted name after «УК»,
«ТСЖ», «ЖСК», and matched to the register's organisations by their words.

The register's buildings and organisations come in as arguments (`BuildingIndex.build`,
`match_organisations`): what it keeps of them, and for how long, is the register's business
(`tsur.appeals.understanding`).
"""

import functools
import math
import re
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace

from .text import lemma, navec, normalise, tokens

STREET_TYPES = {
    "улица": "улица",
    "ул": "улица",
    "проспект": "проспект",
    "пр": "проспект",
    "пр-т": "проспект",
    "пр-кт": "проспект",
    "переулок": "переулок",
    "пер": "переулок",
    "шоссе": "шоссе",
    "ш": "шоссе",
    "набережная": "набережная",
    "наб": "набережная",
    "бульвар": "бульвар",
    "б-р": "бульвар",
    "площадь": "площадь",
    "пл": "площадь",
    "проезд": "проезд",
    "линия": "линия",
    "дорога": "дорога",
    "аллея": "аллея",
    "тупик": "тупик",
    "канал": "канал",
    "остров": "остров",
    "тракт": "тракт",
    "квартал": "квартал",
    "микрорайон": "микрорайон",
    "мкр": "микрорайон",
}
STREET_TYPE_WORDS = {lemma(w) for w in STREET_TYPES} | set(STREET_TYPES)
BARE_HOUSE = re.compile(r"[\s,]*(?:д\.?|дом)?\s*(\d{1,4}[а-яА-Я]?)\b(?![\s-]*(?:я|й|этаж|подъезд|парадн|кв))")
BARE_CORPUS = re.compile(r"[\s,]*(?:к|корп|корпус)\.?\s*(\d{1,2})\b")
# Where a street can be named: a street word in any case form, or its abbreviation followed by a dot,
# a space and a capital or a digit («ул. Мира», «пр Ветеранов»); «произвести» and «площадка» are not.
STREET_HINT = re.compile(
    r"(?<![а-яё])(?:улиц[аеуыи]|проспект[аеу]?|переул[ко][а-я]*|шоссе|набережн[а-я]+|бульвар[аеу]?|"
    r"площад[ьи]|проезд[аеу]?|лини[яию]|алле[яию]|тупик[аеу]?|канал[аеу]?|микрорайон[аеу]?)(?![а-яё])"
    r"|(?<![а-яё])(?:ул|пр|пр-т|пр-кт|пер|наб|ш|б-р|пл|мкр)(?:\.\s*|\s+)(?=[А-ЯЁ0-9])",
    re.IGNORECASE,
)
# An organisation is named in quotes, by a legal form or by a word such as «администрация».
ORG_HINT = re.compile(
    r"[«\"]|\b(?:ук|тсж|жск|ооо|оао|зао|пао|ао|гуп|гбу|гку|мку|муп|жкс|жэс)\b|управляющ|администрац|комитет|жилкомсервис",
    re.IGNORECASE,
)
ORG_PREFIX = re.compile(
    r"\b(ук|тсж|жск|гку|жкс|управляющ\w* компани\w*|жилкомсервис\w*)\b[\s«\"']*([^,.!?\n«»\"']{2,60})",
    re.IGNORECASE,
)


def street_key(name: str) -> str:
    """«Мебельная улица», «ул. Мебельной», «МЕБЕЛЬНАЯ УЛ» → «мебельный»."""
    words = [lemma(w) for w in tokens(normalise(name)) if w not in STREET_TYPES]
    return " ".join(sorted(w for w in words if w not in STREET_TYPE_WORDS))


def house_key(number: str) -> str:
    return normalise(number).replace(" ", "")


@dataclass
class BuildingAddress:
    street: str
    house: str
    corpus: str


def parse_register_address(address: str) -> BuildingAddress | None:
    """A register address «г.Санкт-Петербург, Мебельная улица, дом 47, корпус 1, литера А»."""
    street, house, corpus = "", "", ""
    for part in (p.strip() for p in address.split(",")):
        low = normalise(part)
        if not low:
            continue
        if match := re.fullmatch(r"(?:дом|д)\.?\s*(\d+[а-я]?)", low):
            house = match.group(1)
        elif match := re.fullmatch(r"(?:корпус|корп|к)\.?\s*(\d+)", low):
            corpus = match.group(1)
        elif not street and any(w in STREET_TYPES for w in tokens(low)):
            street = street_key(part)
    if not street or not house:
        return None
    return BuildingAddress(street, house_key(house), corpus)


class BuildingIndex:
    """Streets and houses of the register, by the keys the text is reduced to.

    One street name can stand for streets in several territories («Петровский пр-кт», «Петровская
    ул.» in another district): a house found in more than one territory is kept with each of them
    (`ambiguous`), so that only the point or a territory the text names can choose among them."""

    def __init__(self):
        self.houses: dict[tuple[str, str, str], int] = {}
        self.street_territories: dict[str, set[int]] = defaultdict(set)
        self.ambiguous: dict[tuple[str, str, str], dict[int | None, int]] = {}
        self._territory: dict[tuple[str, str, str], int | None] = {}

    @classmethod
    def build(cls, buildings: Iterable[tuple[int, str, int | None]]) -> "BuildingIndex":
        """From the register's buildings as (id, address, territory id)."""
        index = cls()
        for pk, address, territory_id in buildings:
            parsed = parse_register_address(address)
            if parsed is None:
                continue
            for key in ((parsed.street, parsed.house, parsed.corpus), (parsed.street, parsed.house, "")):
                known = index.houses.setdefault(key, pk)
                first_territory = index._territory.setdefault(key, territory_id)
                if known != pk and first_territory != territory_id:
                    index.ambiguous.setdefault(key, {first_territory: known}).setdefault(territory_id, pk)
            if territory_id:
                index.street_territories[parsed.street].add(territory_id)
        return index


@functools.cache
def _extractors():
    # natasha loads on the first text read (seconds), not in every process that imports the register
    from natasha import AddrExtractor, Doc, MorphVocab, NewsNERTagger, Segmenter

    return AddrExtractor(MorphVocab()), Segmenter(), NewsNERTagger(navec()), Doc


@dataclass
class PlaceMention:
    """What the text says about where: the street and house as written, and what they matched."""

    text: str = ""
    street: str = ""
    house: str = ""
    corpus: str = ""
    building_id: int | None = None
    territory_id: int | None = None
    organisations: list[str] = field(default_factory=list)
    # territories where the street (and house) named could be, when nothing chose among them
    ambiguous: list[int] = field(default_factory=list)

    def as_data(self) -> dict:
        data = {
            "text": self.text,
            "street": self.street,
            "house": self.house,
            "corpus": self.corpus,
            "building": self.building_id,
            "territory": self.territory_id,
        }
        if self.organisations:
            data["organisations"] = self.organisations
        if self.ambiguous:
            data["ambiguous_territories"] = self.ambiguous
        return {k: v for k, v in data.items() if v not in ("", None)}


PREPOSITIONS = frozenset(
    {"на", "в", "во", "по", "у", "около", "возле", "напротив", "за", "с", "со", "к", "от", "до"}
)


def _street_name(value: str) -> str:
    """The grammar's street value may carry neighbours («На Мебельной», «Мебельной яма»): names are
    capitalised, so when some words are, only those stay; prepositions never do."""
    words = [w for w in value.split() if w.lower() not in PREPOSITIONS]
    named = [w for w in words if w[:1].isupper() or w[:1].isdigit()]
    return " ".join(named or words)


def _windows(
    pattern: re.Pattern, text: str, before: int, after: int, limit: int = 2
) -> list[tuple[int, str]]:
    """Short pieces of the text around the first hits of a cheap pattern: natasha's grammars cost
    milliseconds per sentence, so they read only where an address or a name can be."""
    spans = []
    for match in pattern.finditer(text):
        start, stop = max(0, match.start() - before), min(len(text), match.end() + after)
        if spans and start <= spans[-1][1]:
            # merged neighbours stay short: «ул ул ул …» must not feed the grammar the whole text
            spans[-1] = (spans[-1][0], min(stop, spans[-1][0] + 2 * (before + after)))
        elif len(spans) < limit:
            spans.append((start, stop))
        else:
            break
    return [(start, text[start:stop]) for start, stop in spans]


_TYPE_FULL = (
    r"улиц[аеуыи]|проспект[аеу]?|переул(?:ок|ка|ке|ку)|шоссе|набережн(?:ая|ой|ую)|бульвар[аеу]?|площад[ьи]|"
    r"проезд[аеу]?|лини[яию]|алле[яию]|тупик[аеу]?|канал[аеу]?|микрорайон[аеу]?"
)
_TYPE_ABBR = r"ул|пр-кт|пр-т|пр|пер|наб|ш|б-р|пл|мкр"
_NAME_WORD = r"(?:\d{1,2}-?(?:я|й|ая|ий|ой|ей)\s+)?[А-ЯЁ][а-яё]+(?:-[А-ЯЁа-яё]+)?"
_NAME = rf"{_NAME_WORD}(?:\s+{_NAME_WORD})?"
# «ул. Мебельная», «проспекту Просвещения», «улица мебельная»
STREET_AFTER_TYPE = re.compile(
    rf"(?<![а-яёА-ЯЁ])(?P<type>(?i:{_TYPE_FULL})\s+|(?i:{_TYPE_ABBR})(?:\.\s*|\s+))"
    rf"(?P<name>{_NAME}|[а-яё]{{4,}}(?:\s+[а-яё]{{4,}}(?=\s*(?:,|\d|д\.|дом)))?)"
)
# «Мебельная улица», «Днепропетровской ул.», «Комендантский пр.»
STREET_BEFORE_TYPE = re.compile(
    rf"(?P<name>{_NAME})\s+(?P<type>(?i:{_TYPE_FULL}|{_TYPE_ABBR}))(?:\.|(?![а-яёА-ЯЁ-]))"
)
HOUSE_BEFORE = re.compile(r"(?:д\.|дом[ауе]?|домом)\s*(\d{1,4}[а-я]?)\s+(?:по|на)\s+$", re.IGNORECASE)


def _quick_street(text: str) -> tuple[int, int, str] | None:
    """The first street written in one of the usual ways: no parser, a few regular expressions."""
    found = []
    for pattern in (STREET_AFTER_TYPE, STREET_BEFORE_TYPE):
        for match in pattern.finditer(text):
            # «На улице …»: a capitalised preposition is not a street name
            if street_key(_street_name(match.group("name"))):
                found.append((match.start(), match.end(), match.group("name")))
                break
    return min(found, default=None)


def _natasha_street(text: str) -> tuple[int, int, str] | None:
    """natasha's address grammar, for the rarer ways of writing; slow, so only around a street word."""
    extractor, _, _, _ = _extractors()
    for offset, window in _windows(STREET_HINT, text, 30, 40, limit=1):
        for m in extractor(window):
            if (m.fact.type or "").lower().rstrip(".") in STREET_TYPES:
                return offset + m.start, offset + m.stop, m.fact.value
    return None


def extract_address(text: str) -> PlaceMention:
    """The first street the text names, with the house and corpus written next to it (a mention of
    the caller's own: `locate` fills it in)."""
    found = _read_address(text[:2000])
    return replace(found, organisations=list(found.organisations), ambiguous=list(found.ambiguous))


# One text is read several times in a row — a social post by the ingest's place check, by the
# merge's place key and, when it opens an incident, by the register's intake — and natasha's
# grammar costs milliseconds a text: the last texts' readings are kept (a text of at most 2,000
# characters and its reading: under 20 MB in all).
ADDRESSES_KEPT = 4096


@functools.lru_cache(maxsize=ADDRESSES_KEPT)
def _read_address(text: str) -> PlaceMention:
    mention = PlaceMention()
    street = _quick_street(text) or (_natasha_street(text) if STREET_HINT.search(text) else None)
    if street is None:
        return mention
    start, end, name = street
    mention.street = street_key(_street_name(name))
    if not mention.street:
        return mention
    if match := HOUSE_BEFORE.search(text, max(0, start - 25), start):
        mention.house, start = house_key(match.group(1)), match.start()
    elif match := BARE_HOUSE.match(text, end):
        mention.house, end = house_key(match.group(1)), match.end()
    if mention.house and (match := BARE_CORPUS.match(text, end)):
        mention.corpus, end = match.group(1), match.end()
    mention.text = text[start:end].strip()
    return mention


def locate(text: str, index: BuildingIndex, within: Collection[int] | None = None) -> PlaceMention:
    """Street and house named in the text, matched to a building of the index and its territory.

    `within`: the territories the appeal can be in (from its point, or a district the text names);
    a street or house found in several territories is chosen only among those, or left unresolved."""
    mention = extract_address(text)
    if not mention.street:
        return mention
    if mention.house:
        for key in ((mention.street, mention.house, mention.corpus), (mention.street, mention.house, "")):
            if key not in index.houses:
                continue
            choices = index.ambiguous.get(key) or {index._territory.get(key): index.houses[key]}
            fitting = [pk for territory, pk in choices.items() if within is None or territory in within]
            if len(fitting) == 1 and (len(choices) == 1 or within is not None):
                mention.building_id = fitting[0]
            elif len(choices) > 1:
                mention.ambiguous = sorted(t for t in choices if t is not None)
            break
    if mention.building_id is None:
        territories = index.street_territories.get(mention.street, set())
        if within is not None:
            territories = territories & set(within)
        if len(territories) == 1:
            mention.territory_id = next(iter(territories))
        elif len(territories) > 1 and not mention.ambiguous:
            mention.ambiguous = sorted(territories)
    return mention


class PointIndex:
    """Buildings by their point, in cells of about 220 m, to tell which territory a point lies in."""

    CELL = 0.002  # degrees of latitude (about 220 m); a cell is as many metres of longitude

    def __init__(self):
        self.cells: dict[tuple[int, int], list[tuple[float, float, int, int]]] = defaultdict(list)

    def _cell(self, latitude: float, longitude: float) -> tuple[int, int]:
        return math.floor(latitude / self.CELL), math.floor(longitude * self._lon_scale(latitude) / self.CELL)

    @staticmethod
    def _lon_scale(latitude: float) -> float:
        return max(0.05, math.cos(math.radians(latitude)))

    @classmethod
    def build(cls, buildings: Iterable[tuple[int, float | None, float | None, int | None]]) -> "PointIndex":
        """From the register's buildings as (id, latitude, longitude, territory id)."""
        index = cls()
        for pk, latitude, longitude, territory_id in buildings:
            if latitude is not None and longitude is not None and territory_id:
                index.cells[index._cell(latitude, longitude)].append((latitude, longitude, pk, territory_id))
        return index

    def around(self, latitude: float, longitude: float, radius_m: float) -> list[tuple[float, int, int]]:
        """(metres, building, territory) of the buildings within `radius_m`, the nearest first."""
        reach = math.ceil(radius_m / 220) + 1
        row, column = self._cell(latitude, longitude)
        scale = self._lon_scale(latitude)
        found = []
        for r in range(row - reach, row + reach + 1):
            for c in range(column - reach, column + reach + 1):
                for lat, lon, pk, territory_id in self.cells.get((r, c), ()):
                    metres = 111_320 * math.hypot(lat - latitude, (lon - longitude) * scale)
                    if metres <= radius_m:
                        found.append((metres, pk, territory_id))
        return sorted(found)


def organisation_names(text: str) -> list[str]:
    """Names of organisations as the text writes them: NER spans and «УК …»-style phrases."""
    _, segmenter, ner, Doc = _extractors()
    text = text[:2000]
    names = []
    for _, window in _windows(ORG_HINT, text, 30, 70):
        doc = Doc(window)
        doc.segment(segmenter)
        doc.tag_ner(ner)
        names += [span.text for span in doc.spans if span.type == "ORG"]
    names += [" ".join(m.groups()) for m in ORG_PREFIX.finditer(text)]
    return list(dict.fromkeys(n.strip() for n in names if n.strip()))


def _words(name: str) -> set[str]:
    return {lemma(w) for w in tokens(normalise(name)) if len(w) > 1 or w.isdigit()}


def match_organisations(names: list[str], candidates: list[tuple[int, str]]) -> list[int]:
    """Register organisations whose name shares most of its words with a name from the text."""
    found = []
    for name in names:
        words = _words(name)
        if not words:
            continue
        best, best_score = None, 0.0
        for pk, candidate in candidates:
            theirs = _words(candidate)
            if not theirs:
                continue
            score = len(words & theirs) / len(words | theirs)
            if score > best_score:
                best, best_score = pk, score
        if best is not None and best_score >= 0.5 and best not in found:
            found.append(best)
    return found
