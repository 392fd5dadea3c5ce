"""A 20% sample of the statements (`id % 5 = 0`) with its own partial GIN index: for
searches of 65,000–250,000 matches, whose years the 10% sample holds too few of to
estimate within ±6.5% (search/counting.py DENSE_SAMPLE)."""

from importlib import import_module

from django.db import migrations

# The same hand-written partial index as the 1% and 10% ones.
sample_index = import_module("transcripts.migrations.0016_search_at_scale").sample_index


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0023_meeting_kind_and_place_indexes")]

    operations = [sample_index("utterance_search_20pct_gin", 5)]
