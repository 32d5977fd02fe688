from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce


class Channel(models.TextChoices):
    WEB = "web", "Web"
    DISCORD = "discord", "Discord"
    API = "api", "API"
    OPENAI = "openai", "Other apps (OpenAI-compatible API)"
    TWITCH = "twitch", "Twitch"


class Role(models.TextChoices):
    USER = "user", "User"
    ASSISTANT = "assistant", "Assistant"


class ReplyStatus(models.TextChoices):
    """How a reply ended. Every status but COMPLETE can be continued."""

    COMPLETE = "complete", "Complete"
    STOPPED = "stopped", "Stopped"  # the person pressed Stop, or their connection dropped
    LENGTH = "length", "Cut off"  # the max-tokens limit ended it mid-answer
    INTERRUPTED = "interrupted", "Interrupted"  # the provider failed mid-reply


class Conversation(models.Model):
    """A thread of messages: one web chat, or one Discord channel or thread."""

    title = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conversations",
        help_text="The web user whose chat this is; empty for a Discord channel.",
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    discord_channel_id = models.CharField(max_length=32, blank=True, db_index=True)
    twitch_channel = models.CharField(
        max_length=64, blank=True, help_text="The Twitch channel (login name) this chat is."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["discord_channel_id"],
                condition=~models.Q(discord_channel_id=""),
                name="one_conversation_per_discord_channel",
            ),
            models.UniqueConstraint(
                fields=["twitch_channel"],
                condition=~models.Q(twitch_channel=""),
                name="one_conversation_per_twitch_channel",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"Conversation {self.pk}"


class MessageQuerySet(models.QuerySet):
    def answer_order(self) -> "MessageQuerySet":
        """Oldest first, each reply right after the newest message it answered
        (`reply_to`), whenever it was stored: the order the conversation reads in."""
        return self.annotate(anchor=Coalesce("reply_to_id", "id")).order_by("anchor", "pk")

    def shown(self) -> "MessageQuerySet":
        """Without the versions of a reply that are not the chosen one (`selected`)."""
        return self.filter(selected=True)


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    content = models.TextField()
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_messages",
    )
    author_discord_id = models.CharField(max_length=32, blank=True)
    author_name = models.CharField(max_length=150, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    provider = models.CharField(max_length=20, blank=True)
    model = models.CharField(max_length=200, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    usage_estimated = models.BooleanField(
        default=False, help_text="The provider reported no usage; the counts are estimates."
    )
    reply_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replies",
        help_text="A reply's newest user message: it answers every unanswered one up to it.",
    )
    status = models.CharField(
        max_length=12, choices=ReplyStatus.choices, default=ReplyStatus.COMPLETE
    )
    reasoning = models.TextField(
        blank=True, help_text="A reasoning model's thinking: shown apart, never sent back."
    )
    reasoning_seconds = models.FloatField(null=True, blank=True)
    memories_used = models.ManyToManyField(
        "memories.Memory",
        blank=True,
        related_name="used_in_messages",
        help_text="The memories that were in the prompt of this reply.",
    )
    selected = models.BooleanField(
        default=True,
        help_text="The chosen version of a reply: the one shown and sent back to the model. "
        "Regenerating a reply keeps the earlier versions (same `reply_to`) unselected.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["conversation", "created_at"])]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:60]}"

    @property
    def total_tokens(self) -> int | None:
        if self.prompt_tokens is None or self.completion_tokens is None:
            return None
        return self.prompt_tokens + self.completion_tokens
