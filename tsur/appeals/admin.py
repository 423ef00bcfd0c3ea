from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from tsur.core.errors import DomainError
from tsur.core.text import clean_text

from . import actions, policies, route_confidence
from .answer_templates import KNOWN, PLACEHOLDER
from .choices import AccessInterface
from .models import (
    AnswerTemplate,
    Appeal,
    AppealEvent,
    ChannelRegulation,
    ComplaintTicket,
    PersonalDataAccess,
    ReviewRule,
    RoutingCalibration,
    RoutingRule,
    ThematicBlock,
    Topic,
    TopicQuestion,
)


class TopicInline(admin.TabularInline):
    model = Topic
    extra = 0
    fields = [
        "code",
        "name",
        "first_response_amount",
        "first_response_unit",
        "resolution_amount",
        "resolution_unit",
        "priority",
        "complaint_book",
        "is_active",
    ]


@admin.register(ThematicBlock)
class ThematicBlockAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "order", "is_active"]
    search_fields = ["name", "code"]
    inlines = [TopicInline]


class TopicQuestionInline(admin.TabularInline):
    model = TopicQuestion
    extra = 0
    fields = ["order", "code", "description", "datatype", "required", "values"]


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    inlines = [TopicQuestionInline]
    list_display = [
        "name",
        "block",
        "first_response_amount",
        "first_response_unit",
        "resolution_amount",
        "resolution_unit",
        "priority",
        "complaint_book",
        "is_active",
    ]
    list_filter = ["block", "priority", "complaint_book", "is_active"]
    search_fields = ["name", "code", "category"]


class MeasuredPrecisionFilter(admin.SimpleListFilter):
    title = _("измеренная точность")
    parameter_name = "measured"

    def lookups(self, request, model_admin):
        return [
            ("routes", _("маршрутизирует сама")),
            ("below", _("ниже порога: решает оператор")),
            ("none", _("не измерена")),
        ]

    def queryset(self, request, queryset):
        threshold = route_confidence.required_precision()
        measured = queryset.filter(measured_support__gte=route_confidence.MIN_SUPPORT)
        relied = [r.pk for r in measured if route_confidence.rule_precision(r)[0] >= threshold]
        if self.value() == "routes":
            return measured.filter(pk__in=relied)
        if self.value() == "below":
            return measured.exclude(pk__in=relied)
        if self.value() == "none":
            return queryset.filter(measured_support__lt=route_confidence.MIN_SUPPORT)
        return queryset


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "place_kind", "priority", "is_active", "precision", "routes_alone"]
    list_filter = ["is_active", MeasuredPrecisionFilter, "place_kind", "to_management_company"]
    search_fields = ["topic__name", "organisation__name", "territory__name", "note"]
    autocomplete_fields = ["topic", "block", "territory", "building", "organisation"]
    readonly_fields = ["measured_precision", "measured_support", "measured_at"]

    @admin.display(description=_("измеренная точность"), ordering="measured_precision")
    def precision(self, rule):
        if rule.measured_precision is None:
            return _("не измерена")
        right = round(rule.measured_precision * rule.measured_support)
        return f"{rule.measured_precision:.0%} ({right} из {rule.measured_support})"

    @admin.display(description=_("маршрутизирует без оператора"), boolean=True)
    def routes_alone(self, rule):
        """A rule measured below the region's setting never routes alone (tsur.appeals.route_confidence)."""
        precision, measured = route_confidence.rule_precision(rule)
        return not measured or precision >= route_confidence.required_precision()


@admin.register(RoutingCalibration)
class RoutingCalibrationAdmin(admin.ModelAdmin):
    list_display = ["fitted_at", "source", "model_version"]
    readonly_fields = ["fitted_at", "source", "model_version", "data"]

    def has_add_permission(self, request):
        return False


class AppealEventInline(admin.TabularInline):
    model = AppealEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "actor", "status_from", "status_to", "organisation", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ChannelRegulation)
