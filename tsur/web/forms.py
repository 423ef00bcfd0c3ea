"""The workspace's forms: the console's filters and every step's input. A step's form turns what a
person typed into the arguments of its action (`arguments()`); the rules stay in the action."""

import h3
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tsur.analytics import kpi
from tsur.appeals import answer_templates, photos, policies
from tsur.appeals.choices import Channel, DeadlineState, Priority, Status
from tsur.appeals.models import AnswerTemplate, Appeal
from tsur.core.choices import PlaceKind
from tsur.core.errors import DomainError
from tsur.core.models import Building, User

from . import options
from .options import RememberedChoiceField, organisations, topics
from .resident_forms import RATINGS
from .widgets import QuickSelect

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


class TopicChoice(RememberedChoiceField):
    """A topic by its code, its options remembered in the process (`options.TOPICS`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, queryset=topics(), to_field_name="code", options=options.TOPICS, **kwargs)

    def label_from_instance(self, obj):
        return options.topic_label(obj)


class OrganisationChoice(RememberedChoiceField):
    """An active organisation, its options remembered in the process (`options.ORGANISATIONS`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, queryset=organisations(), options=options.ORGANISATIONS, **kwargs)


class QueueFilterForm(forms.Form):
    """What the console's list shows; every field is a query parameter, so a filter can be bookmarked."""

    q = forms.CharField(label=_("Поиск"), required=False, max_length=200)
    status = forms.ChoiceField(
        label=_("Статус"), required=False, choices=_any(Status.choices), widget=QuickSelect
    )
    block = RememberedChoiceField(
        label=_("Блок"),
        required=False,
        queryset=options.blocks(),
        to_field_name="code",
        options=options.BLOCKS,
        empty_label=_("любой"),
    )
    topic = TopicChoice(
        label=_("Тема"),
        required=False,
        empty_label=_("любая"),
        widget=QuickSelect,
    )
    territory = RememberedChoiceField(
        label=_("Территория"),
        required=False,
        queryset=options.territories(),
        options=options.TERRITORIES,
        empty_label=_("любая"),
    )
    organisation = OrganisationChoice(
        label=_("Исполнитель"),
        required=False,
        empty_label=_("любой"),
        widget=QuickSelect,
    )
    channel = forms.ChoiceField(
        label=_("Канал"), required=False, choices=_any(Channel.choices), widget=QuickSelect
    )
    deadline_state = forms.ChoiceField(
        label=_("Срок"), required=False, choices=_any(DeadlineState.choices), widget=QuickSelect
    )
    since = forms.DateField(label=_("Поступило с"), required=False, widget=DATE)
    until = forms.DateField(label=_("по"), required=False, widget=DATE)
    sort = forms.ChoiceField(label=_("Порядок"), required=False, choices=SORTS, widget=QuickSelect)
    # the appeals behind a figure of the analytics (tsur.analytics.kpi), e.g. «просроченные сейчас»
    kpi = forms.ChoiceField(
        label=_("Показатель"), required=False, choices=_any(kpi.DRILL_LABELS.items()), widget=QuickSelect
    )
    # what the wall screen's figures link to (tsur.analytics.live): kept as they came
    after = forms.DateTimeField(label=_("Поступило с (время)"), required=False, widget=forms.HiddenInput)
    answered = forms.DateField(label=_("Ответ дан"), required=False, widget=forms.HiddenInput)
    cell = forms.CharField(label=_("Ячейка карты"), required=False, max_length=16, widget=forms.HiddenInput)
    outage = forms.IntegerField(label=_("Отключение"), required=False, min_value=1, widget=forms.HiddenInput)
    signal = forms.IntegerField(label=_("Всплеск"), required=False, min_value=1, widget=forms.HiddenInput)

    def clean_cell(self):
        cell = self.cleaned_data["cell"]
        if cell and not h3.is_valid_cell(cell):
            raise forms.ValidationError(_("Неизвестная ячейка карты."))
        return cell


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
    topic = TopicChoice(label=_("Тема"), required=False, empty_label=_("не менять"))
    organisation = OrganisationChoice(
        label=_("Исполнитель"),
        required=False,
        empty_label=_("по правилам маршрутизации"),
        widget=QuickSelect,
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
    organisation = OrganisationChoice(
        label=_("Другая организация"),
        required=False,
        empty_label=_("по правилам маршрутизации"),
        widget=QuickSelect,
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


class TemplateChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class AnswerForm(StepForm):
    # the picker only fills the text in (htmx asks the page for the template filled for this appeal);
    # what is sent is the text as the executor left it
    template = TemplateChoice(
        label=_("Шаблон ответа"),
        required=False,
        queryset=AnswerTemplate.objects.none(),
        empty_label=_("без шаблона"),
    )
    text = forms.CharField(
        label=_("Ответ гражданину"), max_length=20000, widget=forms.Textarea(attrs={"rows": 8})
    )
    photos = PhotosField(label=_("Фото выполненных работ"), required=False)

    def __init__(self, *args, template_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        found = answer_templates.available(self.appeal) if self.appeal is not None else []
        if not found or not template_url:
            del self.fields["template"]
            return
        self.fields["template"].queryset = AnswerTemplate.objects.filter(pk__in=[t.pk for t in found])
        self.fields["template"].choices = [("", _("без шаблона")), *[(t.pk, t.name) for t in found]]
        self.fields["template"].widget.attrs.update(
            {
                "hx-get": template_url,
                "hx-target": f"#{self['text'].auto_id}",
                "hx-swap": "outerHTML",
                "hx-trigger": "change",
            }
        )

    def arguments(self):
        return {"text": self.cleaned_data["text"]}


class ApproveAnswerForm(StepForm):
    """The reviewer approves the answer as it was written: no input."""


class ReturnAnswerForm(StepForm):
    comment = ReasonText(label=_("Что доработать"), rows=3)

    def arguments(self):
        return {"comment": self.cleaned_data["comment"]}


class PriorityForm(StepForm):
    priority = forms.ChoiceField(label=_("Приоритет"), choices=Priority.choices)
    reason = ReasonText(label=_("Почему"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.appeal is not None and not self.is_bound:
            self.fields["priority"].initial = self.appeal.priority

    def arguments(self):
        return {"priority": self.cleaned_data["priority"], "reason": self.cleaned_data["reason"]}


class CallerRatingForm(StepForm):
    """The mark a caller gives the answer on the phone, written down by the hotline's operator
    (the same `rate` action as the author's page)."""

    rating = forms.TypedChoiceField(
        label=_("Оценка звонящего"), choices=RATINGS, coerce=int, widget=forms.RadioSelect
    )
    comment = ReasonText(label=_("Отзыв со слов звонящего"), required=False)

    def arguments(self):
        return {"rating": self.cleaned_data["rating"], "comment": self.cleaned_data["comment"]}


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
    use_required_attribute = False  # one form holds every bulk operation: the browser must not block

    organisation = OrganisationChoice(
        label=_("Исполнитель"),
        empty_label=_("выберите организацию"),
        widget=QuickSelect,
    )
    topic = TopicChoice(label=_("Тема"), required=False, empty_label=_("не менять"))


class BulkRedirectForm(forms.Form):
    """Send the ticked appeals to another organisation: moderation's outcome for those still in
    moderation, a redirection for those at work (`console_views.bulk_redirect` picks the step)."""

    use_required_attribute = False  # one form holds every bulk operation: the browser must not block

    organisation = OrganisationChoice(label=_("Организация"), empty_label=_("выберите организацию"))
    reason = forms.CharField(label=_("Основание"), max_length=4000)


class BulkMergeForm(forms.Form):
    """Close the ticked appeals as duplicates of one main appeal (one of them, or any number typed)."""

    use_required_attribute = False

    into = forms.CharField(label=_("Основное обращение (номер)"), max_length=20)
    reason = forms.CharField(label=_("Комментарий"), required=False, max_length=4000)

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_into(self):
        number = self.cleaned_data["into"].strip()
        found = Appeal.objects.restrict(self.user).filter(number=number).first()
        if found is None:
            raise forms.ValidationError(_("Обращение %(number)s не найдено."), params={"number": number})
        return found


# ------------------------------------------------------------------ the person inside the organisation


class PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class ReassignForm(StepForm):
    assignee = PersonChoice(label=_("Сотрудник"), queryset=User.objects.none(), empty_label=_("выберите"))
    reason = ReasonText(label=_("Комментарий"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.appeal is not None and self.appeal.organisation_id:
            people = policies.assignable(self.appeal.organisation)
            self.fields["assignee"].queryset = people.exclude(pk=self.appeal.assignee_id or 0)

    def arguments(self):
        return {"assignee": self.cleaned_data["assignee"], "reason": self.cleaned_data["reason"]}


class BulkReassignForm(forms.Form):
    """The supervisor's queue: hand the ticked appeals to one person (the action checks each appeal's
    organisation)."""

    assignee = PersonChoice(
        label=_("Передать сотруднику"), queryset=User.objects.none(), empty_label=_("выберите")
    )
    reason = forms.CharField(label=_("Комментарий"), required=False, max_length=4000)

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        if people is not None:
            self.fields["assignee"].queryset = people


# ------------------------------------------------------------------ the hotline


class HotlineForm(forms.Form):
    """A call to the hotline: what the caller says, where, and how to reach them. `call` identifies
    this filling of the form, so that a second press of the button files nothing new."""

    call = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    text = forms.CharField(
        label=_("Суть обращения со слов звонящего"),
        max_length=settings.TSUR["TEXT_MAX_CHARS"],
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    topic = TopicChoice(
        label=_("Тема"),
        required=False,
        empty_label=_("не выбрана: определит модель или модерация"),
    )
    address = forms.CharField(label=_("Адрес"), required=False, max_length=400)
    building = forms.ModelChoiceField(
        queryset=Building.objects.all(), required=False, widget=forms.HiddenInput
    )
    place_kind = forms.ChoiceField(
        label=_("Вид места"), required=False, choices=[("", _("не указан")), *PlaceKind.choices]
    )
    name = forms.CharField(label=_("Имя звонящего"), required=False, max_length=200)
    phone = forms.CharField(label=_("Телефон"), required=False, max_length=32)
    email = forms.EmailField(label=_("E-mail"), required=False)
    consent = forms.BooleanField(
        label=_("Гражданин согласен на обработку персональных данных"), required=False
    )

    def registration(self) -> dict:
        """The arguments of actions.register for a new appeal."""
        data = self.cleaned_data
        return {
            "external_id": data["call"],
            "text": data["text"],
            "topic": data["topic"],
            "address": data["address"],
            "building": data["building"],
            "place_kind": data["place_kind"],
            "author_name": data["name"],
            "author_phone": data["phone"],
            "author_email": data["email"],
            "personal_data_consent": data["consent"],
        }

    def caller(self) -> dict:
        """The arguments of actions.subscribe: the caller joins an appeal already open."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "phone": data["phone"],
            "email": data["email"],
            "personal_data_consent": data["consent"],
        }
