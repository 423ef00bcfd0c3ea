"""The routing calibration's model (decision 0034): gradient-boosted trees that say how likely each
candidate organisation is right, the candidates of one appeal then sharing one probability; the
trees kept as plain lists (a calibration is data in the database, never code to unpickle) and read
back by numpy for all candidates, trees and folds at once."""

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

# the trees (sklearn's HistGradientBoostingClassifier): chosen on the dev check of decision 0034 only
TREES = {
    "max_iter": 300,
    "learning_rate": 0.05,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 100,
    "l2_regularization": 1.0,
}


class Forest:
    """The folds' boosted trees as a calibration stores them (each tree's nodes in flat arrays, a leaf
    with the feature -1), read by all candidates and all trees of all folds at once, a level at a time:
    one traversal of a few thousand nodes per appeal instead of a loop over trees."""

    _last: tuple = (None, None)  # (the calibration's models, their forest): read for many appeals

    def __init__(self, models: list[dict]):
        roots, feature, threshold, left, right, value, owner, baselines = [], [], [], [], [], [], [], []
        self.depth = 0
        for index, model in enumerate(models):
            start = len(feature)
            node = np.arange(len(model["feature"])) + start
            leaf = np.asarray(model["feature"]) < 0
            roots += [start + root for root in model["roots"]]
            owner += [index] * len(model["roots"])
            feature += np.where(leaf, 0, model["feature"]).tolist()
            threshold += model["threshold"]
            # a leaf leads to itself: every tree is walked the same number of levels
            left += np.where(leaf, node, np.asarray(model["left"]) + start).tolist()
            right += np.where(leaf, node, np.asarray(model["right"]) + start).tolist()
            value += model["value"]
            baselines.append(model["baseline"])
            self.depth = max(self.depth, int(model["depth"]))
        self.roots = np.asarray(roots, dtype=np.int64)
        self.feature = np.asarray(feature, dtype=np.int64)
        self.threshold = np.asarray(threshold, dtype=float)
        self.left = np.asarray(left, dtype=np.int64)
        self.right = np.asarray(right, dtype=np.int64)
        self.value = np.asarray(value, dtype=float)
        self.baselines = np.asarray(baselines, dtype=float)
        # the sum of a fold's trees as one product: tree → its fold
        self.of_fold = np.zeros((len(roots), len(models)))
        self.of_fold[np.arange(len(roots)), owner] = 1.0

    @classmethod
    def of(cls, models: list[dict]) -> "Forest":
        kept, forest = cls._last  # read once: another thread may replace it meanwhile
        if kept is not models:
            forest = cls(models)
            cls._last = (models, forest)
        return forest

    @staticmethod
    def stored(fitted: HistGradientBoostingClassifier) -> dict:
        """A fitted classifier's trees as plain lists (what a calibration stores)."""
        roots, feature, threshold, left, right, value, depth = [], [], [], [], [], [], 0
        for (tree,) in fitted._predictors:
            nodes, start = tree.nodes, len(feature)
            roots.append(start)
            leaf = nodes["is_leaf"].astype(bool)
            feature += np.where(leaf, -1, nodes["feature_idx"]).astype(int).tolist()
            threshold += np.where(leaf, 0.0, nodes["num_threshold"]).astype(float).tolist()
            left += (np.where(leaf, 0, nodes["left"]) + start).astype(int).tolist()
            right += (np.where(leaf, 0, nodes["right"]) + start).astype(int).tolist()
            value += nodes["value"].astype(float).tolist()
            depth = max(depth, int(nodes["depth"].max()))
        return {
            "baseline": float(np.ravel(fitted._baseline_prediction)[0]),
            "depth": depth,
            "roots": roots,
            "feature": feature,
            "threshold": threshold,
            "left": left,
            "right": right,
            "value": value,
        }

    def p(self, rows: np.ndarray) -> np.ndarray:
        """(candidates × folds): the probability each candidate is right, as each fold's classifier
        said it."""
        at = np.broadcast_to(self.roots, (len(rows), len(self.roots)))
        which = np.arange(len(rows))[:, None]
        for _ in range(self.depth):
            goes_left = rows[which, self.feature[at]] <= self.threshold[at]
            at = np.where(goes_left, self.left[at], self.right[at])
        raw = self.value[at] @ self.of_fold + self.baselines
        return 1.0 / (1.0 + np.exp(-raw))


def compete(p: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """The candidates of one appeal are exclusive (one organisation must solve it): when their
    probabilities add up to more than one they are shared out in proportion (two candidates the
    evidence names equally get half each, not both the probability of a sure one); `groups`: the
    appeal of each row, numbered from 0 (one appeal when not given)."""
    if groups is None:
        return p / max(1.0, float(p.sum()))
    total = np.maximum(1.0, np.bincount(groups, weights=p, minlength=int(groups.max()) + 1))
    return p / total[groups]


def fit(X: np.ndarray, y: np.ndarray) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(**TREES, random_state=0).fit(X, y)


def fit_and_score(
    X: np.ndarray, y: np.ndarray, scored: np.ndarray, groups: np.ndarray
) -> tuple[dict, np.ndarray]:
    """Trees fitted on (X, y) as a calibration stores them, and the scores they give the `scored` rows
    (`groups`: their appeals, any numbering), the candidates of each appeal competing."""
    fitted = fit(X, y)
    scores = compete(fitted.predict_proba(scored)[:, 1], np.unique(groups, return_inverse=True)[1])
    return Forest.stored(fitted), scores
