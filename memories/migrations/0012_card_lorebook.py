# A memory's source may be the persona's character card (its lorebook entries).
from django.db import migrations, models

SOURCES = [
    ("manual", "Added by a person"),
    ("ai_suggested", "Suggested by the AI"),
    ("document", "From a document"),
    ("card", "From the persona's character card (its lorebook)"),
]


class Migration(migrations.Migration):
    dependencies = [("memories", "0011_review")]

    operations = [
        migrations.AlterField(
            model_name="memory",
            name="source",
            field=models.CharField(choices=SOURCES, default="manual", max_length=20),
        ),
        migrations.AlterField(
            model_name="historicalmemory",
            name="source",
            field=models.CharField(choices=SOURCES, default="manual", max_length=20),
        ),
    ]
