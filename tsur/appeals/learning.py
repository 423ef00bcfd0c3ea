"""Learning from operators: every appeal a person routed (moderation, redirect) is a label.

The labels are read from the register here and handed to the text model's training
(`tsur.nlp.retrain`), which adds them to the model's own export, each counted several times so that
a correction outweighs the export it contradicts, and swaps the new model in.
"""

from pathlib import Path

from tsur.nlp import retrain as training
from tsur.nlp.example import Example
from tsur.nlp.model import TextModel

from .choices import EventKind
from .models import Appeal, AppealEvent, Topic
from .understanding import context_value


def register_labels(since=None) -> list[tuple[Appeal, bool]]:
    """(appeal, whether its topic is a person's choice) for appeals a person routed.

    The organisation of such an appeal is a person's decision. Its topic is one too, unless the
    model set it at intake and nobody changed it since: the model must not learn from itself.
    """
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
    # a topic the model was not sure of, recorded because the organisation was sure (route_confidence)
    guessed_by_model |= set(
        AppealEvent.objects.filter(
            appeal_id__in=ids, kind=EventKind.ASSIGNED, actor__isnull=True, data__has_key="topic_guessed"
        ).values_list("appeal_id", flat=True)
    )
    return [(a, a.pk in chosen_by_people or a.pk not in guessed_by_model) for a in appeals]


def label_rows(
    model: TextModel, appeals: list[tuple[Appeal, bool]]
) -> tuple[list[Example], dict[str, list[str]]]:
    """The labels as the model's examples and the values of its targets ("" where a label says
    nothing about a target)."""
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


def retrain(
    directory: Path, *, weight: int = 3, since=None, progress=lambda message: None
) -> training.RetrainReport:
    """Train the model in `directory` again with the operators' decisions (since `since`) as labels,
    each counted `weight` times; the previous model stays in `<directory>.previous`."""
    model = TextModel.load(Path(directory))
    examples, targets = label_rows(model, register_labels(since))
    return training.retrain(model, directory, examples, targets, weight=weight, progress=progress)
