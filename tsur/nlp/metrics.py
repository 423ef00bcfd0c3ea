"""Quality figures of a classifier, the same for training reports and `nlp_evaluate`."""

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

NOTHING_TRUSTED = float("inf")
MIN_SUPPORT = 3


def choose_threshold(
    confidence: np.ndarray, correct: np.ndarray, precision: float, min_support: int = MIN_SUPPORT
) -> float:
    """The lowest confidence above which the answers are right at least `precision` of the time.

    Chosen on the dev split: everything at or above it may route itself, the rest waits for a
    human. A cut needs at least `min_support` dev answers above it (one lucky row proves nothing);
    when no cut qualifies, nothing is trusted (infinity: even a probability of 1.0 stays below).
    """
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(correct[order])
    share_right = hits / np.arange(1, len(order) + 1)
    best = NOTHING_TRUSTED
    for position in range(min_support - 1, len(order)):
        # Only positions where the next confidence differs are possible cut points.
        if position + 1 < len(order) and confidence[order[position + 1]] == confidence[order[position]]:
            continue
        if share_right[position] >= precision:
            best = float(confidence[order[position]])
    return best


def evaluate(truth: list[str], proba: np.ndarray, classes: np.ndarray, threshold: float) -> dict:
    truth = np.asarray(truth, dtype=object)
    predicted = classes[proba.argmax(axis=1)]
    confidence = proba.max(axis=1)
    top3 = classes[np.argsort(-proba, axis=1)[:, :3]]
    confident = confidence >= threshold
    labels = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    return {
        "n": len(truth),
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(f1_score(truth, predicted, average="macro", labels=labels, zero_division=0)),
        "weighted_f1": float(f1_score(truth, predicted, average="weighted", labels=labels, zero_division=0)),
        "top3_accuracy": float(np.mean([t in row for t, row in zip(truth, top3, strict=True)])),
        "threshold": threshold if np.isfinite(threshold) else None,
        "coverage": float(confident.mean()) if len(truth) else 0.0,
        "accuracy_above_threshold": float(np.mean(predicted[confident] == truth[confident]))
        if confident.any()
        else None,
        "per_class": [
            {"class": c, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for c, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        ],
    }
