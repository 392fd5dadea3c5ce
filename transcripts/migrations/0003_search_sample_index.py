"""A partial GIN index over the utterances of one meeting in 50 (meeting_id % 50 = 0).

Counting or faceting 300,000 matches means visiting 300,000 rows. Instead, search
counts the matches in this 2% cluster sample through its small index and scales
them up whenever a query matches too many to count exactly (transcripts/search.py).
"""

from django.db import migrations

SAMPLE_MODULUS = 50  # one of transcripts.search.SAMPLE_MODULI


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0002_search")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX utterance_search_sample_gin ON transcripts_utterance"
            f" USING gin (search_vector) WHERE meeting_id % {SAMPLE_MODULUS} = 0",
            "DROP INDEX utterance_search_sample_gin",
        ),
    ]
