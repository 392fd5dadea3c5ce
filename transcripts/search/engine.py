"""Running a search: filters, then counts (counting.py) and the page of hits (ranking.py).

At a million statements every part is bounded: counts are exact up to
counting.EXACT_LIMIT matches and estimated from a 10% sample above it; relevance is
over every match (exact ranking of few matches, or the champion lists' bound), and
date sorts see every match. The SQL is written by hand in these modules and champions.py: the
planner must be pinned per query (we know the match count before it does).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchVector
from django.db import OperationalError, transaction
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from ..models import TS_CONFIG, Speaker, Utterance
from ..stamp import StampedCache
from . import counting, latin, ranking
from .counting import Total
from .highlight import forms_finder, headlines, snippet_window
from .ranking import PAGE_SIZE
from .suggest import suggest
from .syntax import ParsedQuery, QueryError, parse_query
from .tsquery import IndexedQuery, indexed_query, read_connection, speaker_names

__all__ = ["PAGE_SIZE", "SearchRequest", "SearchResults", "Total", "search_archive"]

STATEMENT_TIMEOUT_MS = 5000
WORK_MEM = "64MB"  # a GIN bitmap of 300,000 matches stays exact (4MB would make it lossy: every vector re-read)
SORTS = ("relevance", "newest", "oldest")


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
    indexed: IndexedQuery | None = None
    total: Total = counting.NO_MATCHES
    meetings: Total = counting.NO_MATCHES
    hits: list[Hit] = field(default_factory=list)
    speaker_facets: list[tuple[Speaker, int]] = field(default_factory=list)
    # People the query names (not roles), with all their statements: shown above the hits.
    people: list[tuple[Speaker, int]] = field(default_factory=list)
    year_totals: list[tuple[int, Total]] = field(default_factory=list)  # per year, with margins
    num_pages: int = 0
    ranked_subset: bool = False  # relevance is approximate: too many matches, and no bound settled it
    density: float = 0.0  # share of all utterances that match
    suggestion: str = ""
    timed_out: bool = False
    respelled: list[tuple[str, str]] = field(default_factory=list)  # (Latin, Russian): latin.respell

    @property
    def latin_only(self) -> bool:
        """A query in Latin letters only: the page says the texts are Russian."""
        return latin.is_latin_only(self.request.q)

    @property
    def year_facets(self) -> list[tuple[int, int]]:
        return [(year, total.value) for year, total in self.year_totals]

    @property
    def year_margin_percent(self) -> int:
        """The widest margin of a year estimated rather than counted (counting.YEAR_MARGIN)."""
        return math.ceil(round(counting.YEAR_MARGIN * 100, 6))

    @property
    def first_index(self) -> int:
        return (self.request.page - 1) * PAGE_SIZE + 1


class PageOutOfRange(LookupError):
    pass


# ---------------------------------------------------------------------------
# Running it


def _where(request: SearchRequest, query: IndexedQuery | str) -> tuple[str, list]:
    if isinstance(query, str):
        query = IndexedQuery(query, query, "")
    conditions, params = ["u.published"], []
    if query.words:
        conditions.append("u.search_vector @@ %s::tsquery")
        params.append(query.words)
    if query.pairs:
        conditions.append("u.phrase_vector @@ %s::tsquery")
        params.append(query.pairs)
    if query.recheck:  # the function, not the operator: checked on the pairs' candidates, never by index
        conditions.append("ts_match_vq(u.search_vector, %s::tsquery)")
        params.append(query.text)
    if request.speakers:
        # A BitmapAnd of the GIN and speaker indexes: even a speaker of 240,000 statements
        # costs less to read there than visiting every row a common word matches.
        conditions.append("u.speaker_id = ANY(%s)")
        params.append(list(request.speakers))
    if request.date_from:
        conditions.append("u.meeting_date >= %s")
        params.append(request.date_from)
    if request.date_to:
        conditions.append("u.meeting_date <= %s")
        params.append(request.date_to)
    meeting_filters = _meeting_filters(request)
    if meeting_filters:
        ids = _meetings_of(meeting_filters)
        conditions.append(
            "u.meeting_id = ANY(%s::bigint[])" if _list_meetings(query, ids) else "u.meeting_id + 0 = ANY(%s::bigint[])"
        )
        params.append(ids)
    return " AND ".join(conditions), params


# A kind or place is either listed for the statements index, which intersects the words'
# bitmap so that only the matches in those meetings are read, or tested on each match by a
# hash of its meetings (`+ 0` keeps the index out of it). Listing costs about as much per
# meeting as the test does per match over LISTED_PER_MATCH matches. Measured on the bench
# archive: 5,376 meetings, a word of 91,051 matches: 61 ms listed, 150 ms tested; a word of
# 10 matches: 25 ms listed, 3 ms tested; 13,186 meetings: 78 vs 115 ms and 13 vs 4 ms.
# The ids go as bigint[], the column's type: an integer[] is not hashed but searched
# element by element (1.6 s for 34,843 matches in 24,624 meetings, 129 ms hashed).
LISTED_PER_MATCH = 3
FEW_WORD_MATCHES = 2000  # below this many estimated from the 1% sample, the words' matches are counted
_listed_meetings = StampedCache(dict)  # {filters: ids}, emptied when the archive changes


def _meeting_filters(request: SearchRequest) -> tuple[tuple[str, str], ...]:
    """The request's kind and place, as (column, value) pairs."""
    return tuple((col, value) for col, value in (("kind", request.kind), ("location", request.location)) if value)


