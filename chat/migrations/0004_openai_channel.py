# The "openai" channel: exchanges through the OpenAI-compatible endpoint (openai_api).
from django.db import migrations, models

CHANNELS = [
    ("web", "Web"),
    ("discord", "Discord"),
    ("api", "API"),
    ("openai", "Other apps (OpenAI-compatible API)"),
]


class Migration(migrations.Migration):
    dependencies = [("chat", "0003_message_actions")]

    operations = [
        migrations.AlterField(
            model_name="conversation",
            name="channel",
            field=models.CharField(choices=CHANNELS, default="web", max_length=10),
        ),
        migrations.AlterField(
            model_name="message",
            name="channel",
            field=models.CharField(choices=CHANNELS, default="web", max_length=10),
        ),
    ]
