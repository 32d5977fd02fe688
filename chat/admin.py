from django.contrib import admin

from chat.models import Conversation, Message


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = [
        "role",
        "author_name",
        "content",
        "provider",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "created_at",
    ]
    readonly_fields = fields
    can_delete = False
    show_change_link = True


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "owner", "channel", "discord_channel_id", "updated_at"]
    list_filter = ["channel"]
    search_fields = ["title", "owner__username", "discord_channel_id", "messages__content"]
    inlines = [MessageInline]
    date_hierarchy = "updated_at"


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "conversation",
        "role",
        "channel",
        "provider",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "usage_estimated",
        "created_at",
    ]
    list_filter = ["role", "channel", "provider", "usage_estimated"]
    search_fields = ["content", "author_name", "author_discord_id"]
    raw_id_fields = ["conversation", "author_user", "memories_used"]
    date_hierarchy = "created_at"
