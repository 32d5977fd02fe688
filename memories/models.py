from collections import Counter
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from django.db import models
from django.db.models import Count, Q, Sum
from django.utils import timezone
from pgvector.django import VectorField
from simple_history.models import HistoricalRecords

from memories.changes import (
    Surface,
    change_actor,
    change_surface,
    change_user,
    deletions_recorded,
)
from memories.subjects import account_label


class MemorySource(models.TextChoices):
    MANUAL = "manual", "Added by a person"
    AI_SUGGESTED = "ai_suggested", "Suggested by the AI"
    DOCUMENT = "document", "From a document"
    CARD = "card", "From the persona's character card (its lorebook)"


class MemoryStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


# Importance runs from 1 to 10:
#   1-3  trivia (a passing remark, a one-off joke)
#   4-6  useful context (a viewer's favourite game, a running gag)
#   7-8  important (names, relationships, schedule, sponsor rules)
#   9-10 core identity (who the persona is, hard boundaries)
IMPORTANCE_MIN, IMPORTANCE_DEFAULT, IMPORTANCE_MAX = 1, 5, 10


class MemoryHistory(HistoricalRecords):
    """django-simple-history's records, except for deletions recorded in bulk
    (`memories.services.memories_delete`)."""

    def post_delete(self, instance: Any, using: Any = None, **kwargs: Any) -> None:
        if not deletions_recorded():
            super().post_delete(instance, using=using, **kwargs)


class MemoryChange(models.Model):
    """What a memory's history records besides the memory's fields: the surface the
    change came through, and who made it when that is no web account."""

    surface = models.CharField(
        max_length=20, choices=Surface.choices, default=change_surface, db_index=True
    )
    actor = models.CharField(
        max_length=150,
        blank=True,
        default=change_actor,
        help_text="Who made the change when no web account did (a Discord member).",
    )

    class Meta:
        abstract = True


