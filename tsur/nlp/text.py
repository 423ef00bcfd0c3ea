"""Normalisation of Russian appeal texts: one form for every spelling of the same words.

Citizens write «ещё» and «еще», paste links and phone numbers, and portals mask personal data
as [XXX]; none of that says anything about the topic, so it is folded into a few stable tokens.
Lemmas come from pymorphy3 and are cached per word: a region's vocabulary is small. The navec
embeddings (for the classifiers and natasha's NER) are loaded once per process, on first use.
"""

import functools
import re

import pymorphy3

MASK = re.compile(r"\[(?:x+|х+|\*+)\]", re.IGNORECASE)
PHONE = re.compile(
    r"\[phone\]|(?<!\d)(?:\+7|8)[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?!\d)", re.IGNORECASE
)
EMAIL = re.compile(r"\[email\]|[\w.+-]+@[\w-]+\.[\w.-]+", re.IGNORECASE)
LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
TOKEN = re.compile(r"[а-яa-z]+|\d+")
DIGIT = re.compile(r"\d{2}")


def normalise(text: str) -> str:
    """Lower case, ё→е, masks and contacts replaced by placeholder words, spaces collapsed."""
    text = (text or "").lower().replace("ё", "е")
    # Each pattern runs only where it can match: most appeals have no link, address or number.
    if "http" in text or "www." in text:
        text = LINK.sub(" ссылка ", text)
    if "@" in text or "[email]" in text:
        text = EMAIL.sub(" почта ", text)
    if "[" in text:
        text = MASK.sub(" ", text)
    if DIGIT.search(text) or "[phone]" in text:
        text = PHONE.sub(" телефон ", text)
    return " ".join(text.split())


def tokens(normalised: str) -> list[str]:
    return TOKEN.findall(normalised)


@functools.cache
def _analyzer() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()


@functools.lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    if not word.isalpha() or len(word) < 2:
        return word
    return _analyzer().parse(word)[0].normal_form.replace("ё", "е")


def lemmas(normalised: str) -> list[str]:
    return [lemma(word) for word in tokens(normalised)]


@functools.cache
def navec():
    """The navec news embeddings that ship inside the natasha package (no download)."""
    # natasha is imported on first use: processes that never read a text do not pay for it
    from natasha import NewsEmbedding

    return NewsEmbedding()
