from django.contrib import admin
from django.http import HttpRequest

from persona.models import Persona


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    """The one persona (the settings page also uploads its avatar and imports cards)."""

    fields = [
        "name",
        "description",
        "personality",
        "scenario",
        "greeting",
        "example_dialogue",
        "system_prompt",
        "post_history_instructions",
        "card_imported_at",
    ]
    readonly_fields = ["card_imported_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one row, made on first read

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
