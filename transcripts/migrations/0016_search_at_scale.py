"""Search at a million statements: row samples for estimates, and champion lists.

- The 2% and 0.4% samples of meetings (0003, 0004) become 1% and 10% samples of
  statements (`id % 100 = 0`, `id % 10 = 0`): one long meeting no longer fills a
  sample, and consecutive ids spread a sample evenly over every meeting and year.
- Champion lists (search/champions.py): for each frequent lexeme, its best statements
  by relevance for that lexeme alone, and a floor that every other statement's score for
  that lexeme stays at or below. The trigger here adds a statement whose new or
  changed text scores at least a list's floor, so the floor stays a true bound as the
  archive grows; lists are made (and trimmed) by `manage.py rebuild_champions`.
"""

import django.contrib.postgres.indexes
import django.db.models.functions.math
import django.db.models.lookups
from django.db import migrations, models

# Relevance for one lexeme (transcripts/search/champions.py LEXEME_SCORE_SQL).
CHAMPION_TRIGGER = r"""
-- One lexeme as a tsquery, whatever it holds (tsquery quotes \ and ' by doubling).
CREATE FUNCTION kz_lexeme_query(lexeme text) RETURNS tsquery LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ('''' || replace(replace(lexeme, '\', '\\'), '''', '''''') || '''')::tsquery;

CREATE FUNCTION kz_champion_candidates() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM transcripts_championlist) THEN
        RETURN NULL;
    END IF;
    INSERT INTO transcripts_champion (lexeme, statement_id, score)
    SELECT l.lexeme, n.id, s.score
    FROM new_rows AS n
    CROSS JOIN LATERAL (SELECT ts_filter(n.search_vector, '{d}') AS d) AS v
    CROSS JOIN LATERAL unnest(v.d) AS t
    JOIN transcripts_championlist AS l ON l.lexeme = t.lexeme
    CROSS JOIN LATERAL (SELECT ts_rank('{1,0,0,0}', v.d, kz_lexeme_query(t.lexeme), 1)
        + 0.0001 * least(length(n.search_vector), 100) / 100.0 AS score) AS s
    WHERE n.published AND s.score >= l.floor  -- a tie joins too: off a list, a tie is older than it
    ORDER BY 1, 2
    ON CONFLICT (lexeme, statement_id) DO UPDATE SET score = excluded.score;
    RETURN NULL;
END $$;
CREATE TRIGGER kz_champion_inserted AFTER INSERT ON transcripts_utterance
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kz_champion_candidates();
CREATE TRIGGER kz_champion_updated AFTER UPDATE ON transcripts_utterance
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kz_champion_candidates();
"""

DROP_CHAMPION_TRIGGER = """
DROP TRIGGER kz_champion_inserted ON transcripts_utterance;
DROP TRIGGER kz_champion_updated ON transcripts_utterance;
DROP FUNCTION kz_champion_candidates();
DROP FUNCTION kz_lexeme_query(text);
"""


def sample_index(name: str, modulus: int):
    state = django.contrib.postgres.indexes.GinIndex(
        condition=models.Q(django.db.models.lookups.Exact(django.db.models.functions.math.Mod("id", modulus), 0)),
        fields=["search_vector"],
        name=name,
    )
    # Written by hand: queries say `u.id % 100 = 0`, and the planner matches a partial
    # index only by the same expression (Django would write MOD("id", 100)).
    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AddIndex(model_name="utterance", index=state)],
        database_operations=[
            migrations.RunSQL(
                f"CREATE INDEX {name} ON transcripts_utterance USING gin (search_vector) WHERE id % {modulus} = 0",
                f"DROP INDEX {name}",
            )
        ],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("transcripts", "0015_revisions_ignore_renumbering"),
    ]

    operations = [
        migrations.CreateModel(
            name="Champion",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "lexeme", "statement_id", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("lexeme", models.TextField()),
                ("statement_id", models.BigIntegerField()),
                ("score", models.FloatField()),
            ],
        ),
        migrations.CreateModel(
            name="ChampionList",
            fields=[
                ("lexeme", models.TextField(primary_key=True, serialize=False)),
                ("floor", models.FloatField()),
                ("built_at", models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.RemoveIndex(model_name="utterance", name="utterance_search_sample_gin"),
        migrations.RemoveIndex(model_name="utterance", name="utterance_search_sample250_gin"),
        sample_index("utterance_search_1pct_gin", 100),
        sample_index("utterance_search_10pct_gin", 10),
        migrations.RunSQL(CHAMPION_TRIGGER, DROP_CHAMPION_TRIGGER),
    ]
