"""The options of the workspace's selects: topics, blocks, territories and organisations.

The console's page offers them in four selects and its bulk forms in three more, about a thousand
options each time, and a `ModelChoiceField` reads its queryset again for every form and field. So the
(value, label) pairs are read once per process and kept `OPTIONS_TTL_S` seconds (`tsur.core.memo`);
a change saved in this process is seen at once (signals connected in apps.py), in the others within
`OPTIONS_TTL_S` (decision 0024). A chosen value is still checked against the field's queryset."""

from django import forms
from django.forms.models import ModelChoiceIterator

from tsur.appeals.models import ThematicBlock, Topic
from tsur.core.memo import Remembered
from tsur.core.models import Organisation, Territory

from .widgets import QuickSelect

OPTIONS_TTL_S = 60.0


def topic_label(topic: Topic) -> str:
    return f"{topic.block.name}: {topic.name}"


def topics():
    return Topic.objects.filter(is_active=True).select_related("block").order_by("block__order", "name")


def organisations():
    return Organisation.objects.filter(is_active=True).order_by("name")


def blocks():
    return ThematicBlock.objects.filter(is_active=True)


def territories():
    return Territory.objects.order_by("path")


TOPICS = Remembered(lambda: [(t.code, topic_label(t)) for t in topics()], OPTIONS_TTL_S)
BLOCKS = Remembered(lambda: [(b.code, str(b)) for b in blocks()], OPTIONS_TTL_S)
TERRITORIES = Remembered(lambda: [(str(t.pk), str(t)) for t in territories()], OPTIONS_TTL_S)
ORGANISATIONS = Remembered(lambda: [(str(o.pk), str(o)) for o in organisations()], OPTIONS_TTL_S)
ALL = (TOPICS, BLOCKS, TERRITORIES, ORGANISATIONS)


def changed(*args, using: str | None = None, **kwargs) -> None:
    """A receiver for the signals of topics, blocks, territories and organisations."""
    for remembered in ALL:
        remembered.changed(using=using)


def forget() -> None:
    for remembered in ALL:
        remembered.forget()


class _RememberedOptions(ModelChoiceIterator):
    def remembered(self) -> tuple[list, object]:
        """The kept (value, label) list itself and the empty label: `QuickSelect` writes the options
        of one list once."""
        return self.field.options.get(), self.field.empty_label

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from self.field.options.get()

    def __len__(self):
        return len(self.field.options.get()) + (self.field.empty_label is not None)

    def __bool__(self):
        return self.field.empty_label is not None or bool(self.field.options.get())


class RememberedChoiceField(forms.ModelChoiceField):
    """A `ModelChoiceField` whose options come from `options` (a `Remembered` list of (value, label)
    in the queryset's order, values as `to_field_name` gives them), not from a query per form."""

    iterator = _RememberedOptions
    widget = QuickSelect

    def __init__(self, *args, options: Remembered, **kwargs):
        self.options = options
        super().__init__(*args, **kwargs)
