"""On stream: Twitch chat and the OBS overlay."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("chat", "0004_openai_channel")]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="twitch_channel",
            field=models.CharField(
                blank=True, help_text="The Twitch channel (login name) this chat is.", max_length=64
            ),
        ),
        migrations.AlterField(
            model_name="conversation",
            name="channel",
            field=models.CharField(
                choices=[
                    ("web", "Web"),
                    ("discord", "Discord"),
                    ("api", "API"),
                    ("openai", "Other apps (OpenAI-compatible API)"),
                    ("twitch", "Twitch"),
                ],
                default="web",
                max_length=10,
            ),
        ),
        migrations.AlterField(
            model_name="message",
            name="channel",
            field=models.CharField(
                choices=[
                    ("web", "Web"),
                    ("discord", "Discord"),
                    ("api", "API"),
                    ("openai", "Other apps (OpenAI-compatible API)"),
                    ("twitch", "Twitch"),
                ],
                default="web",
                max_length=10,
            ),
        ),
        migrations.AddConstraint(
            model_name="conversation",
            constraint=models.UniqueConstraint(
                condition=models.Q(("twitch_channel", ""), _negated=True),
                fields=("twitch_channel",),
                name="one_conversation_per_twitch_channel",
            ),
        ),
    ]
