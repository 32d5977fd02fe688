from django.db import migrations, models

import luma.models


class Migration(migrations.Migration):
    dependencies = [("luma", "0003_roles")]

    operations = [
        migrations.AddField(
            model_name="runtimesettings",
            name="memory_rules",
            field=models.TextField(
                blank=True,
                help_text="What is (or is not) worth remembering, one rule a line, e.g. "
                "\"Never remember anything about other viewers' real-life location.\" The AI "
                "is given these rules each time it suggests memories.",
                validators=[
                    luma.models.LinesValidator(max_chars=300, max_lines=30, what="rules")
                ],
            ),
        ),
        migrations.AddField(
            model_name="runtimesettings",
            name="memory_blocklist",
            field=models.TextField(
                blank=True,
                help_text="Words and phrases no suggested memory may contain, one a line (a "
                "real name, a town, a school). A suggestion with one is withheld: never "
                "proposed. Case, accents and full-width forms do not matter; Latin words "
                "match whole. It applies to new suggestions: review the ones already "
                "waiting yourself.",
                validators=[
                    luma.models.LinesValidator(
                        max_chars=200, max_lines=500, what="blocklist entries"
                    )
                ],
            ),
        ),
    ]
