"""The change stamp (0010) also moves when only a meeting's participants, a retired
statement or an old address changes: the public pages show all three, and today every
path that writes them also writes a meeting or statement, but the stamp must not rely on it."""

from importlib import import_module

from django.db import migrations

TABLES = ["meeting_named_people", "retiredstatement", "oldslug"]
TRIGGER = import_module("transcripts.migrations.0010_archive_change").TRIGGER


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0018_english_names_and_named_people")]

    operations = [
        migrations.RunSQL(
            "\n".join(TRIGGER.format(table=t) for t in TABLES),
            "\n".join(f"DROP TRIGGER kz_archive_changed ON transcripts_{t};" for t in TABLES),
        ),
    ]
