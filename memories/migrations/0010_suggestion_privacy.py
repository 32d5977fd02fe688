from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("memories", "0009_memory_history")]

    operations = [
        migrations.AddField(
            model_name="suggestionrun",
            name="withheld",
            field=models.PositiveIntegerField(
                default=0,
                help_text="Facts never proposed because they hold a secret, personal data (a "
                "password, an email address, a phone number, …) or a word of the blocklist.",
            ),
        ),
        migrations.AddField(
            model_name="suggestionrun",
            name="withheld_categories",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='How many facts were withheld for each category, e.g. {"phone": 1}; '
                "the facts themselves are never kept.",
            ),
        ),
    ]
