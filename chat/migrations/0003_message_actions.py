"""Message actions: regenerating a reply keeps its earlier versions, one of them chosen."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("chat", "0002_reply_order_status_reasoning")]

    operations = [
        migrations.AddField(
            model_name="message",
            name="selected",
            field=models.BooleanField(
                default=True,
                help_text="The chosen version of a reply: the one shown and sent back to the "
                "model. Regenerating a reply keeps the earlier versions (same `reply_to`) "
                "unselected.",
            ),
        ),
    ]
