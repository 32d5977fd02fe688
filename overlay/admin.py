from django.contrib import admin
from django.http import HttpRequest

from overlay.models import BlockedMessage


@admin.register(BlockedMessage)
class BlockedMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "direction", "channel", "author_name", "entry"]
    list_filter = ["direction", "surface"]
    search_fields = ["text", "author_name", "entry"]
    readonly_fields = [
        "direction", "surface", "channel", "author_name", "author_id", "text", "entry",
        "created_at",
    ]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
