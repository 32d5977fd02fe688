from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="BlockedMessage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "direction",
                    models.CharField(
                        choices=[
                            ("viewer", "A viewer's message"),
                            ("reply", "A reply of the persona"),
                        ],
                        max_length=10,
                    ),
                ),
                ("surface", models.CharField(default="twitch", max_length=10)),
                (
                    "channel",
                    models.CharField(blank=True, help_text="The Twitch channel.", max_length=64),
                ),
                ("author_name", models.CharField(blank=True, max_length=150)),
                ("author_id", models.CharField(blank=True, max_length=32)),
                (
                    "text",
                    models.TextField(help_text="What was blocked (at most 1,000 characters)."),
                ),
                (
                    "entry",
                    models.CharField(help_text="The blocklist entry that matched.", max_length=200),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
            ],
            options={
                "ordering": ["-created_at", "-pk"],
            },
        ),
    ]
