from django import forms
from django.contrib import admin
from django.http import HttpRequest

from luma.forms import EndpointFieldsMixin
from luma.models import ApiToken, AutoApprovalSource, RuntimeSettings
from luma.services import InvalidSettings, runtime_settings_key_check

# Auto-approval's bars keep their values when a form leaves them out.
KEPT_WHEN_LEFT_OUT = ("auto_approve_min_importance", "auto_approve_min_confidence")


class RuntimeSettingsForm(EndpointFieldsMixin, forms.ModelForm):
    """The API key is write-only: the field starts empty and empty keeps the stored key."""

    deepseek_api_key = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Leave empty to keep the current key. Tick 'clear' to remove it.",
    )
    clear_deepseek_api_key = forms.BooleanField(required=False, label="Clear the DeepSeek key")
    auto_approve_sources = forms.MultipleChoiceField(
        required=False, choices=AutoApprovalSource.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = RuntimeSettings
        exclude: list[str] = []

    def clean_deepseek_api_key(self) -> str:
        entered = self.instance.deepseek_api_key_entered(self.cleaned_data.get("deepseek_api_key"))
        if self.data.get("clear_deepseek_api_key"):
            return ""
        return entered or (self.instance.deepseek_api_key if self.instance.pk else "")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for name in KEPT_WHEN_LEFT_OUT:
            self.fields[name].required = False

    def clean(self) -> dict:
        cleaned = super().clean()
        for name in KEPT_WHEN_LEFT_OUT:
            if cleaned.get(name) is None:
                cleaned[name] = getattr(self.instance, name)
        typed = self.instance.deepseek_api_key_entered(self.data.get("deepseek_api_key") or None)
        changes = {
            "deepseek_base_url": cleaned.get("deepseek_base_url"),
            "deepseek_api_key": "" if self.data.get("clear_deepseek_api_key") else typed,
        }
        try:
            runtime_settings_key_check(row=self.instance, changes=changes)
        except InvalidSettings as error:
            for field, problems in error.errors.items():
                self.add_error(field, problems)
        return cleaned


@admin.register(RuntimeSettings)
class RuntimeSettingsAdmin(admin.ModelAdmin):
    form = RuntimeSettingsForm
    list_display = ["__str__", "provider", "key_on_file", "updated_at"]
    readonly_fields = ["current_key"]
    fieldsets = [
        (
            "Provider",
            {"fields": ["provider", "fallback_provider", "temperature", "max_tokens"]},
        ),
        (
            "DeepSeek",
            {
                "fields": [
                    "deepseek_base_url",
                    "deepseek_model",
                    "current_key",
                    "deepseek_api_key",
                    "clear_deepseek_api_key",
                ]
            },
        ),
        ("Ollama", {"fields": ["ollama_endpoint", "ollama_model", "ollama_embedding_model"]}),
        (
            "Memory",
            {
                "fields": [
                    "memory_context_limit",
                    "memory_suggestion_threshold",
                    "memory_suggestions_enabled",
                    "memory_rules",
                    "memory_blocklist",
                ]
            },
        ),
        (
            "Auto-approval",
            {
                "fields": [
                    "auto_approve_enabled",
                    "auto_approve_sources",
                    "auto_approve_min_importance",
                    "auto_approve_min_confidence",
                ]
            },
        ),
        ("Roles", {"fields": ["viewer_uploads_enabled"]}),
    ]

    @admin.display(description="Current DeepSeek key")
    def current_key(self, row: RuntimeSettings) -> str:
        return row.deepseek_api_key_masked or "(none)"

    @admin.display(boolean=True, description="API key set")
    def key_on_file(self, row: RuntimeSettings) -> bool:
        return bool(row.deepseek_api_key)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not RuntimeSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at"]
    list_filter = ["user"]
    search_fields = ["name", "user__username"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Tokens are created where the plain token can be shown once: the API or
        # `manage.py create_api_token`.
        return False
