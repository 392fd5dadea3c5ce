"""Full-text search over utterances: the query, filters, ranking, snippets, facets.

The user's text is parsed (query.py), each word expanded to its inflected forms,
and the forms turned into lexemes by PostgreSQL itself with the kz_russian
configuration, so the tsquery always matches what the index holds. The tsquery
is then cast, never re-parsed: user text cannot inject tsquery syntax.

Work is bounded so a page stays fast at a million utterances:
* up to EXACT_LIMIT matches, counts, facets and relevance are exact;
* above it, counts and facets come from a table sample and are labelled as
  estimates, and relevance ranks the RANKED_CANDIDATES newest matches.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field

from django.db import OperationalError, connection, transaction
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .models import TS_CONFIG, Speaker, Utterance
from .query import ParsedQuery, QueryError, Term, parse_query, word_forms

PAGE_SIZE = 20
EXACT_LIMIT = 1000
RANKED_CANDIDATES = 2000
SAMPLE_ROWS = 40_000  # rows a sample reads when a query matches too many to count
STATEMENT_TIMEOUT_MS = 5000
SORTS = ("relevance", "newest", "oldest")
START, STOP = "\x02", "\x03"  # headline markers: escaped text never contains them


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


@dataclass(frozen=True)
class Count:
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
    total: Count = Count(0)
    meetings: Count = Count(0)
    hits: list[Hit] = field(default_factory=list)
    speaker_facets: list[tuple[Speaker, int]] = field(default_factory=list)
    year_facets: list[tuple[int, int]] = field(default_factory=list)
    num_pages: int = 0
    ranked_subset: bool = False  # relevance was computed over the newest matches only
    suggestion: str = ""
    timed_out: bool = False
    elapsed_ms: float = 0.0

    @property
    def first_index(self) -> int:
        return (self.request.page - 1) * PAGE_SIZE + 1


class PageOutOfRange(LookupError):
    pass


# ---------------------------------------------------------------------------
# Building the tsquery

_lexeme_cache: dict[str, str | None] = {}


def _lexemes(forms: set[str]) -> dict[str, str | None]:
    """Form → the lexeme kz_russian indexes it as (None for a stop word)."""
    missing = [f for f in forms if f not in _lexeme_cache]
    if missing:
        if len(_lexeme_cache) > 200_000:
            _lexeme_cache.clear()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT f, (SELECT lexeme FROM unnest(to_tsvector(%s::regconfig, f)) ORDER BY positions[1] LIMIT 1)"
                " FROM unnest(%s::text[]) AS f",
                [TS_CONFIG, missing],
            )
            _lexeme_cache.update(cursor.fetchall())
    return {f: _lexeme_cache[f] for f in forms}


_names_cache: tuple[float, frozenset[str]] = (0.0, frozenset())


def _proper_names() -> frozenset[str]:
    """Lower-case words of speakers' names, refreshed every five minutes."""
    global _names_cache
    loaded_at, names = _names_cache
    if time.monotonic() - loaded_at > 300:
        words = " ".join(Speaker.objects.filter(kind=Speaker.Kind.PERSON).values_list("name", flat=True))
        names = frozenset(w.lower() for w in words.replace("-", " ").split() if len(w) > 2)
        _names_cache = (time.monotonic(), names)
    return names


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def build_tsquery(parsed: ParsedQuery) -> str:
    """The tsquery text for a parsed query; raises QueryError if nothing is searchable."""
    names = _proper_names()
    forms = {w: word_forms(w, names) for clause in parsed.clauses for term in clause for w in term.words}
    lexemes = _lexemes({f for fs in forms.values() for f in fs})

    def word_lexemes(word: str) -> list[str]:
        if lexemes[word.lower()] is None:  # the typed word itself is a stop word
            return []
        return sorted({lexemes[f] for f in forms[word] if lexemes[f]})

    def term_query(term: Term) -> str:
        parts, gap = [], 1
        for word in term.words:
            alternatives = word_lexemes(word)
            if not alternatives:
                gap += bool(parts)  # a stop word inside a phrase still takes a place
                continue
            if parts:
                parts.append("<->" if gap == 1 else f"<{gap}>")
            parts.append("(" + " | ".join(map(_quote, alternatives)) + ")")
            gap = 1
        if not parts:
            return ""
        body = " ".join(parts)
        return f"!({body})" if term.negated else f"({body})"

    clauses, positive = [], False
    for clause in parsed.clauses:
        alternatives = [(t, q) for t in clause if (q := term_query(t))]
        if not alternatives:
            continue
        positive = positive or any(not t.negated for t, _q in alternatives)
        joined = " | ".join(q for _t, q in alternatives)
        clauses.append(f"({joined})" if len(alternatives) > 1 else joined)
    if not clauses:
        raise QueryError(_("The query has no words to search for (very common words such as «и», «в» are skipped)."))
    if not positive:
        raise QueryError(_("Add at least one word to look for; a query cannot consist of exclusions only."))
    return " & ".join(clauses)


