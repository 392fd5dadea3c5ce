"""Full-text search over utterances: the query, filters, ranking, snippets, facets.

The user's text is parsed (query.py), each word expanded to its inflected forms,
and the forms turned into lexemes by PostgreSQL itself with the kz_russian
configuration, so the tsquery always matches what the index holds. The tsquery
is then cast, never re-parsed: user text cannot inject tsquery syntax.

Work is bounded so a page stays fast at a million utterances:
* up to EXACT_LIMIT matches, counts, facets and relevance are exact;
* above it, counts and facets come from a fixed 0.4% or 2% sample of meetings
  (partial GIN indexes) and are labelled as estimates, and relevance ranks the
  newest RANKED_CANDIDATES matches of that sample; date sorts see every match.
"""

from __future__ import annotations

import datetime as dt
import heapq
import re
from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter

from django.db import OperationalError, connections, router, transaction
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .models import TS_CONFIG, Speaker, Utterance
from .query import ParsedQuery, QueryError, Term, parse_query, word_forms
from .stamp import StampedCache

PAGE_SIZE = 20
EXACT_LIMIT = 1000  # up to this many matches, counts, facets and ranking are exact
RANKED_CANDIDATES = 400  # above it, relevance ranks this many of the sample's matches
# Meetings with id % 250 = 0 and with id % 50 = 0 are 0.4% and 2% cluster samples,
# each with its own partial GIN index (migrations 0003, 0004). The smallest sample
# that holds ENOUGH_SAMPLED matches estimates totals and facets, scaled up.
SAMPLE_MODULI = (250, 50)
ENOUGH_SAMPLED = 120  # matches; the estimate error this allows is measured in the README
DENSE = 0.01  # above this share of all rows matching, date sorts walk the date index
STATEMENT_TIMEOUT_MS = 5000
SNIPPET_WINDOW = 600  # characters of a long text handed to ts_headline
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


# What counting reads of each match, as plain tuples (thousands of them per
# query at a million utterances: no objects). NEWEST sorts them newest first.
MATCH_COLUMNS = "u.id, u.meeting_id, u.speaker_id, u.meeting_date, u.seq"
ID, MEETING, SPEAKER, DATE, SEQ = range(5)
NEWEST = itemgetter(DATE, MEETING, SEQ)


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


def read_connection():
    """The connection the archive is read through: a replica for public pages when
    one is configured (kzarchive/routers.py), else the primary."""
    return connections[router.db_for_read(Utterance)]


# ---------------------------------------------------------------------------
# Building the tsquery

_lexeme_cache: dict[str, str] = {}


def _lexemes(forms: set[str]) -> dict[str, str]:
    """Form → the tsquery kz_russian makes of it: one lexeme, a phrase of lexemes for
    a hyphenated word ('торгово-экономическ' <-> 'торг' <-> 'экономическ', as the
    index holds it), or "" for a stop word. PostgreSQL writes it, so it is safe."""
    missing = [f for f in forms if f not in _lexeme_cache]
    if missing:
        if len(_lexeme_cache) > 200_000:
            _lexeme_cache.clear()
        with read_connection().cursor() as cursor:
            cursor.execute(
                "SELECT f, phraseto_tsquery(%s::regconfig, f)::text FROM unnest(%s::text[]) AS f",
                [TS_CONFIG, missing],
            )
            _lexeme_cache.update(cursor.fetchall())
    return {f: _lexeme_cache[f] for f in forms}


def _speaker_name_words() -> frozenset[str]:
    words = " ".join(Speaker.objects.filter(kind=Speaker.Kind.PERSON).values_list("name", flat=True))
    return frozenset(w.lower() for w in words.replace("-", " ").split() if len(w) > 2)


# Lower-case words of speakers' names, for the surname paradigm (query.word_forms).
_names = StampedCache(_speaker_name_words)


def _proper_names() -> frozenset[str]:
    return _names.get()


def build_tsquery(parsed: ParsedQuery) -> str:
    """The tsquery text for a parsed query; raises QueryError if nothing is searchable."""
    names = _proper_names()
    forms = {w: word_forms(w, names) for clause in parsed.clauses for term in clause for w in term.words}
    lexemes = _lexemes({f for fs in forms.values() for f in fs})

    def word_lexemes(word: str) -> list[str]:
        if not lexemes[word.lower()]:  # the typed word itself is a stop word
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
            parts.append("(" + " | ".join(f"({a})" if " " in a else a for a in alternatives) + ")")
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


def _matches(cursor, where: str, params: list, extra: str = "", limit: int | None = None) -> list[tuple]:
    sql = f"SELECT {MATCH_COLUMNS} FROM transcripts_utterance u WHERE {where} {extra}"
    cursor.execute(sql + (" LIMIT %s" if limit else ""), [*params, limit] if limit else params)
    return cursor.fetchall()


