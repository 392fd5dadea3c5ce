"""Running a search: filters, counting, facets, ranking and the page of hits.

Work is bounded so a page stays fast at a million utterances:
* up to EXACT_LIMIT matches, counts, facets and relevance are exact;
* above it, counts and facets come from a fixed 0.4% or 2% sample of meetings
  (partial GIN indexes) and are labelled as estimates, and relevance ranks the
  newest RANKED_CANDIDATES matches of that sample; date sorts see every match.

The SQL here is written by hand, in this one module: the planner must be pinned per
query (we know the match count before it does), and counting reads plain tuples of
thousands of matches, which model instances would make several times slower.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from django.contrib.postgres.search import SearchVector
from django.db import OperationalError, transaction
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from ..models import TS_CONFIG, Speaker, Utterance
from ..stamp import StampedCache
from .highlight import forms_finder, headlines, snippet_window
from .suggest import suggest
from .syntax import ParsedQuery, QueryError, parse_query
from .tsquery import any_term_tsquery, build_tsquery, read_connection, speaker_names

PAGE_SIZE = 20
EXACT_LIMIT = 1000  # up to this many matches, counts, facets and ranking are exact
RANKED_CANDIDATES = 400  # above it, relevance ranks this many of the sample's matches
# Meetings with id % 250 = 0 and with id % 50 = 0 are 0.4% and 2% cluster samples,
# each with its own partial GIN index (migrations 0003, 0004). The smallest sample
# that holds ENOUGH_SAMPLED matches estimates totals and facets, scaled up.
SAMPLE_MODULI = (250, 50)
ENOUGH_SAMPLED = 120  # matches; the estimate error this allows: docs/measurements.md
DENSE = 0.01  # above this share of all rows matching, date sorts walk the date index
STATEMENT_TIMEOUT_MS = 5000
SORTS = ("relevance", "newest", "oldest")

# Relevance. The text decides: how well the statement's own words (weight D, ts_filter)
# match any of the wanted terms (%(any)s), normalised by the statement's length (flag 1,
# as BM25 does). A match of the whole query on the title (B) or the speaker's name (A)
# adds at most 0.012, below any match in a text (one word in 10,000 scores 0.07). Last, at
# most 0.0005 for length, so among name-only matches a name query never opens with «Спасибо.».
RANK_SQL = (
    "ts_rank('{1,0,0,0}', ts_filter(search_vector, '{d}'), %(any)s::tsquery, 1)"
    " + 0.01 * ts_rank('{0,0,1,0}', search_vector, %(q)s::tsquery)"
    " + 0.01 * ts_rank('{0,0,0,1}', search_vector, %(q)s::tsquery)"
    " + 0.0005 * least(length(search_vector), 100) / 100.0"
)


@dataclass(frozen=True)
class SearchRequest:
    q: str
    speakers: tuple[int, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    kind: str = ""
    location: str = ""
    sort: str = "relevance"
    page: int = 1


class Match(NamedTuple):
    """What counting reads of each match: a plain tuple, thousands per query."""

    id: int
    meeting_id: int
    speaker_id: int | None
    meeting_date: dt.date
    seq: int

    def newest_key(self) -> tuple:
        return (self.meeting_date, self.meeting_id, self.seq)


MATCH_COLUMNS = "u.id, u.meeting_id, u.speaker_id, u.meeting_date, u.seq"  # Match's fields, in order


@dataclass(frozen=True)
class Total:
    """A count of matches, exact or estimated from a sample."""

    value: int
    estimated: bool = False


@dataclass
class Hit:
    utterance: Utterance
    snippet: SafeString
    rank: float | None = None


@dataclass
class SearchResults:
    request: SearchRequest
    query: ParsedQuery
    tsquery: str
    total: Total = Total(0)
    meetings: Total = Total(0)
    hits: list[Hit] = field(default_factory=list)
    speaker_facets: list[tuple[Speaker, int]] = field(default_factory=list)
    # People the query names (not roles), with all their statements: shown above the hits.
    people: list[tuple[Speaker, int]] = field(default_factory=list)
    # People the query names (not roles), with all their statements: shown above the hits.
    people: list[tuple[Speaker, int]] = field(default_factory=list)
    year_facets: list[tuple[int, int]] = field(default_factory=list)
    num_pages: int = 0
    ranked_subset: bool = False  # relevance was computed over a sample of the matches
    ranked_candidates: int = RANKED_CANDIDATES
    density: float = 0.0  # share of all utterances that match
    suggestion: str = ""
    timed_out: bool = False

    @property
    def first_index(self) -> int:
        return (self.request.page - 1) * PAGE_SIZE + 1


class PageOutOfRange(LookupError):
    pass


# ---------------------------------------------------------------------------
# Running it


def _where(request: SearchRequest, tsquery: str) -> tuple[str, list]:
    conditions = ["u.published", "u.search_vector @@ %s::tsquery"]
    params: list = [tsquery]
    if request.speakers:
        # coalesce(): checked on the rows GIN finds; a BitmapAnd with the speaker
        # index would read a big speaker's 240,000 entries first.
        conditions.append("coalesce(u.speaker_id, 0) = ANY(%s)")
        params.append(list(request.speakers))
    if request.date_from:
        conditions.append("u.meeting_date >= %s")
        params.append(request.date_from)
    if request.date_to:
        conditions.append("u.meeting_date <= %s")
        params.append(request.date_to)
    meeting_filters = [(col, value) for col, value in (("kind", request.kind), ("location", request.location)) if value]
    if meeting_filters:
        sql = " AND ".join(f"m.{col} = %s" for col, _v in meeting_filters)
        conditions.append(f"u.meeting_id IN (SELECT m.id FROM transcripts_meeting m WHERE {sql})")
        params.extend(v for _c, v in meeting_filters)
    return " AND ".join(conditions), params


def _plan(cursor, *, bitmap: bool) -> None:
    """Pin the plan shape. We know the match count before the planner does: few
    matches → GIN bitmap; many → walk the date index and test each row."""
    on_off = ("off", "on") if bitmap else ("on", "off")
    cursor.execute(
        f"SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = {on_off[0]};"
        f" SET LOCAL enable_bitmapscan = {on_off[1]}"
    )


def _matches(cursor, where: str, params: list, extra: str = "", limit: int | None = None) -> list[Match]:
    sql = f"SELECT {MATCH_COLUMNS} FROM transcripts_utterance u WHERE {where} {extra}"
    cursor.execute(sql + (" LIMIT %s" if limit else ""), [*params, limit] if limit else params)
    return [Match._make(row) for row in cursor.fetchall()]


def _count_sample_rows() -> tuple[int, dict[int, float]]:
    """(all utterances, {modulus: scale}). Meetings differ in size, so a scale is
    counted rows over sampled rows, not the modulus."""
    filters = ", ".join(f"count(*) FILTER (WHERE meeting_id % {int(m)} = 0)" for m in SAMPLE_MODULI)
    with read_connection().cursor() as cursor:
        cursor.execute(f"SELECT count(*), {filters} FROM transcripts_utterance")
        rows, *sampled = cursor.fetchone()
    return max(rows, 1), {m: rows / n if n else float(m) for m, n in zip(SAMPLE_MODULI, sampled, strict=True)}


_scales = StampedCache(_count_sample_rows)


def _count_people_statements() -> dict[int, int]:
    """{person's id: published statements}: the people above the hits and the speaker
    picker (refine.py) both read it, so one GROUP BY serves each archive change."""
    with read_connection().cursor() as cursor:
        cursor.execute(
            "SELECT u.speaker_id, count(*) FROM transcripts_utterance u JOIN transcripts_speaker s"
            " ON s.id = u.speaker_id WHERE u.published AND s.kind = %s GROUP BY u.speaker_id",
            [Speaker.Kind.PERSON],
        )
        return dict(cursor.fetchall())


people_statements = StampedCache(_count_people_statements)
PEOPLE_SHOWN = 3


def named_people(parsed: ParsedQuery) -> list[tuple[Speaker, int]]:
    """The people whose name the query says («Токаева» names Tokayev), most statements first."""
    names_query = any_term_tsquery(parsed)
    if not names_query:
        return []
    people = Speaker.objects.using(read_connection().alias).filter(kind=Speaker.Kind.PERSON)
    named = people.annotate(name_vector=SearchVector("name", config=TS_CONFIG)).filter(name_vector__matches=names_query)
    counts = people_statements.get()
    found = sorted(((p, counts.get(p.id, 0)) for p in named), key=lambda pc: (-pc[1], pc[0].name))
    return [(person, n) for person, n in found if n][:PEOPLE_SHOWN]


def reset_caches() -> None:
    """Forget the speaker names and table counts (they are also recomputed whenever the
    archive's change stamp moves)."""
    speaker_names.clear()
    _scales.clear()
    people_statements.clear()


def search_archive(request: SearchRequest) -> SearchResults:
    """Run a search; raises QueryError for unusable text and PageOutOfRange."""
    parsed = parse_query(request.q)
    if not parsed.words:
        raise QueryError(_("Type at least one word to search for."))
    results = SearchResults(request, parsed, build_tsquery(parsed))
    results.people = named_people(parsed)
    try:
        reader = read_connection()
        with transaction.atomic(using=reader.alias), reader.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {int(STATEMENT_TIMEOUT_MS)}")
            candidates = _count_and_facets(cursor, results)
            _fetch_hits(cursor, results, candidates)
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != "57014":  # query_canceled
            raise
        results.timed_out = True
        results.hits = []
    if not results.total.value and not results.timed_out:
        results.suggestion = suggest(parsed, request.q)
    return results


def _count_and_facets(cursor, results: SearchResults) -> list[Match]:
    """Totals and facets, exact or estimated; returns the matches it read, which
    are the ranking candidates (all of them, or the sample's)."""
    where, params = _where(results.request, results.tsquery)
    _plan(cursor, bitmap=True)
    table_rows, scales = _scales.get()
    for modulus in SAMPLE_MODULI:  # smallest first: a phrase re-reads every candidate's vector
        sample = _matches(cursor, where, params, f"AND u.meeting_id %% {int(modulus)} = 0")
        if len(sample) >= ENOUGH_SAMPLED:
            break
    rows, scale, estimated = sample, scales[modulus], True
    if len(sample) * scale <= 4 * EXACT_LIMIT:
        exact = _matches(cursor, where, params, limit=EXACT_LIMIT + 1)
        if len(exact) <= EXACT_LIMIT:
            rows, scale, estimated = exact, 1, False
        elif not sample:  # the sample missed them all: the rows just read are better than none
            rows, scale = exact, 1
    total = round(len(rows) * scale)
    if estimated:
        total = max(total, EXACT_LIMIT + 1)  # at least that many were seen, or the sample says more
    results.total = Total(total, estimated)
    meetings = round(len({m.meeting_id for m in rows}) * scale)
    if estimated:  # a scaled count can exceed the meetings there are: one long meeting fills a sample
        meetings = min(meetings, _meetings_that_can_match(cursor, results.request))
    results.meetings = Total(min(meetings, total), estimated)
    speakers = Counter(m.speaker_id for m in rows if m.speaker_id is not None).most_common(12)
    by_id = Speaker.objects.in_bulk([s for s, _n in speakers])
    results.speaker_facets = [(by_id[s], round(n * scale)) for s, n in speakers if s in by_id]
    years = Counter(m.meeting_date.year for m in rows if m.meeting_date)
    results.year_facets = sorted((y, round(n * scale)) for y, n in years.items())
    results.density = total / table_rows

    request = results.request
    pageable = total
    if request.sort == "relevance" and estimated:
        pageable = min(total, RANKED_CANDIDATES, len(rows))
        results.ranked_subset = True
    results.num_pages = max(1, -(-pageable // PAGE_SIZE))
    if request.page > results.num_pages:
        raise PageOutOfRange(request.page)
    return rows


def _meetings_that_can_match(cursor, request: SearchRequest) -> int:
    """Published meetings that pass the request's meeting filters (date, kind, place)."""
    conditions, params = ["is_published"], []
    for sql, value in (
        ("date >= %s", request.date_from),
        ("date <= %s", request.date_to),
        ("kind = %s", request.kind),
        ("location = %s", request.location),
    ):
        if value:
            conditions.append(sql)
            params.append(value)
    cursor.execute(f"SELECT count(*) FROM transcripts_meeting WHERE {' AND '.join(conditions)}", params)
    return cursor.fetchone()[0]


def _fetch_hits(cursor, results: SearchResults, candidates: list[Match]) -> None:
    request = results.request
    if not results.total.value:
        return
    offset = (request.page - 1) * PAGE_SIZE
    if request.sort == "relevance":
        # Rank the exact matches, or the newest of the sample's: bounded work either way.
        limit = RANKED_CANDIDATES if results.ranked_subset else len(candidates)
        candidates = heapq.nlargest(limit, candidates, key=Match.newest_key)
        cursor.execute(
            f"SELECT id, {RANK_SQL} FROM transcripts_utterance WHERE id = ANY(%(ids)s)",
            {"q": results.tsquery, "any": any_term_tsquery(results.query), "ids": [m.id for m in candidates]},
        )
        ranks = dict(cursor.fetchall())
        order = {m.id: i for i, m in enumerate(candidates)}  # ties: newest first
        ranked = sorted(ranks, key=lambda i: (-ranks[i], order[i]))[offset : offset + PAGE_SIZE]
        page = [(i, ranks[i]) for i in ranked]
    elif not results.total.estimated:
        ordered = sorted(candidates, key=Match.newest_key, reverse=request.sort == "newest")
        page = [(m.id, None) for m in ordered[offset : offset + PAGE_SIZE]]
    else:
        # Many matches: walking the date index finds a page after ~PAGE_SIZE/density rows.
        where, params = _where(request, results.tsquery)
        _plan(cursor, bitmap=results.density < DENSE)
        cursor.execute(
            f"SELECT u.id FROM transcripts_utterance u WHERE {where}"
            f" ORDER BY {_ORDER[request.sort]} LIMIT %s OFFSET %s",
            [*params, PAGE_SIZE, offset],
        )
        page = [(row[0], None) for row in cursor.fetchall()]
        if not page and request.page > 1:  # the estimate promised more pages than there are
            raise PageOutOfRange(request.page)
    ids = [i for i, _rank in page]
    utterances = Utterance.objects.select_related("meeting", "speaker").in_bulk(ids)
    finder = forms_finder(results.query)
    snippets = headlines(cursor, {i: snippet_window(utterances[i].text, finder) for i in ids}, results.tsquery)
    results.hits = [Hit(utterances[i], snippets[i], rank) for i, rank in page]


_ORDER = {
    "newest": "u.meeting_date DESC, u.meeting_id DESC, u.seq DESC",
    "oldest": "u.meeting_date, u.meeting_id, u.seq",
}
