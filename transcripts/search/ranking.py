"""The page of hits: by relevance over every match, or by date.

Relevance is rank_sql(). A page is exact when
- every match is ranked (at most RANK_ALL matches, counted exactly), or
- the champion lists bound every statement they do not hold (champions.py) and a
  page's worth of their candidates ranks above that bound.
Otherwise (a big match set the lists cannot bound, as a phrase of two common words)
the page ranks the lists' candidates and the 1% sample's matches: an approximation
the page says it is, and bench/shapes.py measures.
"""

from __future__ import annotations

from . import champions, counting
from .tsquery import quoted

PAGE_SIZE = 20
RANK_ALL = 1500  # up to this many matches, rank them all (~15 µs each: read and rank the vector)
BATCH = 100  # candidates ranked per round, best bound first
APPROXIMATE_SAMPLE = 1000  # the newest of the 10% sample's matches, ranked when nothing bounds the rest

# Relevance. The text decides: for each wanted word, how well the statement's own words
# (weight D, ts_filter) match its best form (ts_rank of one lexeme, flag 1: normalised by
# the text's length, as BM25 does), averaged over the words. A match on the speaker's name
# or the title alone scores 0 there, below any match in a text (one word in 10,000 scores
# 0.04). Last, a length term of at most 0.0001, so among name-only matches a name query
# never opens with «Спасибо.». Every part depends on the statement and one lexeme at a
# time (champions.LEXEME_SCORE_SQL), which the champion lists rely on.
LENGTH_SQL = "0.0001 * least(length({vector}), 100) / 100.0"
# The statement with its text part, for rank_sql: FROM RANKED_FROM WHERE … OFFSET 0 keeps
# the planner from inlining t.d into each ts_rank call: the vector is read (detoasted) and
# filtered once per statement, not once per form of every word (3× faster for 4 forms).
RANKED_FROM = "transcripts_utterance u CROSS JOIN LATERAL (SELECT ts_filter(u.search_vector, '{d}') AS d OFFSET 0) AS t"


def rank_sql(words: list[list[str]]) -> tuple[str, list[str]]:
    """The relevance of a query whose words have these lexemes (tsquery.query_words), and
    its parameters: one lexeme each, in order. Reads `t.d` of RANKED_FROM."""
    parts, params = [], []
    for lexemes in words:
        calls = ["ts_rank('{1,0,0,0}', t.d, %s::tsquery, 1)"] * len(lexemes)
        params += [quoted(lexeme) for lexeme in lexemes]
        parts.append(calls[0] if len(calls) == 1 else f"greatest({', '.join(calls)})")
    text = f"({' + '.join(parts)}) / {len(parts)}" if parts else "0"
    return f"{text} + {LENGTH_SQL.format(vector='u.search_vector')}", params


NEWEST = "u.meeting_date DESC, u.meeting_id DESC, u.seq DESC"
ORDER = {"newest": NEWEST, "oldest": "u.meeting_date, u.meeting_id, u.seq"}
DENSE = 0.01  # above this share of all rows matching, date sorts walk the date index


def exact_top(cursor, where: str, params: list, words, *, limit: int, offset: int = 0) -> list[int]:
    """The naive exact answer: every match ranked, the top taken (words: IndexedQuery.wanted).
    Tests and bench/shapes.py check pages against it; the engine does it only for few
    matches (_rank_all)."""
    sql, rank_params = rank_sql(words)
    cursor.execute(
        f"SELECT u.id FROM {RANKED_FROM} WHERE {where} ORDER BY {sql} DESC, {NEWEST} LIMIT %s OFFSET %s",
        [*params, *rank_params, limit, offset],
    )
    return [row[0] for row in cursor.fetchall()]


def plan(cursor, *, bitmap: bool) -> None:
    """Pin the plan shape. We know the match count before the planner does: few
    matches → GIN bitmap; many → walk an index and test each row."""
    on_off = ("off", "on") if bitmap else ("on", "off")
    cursor.execute(
        f"SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = {on_off[0]};"
        f" SET LOCAL enable_bitmapscan = {on_off[1]}"
    )


