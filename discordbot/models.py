from django.core.validators import RegexValidator
from django.db import models

from memories.models import Memory

discord_ids_validator = RegexValidator(
    r"^\s*(\d+\s*(,\s*\d+\s*)*)?$", "Enter Discord ids (numbers) separated by commas."
)


def parse_discord_ids(raw: str) -> frozenset[int]:
    return frozenset(int(part) for part in raw.split(",") if part.strip().isdigit())


class BotSettings(models.Model):
    """The one row of Discord bot settings, edited in the admin.

    Seeded from `DISCORD_MODERATION_CHANNEL_ID`, `DISCORD_MODERATOR_ROLE_IDS` and
    `DISCORD_MODERATOR_USER_IDS` the first time the bot reads it.
    """

    moderation_channel_id = models.CharField(
        max_length=32,
        blank=True,
        validators=[RegexValidator(r"^\d*$", "Enter a Discord channel id (a number).")],
        help_text="The channel where memory suggestions are posted for review; empty: not posted.",
    )
    moderator_role_ids = models.CharField(
        max_length=1000,
        blank=True,
        validators=[discord_ids_validator],
        help_text="Discord role ids (comma separated) whose members are moderators.",
    )
    moderator_user_ids = models.CharField(
        max_length=1000,
        blank=True,
        validators=[discord_ids_validator],
        help_text="Discord user ids (comma separated) who are moderators.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Discord bot settings"
        verbose_name_plural = "Discord bot settings"

    def __str__(self) -> str:
        return "Discord bot settings"

    def is_moderator(self, *, user_id: int, role_ids: frozenset[int] | set[int]) -> bool:
        """Moderators review suggestions and add memories about everyone."""
        if user_id in parse_discord_ids(self.moderator_user_ids):
            return True
        return bool(parse_discord_ids(self.moderator_role_ids) & set(role_ids))


class PostedSuggestion(models.Model):
    """A memory suggestion the bot has posted to the moderation channel (posted once)."""

    memory = models.OneToOneField(Memory, on_delete=models.CASCADE, related_name="discord_post")
    channel_id = models.CharField(max_length=32)
    message_id = models.CharField(max_length=32)
    reviewed_by_discord_id = models.CharField(max_length=32, blank=True)
    reviewed_by_name = models.CharField(max_length=150, blank=True)
    posted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-posted_at"]

    def __str__(self) -> str:
        return f"Suggestion {self.memory_id} in channel {self.channel_id}"
