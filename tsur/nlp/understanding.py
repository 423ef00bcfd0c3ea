"""What the text model says about one appeal's text, in the register's terms.

The model directory says what its targets mean in the register (`bindings`: which target is the
topic, the category, the executor) and which field of an appeal fills each context column
(`context_bindings`). `read` gives the best guess for each of those roles and whether it is at or
above its target's threshold, chosen on the dev split for the wanted precision. Turning a guess into
the register's topic or organisation is the register's side (`tsur.appeals.understanding`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from .example import Example

if TYPE_CHECKING:
    from .model import TextModel

log = logging.getLogger(__name__)

TARGET_ROLES = ("topic", "category", "organisation")
CONTEXT_FIELDS = ("place_kind", "district", "territory", "address")

_lock = threading.Lock()
# directory → (manifest modification time, model or None when it could not be loaded)
_cache: dict[str, tuple[float, TextModel | None]] = {}


def current_model(directory: str | Path | None = None) -> TextModel | None:
    """The model the register uses, reloaded when its directory is rewritten; None when absent or
    unreadable (a broken model is not retried until its manifest changes)."""
    path = Path(directory or settings.TSUR["NLP_MODEL"] or "")
    if not str(path) or not (path / "manifest.json").exists():
        return None
    try:
        stamp = (path / "manifest.json").stat().st_mtime
    except OSError:
        return None
    key = str(path.resolve())
    cached = _cache.get(key)
    if cached and cached[0] == stamp:
        return cached[1]
    # Loading takes seconds: while one thread loads, the others go on with the model they had.
    if not _lock.acquire(blocking=cached is None):
        return cached[1]
    try:
        cached = _cache.get(key)
        if cached and cached[0] == stamp:
            return cached[1]
        try:
            # scikit-learn and SciPy load with the first model, not in every process that imports
            # the register (management commands, job workers, web workers without a model)
            from .model import TextModel

            model = TextModel.load(path)
        except Exception:  # a broken model must not stop intake: appeals go to moderation instead
            log.exception("text model in %s cannot be loaded", path)
            model = None
        _cache[key] = (stamp, model)
        return model
    finally:
        _lock.release()


def forget_models() -> None:
    """Drop the loaded models: the next appeal loads them again (tests)."""
    with _lock:
        _cache.clear()


def context_fields(model: TextModel) -> set[str]:
    """The appeal's fields the model reads as context (`CONTEXT_FIELDS`)."""
    return set(model.manifest.get("context_bindings", {}).values())


@dataclass(frozen=True)
class Prediction:
    """The model's best guess for one role, as the value of its target's column."""

    value: str
    probability: float
    trusted: bool  # at or above the target's threshold


@dataclass
class Reading:
    """What the model says about one text: the best guess per role, and the top guesses of every
    target as the timeline records them."""

    model_version: str
    best: dict[str, Prediction]
    guesses: dict[str, list[dict]]


def read(model: TextModel, text: str, fields: Mapping[str, str]) -> Reading:
    """The model's guesses for a text; `fields` holds the values of the appeal's fields named in
    `context_fields(model)`."""
    context = {
        column: fields.get(field_name, "")
        for column, field_name in model.manifest.get("context_bindings", {}).items()
    }
    guesses = model.predict([Example(text, context)])[0]
    best = {}
    for role, target in model.manifest.get("bindings", {}).items():
        if guesses.get(target):
            top = guesses[target][0]
            trusted = top.probability >= model.classifiers[target].threshold
            best[role] = Prediction(top.value, top.probability, trusted)
    return Reading(
        model_version=model.manifest.get("trained_at", ""),
        best=best,
        guesses={
            target: [{"value": g.value, "p": round(g.probability, 4)} for g in ranked]
            for target, ranked in guesses.items()
        },
    )