def _meetings_of(filters: tuple[tuple[str, str], ...], dates: tuple[str, list] = ("", [])) -> list[int]:
    """The ids of the meetings of this kind and place (and, with `dates`, of those dates:
    SQL and its values). Kept per kind and place; a date range is read each time (there
    are too many to keep). Every meeting of them, published or not: a statement is
    published only if its meeting is, and only published ones are searched."""
    dated, listed = bool(dates[0]), _listed_meetings.get()
    if dated or filters not in listed:
        sql = " AND ".join([f"{col} = %s" for col, _v in filters] + ([dates[0]] if dated else []))
        with read_connection().cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM transcripts_meeting WHERE {sql} ORDER BY id", [v for _c, v in filters] + dates[1]
            )
            ids = [row[0] for row in cursor.fetchall()]
        if dated:
            return ids
        listed[filters] = ids
    return listed[filters]


def _list_meetings(query: IndexedQuery, ids: list[int]) -> bool:
    """Whether to list these meetings for the index rather than test each match."""
    return len(ids) * LISTED_PER_MATCH < _word_matches(query)


_word_match_estimates = StampedCache(dict)  # {query: matches}, emptied when the archive changes
WORD_MATCHES_KEPT = 10_000


def _word_matches(query: IndexedQuery) -> float:
    """About how many statements the query's words match, without filters (the 1% sample)."""
    known = _word_match_estimates.get()
    key = (query.words, query.pairs, query.text if query.recheck else "")
    if key not in known:
        if len(known) >= WORD_MATCHES_KEPT:  # bounded: a busy day without archive changes
            known.clear()
        where, params = _where(SearchRequest(q=""), query)
        reader = read_connection()
        with transaction.atomic(using=reader.alias), reader.cursor() as cursor:
            ranking.plan(cursor, bitmap=True)
            sampled = counting.in_sample(where, counting.PROBE)
            cursor.execute(f"SELECT count(*) FROM transcripts_utterance u WHERE {sampled}", params)
            known[key] = cursor.fetchone()[0] * counting.scales.get()[1][counting.PROBE]
            if known[key] < FEW_WORD_MATCHES:  # the sample says too little; reading them costs little
                cursor.execute(f"SELECT count(*) FROM transcripts_utterance u WHERE {where}", params)
                known[key] = cursor.fetchone()[0]
    return known[key]


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


def named_people(names_query: str) -> list[tuple[Speaker, int]]:
    """The people whose name the query says («Токаева» names Tokayev), most statements
    first; names_query is any of its wanted terms (IndexedQuery.any_terms)."""
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
    latin.spellings.clear()
    counting.scales.clear()
    people_statements.clear()
    _listed_meetings.clear()
    _word_match_estimates.clear()


