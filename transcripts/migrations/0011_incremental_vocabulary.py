"""The did-you-mean word list becomes a table kept current by statement triggers.

The materialized view of 0002 re-tokenised every utterance on each refresh (239 s
at a million utterances, after every ingest and inside the admin's publish
request). Now each statement that inserts, updates or deletes utterances or
speakers adds and subtracts the words of just the rows it changed, read from its
transition tables; TRUNCATE rebuilds the list from the full query. The rows
hold exactly what the view's query gave (transcripts.models.VOCABULARY_SQL, the
definition a full rebuild uses: VocabularyWord.rebuild, manage.py
rebuild_vocabulary).

How the triggers work:
- Words of a text are those of to_tsvector('simple', ...) of length >= 3 that
  match the alpha pattern, once per row (kz_vocabulary_words); a word's
  frequency is the number of published utterances plus speaker names holding it.
- An UPDATE counts only rows whose text or published flag (names, for speakers)
  changed: the utterance updates that follow a meeting's title or date or a
  speaker's name change (migration 0002's triggers) cost a join, no tokenising.
  utterance.published is set by the BEFORE row trigger of 0002, so the NEW
  transition table already holds the final flag.
- INSERT ... ON CONFLICT DO UPDATE fires both the INSERT and the UPDATE statement
  triggers; PostgreSQL gives the inserted rows to the first and the updated rows
  to the second (a trigger with transition tables has a single event), so nothing
  is counted twice.
- The trigger functions run their query with EXECUTE, planned afresh for the
  transition tables' sizes each time (a cached plan made for an empty table is a
  nested loop, hopeless on thousands of rows).
- Each statement's changes are aggregated per word and applied by one INSERT ...
  ON CONFLICT DO UPDATE in word order; words that reach 0 are deleted. Writers of
  the list take a transaction-level advisory lock first: one writer at a time, so
  two transactions that each change the list in several statements cannot
  deadlock on its rows. Readers never wait.
- The functions run with the search_path of this migration (SET search_path FROM
  CURRENT): PostgreSQL 17+ runs maintenance, and pg_restore runs everything, with
  a restricted one.
"""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations, models

# A frozen copy of VOCABULARY_SQL as of this migration (the truncate trigger's rebuild).
VOCABULARY_SQL = """
SELECT word, count(*)::integer AS frequency FROM (
    SELECT word FROM transcripts_utterance AS u,
        unnest(tsvector_to_array(to_tsvector('simple', u.text))) AS word
    WHERE u.published
    UNION ALL
    SELECT word FROM transcripts_speaker AS s,
        unnest(tsvector_to_array(to_tsvector('simple', s.name))) AS word
) AS words
WHERE length(word) >= 3 AND word ~ '^[[:alpha:]][[:alpha:]-]*$'
GROUP BY word
"""

LOCK = 7744552495915164002  # int.from_bytes(b"kz-vocab"); transcripts.models.VOCABULARY_LOCK

TABLE_SQL = f"""
-- Writers wait (readers do not) until the triggers exist: no change between the fill and them is lost.
LOCK TABLE transcripts_utterance, transcripts_speaker IN SHARE ROW EXCLUSIVE MODE;
DROP MATERIALIZED VIEW transcripts_vocabularyword;
CREATE TABLE transcripts_vocabularyword (
    word text CONSTRAINT transcripts_vocabularyword_pkey PRIMARY KEY,
    frequency integer NOT NULL
);
CREATE INDEX vocabulary_word_trgm ON transcripts_vocabularyword USING gin (word gin_trgm_ops);
INSERT INTO transcripts_vocabularyword (word, frequency)
SELECT * FROM ({VOCABULARY_SQL}) AS full_list ORDER BY word;
"""

VIEW_SQL = f"""
DROP TABLE transcripts_vocabularyword;
CREATE MATERIALIZED VIEW transcripts_vocabularyword AS ({VOCABULARY_SQL}) WITH DATA;
CREATE UNIQUE INDEX vocabulary_word_unique ON transcripts_vocabularyword (word);
CREATE INDEX vocabulary_word_trgm ON transcripts_vocabularyword USING gin (word gin_trgm_ops);
"""

