from django.contrib import admin

from .models import Appeal, AppealEvent, ComplaintTicket, RoutingRule, ThematicBlock, Topic, TopicQuestion


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


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "place_kind", "priority", "is_active"]
    list_filter = ["is_active", "place_kind", "to_management_company"]
    search_fields = ["topic__name", "organisation__name", "territory__name", "note"]
    autocomplete_fields = ["topic", "block", "territory", "building", "organisation"]


class AppealEventInline(admin.TabularInline):
    model = AppealEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "actor", "status_from", "status_to", "organisation", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


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