class Memory(models.Model):
    """One fact the persona may remember.

    Only approved memories are ever put into a prompt. AI suggestions start
    pending; a rejected one is kept (not deleted), and an AI suggestion keeps the
    words it was suggested in however a person edits it, so that a decided fact is
    not proposed again in its original wording (`memories.dedupe`). A memory is about
    everyone (no subject), one web user, or one Discord user. A fact that changed is
    superseded, not overwritten: the old memory keeps its text with `valid_until`, the
    new one links to it (`supersedes`).
    """

    content = models.TextField(validators=[ProhibitNullCharactersValidator()])
    suggested_content = models.TextField(
        blank=True,
        validators=[ProhibitNullCharactersValidator()],
        help_text="The AI's wording this memory's text was reviewed from (empty when a "
        "person wrote it).",
    )
    source = models.CharField(
        max_length=20, choices=MemorySource.choices, default=MemorySource.MANUAL
    )
    status = models.CharField(
        max_length=20, choices=MemoryStatus.choices, default=MemoryStatus.APPROVED, db_index=True
    )
    importance = models.PositiveSmallIntegerField(
        default=IMPORTANCE_DEFAULT,
        validators=[MinValueValidator(IMPORTANCE_MIN), MaxValueValidator(IMPORTANCE_MAX)],
        help_text="1-3 trivia, 4-6 useful context, 7-8 important, 9-10 core identity.",
    )
    tags = models.JSONField(default=list, blank=True)
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memories_about",
        help_text="The web user this memory is about; empty with no Discord id means global.",
    )
    subject_discord_id = models.CharField(
        max_length=32,
        blank=True,
        help_text="The Discord user id (digits) or Twitch user (twitch:<id>) it is about.",
    )
    subject_name = models.CharField(
        max_length=150, blank=True, help_text="How the subject is called, for display."
    )
    updates = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="proposed_updates",
        help_text="For a suggestion that revises an existing memory: that memory.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="memories_created",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="memories_reviewed",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    confidence = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="How sure the model was of an AI suggestion, 0 to 1; empty when it did "
        "not say (such a suggestion is never approved automatically).",
    )
    auto_approved_at = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="When auto-approval approved this suggestion on arrival (no person "
        "decided it yet); empty otherwise.",
    )
    supersedes = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="superseded_by",
        help_text="The older fact this one replaced (which keeps its text, with valid_until).",
    )
    valid_until = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="When a newer fact superseded this one; empty while it is current. Past "
        "facts reach a prompt only when someone asks about the past.",
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    use_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Every save and delete writes a version (`HistoricalMemory`): who, when, through
    # which surface (`memories.changes`) and what changed. Being used is no change.
    history = MemoryHistory(
        bases=[MemoryChange],
        excluded_fields=["use_count", "last_used_at"],
        get_user=change_user,
        verbose_name="memory version",
        verbose_name_plural="memory versions",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "memories"
        constraints = [
            models.CheckConstraint(
                condition=Q(subject_user__isnull=True) | Q(subject_discord_id=""),
                name="memory_has_at_most_one_subject",
            ),
            models.CheckConstraint(
                condition=Q(importance__gte=IMPORTANCE_MIN) & Q(importance__lte=IMPORTANCE_MAX),
                name="memory_importance_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "subject_user", "subject_discord_id"]),
            # The most important approved memories first, without sorting them all.
            models.Index(
                fields=["status", "-importance", "-updated_at"], name="memory_by_importance"
            ),
        ]

    def __str__(self) -> str:
        return self.content[:80]

    @property
    def approved(self) -> bool:
        return self.status == MemoryStatus.APPROVED

    @property
    def auto_approved(self) -> bool:
        return self.auto_approved_at is not None

    @property
    def is_current(self) -> bool:
        return self.valid_until is None

    @property
    def prompt_text(self) -> str:
        """The memory as a prompt line: a past fact says until when it was true."""
        if self.valid_until is None:
            return self.content
        return f"{self.content} (no longer true since {self.valid_until:%Y-%m-%d})"

    @property
    def is_global(self) -> bool:
        return self.subject_user_id is None and not self.subject_discord_id

    @property
    def subject_label(self) -> str:
        if self.is_global:
            return "everyone"
        if self.subject_name:
            return self.subject_name
        if self.subject_user_id:
            return str(self.subject_user)
        return account_label(self.subject_discord_id)


class SuggestionRunQuerySet(models.QuerySet):
    def since(self, *, days: int) -> "SuggestionRunQuerySet":
        return self.filter(created_at__gte=timezone.now() - timedelta(days=days))

    def totals(self) -> dict[str, Any]:
        """{"runs", "kept", "dropped", "decided", "skipped", "withheld"}, summed over these
        runs, and "withheld_categories": how many facts were withheld for each category
        of `memories.privacy.CATEGORY_LABELS`, most first (equal counts by name: the
        same order on every database, whatever order a JSON column keeps keys in)."""
        counted = ("kept", "dropped", "decided", "skipped", "withheld")
        sums = self.aggregate(runs=Count("pk"), **{name: Sum(name) for name in counted})
        totals: dict[str, Any] = {name: value or 0 for name, value in sums.items()}
        categories: Counter[str] = Counter()
        for row in self.filter(withheld__gt=0).values_list("withheld_categories", flat=True):
            categories.update({str(name): int(count) for name, count in (row or {}).items()})
        ranked = sorted(categories.items(), key=lambda item: (-item[1], item[0]))
        totals["withheld_categories"] = dict(ranked)
        return totals


class SuggestionRun(models.Model):
    """What became of one request for AI suggestions: what was kept, skipped, or
    could not be understood, so the streamer sees what a model's answers lose.

    Written by `chat.suggestions` (through `suggestion_run_record`); kept 30 days.
    """

    reply_message_id = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="The chat reply the facts were asked from (chat.Message; no foreign "
        "key, as memories sits below chat).",
    )
    kept = models.PositiveIntegerField(default=0, help_text="Stored as pending suggestions.")
    dropped = models.PositiveIntegerField(
        default=0, help_text="Parts of the answer that could not be understood."
    )
    decided = models.PositiveIntegerField(
        default=0,
        help_text="Facts a person already rejected, or approved in other words; not "
        "proposed again.",
    )
    skipped = models.PositiveIntegerField(
        default=0, help_text="Below the importance threshold, or already known or pending."
    )
    withheld = models.PositiveIntegerField(
        default=0,
        help_text="Facts never proposed because they hold a secret, personal data (a "
        "password, an email address, a phone number, …) or a word of the blocklist.",
    )
    withheld_categories = models.JSONField(
        default=dict,
        blank=True,
        help_text='How many facts were withheld for each category, e.g. {"phone": 1}; '
        "the facts themselves are never kept.",
    )
    problems = models.JSONField(
        default=list, blank=True, help_text="Why each dropped part was dropped."
    )
    answer = models.TextField(
        blank=True,
        help_text="The model's answer (its beginning) when a part of it was dropped.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = SuggestionRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "AI suggestion run"

    def __str__(self) -> str:
        return f"suggestions for message {self.reply_message_id}: {self.kept} kept"


class MemoryEmbedding(models.Model):
    """A memory's embedding vector (float32 bytes), from one embedding model.

    Kept in a table of its own so a memory is searchable (lexically) before its
    vector is computed, and so vectors from another model are recognised as such.
    """

    memory = models.OneToOneField(
        Memory, on_delete=models.CASCADE, primary_key=True, related_name="embedding"
    )
    model = models.CharField(max_length=200)
    vector = models.BinaryField()
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    def __str__(self) -> str:
        return f"embedding of memory {self.memory_id} ({self.model})"


class FtsMatch(models.Lookup):
    """`column MATCH query`: FTS5's full-text match."""

    lookup_name = "fts_match"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} MATCH {rhs}", [*lhs_params, *rhs_params]


class FtsDocumentField(models.TextField):
    """FTS5's hidden column named after its table, which `MATCH` searches."""


FtsDocumentField.register_lookup(FtsMatch)


class MemorySearchEntry(models.Model):
    """A row of the SQLite FTS5 index over memories (rowid = memory id).

    Unmanaged: the virtual table is created by a migration on SQLite only, and
    written by `memories.search_index`. On PostgreSQL an expression GIN index on
    the memory table takes its place.
    """

    memory = models.OneToOneField(
        Memory,
        on_delete=models.DO_NOTHING,
        primary_key=True,
        db_column="rowid",
        db_constraint=False,
        related_name="search_entry",
    )
    content = models.TextField()
    tags = models.TextField()
    # The FTS5 hidden column named after the table: `table MATCH 'query'`.
    document = FtsDocumentField(db_column="memories_memory_fts")

    class Meta:
        managed = False
        db_table = "memories_memory_fts"

    def __str__(self) -> str:
        return self.content[:80]


class MemoryVector(models.Model):
    """A memory's embedding as a pgvector `vector`, which PostgreSQL searches (HNSW).

    The same rows as `MemoryEmbedding`, seen through the `embedding` column that
    migration 0008 adds to its table on PostgreSQL with the `vector` extension only
    (see `memories.pg_vectors`); hence unmanaged. Written with the row's bytes, so it
    shares their model and stamp, and goes when the row goes.
    """

    memory = models.OneToOneField(
        Memory,
        on_delete=models.DO_NOTHING,
        primary_key=True,
        db_constraint=False,
        related_name="+",
    )
    model = models.CharField(max_length=200)
    # Dimensionless: each embedding model keeps its own size (HNSW indexes per size).
    embedding = VectorField(null=True)
    updated_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "memories_memoryembedding"

    def __str__(self) -> str:
        return f"vector of memory {self.memory_id} ({self.model})"