class ChannelRegulationAdmin(admin.ModelAdmin):
    list_display = (
        "channel",
        "first_response_hours",
        "urgent_first_response_hours",
        "after_interim_days",
        "is_active",
    )


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin):
    """Read-only in the admin: every change of an appeal goes through its actions (API, console)."""

    list_display = [
        "number",
        "status",
        "topic",
        "organisation",
        "registered_at",
        "resolution_due",
        "deadline_state",
    ]
    list_filter = ["status", "channel", "deadline_state", "topic__block"]
    search_fields = ["number", "text", "address"]
    list_select_related = ["topic", "organisation"]
    inlines = [AppealEventInline]
    show_full_result_count = False

    actions = ["erase_personal_data"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The page shows the citizen's name and contacts: journalled, as in the API."""
        response = super().change_view(request, object_id, form_url, extra_context)
        appeal = response.context_data.get("original") if hasattr(response, "context_data") else None
        if appeal is not None and (appeal.author_name or appeal.author_email or appeal.author_phone):
            actions.record_contacts_seen(request.user, [appeal.pk], AccessInterface.ADMIN)
        return response

    @admin.action(description="Обезличить персональные данные (по запросу гражданина)")
    def erase_personal_data(self, request, queryset):
        if not policies.is_administrator(request.user):
            self.message_user(request, "Обезличивать может только администратор.", messages.ERROR)
            return None
        form = ErasureForm(request.POST if request.POST.get("confirmed") else None)
        if not form.is_valid():
            context = {**self.admin_site.each_context(request), "appeals": queryset, "form": form}
            context["title"] = "Обезличивание персональных данных"
            return TemplateResponse(request, "admin/appeals/erase_personal_data.html", context)
        erased = 0
        for appeal in queryset:
            try:
                actions.erase_personal_data(appeal, request.user, reason=form.cleaned_data["reason"])
                erased += 1
            except DomainError as refusal:
                self.message_user(request, f"{appeal.number}: {refusal.message}", messages.ERROR)
        self.message_user(request, f"Обезличено обращений: {erased}")
        return None


class ErasureForm(forms.Form):
    reason = forms.CharField(
        label="Основание", max_length=4000, widget=forms.Textarea, help_text="например, № и дата запроса"
    )


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(admin.ModelAdmin):
    """Who was shown which citizen's contacts: read only, for answering a citizen's or a regulator's
    question."""

    list_display = ["at", "username", "appeal", "interface"]
    list_filter = ["interface"]
    search_fields = ["username", "appeal__number"]
    list_select_related = ["appeal"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ComplaintTicket)
class ComplaintTicketAdmin(admin.ModelAdmin):
    list_display = ["number", "organisation", "filed_at", "due_at", "fulfilled_at"]
    list_filter = ["organisation"]
    search_fields = ["number", "address", "text"]
    autocomplete_fields = ["organisation", "building"]


class AnswerTemplateForm(forms.ModelForm):
    class Meta:
        model = AnswerTemplate
        fields = ["topic", "name", "text", "order", "is_active"]
        help_texts = {
            "text": "Подстановки: {номер}, {дата} (поступления), {организация}, {срок} (решения), {имя} "
            "(имя заявителя видят только те, кому оно доступно, остальным — «заявитель»). Без HTML."
        }

    def clean_text(self):
        text = self.cleaned_data["text"]
        try:
            text = clean_text(text, limit=20000)
        except DomainError as error:
            raise forms.ValidationError(error.message) from error
        unknown = sorted({m.group(1) for m in PLACEHOLDER.finditer(text) if m.group(1).lower() not in KNOWN})
        if unknown:
            raise forms.ValidationError(
                "Неизвестные подстановки: %(names)s.",
                params={"names": ", ".join(f"{{{n}}}" for n in unknown)},
            )
        return text


@admin.register(AnswerTemplate)
class AnswerTemplateAdmin(admin.ModelAdmin):
    form = AnswerTemplateForm
    list_display = ["name", "topic", "order", "is_active"]
    list_filter = ["is_active", "topic__block"]
    search_fields = ["name", "text", "topic__name"]
    autocomplete_fields = ["topic"]
    list_select_related = ["topic"]


@admin.register(ReviewRule)
class ReviewRuleAdmin(admin.ModelAdmin):
    """Where executors' answers wait for a reviewer: a topic, an organisation (with the ones under
    it), both, or neither (every answer)."""

    list_display = ["__str__", "is_active", "note"]
    list_filter = ["is_active", "topic__block"]
    search_fields = ["topic__name", "organisation__name", "note"]
    autocomplete_fields = ["topic", "organisation"]
    list_select_related = ["topic", "organisation"]
