"""Features of an appeal for the classifiers: what the text says and where it happened.

- lemmas, words and pairs of words (TF-IDF): the topic vocabulary whatever the word form;
- the raw words (TF-IDF): forms that the dictionary does not know (street names, jargon);
- character 2–5-grams inside words (TF-IDF): typos, glued and truncated words;
- the mean navec embedding of the lemmas: near-synonyms that never occurred in training;
- the context columns (kind of place, district, …) as words, so that «Парк, сквер» in the
  register still meets «Парк, сад, бульвар, сквер» of the export it was trained on.
"""

import functools
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer

from .text import lemma, lemmas, normalise, tokens

EMBEDDING_WEIGHT = 1.5


@dataclass(frozen=True)
class Example:
    """One appeal as the models see it: its text and the values of its context columns."""

    text: str
    context: dict[str, str] = field(default_factory=dict)


@functools.cache
def navec():
    """The navec news embeddings that ship inside the natasha package (no download)."""
    from natasha import NewsEmbedding

    return NewsEmbedding()


def _embedding(words: list[str]) -> np.ndarray:
    vectors = navec()
    found = [vectors[w] for w in words if w in vectors]
    if not found:
        return np.zeros(300, dtype=np.float32)
    mean = np.mean(found, axis=0)
    return mean / (np.linalg.norm(mean) + 1e-9)


def _context_features(context: dict[str, str]) -> dict[str, float]:
    features = {}
    for column, value in context.items():
        value = normalise(value)
        if not value:
            continue
        features[f"{column}=={value}"] = 1.0
        for word in tokens(value):
            features[f"{column}={lemma(word)}"] = 1.0
    return features


class Featurizer:
    """Turns examples into one sparse matrix; fitted once and shared by every target."""

    def __init__(self, embeddings: bool = True):
        self.embeddings = embeddings
        self.lemma_vectorizer = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, min_df=2, dtype=np.float32
        )
        self.word_vectorizer = TfidfVectorizer(
            ngram_range=(1, 1), sublinear_tf=True, min_df=2, dtype=np.float32
        )
        self.char_vectorizer = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 5),
            sublinear_tf=True,
            min_df=2,
            max_features=300_000,
            dtype=np.float32,
        )
        self.context_vectorizer = DictVectorizer(dtype=np.float32)

    def _prepare(self, examples: list[Example]):
        normalised = [normalise(e.text) for e in examples]
        lemmatised = [lemmas(n) for n in normalised]
        return normalised, lemmatised

    def fit_transform(self, examples: list[Example]) -> sp.csr_matrix:
        # A word seen once in a large export is noise; in a small one it may be all there is.
        min_df = 2 if len(examples) >= 2000 else 1
        for vectorizer in (self.lemma_vectorizer, self.word_vectorizer, self.char_vectorizer):
            vectorizer.set_params(min_df=min_df)
        normalised, lemmatised = self._prepare(examples)
        parts = [
            self.lemma_vectorizer.fit_transform([" ".join(words) for words in lemmatised]),
            self.word_vectorizer.fit_transform(normalised),
            self.char_vectorizer.fit_transform(normalised),
            self.context_vectorizer.fit_transform([_context_features(e.context) for e in examples]),
        ]
        return self._stack(parts, lemmatised)

    def transform(self, examples: list[Example]) -> sp.csr_matrix:
        normalised, lemmatised = self._prepare(examples)
        parts = [
            self.lemma_vectorizer.transform([" ".join(words) for words in lemmatised]),
            self.word_vectorizer.transform(normalised),
            self.char_vectorizer.transform(normalised),
            self.context_vectorizer.transform([_context_features(e.context) for e in examples]),
        ]
        return self._stack(parts, lemmatised)

    def _stack(self, parts, lemmatised) -> sp.csr_matrix:
        if self.embeddings:
            dense = np.vstack([_embedding(words) for words in lemmatised]) * EMBEDDING_WEIGHT
            parts.append(sp.csr_matrix(dense.astype(np.float32)))
        return sp.hstack(parts, format="csr")