def relevance_page(cursor, where: str, params: list, words, *, total: int, exact_total: bool, page: int):
    """[(id, rank)] for the page, and whether it is exact (words: IndexedQuery.wanted)."""
    offset, need = (page - 1) * PAGE_SIZE, page * PAGE_SIZE
    rank = rank_sql(words)
    if exact_total and total <= RANK_ALL:
        return _rank_all(cursor, where, params, rank, offset), True
    lists = champions.read_lists(cursor, words, where, params)
    bound = lists.bound()
    pending = sorted(lists.entries, key=lambda s: -lists.optimistic(s))
    ranked: dict[int, tuple] = {}
    batch_size = max(need + need // 2, BATCH)
    while pending:
        batch, pending = pending[:batch_size], pending[batch_size:]
        batch_size *= 2
        ranked.update(_rank_ids(cursor, where, params, rank, batch))
        best = sorted(ranked.values(), reverse=True)[:need]
        if bound is None or len(best) < need:
            continue
        rest = lists.optimistic(pending[0]) if pending else 0.0
        if _settled(best[-1][0], bound, rest, single=lists.single):
            return [(i, r) for r, _key, i in best[offset:]], True
    if lists.complete:  # every match was a candidate
        best = sorted(ranked.values(), reverse=True)
        return [(i, r) for r, _key, i in best[offset:need]], True
    if exact_total and total <= 4 * RANK_ALL:  # the lists did not settle it; still affordable
        return _rank_all(cursor, where, params, rank, offset), True
    # Approximate: the candidates and a sample of the rest.
    plan(cursor, bitmap=True)
    cursor.execute(
        f"SELECT u.id FROM transcripts_utterance u WHERE {counting.in_sample(where)} ORDER BY {NEWEST} LIMIT %s",
        [*params, min(max(APPROXIMATE_SAMPLE, 2 * need), 20 * APPROXIMATE_SAMPLE)],
    )
    sampled = [row[0] for row in cursor.fetchall() if row[0] not in ranked]
    ranked.update(_rank_ids(cursor, where, params, rank, sampled, checked=True))
    best = sorted(ranked.values(), reverse=True)
    return [(i, r) for r, _key, i in best[offset:need]], False


def _settled(last: float, bound: float, rest: float, *, single: bool) -> bool:
    """Whether the page's last hit outranks every statement off the lists (bound) and
    every candidate not yet ranked (rest). For one lexeme, a statement off its list that
    ties with the floor is older than those on it, so ties with the bound are settled."""
    above_bound = last >= bound - champions.SLACK if single else last > bound + champions.SLACK
    return above_bound and last > rest + champions.SLACK


def _rank_all(cursor, where: str, params: list, rank: tuple, offset: int) -> list[tuple[int, float]]:
    plan(cursor, bitmap=True)
    sql, rank_params = rank
    cursor.execute(
        f"SELECT u.id, {sql} AS rank FROM {RANKED_FROM} WHERE {where} ORDER BY rank DESC, {NEWEST} LIMIT %s OFFSET %s",
        [*rank_params, *params, PAGE_SIZE, offset],
    )
    return cursor.fetchall()


def _rank_ids(cursor, where: str, params: list, rank: tuple, ids: list[int], checked: bool = False) -> dict:
    """{id: (rank, date key, id)} for those of ids that match (checked: known to)."""
    if not ids:
        return {}
    plan(cursor, bitmap=False)
    sql, rank_params = rank
    condition = "u.id = ANY(%s)" if checked else f"u.id = ANY(%s) AND {where}"
    cursor.execute(
        f"SELECT u.id, {sql}, u.meeting_date, u.meeting_id, u.seq FROM {RANKED_FROM} WHERE {condition}",
        [*rank_params, ids] + ([] if checked else params),
    )
    return {i: (rank, (date, meeting, seq), i) for i, rank, date, meeting, seq in cursor.fetchall()}


def date_page(cursor, where: str, params: list, sort: str, *, density: float, page: int) -> list[int]:
    """Ids of the page by date: a bitmap of every match, sorted, when matches are few;
    else a walk of the date index, which finds a page after ~PAGE_SIZE / density rows."""
    plan(cursor, bitmap=density < DENSE)
    cursor.execute(
        f"SELECT u.id FROM transcripts_utterance u WHERE {where} ORDER BY {ORDER[sort]} LIMIT %s OFFSET %s",
        [*params, PAGE_SIZE, (page - 1) * PAGE_SIZE],
    )
    return [row[0] for row in cursor.fetchall()]
