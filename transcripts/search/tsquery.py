"""The user's parsed query as a PostgreSQL tsquery.

Each word is expanded to its inflected forms (syntax.word_forms), and the forms are
turned into lexemes by PostgreSQL itself with the kz_russian configuration, so the
tsquery always matches what the index holds. The text is then cast, never re-parsed:
user text cannot inject tsquery syntax.
"""

from __future__ import annotations

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


def _clauses(parsed: ParsedQuery) -> list[list[tuple[Term, str]]]:
    """Each clause's terms with their tsquery text (terms of stop words left out)."""
    names = proper_names()
    forms = {w: word_forms(w, names) for clause in parsed.clauses for term in clause for w in term.words}
    lexemes = lexemes_of({f for fs in forms.values() for f in fs})

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

    return [[(t, q) for t in clause if (q := term_query(t))] for clause in parsed.clauses]


def build_tsquery(parsed: ParsedQuery) -> str:
    """The tsquery text for a parsed query; raises QueryError if nothing is searchable."""
    clauses, positive = [], False
    for alternatives in _clauses(parsed):
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


def any_term_tsquery(parsed: ParsedQuery) -> str:
    """A tsquery matching any of the query's wanted terms ("" if none): what a person's
    name is tested against for the people shown above the hits."""
    terms = [q for alternatives in _clauses(parsed) for t, q in alternatives if not t.negated]
    return " | ".join(terms)