def _count_sample_rows() -> tuple[int, dict[int, float]]:
    """(all utterances, {modulus: scale}). Meetings differ in size, so a scale is
    counted rows over sampled rows, not the modulus."""
    filters = ", ".join(f"count(*) FILTER (WHERE meeting_id % {int(m)} = 0)" for m in SAMPLE_MODULI)
    with read_connection().cursor() as cursor:
        cursor.execute(f"SELECT count(*), {filters} FROM transcripts_utterance")
        rows, *sampled = cursor.fetchone()
    return max(rows, 1), {m: rows / n if n else float(m) for m, n in zip(SAMPLE_MODULI, sampled, strict=True)}


_scales = StampedCache(_count_sample_rows)


def reset_caches() -> None:
    """Forget the speaker names and table counts (they are also recomputed whenever the
    archive's change stamp moves)."""
    _names.clear()
    _scales.clear()


def search(request: SearchRequest) -> SearchResults:
    """Run a search; raises QueryError for unusable text and PageOutOfRange."""
    parsed = parse_query(request.q)
    if not parsed.words:
        raise QueryError(_("Type at least one word to search for."))
    results = SearchResults(request, parsed, build_tsquery(parsed))
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


def _count_and_facets(cursor, results: SearchResults) -> list[tuple]:
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
    results.total = Count(total, estimated)
    results.meetings = Count(min(round(len({m[MEETING] for m in rows}) * scale), total), estimated)
    speakers = Counter(m[SPEAKER] for m in rows if m[SPEAKER] is not None).most_common(12)
    by_id = Speaker.objects.in_bulk([s for s, _n in speakers])
    results.speaker_facets = [(by_id[s], round(n * scale)) for s, n in speakers if s in by_id]
    years = Counter(m[DATE].year for m in rows if m[DATE])
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


def _fetch_hits(cursor, results: SearchResults, candidates: list[tuple]) -> None:
    request = results.request
    if not results.total.value:
        return
    offset = (request.page - 1) * PAGE_SIZE
    if request.sort == "relevance":
        # Rank the exact matches, or the newest of the sample's: bounded work either way.
        limit = RANKED_CANDIDATES if results.ranked_subset else len(candidates)
        candidates = heapq.nlargest(limit, candidates, key=NEWEST)
        cursor.execute(
            "SELECT id, ts_rank(search_vector, %s::tsquery) FROM transcripts_utterance WHERE id = ANY(%s)",
            [results.tsquery, [m[ID] for m in candidates]],
        )
        ranks = dict(cursor.fetchall())
        order = {m[ID]: i for i, m in enumerate(candidates)}  # ties: newest first
        ranked = sorted(ranks, key=lambda i: (-ranks[i], order[i]))[offset : offset + PAGE_SIZE]
        page = [(i, ranks[i]) for i in ranked]
    elif not results.total.estimated:
        ordered = sorted(candidates, key=NEWEST, reverse=request.sort == "newest")
        page = [(m[ID], None) for m in ordered[offset : offset + PAGE_SIZE]]
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


def headlines(cursor, texts: dict[int, str], tsquery: str, *, whole: bool = False) -> dict[int, SafeString]:
    """Escaped text with the query's words in <mark>: a snippet, or the whole text."""
    if not texts:
        return {}
    options = f"StartSel={START}, StopSel={STOP}, " + (
        "HighlightAll=true" if whole else 'MaxWords=40, MinWords=18, MaxFragments=2, FragmentDelimiter=" … "'
    )
    ids = list(texts)
    cursor.execute(
        "SELECT ts_headline(%s::regconfig, translate(t, %s, ''), %s::tsquery, %s)"
        " FROM unnest(%s::text[]) WITH ORDINALITY AS x(t, n) ORDER BY n",
        [TS_CONFIG, START + STOP, tsquery, options, [texts[i] for i in ids]],
    )
    return {i: mark_terms(row[0]) for i, row in zip(ids, cursor.fetchall(), strict=True)}


def snippet_window(text: str, finder: re.Pattern | None, size: int = SNIPPET_WINDOW) -> str:
    """The part of a long text around its first match, for ts_headline to mark up:
    ts_headline parses its whole input, which costs ~1 ms per long transcript."""
    if len(text) <= size:
        return text
    found = finder.search(text.replace("ё", "е").replace("Ё", "Е")) if finder else None
    start = max(0, found.start() - size // 3) if found else 0
    start = text.rfind(" ", 0, start) + 1 if start else 0
    end = text.find(" ", start + size)
    window = text[start : end if end != -1 else len(text)]
    return ("… " if start else "") + window + (" …" if end != -1 else "")


def forms_finder(parsed: ParsedQuery) -> re.Pattern | None:
    """A regex for every form of the query's positive words (ё folded to е)."""
    names = _proper_names()
    forms = {f.replace("ё", "е") for w in parsed.words for f in word_forms(w, names)}
    if not forms:
        return None
    alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def mark_terms(marked: str) -> SafeString:
    """Escape everything, then turn the markers (and only them) into <mark>."""
    return mark_safe(escape(marked).replace(START, "<mark>").replace(STOP, "</mark>"))


# ---------------------------------------------------------------------------
# Did you mean


def suggest(parsed: ParsedQuery, text: str) -> str:
    """The query with unknown words replaced by the closest archive words (pg_trgm)."""
    replacements = {}
    with read_connection().cursor() as cursor:
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
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", better, text)
    return text
