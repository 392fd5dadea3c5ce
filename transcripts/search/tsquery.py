"""The user's parsed query as a PostgreSQL tsquery.

Each word is expanded to its inflected forms (syntax.word_forms), and the forms are
turned into lexemes by PostgreSQL itself with the kz_russian configuration, so the
tsquery always matches what the index holds. The text is then cast, never re-parsed:
user text cannot inject tsquery syntax.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from django.db import connections, router
from django.utils.translation import gettext as _

from ..models import TS_CONFIG, Speaker, Utterance
from ..stamp import StampedCache
from .syntax import ParsedQuery, QueryError, Term, word_forms


def read_connection():
    """The connection the archive is read through: a replica for public pages when
    one is configured (kzarchive/routers.py), else the primary."""
    return connections[router.db_for_read(Utterance)]


_lexeme_cache: dict[str, str] = {}


def lexemes_of(forms: set[str]) -> dict[str, str]:
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


# Lower-case words of speakers' names, for the surname paradigm (syntax.word_forms).
speaker_names = StampedCache(_speaker_name_words)


def proper_names() -> frozenset[str]:
    return speaker_names.get()


PAIR = "~"  # joins two adjacent lexemes in phrase_vector (the parser never leaves one in a lexeme)


def quoted(lexeme: str) -> str:
    """A lexeme as tsquery text: quoted, a backslash and a quote doubled as tsquery reads them."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def unquoted(text: str) -> str:
    """The lexeme of one quoted tsquery operand, as PostgreSQL wrote it."""
    return re.sub(r"\\(.)", r"\1", text[1:-1].replace("''", "'"))


def _clauses(parsed: ParsedQuery) -> list[list[tuple[Term, str, str, list[list[str]]]]]:
    """Each clause's terms with their tsquery text, for a phrase of adjacent one-lexeme
    words its pairs over phrase_vector ("" otherwise), and each word's alternatives
    (tsquery texts); terms of stop words are left out."""
    names = proper_names()
    forms = {w: word_forms(w, names) for clause in parsed.clauses for term in clause for w in term.words}
    lexemes = lexemes_of({f for fs in forms.values() for f in fs})

    def word_lexemes(word: str) -> list[str]:
        if not lexemes[word.lower()]:  # the typed word itself is a stop word
            return []
        return sorted({lexemes[f] for f in forms[word] if lexemes[f]})

    def term_query(term: Term) -> tuple[str, str, list[list[str]]]:
        parts, gap, words, adjacent = [], 1, [], True
        for word in term.words:
            alternatives = word_lexemes(word)
            if not alternatives:
                gap += bool(parts)  # a stop word inside a phrase still takes a place
                continue
            if parts:
                parts.append("<->" if gap == 1 else f"<{gap}>")
                adjacent = adjacent and gap == 1
            parts.append("(" + " | ".join(f"({a})" if " " in a else a for a in alternatives) + ")")
            words.append(alternatives)
            gap = 1
        if not parts:
            return "", "", []
        body = " ".join(parts)
        if term.negated:
            return f"!({body})", "", words
        return f"({body})", _pairs(words) if adjacent and len(words) > 1 else "", words

    return [[(t, *made) for t in clause for made in [term_query(t)] if made[0]] for clause in parsed.clauses]


def _pairs(words: list[list[str]]) -> str:
    """Every two neighbours of a phrase as a pair lexeme: ('a~b' | 'a~c') & ('b~d' | …)."""
    if any(" " in a for alternatives in words for a in alternatives):  # a hyphenated word: lexemes in a row
        return ""
    plain = [[unquoted(a) for a in alternatives] for alternatives in words]
    steps = [
        "(" + " | ".join(quoted(x + PAIR + y) for x in left for y in right) + ")"
        for left, right in itertools.pairwise(plain)
    ]
    return " & ".join(steps)


def build_tsquery(parsed: ParsedQuery) -> str:
    """The tsquery text for a parsed query; raises QueryError if nothing is searchable."""
    return _tsquery_text(_clauses(parsed))


def _tsquery_text(clauses: list) -> str:
    joined, positive = [], False
    for alternatives in clauses:
        if not alternatives:
            continue
        positive = positive or any(not t.negated for t, _q, _p, _w in alternatives)
        joined.append(_joined([q for _t, q, _p, _w in alternatives]))
    if not joined:
        raise QueryError(_("The query has no words to search for (very common words such as «и», «в» are skipped)."))
    if not positive:
        raise QueryError(_("Add at least one word to look for; a query cannot consist of exclusions only."))
    return " & ".join(joined)


def _joined(alternatives: list[str]) -> str:
    return f"({' | '.join(alternatives)})" if len(alternatives) > 1 else alternatives[0]


@dataclass(frozen=True)
class IndexedQuery:
    """A parsed query as the search uses it, computed once (engine.search_archive)."""

    text: str  # the whole query: what a match is
    words: str  # over search_vector: the clauses that are not phrases of adjacent words ("" if none)
    pairs: str  # over phrase_vector: those phrases' neighbours, exact for two words ("" if none)
    recheck: bool = False  # a phrase of three words or more: the pairs find candidates, `text` decides
    wanted: tuple[tuple[str, ...], ...] = ()  # each wanted word's lexemes (query_words)
    any_terms: str = ""  # any wanted term: the people a query names (engine.named_people)
    table_counts: TableCounts | None = None  # how LexemeCount gives its counts, if it can
    # Over MeetingLexemes: the wanted words, every phrase's words anywhere in the meeting,
    # the exclusions left out: what a meeting with a match must hold (counting.count_meetings).
    meeting_terms: str = ""
    meetings_exact: bool = False  # any of some words: a meeting holding one has a match


