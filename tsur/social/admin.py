from django.contrib import admin

from .models import Post, Reply, Source, WatchList


class SourceInline(admin.TabularInline):
    model = Source
    extra = 0
    fields = ("network", "name", "account", "communities", "search", "base_url", "token_env", "is_active")


@admin.register(WatchList)
class WatchListAdmin(admin.ModelAdmin):
    list_display = ("name", "region", "is_active")
    filter_horizontal = ("territories",)
    inlines = [SourceInline]


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    """The sources with their state: a failing one shows its last error and how long it rests."""

    list_display = (
        "name",
        "network",
        "is_active",
        "last_polled_at",
        "failures",
        "backoff_until",
        "last_error",
    )
    list_filter = ("network", "is_active")
    readonly_fields = ("cursor", "failures", "backoff_until", "last_error", "last_polled_at")


@admin.register(Reply)
class ReplyAdmin(admin.ModelAdmin):
    list_display = ("post", "incident", "state", "attempts", "next_attempt_at", "posted_at", "error")
    list_filter = ("state",)
    raw_id_fields = ("post", "incident", "answer")


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    """Posts without their authors in the list: the author is personal data, shown on the page only."""

    list_display = (
        "external_id",
        "network",
        "kind",
        "label",
        "labelled_by",
        "confidence",
        "incident",
        "elsewhere",
        "posted_at",
    )
    list_filter = ("network", "label", "labelled_by", ("elsewhere", admin.EmptyFieldListFilter))
    search_fields = ("external_id", "text")
    raw_id_fields = ("source", "parent", "duplicate_of", "incident", "moderated_by", "elsewhere")
