"""What makes two posts the same: a content fingerprint that survives reposts, edits of spacing and
punctuation, emoji, links and hashtags; and the words residents use to say the work was not done."""

import functools
import hashlib
import re

from tsur.nlp import places
from tsur.nlp.text import normalise

NOISE = re.compile(r"#\w+|@\w+|[^\w\s]|_", re.UNICODE)
REPOST = re.compile(r"^(?:репост|repost|переслано|forwarded)\b[:\s]*", re.IGNORECASE)
# «не сделано», «ничего не сделали», «до сих пор не убрали», «всё так же», «враньё»
NOT_DONE = re.compile(
    r"\bне\s+(?:сделан\w*|сделал\w*|убра\w*|устран\w*|починил\w*|почин\w*|вывез\w*|выполн\w*|отремонтир\w*|исправ\w*)"
    r"|\bничего\s+не\b|\bвс[её]\s+(?:так\s+же|также|по-прежнему|еще|ещ[её])\b|\bдо\s+сих\s+пор\b"
    r"|\bвран\w*|\bложь\b|\bотписк\w*|\bкак\s+было\b|\bвс[её]\s+на\s+месте\b",
    re.IGNORECASE,
)


def plain(text: str) -> str:
    """The words of a post and nothing else: lower case, ё as е, no links, tags, emoji or punctuation."""
    text = REPOST.sub("", (text or "").strip())
    return " ".join(NOISE.sub(" ", normalise(text)).split())


def fingerprint(text: str) -> str:
    """The same for a post and its copies (a repost with the text, a re-post in another chat, an
    edit that fixes a typo of punctuation); "" for a post with no words."""
    words = plain(text)
    if not words:
        return ""
    return hashlib.sha1(words.encode("utf-8"), usedforsecurity=False).hexdigest()


def says_not_done(text: str) -> bool:
    return bool(NOT_DONE.search(text or ""))


# «на Подольской 4», «Будапештская 11к2»: how residents name a house without the word «улица»
BARE_PLACE = re.compile(
    r"(?<![А-ЯЁа-яё])([А-ЯЁ][а-яё]{3,}(?:-[А-ЯЁа-яё]+)?)\s*,?\s+(?:д\.\s*|дом\s+)?(\d{1,3})(?:\s*[кК]\s*\d)?(?!\d)(?![.:]\d)"
)
STOP_NAMES = frozenset({"Опять", "Народ", "Соседи", "Люди", "Адрес", "Жесть", "Доколе", "Когда", "Уже"})


# the merge reads the posts of the open incidents again for every batch, and natasha's address
# grammar costs milliseconds a post: the keys of the last texts are remembered (a key of a text never
# changes; 50,000 of them, a day of a large region's incident posts several times over, take ~15 MB)
@functools.lru_cache(maxsize=50_000)
def place_key(text: str) -> str:
    """The street and house a post names, as one comparable key ("" when it names none): the
    register's address reading first, then the bare «Подольская 4» residents write."""
    mention = places.extract_address(text or "")
    if mention.street and mention.house:
        return f"{mention.street[:6]}|{mention.house}"
    for match in BARE_PLACE.finditer(text or ""):
        if match.group(1) not in STOP_NAMES:
            return f"{places.street_key(match.group(1))[:6]}|{match.group(2)}"
    return ""
