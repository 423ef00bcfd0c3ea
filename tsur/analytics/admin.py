from django.contrib import admin

from .models import Signal


@admin.register(Signal)
class SignalAdmin(admin.ModelAdmin):
    """The detector's signals, as it raised them: read only."""

    list_display = [
        "window_end",
        "topic",
        "territory",
        "observed",
        "expected",
        "p_value",
        "outage",
        "notified",
    ]
    list_filter = ["territory"]
    date_hierarchy = "window_end"
    raw_id_fields = ["appeals", "outage"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
