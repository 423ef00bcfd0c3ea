"""The triage model learnt from the moderators' decisions (and, while they are few, from the
simulated feed's known labels), measured on a held-out part before it is saved.

The held-out part is chosen by group — the problem a complaint is about, each moderated post its own
group — so that rewrites of one appeal are never on both sides of the split."""

import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from . import simulation
from .choices import ACTIONABLE, LabelledBy
from .models import Post
from .triage import TriageModel

HELD_OUT = 5  # one group in five


@dataclass
class Example:
    text: str
    label: str
    group: str
    origin: str  # "moderator" or "simulated"


def moderated() -> list[Example]:
    rows = (
        Post.objects.filter(labelled_by=LabelledBy.MODERATOR)
        .exclude(label="")
        .values_list("pk", "text", "label")
    )
    return [Example(text, label, f"post-{pk}", "moderator") for pk, text, label in rows]


def simulated(count: int, *, seed: int = 5) -> list[Example]:
    appeals = simulation.read_appeals(Path(settings.TSUR["DEMO_DATA"]), limit=max(200, count // 5), seed=seed)
    posts = simulation.feed(
        appeals,
        posts=count,
        complaint_share=0.25,
        question_share=0.1,
        thanks_share=0.1,
        abuse_share=0.1,
        seed=seed,
    )
    return [
        Example(p.text, p.label, f"problem-{p.problem}" if p.problem is not None else f"sim-{i}", "simulated")
        for i, p in enumerate(posts)
    ]


def held_out(group: str) -> bool:
    return int(hashlib.sha1(group.encode(), usedforsecurity=False).hexdigest(), 16) % HELD_OUT == 0


def figures(truth: list[str], predicted: list[str]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    labels = sorted(set(truth) | set(predicted))
    precision, recall, _f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    actual = [t in ACTIONABLE for t in truth]
    said = [p in ACTIONABLE for p in predicted]
    hits = sum(a and s for a, s in zip(actual, said, strict=True))
    return {
        "examples": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(
            float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)), 4
        ),
        "per_label": {
            label: {"precision": round(float(p), 4), "recall": round(float(r), 4), "support": int(s)}
            for label, p, r, s in zip(labels, precision, recall, support, strict=True)
        },
        "actionable": {
            "precision": round(hits / sum(said), 4) if sum(said) else None,
            "recall": round(hits / sum(actual), 4) if sum(actual) else None,
        },
    }


def retrain(examples: list[Example], directory: Path, progress=lambda message: None) -> TriageModel:
    """Measure on the held-out groups, then train on everything and save with the figures."""
    train = [e for e in examples if not held_out(e.group)]
    test = [e for e in examples if held_out(e.group)]
    if len({e.label for e in train}) < 2:
        raise ValueError("для обучения нужны хотя бы два класса")
    progress(f"обучение: {len(train)}, проверка: {len(test)} ({dict(Counter(e.origin for e in examples))})")
    measured = TriageModel.train([e.text for e in train], [e.label for e in train])
    result = (
        figures([e.label for e in test], [label for label, _p in measured.predict([e.text for e in test])])
        if test
        else {}
    )
    final = TriageModel.train(
        [e.text for e in examples],
        [e.label for e in examples],
        manifest={
            "trained_at": timezone.now().isoformat(),
            "origins": dict(Counter(e.origin for e in examples)),
            "held_out": result,
            "split": f"by group, 1 in {HELD_OUT} groups held out (a problem's rewrites stay together)",
        },
    )
    final.save(directory)
    return final
