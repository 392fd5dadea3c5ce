"""LexemeCount: published statements per lexeme and year, and per lexeme and speaker,
kept current by statement triggers as the word list is (0011, whose notes hold here:
transition tables, EXECUTE planned afresh, one writer at a time under an advisory lock,
rows applied in key order, zeros deleted, TRUNCATE rebuilds). A one-word search then
counts its matches, by year and by speaker, without reading them (search/counting.py).

An UPDATE counts again, whole, only the rows whose published flag, date or speaker changed;
for a row that changed only its vector (a speaker's rename, an edited text) it counts the
lexemes the vector gained or lost: renaming a speaker of 4,945 statements at a million
takes 6.7 s (5.4 s without these triggers; 19.6 s when whole rows were counted again)."""

from django.db import migrations, models

# A frozen copy of transcripts.models.LEXEME_COUNT_SQL as of this migration.
LEXEME_COUNT_SQL = """
SELECT l.lexeme, f.facet, f.value, count(*)::integer AS statements
FROM {rows} AS u
CROSS JOIN LATERAL unnest(tsvector_to_array(u.search_vector)) AS l (lexeme)
CROSS JOIN LATERAL (VALUES ('y', coalesce(extract(year FROM u.meeting_date)::integer, 0)), ('s', u.speaker_id))
    AS f (facet, value)
WHERE u.published AND f.value IS NOT NULL{also}
GROUP BY 1, 2, 3
"""

LOCK = 7744552452799095668  # int.from_bytes(b"kz-lexct"); transcripts.models.LEXEME_COUNT_LOCK

FILL_SQL = f"""
LOCK TABLE transcripts_utterance IN SHARE ROW EXCLUSIVE MODE;  -- no change between the fill and the triggers is lost
SET LOCAL work_mem = '256MB';
INSERT INTO transcripts_lexemecount (lexeme, facet, value, statements)
SELECT * FROM ({LEXEME_COUNT_SQL.format(rows="transcripts_utterance", also="")}) AS counted ORDER BY 1, 2, 3;
"""

# A row u whose other side b of an UPDATE counts in the same places (flag, date, speaker):
# only the lexemes its vector gained or lost change (a speaker's rename, an edited text).
SAME = (
    "b.id = u.id AND b.published = u.published"
    " AND b.meeting_date IS NOT DISTINCT FROM u.meeting_date AND b.speaker_id IS NOT DISTINCT FROM u.speaker_id"
)


def counted(rows: str, *, sign: str = "", unless_in: str = "") -> str:
    also = f" AND NOT EXISTS (SELECT FROM {unless_in} AS b WHERE {SAME})" if unless_in else ""
    sql = LEXEME_COUNT_SQL.format(rows=rows, also=also)
    return sql.replace("count(*)::integer AS statements", f"{sign}count(*)::integer AS delta")


def trigger_function(name: str, deltas: str) -> str:
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    lexemes text[];
    facets text[];
    vals integer[];
    deltas integer[];
BEGIN
    EXECUTE $delta$
        SELECT array_agg(lexeme ORDER BY lexeme, facet, value), array_agg(facet ORDER BY lexeme, facet, value),
            array_agg(value ORDER BY lexeme, facet, value), array_agg(delta ORDER BY lexeme, facet, value)
        FROM ({deltas}) AS changes (lexeme, facet, value, delta) WHERE delta <> 0
    $delta$ INTO lexemes, facets, vals, deltas;
    PERFORM kz_lexeme_count_apply(lexemes, facets, vals, deltas);
    RETURN NULL;
