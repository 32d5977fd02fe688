import hashlib
import secrets
from urllib.parse import urlparse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.deconstruct import deconstructible


def validate_http_url(value: str) -> None:
    """An http(s) URL with a host; unlike URLField, bare hosts like `ollama` are fine."""
    parsed = urlparse(value)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise ValidationError("Enter an http:// or https:// address, e.g. http://localhost:11434.")


MEMORY_RULES_MAX_LINES, MEMORY_RULE_MAX_CHARS = 30, 300
MEMORY_BLOCKLIST_MAX_LINES, MEMORY_BLOCKLIST_ENTRY_MAX_CHARS = 500, 200
STREAM_BLOCKLIST_MAX_LINES = 1000


@deconstructible
class LinesValidator:
    """Text holding one item a line: at most `max_lines` non-blank lines, none longer
    than `max_chars` characters; `what` names the items in the error ("rules")."""

    def __init__(self, *, max_lines: int, max_chars: int, what: str) -> None:
        self.max_lines, self.max_chars, self.what = max_lines, max_chars, what

    def __call__(self, value: str) -> None:
        lines = [line.strip() for line in value.splitlines() if line.strip()]
        if len(lines) > self.max_lines:
            raise ValidationError(
                f"At most {self.max_lines} {self.what}, one a line ({len(lines)} given)."
            )
        for number, line in enumerate(lines, start=1):
            if len(line) > self.max_chars:
                raise ValidationError(
                    f"Line {number} of the {self.what} is {len(line)} characters long; "
                    f"at most {self.max_chars}."
                )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LinesValidator) and (
            (self.max_lines, self.max_chars, self.what)
            == (other.max_lines, other.max_chars, other.what)
        )


class AutoApprovalSource(models.TextChoices):
    """Where a suggestion's conversation took place (the values of `chat.Channel`)."""

    WEB = "web", "Web chat"
    DISCORD = "discord", "Discord"
    API = "api", "API chat (POST /api/chat: apps and scripts)"
    OPENAI = "openai", "Other apps (OpenAI-compatible /v1/chat/completions)"
    TWITCH = "twitch", "Twitch chat"


def validate_auto_approval_sources(value: object) -> None:
    """A list of `AutoApprovalSource` values."""
    if not isinstance(value, list) or any(item not in AutoApprovalSource.values for item in value):
        raise ValidationError(
            f"Choose sources among {', '.join(AutoApprovalSource.values)} (a list)."
        )


def default_overlay_surfaces() -> list[str]:
    """The stream's public chats; a web chat is one person's own conversation."""
    return ["twitch", "discord"]


class ProviderName(models.TextChoices):
    BUILTIN = "builtin", "Built-in demo model (SmolLM2-135M)"
    DEEPSEEK = "deepseek", "DeepSeek (or any OpenAI-compatible API)"
    OLLAMA = "ollama", "Ollama"


