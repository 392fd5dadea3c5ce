"""The "Editors" group: add, change and view the archive's models; nothing on users or groups."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ARCHIVE_MODELS = ("meeting", "section", "speaker", "speakeralias", "utterance")


def create_editors(apps, schema_editor):
    # Permissions are normally made after migrations; make them now so the group can have them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    editors, _created = Group.objects.get_or_create(name="Editors")
    codenames = [f"{action}_{model}" for model in ARCHIVE_MODELS for action in ("add", "change", "view")]
    editors.permissions.set(Permission.objects.filter(content_type__app_label="transcripts", codename__in=codenames))


def remove_editors(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Editors").delete()


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0006_curation"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_editors, remove_editors)]