END $$;
"""


GAINED_AND_LOST = """
    SELECT d.lexeme, f.facet, f.value, d.delta
    FROM new_rows AS u JOIN old_rows AS b ON {same} AND u.published AND u.search_vector <> b.search_vector
    CROSS JOIN LATERAL (
        SELECT x, 1 FROM (
            SELECT unnest(tsvector_to_array(u.search_vector)) EXCEPT SELECT unnest(tsvector_to_array(b.search_vector))
        ) AS gained (x)
        UNION ALL
        SELECT x, -1 FROM (
            SELECT unnest(tsvector_to_array(b.search_vector)) EXCEPT SELECT unnest(tsvector_to_array(u.search_vector))
        ) AS lost (x)
    ) AS d (lexeme, delta)
    CROSS JOIN LATERAL (VALUES ('y', coalesce(extract(year FROM u.meeting_date)::integer, 0)), ('s', u.speaker_id))
        AS f (facet, value)
    WHERE f.value IS NOT NULL"""

UPDATED = f"""
SELECT lexeme, facet, value, sum(delta)::integer FROM (
    {counted("old_rows", sign="-", unless_in="new_rows")}
    UNION ALL
    {counted("new_rows", unless_in="old_rows")}
    UNION ALL
    {GAINED_AND_LOST.format(same=SAME)}
) AS both_sides GROUP BY 1, 2, 3"""

TRIGGERS = [
    ("kz_lexeme_count_inserted", "INSERT", "NEW TABLE AS new_rows", counted("new_rows")),
    ("kz_lexeme_count_updated", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", UPDATED),
    ("kz_lexeme_count_deleted", "DELETE", "OLD TABLE AS old_rows", counted("old_rows", sign="-")),
]

FUNCTIONS_SQL = (
    f"""
CREATE FUNCTION kz_lexeme_count_apply(lexemes text[], facets text[], vals integer[], deltas integer[]) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF coalesce(cardinality(lexemes), 0) = 0 THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock({LOCK});
    INSERT INTO transcripts_lexemecount AS c (lexeme, facet, value, statements)
    SELECT * FROM unnest(lexemes, facets, vals, deltas) ORDER BY 1, 2, 3
    ON CONFLICT (lexeme, facet, value) DO UPDATE SET statements = c.statements + excluded.statements;
    DELETE FROM transcripts_lexemecount AS c USING unnest(lexemes, facets, vals) AS d (lexeme, facet, value)
    WHERE c.lexeme = d.lexeme AND c.facet = d.facet AND c.value = d.value AND c.statements <= 0;
END $$;

CREATE FUNCTION kz_lexeme_count_truncated() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK});
    DELETE FROM transcripts_lexemecount;
    RETURN NULL;
END $$;
"""
    + "".join(trigger_function(name, deltas) for name, _event, _tables, deltas in TRIGGERS)
    + "".join(
        f"CREATE TRIGGER {name} AFTER {event} ON transcripts_utterance REFERENCING {tables}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {name}();\n"
        for name, event, tables, _deltas in TRIGGERS
    )
    + "CREATE TRIGGER kz_lexeme_count_truncated AFTER TRUNCATE ON transcripts_utterance"
    " FOR EACH STATEMENT EXECUTE FUNCTION kz_lexeme_count_truncated();\n"
)

FUNCTIONS_REVERSE_SQL = (
    "".join(f"DROP TRIGGER {name} ON transcripts_utterance;\n" for name, _e, _t, _d in TRIGGERS)
    + "DROP TRIGGER kz_lexeme_count_truncated ON transcripts_utterance;\n"
    + "".join(f"DROP FUNCTION {name}();\n" for name, _e, _t, _d in TRIGGERS)
    + "DROP FUNCTION kz_lexeme_count_truncated();\n"
    + "DROP FUNCTION kz_lexeme_count_apply(text[], text[], integer[], integer[]);\n"
)


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0020_filter_each_statement_once")]

    operations = [
        migrations.CreateModel(
            name="LexemeCount",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "lexeme", "facet", "value", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("lexeme", models.TextField()),
                ("facet", models.CharField(choices=[("y", "Year"), ("s", "Speaker")], max_length=1)),
                ("value", models.IntegerField()),
                ("statements", models.IntegerField()),
            ],
        ),
        migrations.RunSQL(FUNCTIONS_SQL + FILL_SQL, FUNCTIONS_REVERSE_SQL + "DELETE FROM transcripts_lexemecount;"),
    ]
