"""Phrases by lookup: each statement's adjacent lexemes as pairs, in phrase_vector.

A phrase query (`'росс' <-> 'казахста'`) can use the GIN index only to find the
statements holding both words, and must then read every one's positions: tens of
thousands of vectors for two common words at a million statements. phrase_vector
holds each two lexemes at neighbouring positions of search_vector as one lexeme
('росс~казахста', search/tsquery.py PAIR), so a two-word phrase is one posting list,
exactly, and a longer one is the few statements holding all its pairs, checked.
The BEFORE trigger of 0002 computes it with search_vector.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations

PAIRS_SQL = """
-- Pairs in one pass over the positions; a position holding two lexemes (no kz_russian
-- mapping makes one today) takes the join, which pairs every lexeme of each.
CREATE FUNCTION kz_adjacent_pairs(v tsvector) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    at_position text[] := '{}';
    pairs text[] := '{}';
    entry record;
    p integer;
BEGIN
    FOR entry IN SELECT t.lexeme, pos FROM unnest(v) AS t, unnest(t.positions) AS pos LOOP
        IF at_position[entry.pos] IS NOT NULL THEN
            RETURN (SELECT coalesce(array_to_tsvector(array_agg(DISTINCT a.lexeme || '~' || b.lexeme)), ''::tsvector)
                    FROM (SELECT t.lexeme, unnest(t.positions) AS pos FROM unnest(v) AS t) AS a
                    JOIN (SELECT t.lexeme, unnest(t.positions) AS pos FROM unnest(v) AS t) AS b ON b.pos = a.pos + 1);
        END IF;
        at_position[entry.pos] := entry.lexeme;
    END LOOP;
    FOR p IN 1 .. coalesce(array_upper(at_position, 1), 0) - 1 LOOP
        IF at_position[p] IS NOT NULL AND at_position[p + 1] IS NOT NULL THEN
            pairs := pairs || (at_position[p] || '~' || at_position[p + 1]);
        END IF;
    END LOOP;
    RETURN array_to_tsvector(pairs);
END $$;

"""


def search_fields_function(pairs: bool) -> str:
    """0002's trigger function, computing phrase_vector too or (going back) not."""
    return f"""
CREATE OR REPLACE FUNCTION kz_utterance_search_fields() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    meeting record;
    speaker_name text;
BEGIN
    SELECT title, date, is_published INTO meeting FROM transcripts_meeting WHERE id = NEW.meeting_id;
    SELECT name INTO speaker_name FROM transcripts_speaker WHERE id = NEW.speaker_id;
    NEW.meeting_date := meeting.date;
    NEW.published := meeting.is_published;
    NEW.search_vector :=
        setweight(to_tsvector('kz_russian', concat_ws(' ', speaker_name, NEW.label)), 'A')
        || setweight(to_tsvector('kz_russian', meeting.title), 'B')
        || setweight(to_tsvector('kz_russian', NEW.text), 'D');
    {"NEW.phrase_vector := kz_adjacent_pairs(NEW.search_vector);" if pairs else ""}
    RETURN NEW;
END $$;
"""


# Every row through the trigger once (the vectors themselves come out the same).
BACKFILL_SQL = "UPDATE transcripts_utterance SET phrase_vector = kz_adjacent_pairs(search_vector)"


class Migration(migrations.Migration):
    dependencies = [
        ("transcripts", "0016_search_at_scale"),
    ]

    operations = [
        migrations.AddField(
            model_name="utterance",
            name="phrase_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunSQL(
            PAIRS_SQL + search_fields_function(pairs=True),
            search_fields_function(pairs=False) + "DROP FUNCTION kz_adjacent_pairs(tsvector);",
        ),
        migrations.RunSQL(BACKFILL_SQL, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="utterance",
            index=django.contrib.postgres.indexes.GinIndex(fields=["phrase_vector"], name="utterance_phrase_gin"),
        ),
    ]
