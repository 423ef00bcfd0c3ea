"""Training again with new labels: a model's own export plus labels given by the register.

`retrain` takes the model's training file again (when it is still there) and adds the labels, each
counted several times so that a correction outweighs the export it contradicts, then writes the new
model beside the old one and swaps them. Which decisions are labels is the register's business
(`tsur.appeals.learning`).
"""

from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from . import dataset
from .example import Example
from .model import TextModel


@dataclass
class RetrainReport:
    corrections: int
    export_rows: int
    model: TextModel


def retrain(
    model: TextModel,
    directory: Path,
    label_examples: list[Example],
    label_targets: dict[str, list[str]],
    *,
    weight: int = 3,
    progress=lambda message: None,
) -> RetrainReport:
    """Train `model` again on its export and the labels (for each of its targets a value per
    example; "" where the label says nothing about that target), and write it to `directory`."""
    directory = Path(directory)
    corrections = len(label_examples)

    source = model.manifest.get("data", {})
    text_column = source.get("text_column", "text")
    train_rows, dev_rows, table = [], [], None
    path = Path(source.get("file", "")) if source.get("file") else None
    if path and path.exists():
        table = dataset.read_table(path)
        if table.sha256 != source.get("sha256"):
            progress(f"файл {path} изменился после обучения: берётся как есть")
        train_rows, dev_rows = dataset.split(table, source.get("split_column"))
    else:
        progress("исходной выгрузки нет: модель учится только на разметке реестра")
    context_columns = model.context_columns
    train = table.examples(train_rows, text_column, context_columns) if table else []
    dev = table.examples(dev_rows, text_column, context_columns) if table else []
    train_targets = {name: [r.get(name, "") for r in train_rows] for name in model.targets}
    dev_targets = {name: [r.get(name, "") for r in dev_rows] for name in model.targets}
    if table is None:
        held = len(label_examples) // 10
        dev, label_examples = label_examples[:held], label_examples[held:]
        dev_targets = {name: values[:held] for name, values in label_targets.items()}
        label_targets = {name: values[held:] for name, values in label_targets.items()}
    for _ in range(max(1, weight)):
        train += label_examples
        for name in model.targets:
            train_targets[name] += label_targets[name]
    new = TextModel.train(
        train,
        train_targets,
        dev,
        dev_targets,
        precision=next(iter(model.manifest["targets"].values()))["target_precision"],
        embeddings=bool(model.manifest.get("embeddings")),
        progress=progress,
        manifest={
            "data": source,
            "bindings": model.manifest.get("bindings", {}),
            "context_bindings": model.manifest.get("context_bindings", {}),
            "register_labels": {"appeals": corrections, "weight": weight, "at": timezone.now().isoformat()},
        },
    )
    new.save(directory)
    return RetrainReport(corrections, len(train_rows), new)
