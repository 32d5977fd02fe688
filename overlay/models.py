from django.db import models


class BlockedDirection(models.TextChoices):
    VIEWER = "viewer", "A viewer's message"
    REPLY = "reply", "A reply of the persona"


class BlockedMessage(models.Model):
    """A message the stream's moderation filter stopped: listed for the owner."""

    direction = models.CharField(max_length=10, choices=BlockedDirection.choices)
    surface = models.CharField(max_length=10, default="twitch")
    channel = models.CharField(max_length=64, blank=True, help_text="The Twitch channel.")
    author_name = models.CharField(max_length=150, blank=True)
    author_id = models.CharField(max_length=32, blank=True)
    text = models.TextField(help_text="What was blocked (at most 1,000 characters).")
    entry = models.CharField(max_length=200, help_text="The blocklist entry that matched.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} blocked by {self.entry!r}"