# ---------------------------------------------------------------------------
# Running it


def _where(request: SearchRequest, tsquery: str) -> tuple[str, list]:
    conditions = ["u.published", "u.search_vector @@ %s::tsquery"]
    params: list = [tsquery]
    if request.speakers:
        conditions.append("u.speaker_id = ANY(%s)")
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


def _table_rows(cursor) -> float:
    cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'transcripts_utterance'::regclass")
    return max(cursor.fetchone()[0], 1.0)


def search(request: SearchRequest) -> SearchResults:
    """Run a search; raises QueryError for unusable text and PageOutOfRange."""
    started = time.perf_counter()
    parsed = parse_query(request.q)
    if not parsed.words:
        raise QueryError(_("Type at least one word to search for."))
    results = SearchResults(request, parsed, build_tsquery(parsed))
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {int(STATEMENT_TIMEOUT_MS)}")
            _count_and_facets(cursor, results)
            _fetch_hits(cursor, results)
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != "57014":  # query_canceled
            raise
        results.timed_out = True
        results.hits = []
    if not results.total.value and not results.timed_out:
        results.suggestion = suggest(parsed, request.q)
    results.elapsed_ms = (time.perf_counter() - started) * 1000
    return results


def _count_and_facets(cursor, results: SearchResults) -> None:
    where, params = _where(results.request, results.tsquery)
    columns = "u.meeting_id, u.speaker_id, extract(year FROM u.meeting_date)::int"
    cursor.execute(f"SELECT {columns} FROM transcripts_utterance u WHERE {where} LIMIT %s", [*params, EXACT_LIMIT + 1])
    rows = cursor.fetchall()
    scale, estimated = 1.0, len(rows) > EXACT_LIMIT
    if estimated:
        percent = min(100.0, 100.0 * SAMPLE_ROWS / _table_rows(cursor))
        sample = f"transcripts_utterance u TABLESAMPLE SYSTEM ({percent:.4f}) REPEATABLE (17)"
        cursor.execute(f"SELECT {columns} FROM {sample} WHERE {where}", params)
        rows, scale = cursor.fetchall(), 100.0 / percent
    total = round(len(rows) * scale)
    meetings = round(len({r[0] for r in rows}) * scale)
    if estimated:
        total = max(total, EXACT_LIMIT + 1)  # we counted that many for certain
        meetings = min(max(meetings, 1), total)
    results.total = Count(total, estimated)
    results.meetings = Count(meetings, estimated)
    speakers = Counter(r[1] for r in rows if r[1] is not None).most_common(12)
    by_id = Speaker.objects.in_bulk([s for s, _n in speakers])
    results.speaker_facets = [(by_id[s], round(n * scale)) for s, n in speakers if s in by_id]
    results.year_facets = sorted((y, round(n * scale)) for y, n in Counter(r[2] for r in rows if r[2]).items())
    request = results.request
    pageable = total
    if request.sort == "relevance" and estimated:
        pageable = min(total, RANKED_CANDIDATES)
        results.ranked_subset = True
    results.num_pages = max(1, -(-pageable // PAGE_SIZE))
    if request.page > results.num_pages:
        raise PageOutOfRange(request.page)


_ORDER = {
    "newest": "u.meeting_date DESC, u.meeting_id DESC, u.seq DESC",
    "oldest": "u.meeting_date, u.meeting_id, u.seq",
}


def _fetch_hits(cursor, results: SearchResults) -> None:
    request = results.request
    if not results.total.value:
        return
    where, params = _where(request, results.tsquery)
    offset = (request.page - 1) * PAGE_SIZE
    if request.sort == "relevance":
        rank = "ts_rank(u.search_vector, %s::tsquery)"
        source = f"transcripts_utterance u WHERE {where}"
        if results.ranked_subset:
            source = (
                f"(SELECT u.* FROM transcripts_utterance u WHERE {where}"
                f" ORDER BY {_ORDER['newest']} LIMIT {RANKED_CANDIDATES}) u"
            )
        sql = f"SELECT u.id, {rank} AS rank FROM {source} ORDER BY rank DESC, {_ORDER['newest']} LIMIT %s OFFSET %s"
        params = [results.tsquery, *params, PAGE_SIZE, offset]
    else:
        sql = (
            f"SELECT u.id, NULL FROM transcripts_utterance u WHERE {where}"
            f" ORDER BY {_ORDER[request.sort]} LIMIT %s OFFSET %s"
        )
        params = [*params, PAGE_SIZE, offset]
    cursor.execute(sql, params)
    ranked = cursor.fetchall()
    snippets = headlines(cursor, [i for i, _r in ranked], results.tsquery)
    utterances = Utterance.objects.select_related("meeting", "speaker").in_bulk([i for i, _r in ranked])
    results.hits = [Hit(utterances[i], snippets[i], r) for i, r in ranked]


def headlines(cursor, ids: list[int], tsquery: str, *, whole: bool = False) -> dict[int, SafeString]:
    """Escaped text with the query's words in <mark>; a snippet, or the whole text."""
    if not ids:
        return {}
    options = f"StartSel={START}, StopSel={STOP}, " + (
        "HighlightAll=true" if whole else 'MaxWords=40, MinWords=18, MaxFragments=2, FragmentDelimiter=" … "'
    )
    cursor.execute(
        "SELECT id, ts_headline(%s::regconfig, translate(text, %s, ''), %s::tsquery, %s)"
        " FROM transcripts_utterance WHERE id = ANY(%s)",
        [TS_CONFIG, START + STOP, tsquery, options, ids],
    )
    return {i: mark_terms(text) for i, text in cursor.fetchall()}


def mark_terms(marked: str) -> SafeString:
    """Escape everything, then turn the markers (and only them) into <mark>."""
    return mark_safe(escape(marked).replace(START, "<mark>").replace(STOP, "</mark>"))


# ---------------------------------------------------------------------------
# Did you mean


def suggest(parsed: ParsedQuery, text: str) -> str:
    """The query with unknown words replaced by the closest archive words (pg_trgm)."""
    replacements = {}
    with connection.cursor() as cursor:
        for word in dict.fromkeys(parsed.words):
            lower = word.lower()
            if len(lower) < 3 or not lower.replace("-", "").isalpha():
                continue
            cursor.execute("SELECT 1 FROM transcripts_vocabularyword WHERE word = %s", [lower])
            if cursor.fetchone():
                continue
            cursor.execute(
                "SELECT word FROM transcripts_vocabularyword WHERE word %% %s"
                " ORDER BY similarity(word, %s) DESC, frequency DESC, word LIMIT 1",
                [lower, lower],
            )
            row = cursor.fetchone()
            if row:
                replacements[word] = row[0].capitalize() if word[:1].isupper() else row[0]
    if not replacements:
        return ""
    for word, better in replacements.items():
        text = text.replace(word, better)
    return text
