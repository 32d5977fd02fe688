# The auto-approval source "openai" (luma.models.AutoApprovalSource) is checked by a
# validator of the JSON list, which keeps no choices in the schema: nothing to migrate.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("luma", "0006_persona")]

    operations = []