@dataclass(frozen=True)
class TableCounts:
    """A query whose counts LexemeCount gives (counting.count_from_table): the statements
    that hold any of `lexemes` are, by inclusion–exclusion, the sum of each one's
    statements less those of every two, plus those of every three; less, then, the matches
    of any of them and an excluded word. `overlaps`: those intersections as
    (tsquery, sign), read from the matches (GIN alone: no statement's vector is read)."""

    lexemes: tuple[str, ...]
    overlaps: tuple[tuple[str, int], ...] = ()


# At most this many lexemes in all: 6 intersections of two, 4 of three and 1 of four are
# read. For words of four forms at a million («всем», 105,428 matches; «дети», 79,537)
# that took 111 and 107 ms where reading their matches took 238 and 198 ms; weighing each
# statement by the forms it holds, instead, read every shared statement's vector (384 ms).
TABLE_LEXEMES = 4


def _table_counts(clauses: list) -> TableCounts | None:
    """Any of some words (each of any forms), less any excluded words: the shapes whose
    counts are sums of LexemeCount rows less a few read matches."""
    positive = [c for c in clauses if c and not all(t.negated for t, _q, _p, _w in c)]
    if len(positive) != 1:
        return None
    excluded = []
    for clause in clauses:
        if clause is positive[0] or not clause:
            continue
        if len(clause) != 1:  # an OR of exclusions
            return None
        excluded.append(clause[0][1][2:-1])  # "!(body)" → body
    lexemes = set()
    for term, _q, _pairs, words in positive[0]:
        if term.negated or len(words) != 1 or any(" " in a for a in words[0]):  # a phrase, a hyphenated word
            return None
        lexemes.update(unquoted(a) for a in words[0])
    if not 1 <= len(lexemes) <= TABLE_LEXEMES:
        return None
    ordered = tuple(sorted(lexemes))
    overlaps = [
        (" & ".join(quoted(x) for x in both), (-1) ** (k + 1))
        for k in range(2, len(ordered) + 1)
        for both in itertools.combinations(ordered, k)
    ]
    if excluded:
        union = " | ".join(quoted(x) for x in ordered)
        overlaps.append((f"({union}) & ({' | '.join(f'({body})' for body in excluded)})", -1))
    return TableCounts(ordered, tuple(overlaps))


def indexed_query(parsed: ParsedQuery) -> IndexedQuery:
    """Phrases of adjacent words are found through their pairs: a GIN lookup of one
    short list instead of checking the positions of every statement holding both words."""
    clauses = _clauses(parsed)
    text = _tsquery_text(clauses)
    words, pairs, recheck = [], [], False
    for alternatives in clauses:
        if len(alternatives) == 1 and alternatives[0][2]:
            term_pairs = alternatives[0][2]
            pairs.append(term_pairs)
            recheck = recheck or " & " in term_pairs  # three words or more
        elif alternatives:
            words.append(_joined([q for _t, q, _p, _w in alternatives]))
    found = {"wanted": _wanted(clauses), "any_terms": _any_terms(clauses), **_meeting_terms(clauses)}
    if not pairs:
        return IndexedQuery(text, text, "", table_counts=_table_counts(clauses), **found)
    return IndexedQuery(text, " & ".join(words), " & ".join(pairs), recheck, **found)


def _meeting_terms(clauses: list) -> dict:
    """IndexedQuery.meeting_terms and meetings_exact. Positions are not kept there, so a
    phrase (or a hyphenated word's lexemes in a row) asks for its words anywhere."""

    def word(alternatives: list[str]) -> str:
        return _joined([a if " " not in a else "(" + " & ".join(_QUOTED.findall(a)) + ")" for a in alternatives])

    joined = []
    for alternatives in clauses:
        if not alternatives or any(t.negated for t, _q, _p, _w in alternatives):  # an exclusion says nothing here
            continue
        joined.append(_joined([" & ".join(word(w) for w in words) for _t, _q, _p, words in alternatives]))
    present = [c for c in clauses if c]
    exact = len(present) == len(joined) == 1 and all(
        len(w) == 1 and not any(" " in a for a in w[0]) for _t, _q, _p, w in present[0]
    )
    return {"meeting_terms": " & ".join(f"({j})" for j in joined), "meetings_exact": exact}


def _any_terms(clauses: list) -> str:
    """A tsquery matching any of the wanted terms ("" if none): what a person's name is
    tested against for the people shown above the hits."""
    return " | ".join(q for alternatives in clauses for t, q, _p, _w in alternatives if not t.negated)


_QUOTED = re.compile(r"'(?:[^'\\]|''|\\.)*'")


def query_words(parsed: ParsedQuery) -> tuple[tuple[str, ...], ...]:
    """Each wanted word (of every term and phrase) as the lexemes of its forms: what
    relevance scores, a word by its best form (ranking.rank_sql, champions.py)."""
    return _wanted(_clauses(parsed))


def _wanted(clauses: list) -> tuple[tuple[str, ...], ...]:
    found: list[tuple[str, ...]] = []
    for alternatives in clauses:
        for term, _q, _p, words in alternatives:
            if term.negated:
                continue
            for forms in words:
                lexemes = tuple(sorted({unquoted(m) for form in forms for m in _QUOTED.findall(form)}))
                if lexemes and lexemes not in found:
                    found.append(lexemes)
    return tuple(found)
