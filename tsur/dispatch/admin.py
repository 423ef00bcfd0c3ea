from django.contrib import admin, messages

from .models import (
    Alarm,
    AlarmEvent,
    AlarmRule,
    Device,
    EngineeringObject,
    Metric,
    Outage,
    OutageAppeal,
    OutageEvent,
    Rejection,
)


class DeviceInline(admin.TabularInline):
    model = Device
    extra = 0
    fields = ["code", "is_active", "last_seen_at"]
    readonly_fields = ["code", "last_seen_at"]
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # devices get their token on the device screen


@admin.register(EngineeringObject)
class EngineeringObjectAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "owner", "territory", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code", "address"]
    autocomplete_fields = ["serves"]
    inlines = [DeviceInline]


@admin.register(Metric)
class MetricAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "unit", "min_value", "max_value"]
    search_fields = ["code", "name"]


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["code", "object", "is_active", "last_seen_at"]
    list_filter = ["is_active", "object__kind"]
    search_fields = ["code", "object__name"]
    fields = ["code", "object", "is_active", "last_seen_at"]
    readonly_fields = ["last_seen_at"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        device, token = Device.issue(obj.code, obj.object)
        obj.pk, obj.token_hash, obj.is_active = device.pk, device.token_hash, obj.is_active
        obj._state.adding = False
        Device.objects.filter(pk=device.pk).update(is_active=obj.is_active)
        messages.warning(
            request,
            f"Токен контроллера «{device.code}»: {token} — сохраните его сейчас, больше он показан не будет.",
        )


@admin.register(Rejection)
class RejectionAdmin(admin.ModelAdmin):
    list_display = ["hour", "reason", "device_code", "count"]
    list_filter = ["reason"]
    search_fields = ["device_code"]
    date_hierarchy = "hour"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AlarmRule)
class AlarmRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "metric",
        "condition",
        "threshold",
        "hold_seconds",
        "severity",
        "object_kind",
        "object",
    ]
    list_filter = ["severity", "condition", "object_kind", "is_active"]
    search_fields = ["name", "metric__code", "object__name"]


class AlarmEventInline(admin.TabularInline):
    model = AlarmEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "actor", "value", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Alarm)
class AlarmAdmin(admin.ModelAdmin):
    list_display = ["rule", "object", "severity", "state", "value", "raised_at", "last_seen_at", "repeats"]
    list_filter = ["state", "severity", "object__kind"]
    search_fields = ["object__name", "rule__name"]
    readonly_fields = [f.name for f in Alarm._meta.fields]
    inlines = [AlarmEventInline]

    def has_add_permission(self, request):
        return False


class OutageAppealInline(admin.TabularInline):
    model = OutageAppeal
    extra = 0
    fields = ["appeal", "linked_at", "automatic"]
    readonly_fields = ["appeal", "linked_at", "automatic"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # linked by the platform or from the dispatcher's screen


class OutageEventInline(admin.TabularInline):
    model = OutageEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "actor", "appeal", "note", "data"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Outage)
class OutageAdmin(admin.ModelAdmin):
    """Read-only here: outages open from alarms and end on the dispatcher's screen, which answers
    the linked appeals; editing them here would skip that."""

    list_display = ["object", "state", "started_at", "expected_end_at", "ended_at"]
    list_filter = ["state", "object__kind"]
    search_fields = ["object__name", "object__code"]
    readonly_fields = [f.name for f in Outage._meta.fields] + ["buildings", "topics"]
    inlines = [OutageEventInline, OutageAppealInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
