"""Features of an appeal for the classifiers: what the text says and where it happened.

- lemmas, words and pairs of words (TF-IDF): the topic vocabulary whatever the word form;
- the raw words (TF-IDF): forms that the dictionary does not know (street names, jargon);
- character 2–5-grams inside words (TF-IDF): typos, glued and truncated words;
- the mean navec embedding of the lemmas: near-synonyms that never occurred in training;
- the context columns (kind of place, district, …) as words, so that «Парк, сквер» in the
  register still meets «Парк, сад, бульвар, сквер» of the export it was trained on.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer

from .example import Example
from .text import lemma, lemmas, navec, normalise, tokens

EMBEDDING_WEIGHT = 1.5


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
        """Same matrix as the fitted vectorizers' own `transform`, built directly from their
        vocabularies: at intake one text at a time, scikit-learn's input checks cost more than the
        features themselves."""
        normalised, lemmatised = self._prepare(examples)
        parts = [
            self._tfidf(self.lemma_vectorizer, [" ".join(words) for words in lemmatised]),
            self._tfidf(self.word_vectorizer, normalised),
            self._tfidf(self.char_vectorizer, normalised),
            self._dict(self.context_vectorizer, [_context_features(e.context) for e in examples]),
        ]
        return self._stack(parts, lemmatised)

    def _analyzer(self, vectorizer):
        cache = self.__dict__.setdefault("_analyzers", {})
        if id(vectorizer) not in cache:
            cache[id(vectorizer)] = vectorizer.build_analyzer()
        return cache[id(vectorizer)]

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_analyzers", None)
        return state

    def _tfidf(self, vectorizer: TfidfVectorizer, documents: list[str]) -> sp.csr_matrix:
        analyze, vocabulary, idf = self._analyzer(vectorizer), vectorizer.vocabulary_, vectorizer.idf_
        indptr, indices, values = [0], [], []
        for document in documents:
            counts: dict[int, int] = {}
            for gram in analyze(document):
                column = vocabulary.get(gram)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            if counts:
                columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
                weights = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
                weights *= idf[columns]
                weights /= np.sqrt(np.dot(weights, weights))
                indices.append(columns)
                values.append(weights)
            indptr.append(indptr[-1] + len(counts))
        return _csr(indptr, indices, values, len(vocabulary))

    @staticmethod
    def _dict(vectorizer: DictVectorizer, rows: list[dict[str, float]]) -> sp.csr_matrix:
        vocabulary = vectorizer.vocabulary_
        indptr, indices, values = [0], [], []
        for row in rows:
            known = [(vocabulary[k], v) for k, v in row.items() if k in vocabulary]
            if known:
                indices.append(np.array([k for k, _ in known], dtype=np.int64))
                values.append(np.array([v for _, v in known], dtype=np.float64))
            indptr.append(indptr[-1] + len(known))
        return _csr(indptr, indices, values, len(vocabulary))

    def _stack(self, parts, lemmatised) -> sp.csr_matrix:
        if self.embeddings:
            dense = np.vstack([_embedding(words) for words in lemmatised]) * EMBEDDING_WEIGHT
            parts.append(sp.csr_matrix(dense.astype(np.float32)))
        return sp.hstack(parts, format="csr")


def _csr(indptr, indices, values, width: int) -> sp.csr_matrix:
    return sp.csr_matrix(
        (
            np.concatenate(values).astype(np.float32) if values else np.zeros(0, dtype=np.float32),
            np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64),
            np.array(indptr, dtype=np.int64),
        ),
        shape=(len(indptr) - 1, width),
    )
