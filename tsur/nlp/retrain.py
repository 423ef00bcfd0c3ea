"""Learning from operators: every appeal a person routed (moderation, redirect) is a label.

`retrain` takes the model's own training file again (when it is still there and unchanged) and adds
the register's labels, each counted several times so that a correction outweighs the export it
contradicts, then writes the new model beside the old one and swaps them.
"""

from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from . import dataset
from .features import Example
from .model import TextModel
from .understanding import context_value


@dataclass
class RetrainReport:
    corrections: int
    export_rows: int
    model: TextModel


def register_labels(since=None) -> list[tuple]:
    """(appeal, whether its topic is a person's choice) for appeals a person routed.

    The organisation of such an appeal is a person's decision. Its topic is one too, unless the
    model set it at intake and nobody changed it since: the model must not learn from itself.
    """
    from tsur.appeals.choices import EventKind
    from tsur.appeals.models import Appeal, AppealEvent

    decided = AppealEvent.objects.filter(
        kind__in=[EventKind.ASSIGNED, EventKind.REDIRECTED], actor__isnull=False
    )
    if since is not None:
        decided = decided.filter(at__gte=since)
    appeals = list(
        Appeal.objects.filter(
            pk__in=decided.values("appeal_id"), topic__isnull=False, organisation__isnull=False
        )
        .select_related("topic", "organisation", "territory")
        .order_by("pk")
    )
    ids = [a.pk for a in appeals]
    chosen_by_people = set(
        decided.filter(appeal_id__in=ids, data__has_key="topic_to").values_list("appeal_id", flat=True)
    )
    guessed_by_model = {
        appeal_id
        for appeal_id, data in AppealEvent.objects.filter(
            appeal_id__in=ids, kind=EventKind.UNDERSTOOD
        ).values_list("appeal_id", "data")
        if (data.get("topic") or {}).get("trusted")
    }
    return [(a, a.pk in chosen_by_people or a.pk not in guessed_by_model) for a in appeals]


def _label_rows(model: TextModel, appeals: list) -> tuple[list[Example], dict[str, list[str]]]:
    from tsur.appeals.models import Topic

    bindings = model.manifest.get("bindings", {})
    context_bindings = model.manifest.get("context_bindings", {})
    examples, targets = [], {name: [] for name in model.targets}
    topic_target = bindings.get("topic")
    by_name = topic_target in model.classifiers and bool(
        set(model.classifiers[topic_target].classes) & set(Topic.objects.values_list("name", flat=True))
    )
    for appeal, topic_is_label in appeals:
        context = {
            column: context_value(
                field_name, place_kind=appeal.place_kind, territory=appeal.territory, address=appeal.address
            )
            for column, field_name in context_bindings.items()
        }
        examples.append(Example(appeal.text, context))
        for name in model.targets:
            if name == topic_target:
                value = (appeal.topic.name if by_name else appeal.topic.code) if topic_is_label else ""
            elif name == bindings.get("category"):
                value = appeal.topic.category if topic_is_label else ""
            elif name == bindings.get("organisation"):
                value = appeal.organisation.name
            else:
                value = ""  # a target the register does not know: these rows teach it nothing
            targets[name].append(value)
    return examples, targets


def retrain(directory: Path, *, weight: int = 3, since=None, progress=lambda message: None) -> RetrainReport:
    directory = Path(directory)
    model = TextModel.load(directory)
    appeals = register_labels(since)
    label_examples, label_targets = _label_rows(model, appeals)

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
            "register_labels": {"appeals": len(appeals), "weight": weight, "at": timezone.now().isoformat()},
        },
    )
    new.save(directory)
    return RetrainReport(len(appeals), len(train_rows), new)
