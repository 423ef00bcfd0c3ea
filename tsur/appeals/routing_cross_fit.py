"""More held-out appeals for the routing calibration: the text model's own training rows, cross-fitted.

The calibration (`route_confidence.fit`) must be fitted on appeals the text model never learned: on
its own training rows the model reads too well, and a calibration fitted on them promised 95 % and
routed at 91.5 % (decision 0026). An export's held-out split is small (6,110 appeals of the Saint
Petersburg export against 47,860 to train on), and the map from score to precision read on it moves
by points of share from one draw to the next.

Cross-fitting gives every training row a reading by a model that did not learn it: the rows are cut
in K folds; for each fold a text model is trained as the register's was (the same targets, context
columns, bindings and thresholds chosen on the same held-out split) on the other folds, and reads
that fold. The register's history of the place, and the routing rules' precision measured on it, are
read without the appeal itself (`routing_measure.leaving_out`): a register loaded from the export
holds it, and its own answer is no evidence about it. Intake keeps the single model trained on all
rows; the K models live only while `tsur routing_measure --cross-fit K` runs (each costs about one
training of the register's model).
"""

import time
from collections.abc import Callable

from tsur.nlp import understanding as text_model
from tsur.nlp.example import Example
from tsur.nlp.model import TextModel

from .actions.intake import consider


def models_recipe(model: TextModel) -> dict:
    """How the register's text model was trained, from its manifest: what a fold's model repeats."""
    manifest = model.manifest
    targets = manifest["targets"]
    return {
        "targets": list(targets),
        "context": list(manifest.get("context_columns", [])),
        "precision": float(next(iter(targets.values())).get("target_precision") or 0.95),
        "embeddings": manifest.get("embeddings") is not None,
        "manifest": {
            "bindings": manifest.get("bindings", {}),
            "context_bindings": manifest.get("context_bindings", {}),
            "cross_fit_of": manifest.get("trained_at", ""),
        },
    }


def samples(
    train_rows: list[dict],
    held_out_rows: list[dict],
    read_row: Callable[[dict], tuple | None],
    *,
    folds: int,
    text_column: str,
    id_column: str,
    leaving_out: Callable,
    say: Callable[[str], None] = lambda message: None,
) -> tuple[list, dict]:
    """What intake would decide (without a calibration) for each training row, read by a model that
    did not learn it and against the history without it, with the truth; and what it cost.

    `read_row` turns an export's row into (text, address, latitude, longitude, kind of place, the
    organisation that answered), or None for a row that cannot be a sample; `held_out_rows` are the
    rows the fold models choose their thresholds on (as the register's model did); `leaving_out`:
    the register's history and rules without some of its appeals (`routing_measure.leaving_out`)."""
    model = text_model.current_model()
    if model is None or folds < 2:
        return [], {"models": 0, "seconds": 0.0, "left_out": 0}
    recipe = models_recipe(model)
    found, figures = [], {"models": 0, "seconds": 0.0, "left_out": 0, "train_seconds": []}
    started = time.monotonic()

    def examples(rows: list[dict]) -> list[Example]:
        return [
            Example(r.get(text_column) or "", {c: r.get(c) or "" for c in recipe["context"]}) for r in rows
        ]

    with leaving_out(r.get(id_column, "") for r in train_rows) as history:
        for fold in range(folds):
            learn = [r for i, r in enumerate(train_rows) if i % folds != fold]
            read = [r for i, r in enumerate(train_rows) if i % folds == fold]
            fold_started = time.monotonic()
            fold_model = TextModel.train(
                examples(learn),
                {t: [r.get(t) or "" for r in learn] for t in recipe["targets"]},
                examples(held_out_rows),
                {t: [r.get(t) or "" for r in held_out_rows] for t in recipe["targets"]},
                precision=recipe["precision"],
                embeddings=recipe["embeddings"],
                manifest=recipe["manifest"],
            )
            figures["train_seconds"].append(round(time.monotonic() - fold_started, 1))
            figures["models"] += 1
            for row in read:
                sample = read_row(row)
                if sample is None:
                    continue
                with history.without(row.get(id_column, "")) as left_out:
                    found.extend(decided(sample, fold_model))
                figures["left_out"] += left_out
            say(
                f"  часть {fold + 1}/{folds}: модель обучена за {figures['train_seconds'][-1]} с, "
                f"прочитано {len(read)} обращений; всего {time.monotonic() - started:.0f} с"
            )
    figures["seconds"] = round(time.monotonic() - started, 1)
    return found, figures


def decided(sample: tuple, model: TextModel | None = None) -> list:
    """[(what intake would decide without a calibration, the topic's top probability, the truth)] for
    one held-out appeal, read by `model` (the register's when None); [] when the text model did not
    read it."""
    text, address, latitude, longitude, place_kind, truth = sample
    _, understood, decision = consider(
        text=text,
        address=address,
        latitude=latitude,
        longitude=longitude,
        place_kind=place_kind,
        use_calibration=False,
        model=model,
    )
    if understood is None:
        return []  # without the text model's reading an appeal goes to an operator
    topic_p = max((p for _, p in understood.topic_choices), default=0.0)
    return [(decision, topic_p, truth)]
