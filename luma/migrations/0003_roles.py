from django.db import migrations, models

MODERATORS_GROUP = "Moderators"  # luma.roles.MODERATORS_GROUP, frozen here


def moderators_group_create(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=MODERATORS_GROUP)


def moderators_group_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=MODERATORS_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("luma", "0002_fallback_provider"),
    ]

    operations = [
        migrations.AddField(
            model_name="runtimesettings",
            name="viewer_uploads_enabled",
            field=models.BooleanField(
                default=False,
                help_text="Let viewers (accounts that are neither moderators nor the owner) "
                "upload documents; what they upload becomes memories about them only.",
            ),
        ),
        migrations.RunPython(moderators_group_create, moderators_group_delete),
    ]
