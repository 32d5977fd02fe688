"""On stream: Twitch chat and the OBS overlay."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("memories", "0012_card_lorebook")]

    operations = [
        migrations.AlterField(
            model_name="historicalmemory",
            name="subject_discord_id",
            field=models.CharField(
                blank=True,
                help_text="The Discord user id (digits) or Twitch user (twitch:<id>) it is about.",
                max_length=32,
            ),
        ),
        migrations.AlterField(
            model_name="memory",
            name="subject_discord_id",
            field=models.CharField(
                blank=True,
                help_text="The Discord user id (digits) or Twitch user (twitch:<id>) it is about.",
                max_length=32,
            ),
        ),
    ]
