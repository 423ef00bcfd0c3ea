"""Text classifiers trained from a region's export, saved as a versioned model directory.

One featurizer is shared by every target (topic, sub-topic, executor…); each target gets a linear
SVM with class weights that lift rare classes (a low power of the imbalance: full balancing costs
accuracy on the big classes), and a temperature fitted on the dev split turns its margins into
probabilities. On the dev split each target also gets the confidence threshold that reaches the
wanted precision: above it an appeal may route itself.

A model directory holds `manifest.json` (targets, thresholds, metrics, data hash, code version,
training time) and `model.joblib`. Model files are trusted: they are built by `tsur nlp_train` on
this installation, never uploaded by users (joblib files can run code when loaded).
"""

import json
import os
import shutil
import subprocess
import time
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import scipy.sparse as sp
from django.utils import timezone
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from . import metrics
from .example import Example
from .features import Featurizer

FORMAT = 2
PRUNE_BELOW = 1e-4
# Rare classes weigh (largest class / their size) to this power. On the Saint Petersburg dev split,
# text alone: 0 (no weights) → macro-F1 0.840, 0.1–0.2 → 0.855, 0.5 → 0.845, 1 (balanced) loses
# accuracy on the large classes.
CLASS_WEIGHT_POWER = 0.2
MANIFEST = "manifest.json"
WEIGHTS = "model.joblib"


@dataclass(frozen=True)
class Guess:
    value: str
    probability: float


