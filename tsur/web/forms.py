"""The workspace's forms: the console's filters and every step's input. A step's form turns what a
person typed into the arguments of its action (`arguments()`); the rules stay in the action."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tsur.appeals import photos
from tsur.appeals.choices import Channel, DeadlineState, Status
from tsur.appeals.models import Appeal, ThematicBlock, Topic
from tsur.core.errors import DomainError
from tsur.core.models import Organisation, Territory

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"]
SORTS = [
    ("-registered_at", _("сначала новые")),
    ("registered_at", _("сначала старые")),
    ("resolution_due", _("срок: ближайший")),
    ("-resolution_due", _("срок: дальний")),
    ("number", _("по номеру")),
]


def _any(choices):
    return [("", _("любой")), *choices]


def topics():
    return Topic.objects.filter(is_active=True).select_related("block").order_by("block__order", "name")


def organisations():
    return Organisation.objects.filter(is_active=True).order_by("name")


class TopicChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.block.name}: {obj.name}"


# A ModelChoiceField copies its queryset (.all()) for every form: the choices are read per form.
class QueueFilterForm(forms.Form):
    """What the console's list shows; every field is a query parameter, so a filter can be bookmarked."""

    q = forms.CharField(label=_("Поиск"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Статус"), required=False, choices=_any(Status.choices))
    block = forms.ModelChoiceField(
        label=_("Блок"),
        required=False,
        queryset=ThematicBlock.objects.filter(is_active=True),
        to_field_name="code",
        empty_label=_("любой"),
    )
    topic = TopicChoice(
        label=_("Тема"), required=False, queryset=topics(), to_field_name="code", empty_label=_("любая")
    )
    territory = forms.ModelChoiceField(
        label=_("Территория"),
        required=False,
        queryset=Territory.objects.order_by("path"),
        empty_label=_("любая"),
    )
    organisation = forms.ModelChoiceField(
        label=_("Исполнитель"), required=False, queryset=organisations(), empty_label=_("любой")
    )
    channel = forms.ChoiceField(label=_("Канал"), required=False, choices=_any(Channel.choices))
    deadline_state = forms.ChoiceField(label=_("Срок"), required=False, choices=_any(DeadlineState.choices))
    since = forms.DateField(label=_("Поступило с"), required=False, widget=DATE)
    until = forms.DateField(label=_("по"), required=False, widget=DATE)
    sort = forms.ChoiceField(label=_("Порядок"), required=False, choices=SORTS)


# ------------------------------------------------------------------ steps


class StepForm(forms.Form):
    """A step with no input of its own (take)."""

    def __init__(self, *args, user=None, appeal=None, **kwargs):
        self.user, self.appeal = user, appeal
        super().__init__(*args, **kwargs)

    def arguments(self) -> dict:
        return {}


class ReasonText(forms.CharField):
    def __init__(self, label=None, required=True, rows=2, **kwargs):
        super().__init__(
            label=label or _("Основание"),
            required=required,
            max_length=4000,
            widget=forms.Textarea(attrs={"rows": rows}),
            **kwargs,
        )


class AssignForm(StepForm):
    topic = TopicChoice(
        label=_("Тема"), required=False, queryset=topics(), to_field_name="code", empty_label=_("не менять")
    )
    organisation = forms.ModelChoiceField(
        label=_("Исполнитель"),
        required=False,
        queryset=organisations(),
        empty_label=_("по правилам маршрутизации"),
    )
    complaint_ticket_number = forms.CharField(
        label=_("Номер заявки в книге жалоб"), required=False, max_length=64
    )
    reason = ReasonText(label=_("Комментарий"), required=False)

    def arguments(self):
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class RejectForm(StepForm):
    reason = ReasonText(label=_("Причина отказа"))

    def arguments(self):
        return {"reason": self.cleaned_data["reason"]}


class RedirectForm(StepForm):
    organisation = forms.ModelChoiceField(
        label=_("Другая организация"),
        required=False,
        queryset=organisations(),
        empty_label=_("по правилам маршрутизации"),
    )
    to_operator = forms.BooleanField(label=_("Вернуть оператору ЦУР (не наше)"), required=False)
    reason = ReasonText(label=_("Почему"))

    def arguments(self):
        data = self.cleaned_data
        arguments = {"reason": data["reason"], "to_operator": data["to_operator"]}
        if data["organisation"] is not None:
            arguments["organisation"] = data["organisation"]
        return arguments


class ClarificationForm(StepForm):
    question = ReasonText(label=_("Вопрос гражданину"), rows=3)

    def arguments(self):
        return {"question": self.cleaned_data["question"]}


class ExtendForm(StepForm):
    until = forms.DateTimeField(label=_("Новый срок"), input_formats=DATETIME_FORMATS, widget=DATETIME)
    reason = ReasonText(label=_("Основание продления"))

    def arguments(self):
        return {"until": self.cleaned_data["until"], "reason": self.cleaned_data["reason"]}


class InterimAnswerForm(StepForm):
    text = ReasonText(label=_("Что делается"), rows=3)
    planned_at = forms.DateTimeField(
        label=_("Плановая дата решения"), input_formats=DATETIME_FORMATS, widget=DATETIME
    )

    def arguments(self):
        return {"text": self.cleaned_data["text"], "planned_at": self.cleaned_data["planned_at"]}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    widget = MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})

    def __init__(self, *args, max_count: int | None = None, **kwargs):
        self.max_count = max_count
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        """Each file checked as the register checks photos, before any step is taken with them."""
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        limit = min(self.max_count or settings.TSUR["PHOTO_MAX_COUNT"], settings.TSUR["PHOTO_MAX_COUNT"])
        if len(files) > limit:
            raise forms.ValidationError(_("Не больше %(n)s фото."), params={"n": limit})
        cleaned = [super(PhotosField, self).clean(f, initial) for f in files]
        for upload in cleaned:
            try:
                photos.inspect(upload)
            except DomainError as error:
                raise forms.ValidationError(str(error)) from error
        return cleaned


class AnswerForm(StepForm):
    text = forms.CharField(
        label=_("Ответ гражданину"), max_length=20000, widget=forms.Textarea(attrs={"rows": 6})
    )
    photos = PhotosField(label=_("Фото выполненных работ"), required=False)

    def arguments(self):
        return {"text": self.cleaned_data["text"]}


class MergeForm(StepForm):
    into = forms.CharField(label=_("Номер основного обращения"), max_length=20)
    reason = ReasonText(label=_("Комментарий"), required=False)

    def clean_into(self):
        number = self.cleaned_data["into"].strip()
        found = Appeal.objects.restrict(self.user).filter(number=number).first()
        if found is None:
            raise forms.ValidationError(_("Обращение %(number)s не найдено."), params={"number": number})
        return found

    def arguments(self):
        return {"into": self.cleaned_data["into"], "reason": self.cleaned_data["reason"]}


class BulkAssignForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Исполнитель"), queryset=organisations(), empty_label=_("выберите организацию")
    )
    topic = TopicChoice(
        label=_("Тема"), required=False, queryset=topics(), to_field_name="code", empty_label=_("не менять")
    )