# (trigger function, table, event, transition tables)
TRIGGERS = [
    ("kz_vocabulary_utterance_inserted", "utterance", "INSERT", "NEW TABLE AS new_rows"),
    ("kz_vocabulary_utterance_updated", "utterance", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("kz_vocabulary_utterance_deleted", "utterance", "DELETE", "OLD TABLE AS old_rows"),
    ("kz_vocabulary_speaker_inserted", "speaker", "INSERT", "NEW TABLE AS new_rows"),
    ("kz_vocabulary_speaker_updated", "speaker", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("kz_vocabulary_speaker_deleted", "speaker", "DELETE", "OLD TABLE AS old_rows"),
]


def trigger_function(name: str, deltas: str) -> str:
    """A statement trigger function: `deltas` selects (word, delta) from the transition tables.

    Run with EXECUTE, so planned each time for the transition tables' actual sizes: a
    plan cached for the empty UPDATE table of an ingest's upsert (a nested loop) took
    minutes on the few thousand rows of a speaker rename."""
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    words text[];
    deltas integer[];
BEGIN
    EXECUTE $delta$
        SELECT array_agg(word ORDER BY word), array_agg(delta ORDER BY word)
        FROM ({deltas}) AS changes (word, delta) WHERE delta <> 0
    $delta$ INTO words, deltas;
    PERFORM kz_vocabulary_apply(words, deltas);
    RETURN NULL;
END $$;
"""


def counted(rows: str, column: str, *, sign: str = "", published: bool = False) -> str:
    """Each word of the rows once per row (with `published`: published rows only)."""
    where = " WHERE r.published" if published else ""
    return (
        f"SELECT w.word, {sign}count(*)::integer FROM {rows} AS r, kz_vocabulary_words(r.{column}) AS w (word)"
        f"{where} GROUP BY w.word"
    )


def changed(column: str, *, published: bool = False) -> str:
    """An UPDATE: subtract the old rows and add the new ones, but for the rows whose
    words count the same before and after (same id, same text, both counted)."""
    flags = " AND a.published AND b.published" if published else ""
    counted_row = "a.published AND " if published else ""
    same = f"b.id = a.id AND b.{column} = a.{column}{flags}"
    return f"""
            SELECT word, sum(delta)::integer FROM (
                SELECT w.word, -1 AS delta FROM old_rows AS a, kz_vocabulary_words(a.{column}) AS w (word)
                WHERE {counted_row}NOT EXISTS (SELECT FROM new_rows AS b WHERE {same})
                UNION ALL
                SELECT w.word, 1 FROM new_rows AS a, kz_vocabulary_words(a.{column}) AS w (word)
                WHERE {counted_row}NOT EXISTS (SELECT FROM old_rows AS b WHERE {same})
            ) AS both_sides GROUP BY word"""


FUNCTIONS_SQL = (
    f"""
CREATE FUNCTION kz_vocabulary_words(body text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT word FROM unnest(tsvector_to_array(to_tsvector('simple', body))) AS word
    WHERE length(word) >= 3 AND word ~ '^[[:alpha:]][[:alpha:]-]*$'
$$;

CREATE FUNCTION kz_vocabulary_apply(words text[], deltas integer[]) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF coalesce(cardinality(words), 0) = 0 THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock({LOCK});
    INSERT INTO transcripts_vocabularyword AS v (word, frequency)
    SELECT * FROM unnest(words, deltas) AS d (word, delta) ORDER BY word
    ON CONFLICT (word) DO UPDATE SET frequency = v.frequency + excluded.frequency;
    DELETE FROM transcripts_vocabularyword WHERE word = ANY (words) AND frequency <= 0;
END $$;

CREATE FUNCTION kz_vocabulary_truncated() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK});
    DELETE FROM transcripts_vocabularyword;
    INSERT INTO transcripts_vocabularyword (word, frequency)
    SELECT * FROM ({VOCABULARY_SQL}) AS full_list ORDER BY word;
    RETURN NULL;
END $$;
"""
    + trigger_function("kz_vocabulary_utterance_inserted", counted("new_rows", "text", published=True))
    + trigger_function("kz_vocabulary_utterance_updated", changed("text", published=True))
    + trigger_function("kz_vocabulary_utterance_deleted", counted("old_rows", "text", sign="-", published=True))
    + trigger_function("kz_vocabulary_speaker_inserted", counted("new_rows", "name"))
    + trigger_function("kz_vocabulary_speaker_updated", changed("name"))
    + trigger_function("kz_vocabulary_speaker_deleted", counted("old_rows", "name", sign="-"))
    + "".join(
        f"CREATE TRIGGER {name} AFTER {event} ON transcripts_{table} REFERENCING {tables}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {name}();\n"
        for name, table, event, tables in TRIGGERS
    )
    + "".join(
        f"CREATE TRIGGER kz_vocabulary_{table}_truncated AFTER TRUNCATE ON transcripts_{table}"
        " FOR EACH STATEMENT EXECUTE FUNCTION kz_vocabulary_truncated();\n"
        for table in ("utterance", "speaker")
    )
)

FUNCTIONS_REVERSE_SQL = (
    "".join(f"DROP TRIGGER {name} ON transcripts_{table};\n" for name, table, _event, _tables in TRIGGERS)
    + "".join(
        f"DROP TRIGGER kz_vocabulary_{table}_truncated ON transcripts_{table};\n" for table in ("utterance", "speaker")
    )
    + "".join(f"DROP FUNCTION {name}();\n" for name, _table, _event, _tables in TRIGGERS)
    + "DROP FUNCTION kz_vocabulary_truncated();\n"
    + "DROP FUNCTION kz_vocabulary_apply(text[], integer[]);\n"
    + "DROP FUNCTION kz_vocabulary_words(text);\n"
)


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0010_archive_change")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(TABLE_SQL, VIEW_SQL)],
            state_operations=[
                migrations.DeleteModel(name="VocabularyWord"),
                migrations.CreateModel(
                    name="VocabularyWord",
                    fields=[
                        ("word", models.TextField(primary_key=True, serialize=False)),
                        ("frequency", models.IntegerField()),
                    ],
                    options={
                        "indexes": [GinIndex(fields=["word"], name="vocabulary_word_trgm", opclasses=["gin_trgm_ops"])],
                    },
                ),
            ],
        ),
        migrations.RunSQL(FUNCTIONS_SQL, FUNCTIONS_REVERSE_SQL),
    ]
