from typing import Any

from django import forms

from luma.endpoints import base_url_normalise, ollama_endpoint_normalise
from luma.models import AutoApprovalSource, RuntimeSettings


class EndpointFieldsMixin:
    """Addresses saved in the form their client wants, or refused next to their field
    with the form expected (the settings page and the admin)."""

    cleaned_data: dict[str, Any]

    def clean_deepseek_base_url(self) -> str:
        return base_url_normalise(self.cleaned_data["deepseek_base_url"])

    def clean_ollama_endpoint(self) -> str:
        return ollama_endpoint_normalise(self.cleaned_data["ollama_endpoint"])


class RuntimeSettingsForm(EndpointFieldsMixin, forms.ModelForm):
    """The settings page. The DeepSeek key is write-only: blank keeps the stored one."""

    deepseek_api_key = forms.CharField(
        required=False,
        max_length=500,
        strip=True,
        label="DeepSeek API key",
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "off", "placeholder": "unchanged"}
        ),
        help_text="Leave empty to keep the stored key.",
    )
    clear_deepseek_api_key = forms.BooleanField(required=False, label="Remove the stored key")
    auto_approve_sources = forms.MultipleChoiceField(
        required=False,
        choices=AutoApprovalSource.choices,
        widget=forms.CheckboxSelectMultiple,
        label="From conversations in",
        help_text=RuntimeSettings._meta.get_field("auto_approve_sources").help_text,
    )

    class Meta:
        model = RuntimeSettings
        fields = [
            "provider",
            "fallback_provider",
            "deepseek_base_url",
            "deepseek_model",
            "ollama_endpoint",
            "ollama_model",
            "ollama_embedding_model",
            "temperature",
            "max_tokens",
            "memory_context_limit",
            "memory_suggestion_threshold",
            "memory_suggestions_enabled",
            "memory_rules",
            "memory_blocklist",
            "viewer_uploads_enabled",
            "auto_approve_enabled",
            "auto_approve_sources",
            "auto_approve_min_importance",
            "auto_approve_min_confidence",
        ]
        labels = {
            "auto_approve_enabled": "Approve some suggestions automatically",
            "auto_approve_min_importance": "Importance at least",
            "auto_approve_min_confidence": "Model's confidence at least",
            "deepseek_base_url": "Base URL",
            "deepseek_model": "Model",
            "ollama_endpoint": "Endpoint",
            "ollama_model": "Model",
            "ollama_embedding_model": "Embedding model",
            "max_tokens": "Max tokens per reply",
            "memory_suggestions_enabled": "Let the AI suggest memories",
            "memory_rules": "What is worth remembering",
            "memory_blocklist": "Never remember (blocklist)",
            "viewer_uploads_enabled": "Let viewers upload documents",
            "fallback_provider": "When it is down or times out, answer with",
        }
        widgets = {
            "provider": forms.RadioSelect,
            "ollama_model": forms.Select(choices=[]),
            "memory_rules": forms.Textarea(
                attrs={
                    "rows": 4,
                    "placeholder": "Never remember anything about other viewers' "
                    "real-life location.",
                }
            ),
            "memory_blocklist": forms.Textarea(
                attrs={"rows": 4, "placeholder": "one word or phrase a line", "spellcheck": "false"}
            ),
            "temperature": forms.NumberInput(attrs={"step": "0.05", "min": "0", "max": "2"}),
            "auto_approve_min_confidence": forms.NumberInput(
                attrs={"step": "0.05", "min": "0", "max": "1"}
            ),
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # The dropdown is filled live from the server's models; keep the current one listed.
        current = self["ollama_model"].value() or ""
        self.fields["ollama_model"].widget.choices = [(current, current)] if current else []
        # Left out, the bars keep their values (None changes nothing in `changes`).
        for name in ("auto_approve_min_importance", "auto_approve_min_confidence"):
            self.fields[name].required = False

    def changes(self) -> dict[str, object]:
        """What to pass to `runtime_settings_update`: a key of None leaves the stored one."""
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        if self.cleaned_data["clear_deepseek_api_key"]:
            data["deepseek_api_key"] = ""
        else:
            data["deepseek_api_key"] = self.cleaned_data["deepseek_api_key"] or None
        return data
