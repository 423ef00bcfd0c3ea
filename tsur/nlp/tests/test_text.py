import numpy as np
import pytest
import scipy.sparse as sp

from tsur.nlp import dataset
from tsur.nlp.features import Example, Featurizer, _context_features
from tsur.nlp.metrics import choose_threshold
from tsur.nlp.places import STREET_HINT, _windows
from tsur.nlp.text import lemmas, normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ещё раз: ЁЛКА во дворе", "еще раз: елка во дворе"),
        ("Председатель [XXX] не отвечает [XXX]", "председатель не отвечает"),
        ("звоните +7 (921) 123-45-67 или 8 812 555 12 34", "звоните телефон или телефон"),
        ("см. https://example.org/a?b=1 и www.spb.ru", "см. ссылка и ссылка"),
        ("пишите ivan.petrov@mail.ru", "пишите почта"),
        ("[PHONE], [EMAIL]", "телефон , почта"),
        ("  много   пробелов\n\tи строк  ", "много пробелов и строк"),
        ("", ""),
    ],
)
def test_normalise(raw, expected):
    assert normalise(raw) == expected


def test_lemmas_fold_word_forms():
    assert lemmas(normalise("Не горят фонари у домов")) == ["не", "гореть", "фонарь", "у", "дом"]
    assert lemmas(normalise("фонарь не горит")) == ["фонарь", "не", "гореть"]


def test_numbers_are_tokens_but_not_lemmatised():
    assert lemmas("дом 47 корпус 1") == ["дом", "47", "корпус", "1"]


def test_threshold_is_the_lowest_confidence_that_keeps_the_precision():
    confidence = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6])
    correct = np.array([True, True, True, False, True, False])
    # above 0.9: 3/3; above 0.8: 3/4; above 0.7: 4/5
    assert choose_threshold(confidence, correct, 0.95, min_support=1) == 0.9
    assert choose_threshold(confidence, correct, 0.95) == 0.9
    assert choose_threshold(confidence, correct, 0.75) == 0.7
    assert choose_threshold(confidence, np.zeros(6, dtype=bool), 0.5) == float("inf")


def test_threshold_never_splits_equal_confidences():
    confidence = np.array([0.9, 0.9, 0.9, 0.5])
    correct = np.array([True, False, True, True])
    # the three 0.9s stand or fall together (2/3 right), with the 0.5 all four are 3/4 right
    assert choose_threshold(confidence, correct, 0.8) == float("inf")
    assert choose_threshold(confidence, correct, 0.7) == 0.5
    assert choose_threshold(confidence, correct, 0.66) == 0.5


def test_fast_transform_equals_scikit_learns(region_csv):
    table = dataset.read_table(region_csv)
    examples = table.examples(table.rows, "обращение", ["район"])
    featurizer = Featurizer(embeddings=False)
    featurizer.fit_transform(examples[:400])
    unseen = [*examples[400:], Example("", {}), Example("совсем новые слова", {"район": "Западный"})]

    fast = featurizer.transform(unseen)
    reference = sp.hstack(
        [
            featurizer.lemma_vectorizer.transform([" ".join(lemmas(normalise(e.text))) for e in unseen]),
            featurizer.word_vectorizer.transform([normalise(e.text) for e in unseen]),
            featurizer.char_vectorizer.transform([normalise(e.text) for e in unseen]),
            featurizer.context_vectorizer.transform([_context_features(e.context) for e in unseen]),
        ],
        format="csr",
    )
    assert fast.shape == reference.shape
    assert abs(fast - reference).max() < 1e-6
    assert fast[-2].nnz == 0


def test_one_lucky_row_does_not_make_a_threshold():
    confidence, correct = np.array([0.99, 0.5, 0.4]), np.array([True, False, False])
    assert choose_threshold(confidence, correct, 0.95, min_support=1) == 0.99
    assert choose_threshold(confidence, correct, 0.95) == float("inf")
    # and "nothing trusted" stays above even a probability of exactly 1.0
    assert not 1.0 >= choose_threshold(np.array([1.0, 1.0]), np.array([True, False]), 0.95)


def test_windows_stay_short_whatever_the_text():
    windows = _windows(STREET_HINT, "ул " * 1333, 30, 40)
    assert 1 <= len(windows) <= 2
    assert all(len(window) <= 2 * (30 + 40) for _, window in windows)
