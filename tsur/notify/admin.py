from django.contrib import admin

from .models import Delivery, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "address", "min_severity", "is_active"]
    list_filter = ["channel", "is_active", "min_severity"]
    search_fields = ["name", "address"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "subscription", "topic", "subject", "state", "attempts", "sent_at"]
    list_filter = ["state", "topic", "subscription__channel"]
    search_fields = ["subject", "subscription__name"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["retry_now"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Повторить отправку сейчас")
    def retry_now(self, request, queryset):
        from django.utils import timezone

        from .models import DeliveryState

        count = queryset.exclude(state=DeliveryState.SENT).update(
            state=DeliveryState.RETRYING, next_attempt_at=timezone.now()
        )
        self.message_user(request, f"Поставлено в очередь: {count}")
