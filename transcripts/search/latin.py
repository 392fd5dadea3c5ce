"""Queries in Latin script: an English reader types «Tokayev», and the texts are Russian.

A Latin word that spells a word of a person's name (the directory's name_latin and
latin_aliases, or a transliteration of the Russian name: Tokaev) is searched as that
Russian word: Tokayev → Токаев, Vladimir → Владимир. The page says so.
"""

from __future__ import annotations

import re

from ..models import Speaker, transliterated
from ..stamp import StampedCache
from .syntax import ParsedQuery, Term

_LATIN_WORD = re.compile(r"^[A-Za-z]+(?:[-'][A-Za-z]+)*$")
_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
_NAME_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")  # "В.Путин": В, Путин; "Касым-Жомарт" is one


def _russian_words(name: str, spelling: str) -> list[tuple[str, str]]:
    """(Latin word, Russian word) of one spelling of a name: word by word when they
    have as many words, else first with first and last with last (no patronymic)."""
    latin, russian = _NAME_WORD.findall(spelling), _NAME_WORD.findall(name)
    if not latin or not russian:
        return []
    if len(latin) == len(russian):
        return list(zip(latin, russian, strict=True))
    if len(latin) == 1:
        return [(latin[0], russian[-1])]  # "Tokayev": a surname
    return [(latin[0], russian[0]), (latin[-1], russian[-1])]


def _spellings() -> dict[str, str]:
    found: dict[str, str] = {}
    people = Speaker.objects.filter(kind=Speaker.Kind.PERSON).order_by("id")
    for name, name_latin, aliases in people.values_list("name", "name_latin", "latin_aliases"):
        for spelling in (name_latin, *aliases, transliterated(name)):  # the directory's spellings first
            for latin, russian in _russian_words(name, spelling):
                found.setdefault(latin.lower(), russian)
    return found


# lower-case Latin word → the Russian word of a person's name
spellings = StampedCache(_spellings)


def respell(parsed: ParsedQuery) -> tuple[ParsedQuery, list[tuple[str, str]]]:
    """The query with each Latin name word in Russian, and the (Latin, Russian) pairs."""
    known = spellings.get()
    changes: list[tuple[str, str]] = []

    def russian(word: str) -> str:
        spelled = known.get(word.lower()) if _LATIN_WORD.match(word) else None
        if spelled is None:
            return word
        if (word, spelled) not in changes:
            changes.append((word, spelled))
        return spelled

    clauses = tuple(
        tuple(Term(tuple(russian(w) for w in term.words), term.negated) for term in clause) for clause in parsed.clauses
    )
    return ParsedQuery(clauses, parsed.dropped_words), changes


def is_latin_only(text: str) -> bool:
    """Letters, all of them Latin: a reader who may not know the texts are Russian."""
    return bool(re.search(r"[A-Za-z]", text)) and not _CYRILLIC.search(text)
