"""MeetingLexemes: every lexeme of a meeting's published statements, kept current by
statement triggers on the statements. A search for any of some words then counts its
meetings exactly (search/counting.py), where a sample of statements cannot: the
Horvitz–Thompson estimate it replaces was 40–80% low for common words at a million.

Each trigger works out the meetings whose published statements' lexemes may have changed
(from the transition tables) and makes their rows again, writing those that differ. Writers take the lexeme counts'
advisory lock (0021) first: one at a time, and the recount after it sees every change
committed before."""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

LOCK = 7744552452799095668  # transcripts.models.LEXEME_COUNT_LOCK, shared with migration 0021

# A frozen copy of transcripts.models.MEETING_LEXEMES_SQL as of this migration.
MEETING_LEXEMES_SQL = """
SELECT u.meeting_id, kz_lexeme_union(strip(u.search_vector))
FROM transcripts_utterance AS u
WHERE u.published{also}
GROUP BY 1
"""

FILL_SQL = f"""
LOCK TABLE transcripts_utterance IN SHARE ROW EXCLUSIVE MODE;  -- no change between the fill and the triggers is lost
SET LOCAL work_mem = '256MB';
INSERT INTO transcripts_meetinglexemes (meeting_id, lexemes)
SELECT * FROM ({MEETING_LEXEMES_SQL.format(also="")}) AS made ORDER BY 1;
"""

# The meetings a statement trigger must make again: of published rows inserted or deleted,
# and of updated rows whose flag, vector or meeting changed (both meetings of a move).
CHANGED = (
    "n.published IS DISTINCT FROM o.published OR n.search_vector IS DISTINCT FROM o.search_vector"
    " OR n.meeting_id <> o.meeting_id"
)
TRIGGERS = [
    ("kz_meeting_lexemes_inserted", "INSERT", "NEW TABLE AS new_rows", "SELECT meeting_id FROM new_rows WHERE published"),
    (
        "kz_meeting_lexemes_updated",
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "SELECT m FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id"
        f" CROSS JOIN LATERAL (VALUES (n.meeting_id), (o.meeting_id)) AS both_sides (m) WHERE {CHANGED}",
    ),
    ("kz_meeting_lexemes_deleted", "DELETE", "OLD TABLE AS old_rows", "SELECT meeting_id FROM old_rows WHERE published"),
]

# The union of stripped vectors, merged in C (tsvector || tsvector): 130 ms for the 4,401
# meetings of a speaker at a million, where unnesting every lexeme and grouping took 2.5 s.
UNION_SQL = """
CREATE AGGREGATE kz_lexeme_union(tsvector) (SFUNC = tsvector_concat, STYPE = tsvector, INITCOND = '');
"""

REFRESH_SQL = f"""
CREATE FUNCTION kz_meeting_lexemes_refresh(affected bigint[]) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF coalesce(cardinality(affected), 0) = 0 THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock({LOCK});
    -- A row is written only if its lexemes changed: each write re-enters all of them in
    -- the GIN index (9.4 s for the 4,401 meetings of a speaker's rename at a million).
    INSERT INTO transcripts_meetinglexemes AS t (meeting_id, lexemes)
    SELECT * FROM ({MEETING_LEXEMES_SQL.format(also=" AND u.meeting_id = ANY(affected)")}) AS made ORDER BY 1
    ON CONFLICT (meeting_id) DO UPDATE SET lexemes = excluded.lexemes WHERE t.lexemes <> excluded.lexemes;
    DELETE FROM transcripts_meetinglexemes AS t WHERE t.meeting_id = ANY(affected)
    AND NOT EXISTS (SELECT FROM transcripts_utterance AS u WHERE u.meeting_id = t.meeting_id AND u.published);
END $$;

CREATE FUNCTION kz_meeting_lexemes_truncated() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK});
    DELETE FROM transcripts_meetinglexemes;
    RETURN NULL;
END $$;
"""


def trigger_function(name: str, meetings: str) -> str:
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    affected bigint[];
BEGIN
    EXECUTE $m$ SELECT array_agg(DISTINCT m ORDER BY m) FROM ({meetings}) AS changed (m) $m$ INTO affected;
    PERFORM kz_meeting_lexemes_refresh(affected);
    RETURN NULL;
END $$;
"""


FUNCTIONS_SQL = (
    UNION_SQL
    + REFRESH_SQL
    + "".join(trigger_function(name, meetings) for name, _event, _tables, meetings in TRIGGERS)
    + "".join(
        f"CREATE TRIGGER {name} AFTER {event} ON transcripts_utterance REFERENCING {tables}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {name}();\n"
        for name, event, tables, _meetings in TRIGGERS
    )
    + "CREATE TRIGGER kz_meeting_lexemes_truncated AFTER TRUNCATE ON transcripts_utterance"
    " FOR EACH STATEMENT EXECUTE FUNCTION kz_meeting_lexemes_truncated();\n"
)

FUNCTIONS_REVERSE_SQL = (
    "".join(f"DROP TRIGGER {name} ON transcripts_utterance;\n" for name, _e, _t, _m in TRIGGERS)
    + "DROP TRIGGER kz_meeting_lexemes_truncated ON transcripts_utterance;\n"
    + "".join(f"DROP FUNCTION {name}();\n" for name, _e, _t, _m in TRIGGERS)
    + "DROP FUNCTION kz_meeting_lexemes_truncated();\n"
    + "DROP FUNCTION kz_meeting_lexemes_refresh(bigint[]);\n"
    + "DROP AGGREGATE kz_lexeme_union(tsvector);\n"
)


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0021_lexeme_counts")]

    operations = [
        migrations.CreateModel(
            name="MeetingLexemes",
            fields=[
                (
                    "meeting",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="transcripts.meeting",
                    ),
                ),
                ("lexemes", django.contrib.postgres.search.SearchVectorField()),
            ],
            options={
                "indexes": [django.contrib.postgres.indexes.GinIndex(fields=["lexemes"], name="meeting_lexemes_gin")]
            },
        ),
        migrations.RunSQL(FUNCTIONS_SQL + FILL_SQL, FUNCTIONS_REVERSE_SQL + "DELETE FROM transcripts_meetinglexemes;"),
    ]
