"""Review at volume: how sure the model was of a suggestion (`confidence`), and when
auto-approval approved one on arrival (`auto_approved_at`); both kept in the history."""

import django.core.validators
from django.db import migrations, models


def _confidence() -> models.FloatField:
    return models.FloatField(
        blank=True,
        help_text="How sure the model was of an AI suggestion, 0 to 1; empty when it did "
        "not say (such a suggestion is never approved automatically).",
        null=True,
        validators=[
            django.core.validators.MinValueValidator(0.0),
            django.core.validators.MaxValueValidator(1.0),
        ],
    )


def _auto_approved_at() -> models.DateTimeField:
    return models.DateTimeField(
        blank=True,
        db_index=True,
        help_text="When auto-approval approved this suggestion on arrival (no person "
        "decided it yet); empty otherwise.",
        null=True,
    )


class Migration(migrations.Migration):
    dependencies = [("memories", "0010_suggestion_privacy")]

    operations = [
        migrations.AddField(model_name="memory", name="confidence", field=_confidence()),
        migrations.AddField(
            model_name="memory", name="auto_approved_at", field=_auto_approved_at()
        ),
        migrations.AddField(model_name="historicalmemory", name="confidence", field=_confidence()),
        migrations.AddField(
            model_name="historicalmemory", name="auto_approved_at", field=_auto_approved_at()
        ),
    ]