class RuntimeSettings(models.Model):
    """The one row of settings a user edits while Luma runs.

    Seeded from environment variables the first time it is read
    (`luma.services.runtime_settings_get`); afterwards the database wins, so
    that the settings page and the admin are the place to change them.
    """

    provider = models.CharField(
        max_length=20, choices=ProviderName.choices, default=ProviderName.BUILTIN
    )
    fallback_provider = models.CharField(
        max_length=20,
        choices=ProviderName.choices,
        blank=True,
        help_text="Answer with this provider when the chosen one is down or times out.",
    )
    deepseek_api_key = models.CharField(max_length=500, blank=True)
    deepseek_base_url = models.CharField(
        max_length=500, default="https://api.deepseek.com/v1", validators=[validate_http_url]
    )
    deepseek_model = models.CharField(max_length=200, default="deepseek-chat")
    ollama_endpoint = models.CharField(
        max_length=500, default="http://localhost:11434", validators=[validate_http_url]
    )
    ollama_model = models.CharField(max_length=200, default="llama3.2")
    ollama_embedding_model = models.CharField(max_length=200, default="nomic-embed-text")
    temperature = models.FloatField(
        default=0.7, validators=[MinValueValidator(0.0), MaxValueValidator(2.0)]
    )
    max_tokens = models.PositiveIntegerField(
        default=512, validators=[MinValueValidator(1), MaxValueValidator(32768)]
    )
    memory_context_limit = models.PositiveIntegerField(
        default=8,
        validators=[MaxValueValidator(100)],
        help_text="At most this many memories go into each prompt.",
    )
    memory_suggestion_threshold = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="AI-suggested memories below this importance (1-10) are dropped.",
    )
    memory_suggestions_enabled = models.BooleanField(
        default=False, help_text="Let the model suggest memories for a person to approve."
    )
    memory_rules = models.TextField(
        blank=True,
        validators=[
            LinesValidator(
                max_lines=MEMORY_RULES_MAX_LINES, max_chars=MEMORY_RULE_MAX_CHARS, what="rules"
            )
        ],
        help_text='What is (or is not) worth remembering, one rule a line, e.g. "Never '
        "remember anything about other viewers' real-life location.\" The AI is given "
        "these rules each time it suggests memories.",
    )
    memory_blocklist = models.TextField(
        blank=True,
        validators=[
            LinesValidator(
                max_lines=MEMORY_BLOCKLIST_MAX_LINES,
                max_chars=MEMORY_BLOCKLIST_ENTRY_MAX_CHARS,
                what="blocklist entries",
            )
        ],
        help_text="Words and phrases no suggested memory may contain, one a line (a real "
        "name, a town, a school). A suggestion with one is withheld: never proposed. "
        "Case, accents and full-width forms do not matter; Latin words match whole. It "
        "applies to new suggestions: review the ones already waiting yourself.",
    )
    auto_approve_enabled = models.BooleanField(
        default=False,
        help_text="Approve AI suggestions on arrival when they come from a chosen source and "
        "reach both bars below; they are marked auto-approved and listed for a later look.",
    )
    auto_approve_sources = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_auto_approval_sources],
        help_text="Where the conversation must have taken place: web, discord, api.",
    )
    auto_approve_min_importance = models.PositiveSmallIntegerField(
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="Only suggestions at least this important (1-10).",
    )
    auto_approve_min_confidence = models.FloatField(
        default=0.9,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Only suggestions the model is at least this sure of (0-1); one that "
        "gives no confidence waits for a person.",
    )
    viewer_uploads_enabled = models.BooleanField(
        default=False,
        help_text="Let viewers (accounts that are neither moderators nor the owner) upload "
        "documents; what they upload becomes memories about them only.",
    )
    # On stream (twitchbot, overlay): edited on the settings page's "On stream" section.
    overlay_token = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="The secret in the overlay's URL (OBS cannot log in); rotated by the owner.",
    )
    overlay_surfaces = models.JSONField(
        default=default_overlay_surfaces,
        blank=True,
        validators=[validate_auto_approval_sources],
        help_text="The overlay follows replies from these surfaces (twitch, discord, web, "
        "api). Web chats are private conversations: off unless chosen.",
    )
    overlay_fade_seconds = models.PositiveSmallIntegerField(
        default=15,
        validators=[MinValueValidator(3), MaxValueValidator(600)],
        help_text="Seconds the overlay keeps a finished reply on screen before it fades out.",
    )
    stream_blocklist = models.TextField(
        blank=True,
        validators=[
            LinesValidator(
                max_lines=STREAM_BLOCKLIST_MAX_LINES,
                max_chars=MEMORY_BLOCKLIST_ENTRY_MAX_CHARS,
                what="blocklist entries",
            )
        ],
        help_text="Words, phrases and /patterns/ (regular expressions) that Twitch chat "
        "messages and the persona's replies there may not contain, one a line.",
    )
    twitch_settings_seeded = models.BooleanField(default=False, editable=False)
    twitch_command_prefix = models.CharField(
        max_length=20,
        default="!ask",
        help_text="Viewers ask with this command (e.g. !ask …) or by naming the bot.",
    )
    twitch_viewer_cooldown = models.PositiveIntegerField(
        default=30,
        validators=[MaxValueValidator(86400)],
        help_text="Seconds before the persona answers the same viewer again.",
    )
    twitch_channel_rate = models.PositiveSmallIntegerField(
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="At most this many answers a minute in one Twitch channel.",
    )
    twitch_stale_seconds = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(5), MaxValueValidator(3600)],
        help_text="A question waiting longer than this is skipped (the persona fell behind).",
    )
    twitch_known_bots = models.TextField(
        blank=True,
        default="nightbot, streamelements, moobot, fossabot, streamlabs, wizebot, "
        "soundalerts, sery_bot, botrixoficial, kofistreambot",
        help_text="Accounts never answered (other chat bots), separated by commas.",
    )
    twitch_mods_skip_cooldown = models.BooleanField(
        default=True, help_text="Moderators and the broadcaster are answered without cooldown."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "runtime settings"
        verbose_name_plural = "runtime settings"

    def __str__(self) -> str:
        return "Luma runtime settings"

    @property
    def deepseek_api_key_masked(self) -> str:
        return mask_secret(self.deepseek_api_key)

    def deepseek_api_key_entered(self, value: str | None) -> str | None:
        """`value` as a new key, or None when it is none: absent, or the masked form a
        client showed and sent back (which must never replace the real key)."""
        if value is None or (self.deepseek_api_key and value == self.deepseek_api_key_masked):
            return None
        return value


def mask_secret(secret: str) -> str:
    """Show just enough of a secret to recognise it: `sk-…a1b2`."""
    if not secret:
        return ""
    if len(secret) <= 8:
        return "…" * 3
    return f"{secret[:3]}…{secret[-4:]}"


class ApiToken(models.Model):
    """A bearer token a user creates for scripts and overlays.

    Only a SHA-256 hash is stored; the token itself is shown once, at creation.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @staticmethod
    def generate() -> str:
        return "luma_" + secrets.token_urlsafe(32)
