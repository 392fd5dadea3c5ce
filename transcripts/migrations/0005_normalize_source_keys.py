"""Source keys of documents with a URL drop the scheme and a trailing slash
(transcripts.ingest.source_key), so http:// and https:// name the same page."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0004_search_small_sample_index")]

    operations = [
        migrations.RunSQL(
            "UPDATE transcripts_meeting SET source_key = regexp_replace(rtrim(source_key, '/'), '^https?://', '')"
            " WHERE source_key NOT LIKE 'file:%'",
            migrations.RunSQL.noop,
        ),
    ]
