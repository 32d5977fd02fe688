"""On stream: Twitch chat and the OBS overlay."""

import django.core.validators
from django.db import migrations, models

import luma.models


class Migration(migrations.Migration):
    dependencies = [("luma", "0007_openai_source")]

    operations = [
        migrations.AddField(
            model_name="runtimesettings",
            name="overlay_fade_seconds",
            field=models.PositiveSmallIntegerField(
                default=15,
                help_text="Seconds the overlay keeps a finished reply on screen before it fades out.",
                validators=[
                    django.core.validators.MinValueValidator(3),
                    django.core.validators.MaxValueValidator(600),
                ],
            ),
        ),
        migrations.AddField(
            model_name="runtimesettings",
            name="overlay_surfaces",
            field=models.JSONField(
                blank=True,
                default=luma.models.default_overlay_surfaces,
                help_text="The overlay follows replies from these surfaces (twitch, discord, web, api). Web chats are private conversations: off unless chosen.",
                validators=[luma.models.validate_auto_approval_sources],
            ),
        ),
        migrations.AddField(
            model_name="runtimesettings",
            name="overlay_token",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="The secret in the overlay's URL (OBS cannot log in); rotated by the owner.",
                max_length=64,
            ),
        ),
        migrations.AddField(
            model_name="runtimesettings",
            name="stream_blocklist",
            field=models.TextField(
                blank=True,
                help_text="Words, phrases and /patterns/ (regular expressions) that Twitch chat messages and the persona's replies there may not contain, one a line.",
                validators=[
                    luma.models.LinesValidator(
                        max_chars=200, max_lines=1000, what="blocklist entries"
                    )
                ],
            ),
        ),
        migrations.AddField(
            model_name="runtimesettings",
            name="twitch_channel_rate",
            field=models.PositiveSmallIntegerField(
                default=6,
                help_text="At most this many answers a minute in one Twitch channel.",
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(60),
                ],
            ),
        ),
        migrations.AddField(
            model_name="runtimesettings",
            name="twitch_command_prefix",
            field=models.CharField(
                default="!ask",
                help_text="Viewers ask with this command (e.g. !ask …) or by naming the bot.",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="runtimesettings",
            name="twitch_known_bots",
            field=models.TextField(
                blank=True,
                default="nightbot, streamelements, moobot, fossabot, streamlabs, wizebot, soundalerts, sery_bot, botrixoficial, kofistreambot",
                help_text="Accounts never answered (other chat bots), separated by commas.",
            ),
        ),
        migrations.AddField(
            model_name="runtimesettings",
            name="twitch_mods_skip_cooldown",
            field=models.BooleanField(
                default=True,
                help_text="Moderators and the broadcaster are answered without cooldown.",
            ),
        ),
        migrations.AddField(
            model_name="runtimesettings",
            name="twitch_settings_seeded",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddField(
            model_name="runtimesettings",
            name="twitch_stale_seconds",
            field=models.PositiveIntegerField(
                default=60,
                help_text="A question waiting longer than this is skipped (the persona fell behind).",
                validators=[
                    django.core.validators.MinValueValidator(5),
                    django.core.validators.MaxValueValidator(3600),
                ],
            ),
        ),
        migrations.AddField(
            model_name="runtimesettings",
            name="twitch_viewer_cooldown",
            field=models.PositiveIntegerField(
                default=30,
                help_text="Seconds before the persona answers the same viewer again.",
                validators=[django.core.validators.MaxValueValidator(86400)],
            ),
        ),
    ]
