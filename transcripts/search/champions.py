"""Champion lists: relevance over every match without ranking every match.

Relevance (ranking.rank_sql) is, over a query's words, the mean of each word's best form's
score, a score that depends only on the statement and one lexeme (LEXEME_SCORE_SQL). For
each frequent lexeme we keep its CHAMPIONS best statements by that score (ties newest
first, as pages break them) and the list's floor: no statement off the list scores above
it. A statement on none of the query's lists then ranks at most the mean over words of
their forms' highest floor; once a page's worth of candidates ranks above that and above
what the unranked candidates could reach, no other match can outrank them, and the page
is exact (Fagin's threshold algorithm, the lists as sorted access). For one lexeme the
list order is the page order, ties included.

A lexeme in at most CHAMPIONS statements needs no list: all its statements are
candidates. Ingest gives a list to a lexeme that becomes frequent (extend); one that has
none yet (edits outside ingest, until `manage.py rebuild_champions`) leaves no bound, and
the engine ranks otherwise.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from django.db import connections, router, transaction

from ..models import Champion

CHAMPIONS = 500  # statements per list; a lexeme in more statements than this gets one
SLACK = 1e-6  # float4 scores: a candidate this close to the bound is not taken as above it

# Relevance for a query of one lexeme: the score a list is ordered by (a lexeme the
# statement lacks scores the length term alone, at most 0.0001, below every floor).
LEXEME_SCORE_SQL = (
    "ts_rank('{{1,0,0,0}}', {text}, kz_lexeme_query({lexeme}), 1)"  # text: ts_filter(vector, '{{d}}')
    " + 0.0001 * least(length({vector}), 100) / 100.0"
)

# Ties are broken as the page breaks them, newest first: a statement off a list that
# ties with its floor is older than every statement on it.
# Lists are filled by text length, shortest first: a text of n lexemes scores at most
# 1 / log2(n + 1) for any lexeme, so once a lexeme has more than `size` scores above what
# the next, longer tier can reach, its list is final and longer texts are skipped for it.
TIERS = (8, 16, 32, 64, 128, None)

SCORE_TIER_SQL = f"""
INSERT INTO pg_temp.kz_scores (lexeme, statement_id, score, meeting_date, meeting_id, seq)
SELECT t.lexeme, u.id, {LEXEME_SCORE_SQL.format(text="v.d", vector="u.search_vector", lexeme="t.lexeme")},
    u.meeting_date, u.meeting_id, u.seq
FROM pg_temp.kz_length AS l
JOIN transcripts_utterance AS u ON u.id = l.id
CROSS JOIN LATERAL (SELECT ts_filter(u.search_vector, '{{d}}') AS d OFFSET 0) AS v  -- once (ranking.RANKED_FROM)
CROSS JOIN LATERAL unnest(v.d) AS t
JOIN pg_temp.kz_frequent AS f ON f.lexeme = t.lexeme AND f.open
WHERE l.length > %(low)s AND l.length <= %(high)s
"""

CLOSE_SQL = """
UPDATE pg_temp.kz_frequent AS f SET open = false FROM (
    SELECT lexeme FROM pg_temp.kz_scores WHERE score >= %(reach)s GROUP BY lexeme HAVING count(*) > %(size)s
) AS full_list WHERE f.lexeme = full_list.lexeme AND f.open
"""

LISTS_SQL = """
CREATE TEMPORARY TABLE kz_ranked ON COMMIT DROP AS
SELECT lexeme, statement_id, score,
    row_number() OVER (PARTITION BY lexeme ORDER BY score DESC, meeting_date DESC, meeting_id DESC, seq DESC) AS place
