"""The archive's change stamp for HTTP caching (transcripts.http_cache): one row,
moved by a statement trigger on every table whose rows the public pages show."""

from django.db import migrations, models

TABLES = ["meeting", "section", "utterance", "speaker", "speakeralias"]

FUNCTION = """
CREATE FUNCTION kz_archive_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- strictly increasing, even if two changes share a clock tick
    UPDATE transcripts_archivechange
       SET changed_at = greatest(clock_timestamp(), changed_at + interval '1 microsecond')
     WHERE id = 1;
    RETURN NULL;
END $$;
INSERT INTO transcripts_archivechange (id, changed_at) VALUES (1, clock_timestamp());
"""

TRIGGER = (
    "CREATE TRIGGER kz_archive_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
    " ON transcripts_{table} FOR EACH STATEMENT EXECUTE FUNCTION kz_archive_changed();"
)


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0009_backfill_source_hash")]

    operations = [
        migrations.CreateModel(
            name="ArchiveChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("changed_at", models.DateTimeField()),
            ],
            options={"verbose_name": "archive change stamp"},
        ),
        migrations.RunSQL(
            FUNCTION + "\n".join(TRIGGER.format(table=t) for t in TABLES),
            "\n".join(f"DROP TRIGGER kz_archive_changed ON transcripts_{t};" for t in TABLES)
            + " DROP FUNCTION kz_archive_changed();",
        ),
    ]
