"""A second, smaller sample: the utterances of one meeting in 250 (0.4%).

Phrases are checked against each candidate's stored vector, so estimating a
common phrase from the 2% sample re-reads ~3,000 vectors; this sample needs a
fifth of that (transcripts/search.py uses it whenever it holds enough matches).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0003_search_sample_index")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX utterance_search_small_sample_gin ON transcripts_utterance"
            " USING gin (search_vector) WHERE meeting_id % 250 = 0",
            "DROP INDEX utterance_search_small_sample_gin",
        ),
    ]
