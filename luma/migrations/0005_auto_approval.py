"""Auto-approval of AI suggestions: off by default; the sources it applies to, and the
importance and confidence a suggestion needs."""

import django.core.validators
from django.db import migrations, models

import luma.models


class Migration(migrations.Migration):
    dependencies = [("luma", "0004_memory_rules")]

    operations = [
        migrations.AddField(
            model_name="runtimesettings",
            name="auto_approve_enabled",
            field=models.BooleanField(
                default=False,
                help_text="Approve AI suggestions on arrival when they come from a chosen "
                "source and reach both bars below; they are marked auto-approved and listed "
                "for a later look.",
            ),
        ),
        migrations.AddField(
            model_name="runtimesettings",
            name="auto_approve_sources",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Where the conversation must have taken place: web, discord, api.",
                validators=[luma.models.validate_auto_approval_sources],
            ),
        ),
        migrations.AddField(
            model_name="runtimesettings",
            name="auto_approve_min_importance",
            field=models.PositiveSmallIntegerField(
                default=8,
                help_text="Only suggestions at least this important (1-10).",
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(10),
                ],
            ),
        ),
        migrations.AddField(
            model_name="runtimesettings",
            name="auto_approve_min_confidence",
            field=models.FloatField(
                default=0.9,
                help_text="Only suggestions the model is at least this sure of (0-1); one "
                "that gives no confidence waits for a person.",
                validators=[
                    django.core.validators.MinValueValidator(0.0),
                    django.core.validators.MaxValueValidator(1.0),
                ],
            ),
        ),
    ]
