# The persona prompt moved to the persona app (persona 0002 copied it there first).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("luma", "0005_auto_approval"),
        ("persona", "0002_from_runtime_settings"),
    ]

    operations = [
        migrations.RemoveField(model_name="runtimesettings", name="persona_prompt"),
    ]
