from django.contrib import admin
from django.http import HttpRequest

from discordbot.models import BotSettings, PostedSuggestion


@admin.register(BotSettings)
class BotSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "moderation_channel_id", "updated_at"]
    fields = ["moderation_channel_id", "moderator_role_ids", "moderator_user_ids"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not BotSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: BotSettings | None = None) -> bool:
        return False


@admin.register(PostedSuggestion)
class PostedSuggestionAdmin(admin.ModelAdmin):
    list_display = ["memory", "channel_id", "posted_at", "reviewed_by_name"]
    readonly_fields = [
        "memory",
        "channel_id",
        "message_id",
        "reviewed_by_discord_id",
        "reviewed_by_name",
        "posted_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