FROM pg_temp.kz_scores;
INSERT INTO transcripts_championlist (lexeme, floor, built_at)
SELECT lexeme, score, now() FROM pg_temp.kz_ranked WHERE place = %(size)s + 1;
INSERT INTO transcripts_champion (lexeme, statement_id, score)
SELECT r.lexeme, r.statement_id, r.score FROM pg_temp.kz_ranked AS r
JOIN transcripts_championlist AS l ON l.lexeme = r.lexeme
WHERE r.place <= %(size)s
ORDER BY 1, 2;
"""


def rebuild(size: int = CHAMPIONS, using: str | None = None, log=lambda line: None) -> tuple[int, int]:
    """Make every list afresh from the published statements: (lists, entries).

    The (size + 1)-th best score of a lexeme becomes its floor and leaves the list (those
    before it stay, even when they tie with it: «Спасибо.» scores the same everywhere).
    Writers wait while it runs (a share lock on the statements), so none is missed."""
    using = using or router.db_for_write(Champion)
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("LOCK TABLE transcripts_utterance IN SHARE MODE")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # DELETE, not TRUNCATE: searches keep reading the old lists until this commits.
        cursor.execute("DELETE FROM transcripts_champion")
        cursor.execute("DELETE FROM transcripts_championlist")
        cursor.execute(
            "DROP TABLE IF EXISTS pg_temp.kz_frequent, pg_temp.kz_length, pg_temp.kz_scores, pg_temp.kz_ranked"
        )
        cursor.execute(
            "CREATE TEMPORARY TABLE kz_frequent ON COMMIT DROP AS SELECT word AS lexeme, true AS open FROM ts_stat("
            "'SELECT ts_filter(search_vector, ''{d}'') FROM transcripts_utterance WHERE published')"
            " WHERE ndoc > %s",
            [size],
        )
        cursor.execute("ALTER TABLE pg_temp.kz_frequent ADD PRIMARY KEY (lexeme)")
        cursor.execute(
            "CREATE TEMPORARY TABLE kz_length ON COMMIT DROP AS SELECT id, length(ts_filter(search_vector, '{d}'))"
            " AS length FROM transcripts_utterance WHERE published"
        )
        cursor.execute("CREATE INDEX ON pg_temp.kz_length (length)")
        cursor.execute(
            "CREATE TEMPORARY TABLE kz_scores (lexeme text, statement_id bigint, score double precision,"
            " meeting_date date, meeting_id bigint, seq integer) ON COMMIT DROP"
        )
        low, started = 0, time.perf_counter()
        for high in TIERS:
            cursor.execute("ANALYZE pg_temp.kz_frequent")
            cursor.execute("ANALYZE pg_temp.kz_length")
            cursor.execute(SCORE_TIER_SQL, {"low": low, "high": high if high is not None else 2**31 - 1})
            scored, closed = cursor.rowcount, "the rest"
            if high is not None:
                cursor.execute(CLOSE_SQL, {"reach": 1 / math.log2(high + 2) + 0.0001, "size": size})
                closed = cursor.rowcount
            log(
                f"texts of {low + 1}–{high or '…'} lexemes: {scored} scores, {closed} lists complete,"
                f" {time.perf_counter() - started:.1f} s"
            )
            if high is None:
                break
            low = high
        cursor.execute(LISTS_SQL, {"size": size})
        cursor.execute("SELECT count(*) FROM transcripts_championlist")
        lists = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM transcripts_champion")
        entries = cursor.fetchone()[0]
    return lists, entries


# How many published statements hold a lexeme, counting no further than `limit`: one GIN probe.
HOLDERS_SQL = (
    "(SELECT count(*) FROM (SELECT FROM transcripts_utterance AS u"
    " WHERE u.search_vector @@ kz_lexeme_query({lexeme}) AND u.published LIMIT {limit}) AS few)"
)

TEXT_OF_U = "ts_filter(u.search_vector, '{d}')"
BEST_SQL = f"""
SELECT u.id, {LEXEME_SCORE_SQL.format(text=TEXT_OF_U, vector="u.search_vector", lexeme="%(lexeme)s")} AS score
FROM transcripts_utterance AS u
WHERE u.published AND u.search_vector @@ kz_lexeme_query(%(lexeme)s)
ORDER BY score DESC, u.meeting_date DESC, u.meeting_id DESC, u.seq DESC
LIMIT %(size)s + 1
"""


def extend(meeting_ids: list[int], size: int | None = None, using: str | None = None) -> int:
    """Give a list to each lexeme of these meetings' texts that has none and is now in more
    than `size` published statements (ingest calls this after a run); returns how many.
    Cheap when nothing crossed the line: a GIN probe per lexeme without a list, in one query."""
    if not meeting_ids:
        return 0
    size = size or CHAMPIONS
    using = using or router.db_for_write(Champion)
    made = 0
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        # Writers wait (no statement slips between reading and listing), and so does another
        # run's extend (the lock conflicts with itself): two never list the same lexeme.
        cursor.execute("LOCK TABLE transcripts_utterance IN SHARE ROW EXCLUSIVE MODE")
        from .ranking import plan

        plan(cursor, bitmap=True)
        # One statement: for each of the meetings' lexemes without a list, a GIN probe that
        # stops at size + 1 statements.
        cursor.execute(
            "SELECT x.lexeme FROM (SELECT DISTINCT t.lexeme FROM transcripts_utterance AS u,"
            " unnest(ts_filter(u.search_vector, '{d}')) AS t WHERE u.meeting_id = ANY(%(meetings)s) AND u.published"
            " AND NOT EXISTS (SELECT FROM transcripts_championlist AS l WHERE l.lexeme = t.lexeme)) AS x"
            f" WHERE {HOLDERS_SQL.format(lexeme='x.lexeme', limit='%(size)s + 1')} > %(size)s",
            {"meetings": list(meeting_ids), "size": size},
        )
        for (lexeme,) in cursor.fetchall():
            cursor.execute(BEST_SQL, {"lexeme": lexeme, "size": size})
            *listed, (_floor_id, floor) = cursor.fetchall()
            cursor.executemany(
                "INSERT INTO transcripts_champion (lexeme, statement_id, score) VALUES (%s, %s, %s)"
                " ON CONFLICT (lexeme, statement_id) DO UPDATE SET score = excluded.score",
                [(lexeme, statement, score) for statement, score in listed],
            )
            cursor.execute(
                "INSERT INTO transcripts_championlist (lexeme, floor, built_at) VALUES (%s, %s, now())",
                [lexeme, floor],
            )
            made += 1
    return made


@dataclass
class Lists:
    """What the lists say about a query's words (each a list of its forms' lexemes)."""

    words: list[list[str]]
    floors: dict[str, float]  # lexeme → floor, for lexemes with a list
    small: set[str]  # lexemes in at most CHAMPIONS statements: all their statements are candidates
    unbounded: set[str]  # frequent lexemes with no list: no bound
    entries: dict[int, dict[str, float]] = field(default_factory=dict)  # statement → {lexeme: score}

    @property
    def complete(self) -> bool:
        """Every match is a candidate: each lexeme is in few statements."""
        return not self.floors and not self.unbounded

    @property
    def single(self) -> bool:
        """One word of one lexeme, with a list: candidates in list order are the page's
        order, ties too."""
        return len(self.words) == 1 and len(self.words[0]) == 1 and self.words[0][0] in self.floors

    def bound(self) -> float | None:
        """The most a statement on no list can rank, or None if nothing bounds it. A word
        scores its best form; off the lists a form scores at most its floor, and the
        length term alone (NO_WORD) where the statement lacks it."""
        if self.unbounded:
            return None
        best = [max([self.floors[x] for x in lexemes if x in self.floors] + [NO_WORD]) for lexemes in self.words]
        return sum(best) / max(len(best), 1)

    def optimistic(self, statement: int) -> float:
        """The most this candidate can rank: its known scores, and for each other form
        its floor (a form in few statements: anything)."""
        known = self.entries.get(statement, {})

        def most(lexeme: str) -> float:
            # A form the statement may lack still scores the length term (NO_WORD).
            return known[lexeme] if lexeme in known else max(self.floors.get(lexeme, ANY_SCORE), NO_WORD)

        best = [max(most(x) for x in lexemes) for lexemes in self.words]
        return sum(best) / max(len(best), 1)


NO_WORD = 0.0001  # the length term alone: a statement's score for a word it lacks
ANY_SCORE = 1.0001  # the most one lexeme can score


def read_lists(cursor, words: list[list[str]], where: str, params: list) -> Lists:
    """The lists of the query's words' lexemes, and the candidates they hold."""
    lexemes = sorted({x for forms in words for x in forms})
    from .ranking import plan

    plan(cursor, bitmap=True)  # GIN answers only through bitmaps
    cursor.execute(
        "SELECT lexeme, floor FROM transcripts_championlist WHERE lexeme = ANY(%s)",
        [lexemes],
    )
    floors = dict(cursor.fetchall())
    lists = Lists(words=words, floors=floors, small=set(), unbounded=set())
    unlisted = [x for x in lexemes if x not in floors]
    if unlisted:  # one query for every form without a list
        cursor.execute(
            f"SELECT x, {HOLDERS_SQL.format(lexeme='x', limit='%s')} FROM unnest(%s::text[]) AS x",
            [CHAMPIONS + 1, unlisted],
        )
        for lexeme, holders in cursor.fetchall():
            (lists.small if holders <= CHAMPIONS else lists.unbounded).add(lexeme)
    if floors:
        cursor.execute(
            "SELECT statement_id, lexeme, score FROM transcripts_champion WHERE lexeme = ANY(%s)",
            [list(floors)],
        )
        for statement, lexeme, score in cursor.fetchall():
            lists.entries.setdefault(statement, {})[lexeme] = score
    for lexeme in lists.small:
        cursor.execute(
            f"SELECT u.id FROM transcripts_utterance AS u WHERE {where} AND u.search_vector @@ kz_lexeme_query(%s)",
            [*params, lexeme],
        )
        for (statement,) in cursor.fetchall():
            lists.entries.setdefault(statement, {})
    return lists
