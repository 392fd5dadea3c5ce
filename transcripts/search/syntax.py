"""The user's search text as a small syntax tree, and word forms for it.

Pure Python (no Django): web-search syntax and Russian morphology.

* Words are ANDed; "quoted" or «quoted» words are a phrase; OR (or ИЛИ, or |)
  between two terms means either; a leading minus excludes a word or phrase.
* Anything else a user types is plain text: tsquery operators (& ! <-> :*),
  brackets and control characters never reach PostgreSQL as syntax.
* Morphology: each word expands to all its inflected forms (pymorphy3), plus the
  surname paradigm (Токаев, Токаева, Токаеву, Токаевым…) for names, because
  PostgreSQL's Russian stemmer cuts "Токаев" to 'тока' but "Токаева" to 'токаев'.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from ..morphology import analyzer

MAX_QUERY_CHARS = 500
MAX_WORDS = 16
MAX_FORMS = 80

_WORD = re.compile(r"[^\W_]+(?:[-‐][^\W_]+)*")
_TOKEN = re.compile(
    r'(?P<neg>-)?(?P<quote>["«“„])(?P<phrase>[^"»”“]*)["»”“]?|(?P<word>-?[^\W_][^\s"«»“”„]*)|(?P<or>\|)'
)
_OR_WORDS = frozenset({"OR", "ИЛИ"})
# Russian surnames in -ов/-ев/-ёв/-ин/-ын and their case endings.
_SURNAME = re.compile(r"^(?P<base>\w+?(?:ов|ев|ёв|ин|ын))(?:а|у|ым|е|ой|ы|ых|ыми)?$")
_SURNAME_ENDINGS = ("", "а", "у", "ым", "е", "ой", "ы", "ых", "ыми")
_NAME_TAGS = frozenset({"Surn", "Name", "Patr", "Geox", "Orgn"})
_VERB_DERIVED = frozenset({"PRTF", "PRTS", "GRND"})


class QueryError(ValueError):
    """A search text that cannot be used; the message is for the user."""


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # one word, or a phrase
    negated: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    clauses: tuple[tuple[Term, ...], ...]  # AND of ORs
    dropped_words: int = 0  # words past MAX_WORDS

    @property
    def words(self) -> list[str]:
        return [w for clause in self.clauses for term in clause if not term.negated for w in term.words]


def clean_text(text: str) -> str:
    """Strip NUL and other control characters; fold compatibility forms."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") else c for c in text).strip()


def parse_query(text: str) -> ParsedQuery:
    text = clean_text(text or "")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"The query is {len(text)} characters long; at most {MAX_QUERY_CHARS} are allowed.")
    terms: list[Term | str] = []  # "OR" markers between terms
    budget = MAX_WORDS
    dropped = 0
    for match in _TOKEN.finditer(text):
        if match.group("or") or match.group("word") in _OR_WORDS:
            terms.append("OR")
            continue
        if match.group("quote"):
            negated = bool(match.group("neg"))
            words = _WORD.findall(match.group("phrase"))
        else:
            raw = match.group("word")
            negated = raw.startswith("-")
            words = _WORD.findall(raw)
        if not words:
            continue
        if not negated:  # exclusions are always kept: dropping one would widen the results
            if budget <= 0:
                dropped += len(words)
                continue
            dropped += max(0, len(words) - budget)
            words = words[:budget]
            budget -= len(words)
        if len(words) > 1 and not match.group("quote"):
            # "А.Репик" or "10-летие" typed as one token: each part is a word.
            terms.extend(Term((w,), negated) for w in words)
        else:
            terms.append(Term(tuple(words), negated))
    clauses: list[list[Term]] = []
    join_next = False
    for item in terms:
        if item == "OR":
            join_next = bool(clauses)
            continue
        if join_next:
            clauses[-1].append(item)
        else:
            clauses.append([item])
        join_next = False
    return ParsedQuery(tuple(tuple(c) for c in clauses), dropped)


@functools.lru_cache(maxsize=20_000)
def word_forms(word: str, proper_names: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """Every form a reader would expect `word` to find, lower-cased.

    proper_names: lower-case name words the archive knows (speaker names), so
    that a lower-case "назарбаева" is treated as the surname it is.
    """
    lower = word.lower()
    forms = {lower}
    if not re.search(r"[а-яё]", lower):
        return (lower,)
    parses = analyzer().parse(word)
    surname = _SURNAME.match(lower)
    is_name = bool(surname) and (
        surname.group("base") in proper_names
        or (word[:1].isupper() and any("Surn" in p.tag for p in parses))
        or (word[:1].isupper() and not any(p.is_known for p in parses))
    )
    if is_name:
        # "Токаев" also parses as a plural of "токай" (the wine); for a name, only
        # name readings count, plus the surname paradigm itself.
        parses = [p for p in parses if _NAME_TAGS & set(p.tag.grammemes)]
        forms.update(surname.group("base") + ending for ending in _SURNAME_ENDINGS)
    if parses:
        best = parses[0].score
        # Unlikely readings (сталь for "стали") would only add noise.
        for parse in parses:
            if parse.score < 0.2 * best:
                continue
            # A verb's participles and gerunds stem like other words (обсуждённый →
            # 'обсужден' = обсуждение, став → 'став' = ставить): only if typed as such.
            skip = set() if _VERB_DERIVED & parse.tag.grammemes else _VERB_DERIVED
            forms.update(form.word for form in parse.lexeme if not skip & form.tag.grammemes)
    return tuple(sorted(forms, key=lambda f: (f != lower, len(f), f))[:MAX_FORMS])