class TargetClassifier:
    """One target: a linear SVM, its softmax temperature and its routing threshold."""

    def __init__(self, name: str, C: float = 0.3):
        self.name = name
        self.C = C
        self.classes_: np.ndarray = np.array([])
        self.weights: sp.csr_matrix | None = None
        self.bias: np.ndarray | None = None
        self.temperature = 1.0
        self.threshold = metrics.NOTHING_TRUSTED  # until calibrated on held-out rows

    @property
    def classes(self) -> np.ndarray:
        return self.classes_

    def fit(self, X, y: list[str]) -> "TargetClassifier":
        counts = Counter(y)
        biggest = max(counts.values())
        weights = np.array([(biggest / counts[value]) ** CLASS_WEIGHT_POWER for value in y])
        # 100 passes reach the same test figures as 1,000 at a fifth of the time (measured on the
        # Saint Petersburg export); what is left unconverged is noise in the rare classes.
        svm = LinearSVC(C=self.C, max_iter=100)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            svm.fit(X, y, sample_weight=weights)
        # Four fifths of the weights are next to nothing: kept sparse in float32, the model of
        # 125 sub-topics takes tens of megabytes in every web process instead of hundreds.
        coef = np.where(np.abs(svm.coef_) >= PRUNE_BELOW, svm.coef_, 0.0).astype(np.float32)
        self.weights = sp.csr_matrix(coef.T)
        self.bias = svm.intercept_.astype(np.float64)
        self.classes_ = svm.classes_
        return self

    def _margins(self, X) -> np.ndarray:
        margins = (X @ self.weights).toarray() + self.bias
        if margins.shape[1] == 1:  # two classes: one margin, for the second class
            margins = np.column_stack([-margins[:, 0], margins[:, 0]]) / 2
        return margins

    def predict_proba(self, X) -> np.ndarray:
        return _softmax(self._margins(X) / self.temperature)

    def calibrate(self, X, y: list[str], precision: float) -> dict:
        """Fit the temperature (least log-loss) and choose the threshold on held-out rows."""
        margins = self._margins(X)
        index = {c: i for i, c in enumerate(self.classes)}
        known = np.array([value in index for value in y])
        rows = np.flatnonzero(known)
        columns = np.array([index[y[i]] for i in rows], dtype=int)

        def log_loss(temperature: float) -> float:
            proba = _softmax(margins[rows] / temperature)
            return float(-np.mean(np.log(proba[np.arange(len(rows)), columns] + 1e-12)))

        if len(rows):
            grid = np.exp(np.linspace(np.log(0.01), np.log(10), 60))
            best = min(grid, key=log_loss)
            fine = np.exp(np.linspace(np.log(best) - 0.12, np.log(best) + 0.12, 25))
            self.temperature = float(min(fine, key=log_loss))
        proba = self.predict_proba(X)
        predicted = self.classes[proba.argmax(axis=1)]
        correct = np.array([p == t for p, t in zip(predicted, y, strict=True)])
        self.threshold = metrics.choose_threshold(proba.max(axis=1), correct, precision)
        return metrics.evaluate(y, proba, self.classes, self.threshold)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def code_version() -> str:
    from importlib.metadata import version

    try:
        commit = subprocess.run(  # noqa: S603 - fixed arguments
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"tsur {version('tsur')}" + (f" ({commit})" if commit else "")


class TextModel:
    """A featurizer and one classifier per target, with the manifest that describes them."""

    def __init__(self, featurizer: Featurizer, classifiers: dict[str, TargetClassifier], manifest: dict):
        self.featurizer = featurizer
        self.classifiers = classifiers
        self.manifest = manifest

    @property
    def targets(self) -> list[str]:
        return list(self.classifiers)

    @property
    def context_columns(self) -> list[str]:
        return self.manifest["context_columns"]

    @classmethod
    def train(
        cls,
        train: list[Example],
        train_targets: dict[str, list[str]],
        dev: list[Example],
        dev_targets: dict[str, list[str]],
        *,
        precision: float = 0.95,
        embeddings: bool = True,
        progress=lambda message: None,
        manifest: dict | None = None,
    ) -> "TextModel":
        started = time.monotonic()
        progress("признаки")
        featurizer = Featurizer(embeddings=embeddings)
        X = featurizer.fit_transform(train)
        X_dev = featurizer.transform(dev) if dev else None
        for name, values in train_targets.items():
            if len({v for v in values if v}) < 2:
                raise ValueError(f"В колонке «{name}» меньше двух разных значений: учить нечему.")

        def fit(name: str) -> tuple[TargetClassifier, dict]:
            values = train_targets[name]
            rows = [i for i, v in enumerate(values) if v]
            classifier = TargetClassifier(name).fit(X[rows], [values[i] for i in rows])
            dev_values = dev_targets.get(name, [])
            dev_rows = [i for i, v in enumerate(dev_values) if v]
            figures = {}
            if dev_rows:
                figures = classifier.calibrate(X_dev[dev_rows], [dev_values[i] for i in dev_rows], precision)
            progress(f"цель «{name}» готова")
            return classifier, figures

        # liblinear releases the GIL: targets train side by side on the machine's cores.
        progress(f"цели: {', '.join(train_targets)}")
        with ThreadPoolExecutor(max_workers=max(1, min(len(train_targets), os.cpu_count() or 1))) as pool:
            fitted = dict(zip(train_targets, pool.map(fit, train_targets), strict=True))
        classifiers = {name: classifier for name, (classifier, _) in fitted.items()}
        dev_metrics = {name: figures for name, (_, figures) in fitted.items()}
        manifest = {
            **(manifest or {}),
            "format": FORMAT,
            "targets": {
                name: {
                    "classes": len(c.classes),
                    "threshold": c.threshold if np.isfinite(c.threshold) else None,
                    "temperature": c.temperature,
                    "target_precision": precision,
                    "dev": {k: v for k, v in dev_metrics.get(name, {}).items() if k != "per_class"},
                }
                for name, c in classifiers.items()
            },
            "context_columns": sorted({column for e in train for column in e.context}),
            "embeddings": "navec_news_v1_1B_250K_300d_100q" if embeddings else None,
            "rows": {"train": len(train), "dev": len(dev)},
            "features": int(X.shape[1]),
            "code_version": code_version(),
            "trained_at": timezone.now().isoformat(timespec="seconds"),
            "train_seconds": round(time.monotonic() - started, 1),
        }
        return cls(featurizer, classifiers, manifest)

    def save(self, directory: Path) -> None:
        """Write the model beside `directory` and swap it in, so a web process never reads half a
        model; the model it replaces stays in `<directory>.previous`."""
        directory = Path(directory)
        staging = directory.with_name(directory.name + ".new")
        previous = directory.with_name(directory.name + ".previous")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        joblib.dump({"featurizer": self.featurizer, "classifiers": self.classifiers}, staging / WEIGHTS)
        (staging / MANIFEST).write_text(json.dumps(self.manifest, ensure_ascii=False, indent=2) + "\n")
        if directory.exists():
            shutil.rmtree(previous, ignore_errors=True)
            directory.rename(previous)
        staging.rename(directory)

    @classmethod
    def load(cls, directory: Path) -> "TextModel":
        directory = Path(directory)
        manifest = json.loads((directory / MANIFEST).read_text())
        if manifest.get("format") != FORMAT:
            raise ValueError(f"{directory}: формат модели {manifest.get('format')}, ожидается {FORMAT}")
        weights = joblib.load(directory / WEIGHTS)
        return cls(weights["featurizer"], weights["classifiers"], manifest)

    def predict_proba(self, examples: list[Example]) -> dict[str, np.ndarray]:
        X = self.featurizer.transform(examples)
        return {name: c.predict_proba(X) for name, c in self.classifiers.items()}

    def predict(self, examples: list[Example], top: int = 3) -> list[dict[str, list[Guess]]]:
        probabilities = self.predict_proba(examples)
        results = [{} for _ in examples]
        for name, proba in probabilities.items():
            classes = self.classifiers[name].classes
            best = np.argsort(-proba, axis=1)[:, :top]
            for row, columns in enumerate(best):
                results[row][name] = [Guess(str(classes[c]), float(proba[row, c])) for c in columns]
        return results