def search_archive(request: SearchRequest) -> SearchResults:
    """Run a search; raises QueryError for unusable text and PageOutOfRange."""
    parsed, respelled = latin.respell(parse_query(request.q))
    if not parsed.words:
        raise QueryError(_("Type at least one word to search for."))
    indexed = indexed_query(parsed)
    results = SearchResults(request, parsed, indexed.text, indexed, respelled=respelled)
    results.people = named_people(indexed.any_terms)
    try:
        reader = read_connection()
        with transaction.atomic(using=reader.alias), reader.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {int(STATEMENT_TIMEOUT_MS)}")
            cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
            _count_and_facets(cursor, results)
            _fetch_hits(cursor, results)
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != "57014":  # query_canceled
            raise
        results.timed_out = True
        results.hits = []
    if not results.total.value and not results.timed_out:
        results.suggestion = suggest(parsed, request.q)
    return results


def _count_and_facets(cursor, results: SearchResults) -> None:
    request = results.request
    where, params = _where(request, results.indexed)
    ranking.plan(cursor, bitmap=True)
    meetings = functools.partial(_meetings_matching, cursor, request, results.indexed)
    counts, table = None, results.indexed.table_counts
    if table and not _filtered(request):
        counts = counting.count_from_table(cursor, table, functools.partial(_where, request), meetings)
    if counts is None:
        counts = counting.count_matches(cursor, where, params, meetings)
    results.total, results.meetings = counts.total, counts.meetings
    top = counts.speakers[:12]
    by_id = Speaker.objects.in_bulk([s for s, _n in top])
    results.speaker_facets = [(by_id[s], n) for s, n in top if s in by_id]
    results.year_totals = counts.years
    results.density = results.total.value / counting.scales.get()[0]
    results.num_pages = max(1, -(-results.total.value // PAGE_SIZE))
    if request.page > results.num_pages:
        raise PageOutOfRange(request.page)


def _filtered(request: SearchRequest) -> bool:
    return bool(request.speakers or request.date_from or request.date_to or request.kind or request.location)


def _meetings_matching(cursor, request: SearchRequest, query: IndexedQuery, total: int) -> Total:
    """The meetings of a search whose statements were not all read (counting.count_meetings):
    exact for any of some words without a speaker, else at most the meetings that hold every
    wanted word (and never more than the matches)."""
    found = counting.count_meetings(cursor, query.meeting_terms, _passing_meetings(request))
    if query.meetings_exact and not request.speakers:
        return Total(found)
    return Total(min(found, total), at_most=True)


def _passing_meetings(request: SearchRequest) -> list[int] | None:
    """The meetings that pass the request's date, kind and place filters (None: no such filter)."""
    dates = [
        (sql, value) for sql, value in (("date >= %s", request.date_from), ("date <= %s", request.date_to)) if value
    ]
    filters = _meeting_filters(request)
    if not dates and not filters:
        return None
    return _meetings_of(filters, (" AND ".join(sql for sql, _v in dates), [v for _s, v in dates]))


def _fetch_hits(cursor, results: SearchResults) -> None:
    request = results.request
    if not results.total.value:
        return
    where, params = _where(request, results.indexed)
    if request.sort == "relevance":
        page, exact = ranking.relevance_page(
            cursor,
            where,
            params,
            results.indexed.wanted,
            total=results.total.value,
            exact_total=not results.total.estimated,
            page=request.page,
        )
        results.ranked_subset = not exact
    else:
        ids = ranking.date_page(cursor, where, params, request.sort, density=results.density, page=request.page)
        page = [(i, None) for i in ids]
    if not page and request.page > 1:  # the estimate promised more pages than there are
        raise PageOutOfRange(request.page)
    ids = [i for i, _rank in page]
    utterances = Utterance.objects.select_related("meeting", "speaker").in_bulk(ids)
    finder = forms_finder(results.query)
    snippets = headlines(cursor, {i: snippet_window(utterances[i].text, finder) for i in ids}, results.tsquery)
    results.hits = [Hit(utterances[i], snippets[i], rank) for i, rank in page]
