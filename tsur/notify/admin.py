from django.contrib import admin
from django.db.models import Q
from django.utils import timezone

from .choices import ChannelKind, DeliveryState
from .models import Delivery, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "address", "min_severity", "is_active"]
    list_filter = ["channel", "is_active", "min_severity"]
    search_fields = ["name", "address"]


class ChannelFilter(admin.SimpleListFilter):
    """By the channel a delivery goes through, its own or its subscription's."""

    title = "канал"
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return ChannelKind.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(
                Q(channel=self.value()) | Q(channel="", subscription__channel=self.value())
            )
        return queryset


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Failed deliveries are found by the state filter («не доставлено»), with the last error."""

    list_display = [
        "created_at",
        "recipient",
        "topic",
        "subject",
        "state",
        "attempts",
        "last_error",
        "sent_at",
    ]
    list_filter = ["state", "topic", ChannelFilter]
    list_select_related = ["subscription"]
    search_fields = ["subject", "address", "subscription__name"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["retry_now"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="получатель")
    def recipient(self, delivery):
        return delivery.recipient()

    @admin.action(description="Повторить отправку сейчас")
    def retry_now(self, request, queryset):
        count = queryset.exclude(state=DeliveryState.SENT).update(
            state=DeliveryState.RETRYING, next_attempt_at=timezone.now()
        )
        self.message_user(request, f"Поставлено в очередь: {count}")
