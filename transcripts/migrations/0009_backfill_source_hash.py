"""Statements stored before 0006 get the hash of their text (md5, as ingest computes it),
so a first edit is not reported as a conflict with an unchanged file."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0008_verbose_names")]

    operations = [
        # Only source_hash changes: the search-vector trigger need not recompute a
        # million vectors for it.
        migrations.RunSQL(
            "ALTER TABLE transcripts_utterance DISABLE TRIGGER utterance_search_fields;"
            " UPDATE transcripts_utterance SET source_hash = md5(text) WHERE source_hash = '';"
            " ALTER TABLE transcripts_utterance ENABLE TRIGGER utterance_search_fields;",
            migrations.RunSQL.noop,
        ),
    ]
