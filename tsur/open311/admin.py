from django.contrib import admin, messages

from .models import ApiClient


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "channel_name", "key_prefix", "rate_per_minute", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "channel_name", "key_prefix"]
    fields = ["name", "channel_name", "rate_per_minute", "is_active", "key_prefix", "created_at"]
    readonly_fields = ["key_prefix", "created_at"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        client, key = ApiClient.issue(obj.name, obj.channel_name, obj.rate_per_minute)
        obj.pk, obj.key_prefix, obj.key_hash, obj.user = (
            client.pk,
            client.key_prefix,
            client.key_hash,
            client.user,
        )
        obj._state.adding = False
        messages.warning(
            request,
            f"Ключ API для «{client.name}»: {key} — сохраните его сейчас, больше он показан не будет.",
        )
