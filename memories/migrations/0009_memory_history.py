"""Memory history (django-simple-history's HistoricalMemory, with the surface and the
actor of each change) and facts that change (`supersedes`, `valid_until`).

Every memory that exists gets a first version, so that what it said before its next
change can be restored.
"""

import django.core.validators
import django.db.models.deletion
import memories.changes
import simple_history.models
from django.conf import settings
from django.db import migrations, models


def _first_versions(apps, schema_editor):
    Memory = apps.get_model("memories", "Memory")
    HistoricalMemory = apps.get_model("memories", "HistoricalMemory")
    tracked = [
        field.attname
        for field in HistoricalMemory._meta.concrete_fields
        if not field.name.startswith("history_") and field.name not in ("surface", "actor")
    ]
    batch = []
    for memory in Memory.objects.order_by("pk").iterator(chunk_size=2000):
        batch.append(
            HistoricalMemory(
                **{name: getattr(memory, name) for name in tracked},
                surface="system",
                actor="",
                history_date=memory.updated_at,
                history_type="+",
                history_change_reason="kept before history began",
            )
        )
        if len(batch) == 2000:
            HistoricalMemory.objects.bulk_create(batch)
            batch = []
    HistoricalMemory.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("memories", "0008_memory_vectors"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="memory",
            name="supersedes",
            field=models.ForeignKey(
                blank=True,
                help_text="The older fact this one replaced (which keeps its text, with valid_until).",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="superseded_by",
                to="memories.memory",
            ),
        ),
        migrations.AddField(
            model_name="memory",
            name="valid_until",
            field=models.DateTimeField(
                blank=True,
                db_index=True,
                help_text="When a newer fact superseded this one; empty while it is current. Past facts reach a prompt only when someone asks about the past.",
                null=True,
            ),
        ),
        migrations.CreateModel(
            name="HistoricalMemory",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                (
                    "surface",
                    models.CharField(
                        choices=[
                            ("web", "Web page"),
                            ("api", "API"),
                            ("admin", "Admin"),
                            ("discord", "Discord"),
                            ("import", "Import"),
                            ("ai", "AI suggestion"),
                            ("system", "Luma itself"),
                        ],
                        db_index=True,
                        default=memories.changes.change_surface,
                        max_length=20,
                    ),
                ),
                (
                    "actor",
                    models.CharField(
                        blank=True,
                        default=memories.changes.change_actor,
                        help_text="Who made the change when no web account did (a Discord member).",
                        max_length=150,
                    ),
                ),
                (
                    "content",
                    models.TextField(
                        validators=[django.core.validators.ProhibitNullCharactersValidator()]
                    ),
                ),
                (
                    "suggested_content",
                    models.TextField(
                        blank=True,
                        help_text="The AI's wording this memory's text was reviewed from (empty when a person wrote it).",
                        validators=[django.core.validators.ProhibitNullCharactersValidator()],
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("manual", "Added by a person"),
                            ("ai_suggested", "Suggested by the AI"),
                            ("document", "From a document"),
                        ],
                        default="manual",
                        max_length=20,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting for approval"),
                            ("approved", "Approved"),
                            ("rejected", "Rejected"),
                        ],
                        db_index=True,
                        default="approved",
                        max_length=20,
                    ),
                ),
                (
                    "importance",
                    models.PositiveSmallIntegerField(
                        default=5,
                        help_text="1-3 trivia, 4-6 useful context, 7-8 important, 9-10 core identity.",
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(10),
                        ],
                    ),
                ),
                ("tags", models.JSONField(blank=True, default=list)),
                (
                    "subject_discord_id",
                    models.CharField(
                        blank=True,
                        help_text="The Discord user id this memory is about.",
                        max_length=32,
                    ),
                ),
                (
                    "subject_name",
                    models.CharField(
                        blank=True,
                        help_text="How the subject is called, for display.",
                        max_length=150,
                    ),
                ),
                ("reviewed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "valid_until",
                    models.DateTimeField(
                        blank=True,
                        db_index=True,
                        help_text="When a newer fact superseded this one; empty while it is current. Past facts reach a prompt only when someone asks about the past.",
                        null=True,
                    ),
                ),
                ("created_at", models.DateTimeField(blank=True, db_index=True, editable=False)),
                ("updated_at", models.DateTimeField(blank=True, editable=False)),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "reviewed_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "subject_user",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        help_text="The web user this memory is about; empty with no Discord id means global.",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "supersedes",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        help_text="The older fact this one replaced (which keeps its text, with valid_until).",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="memories.memory",
                    ),
                ),
                (
                    "updates",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        help_text="For a suggestion that revises an existing memory: that memory.",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="memories.memory",
                    ),
                ),
            ],
            options={
                "verbose_name": "memory version",
                "verbose_name_plural": "memory versions",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.RunPython(_first_versions, migrations.RunPython.noop),
    ]
