import numpy as np
import pytest

from tsur.nlp.metrics import choose_threshold
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
    assert choose_threshold(confidence, correct, 0.95) == 0.9
    assert choose_threshold(confidence, correct, 0.75) == 0.7
    assert choose_threshold(confidence, np.zeros(6, dtype=bool), 0.5) == 1.0


def test_threshold_never_splits_equal_confidences():
    confidence = np.array([0.9, 0.9, 0.9, 0.5])
    correct = np.array([True, False, True, True])
    # the three 0.9s stand or fall together (2/3 right), with the 0.5 all four are 3/4 right
    assert choose_threshold(confidence, correct, 0.8) == 1.0
    assert choose_threshold(confidence, correct, 0.7) == 0.5
    assert choose_threshold(confidence, correct, 0.66) == 0.5
