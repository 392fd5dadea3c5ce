"""Marking the query's words: snippets for search hits, whole texts on a meeting page.

ts_headline is not a sanitizer: it marks matches with two control characters that
escaped text never contains, and only those become <mark> after escaping.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ..models import TS_CONFIG, Utterance
from .syntax import ParsedQuery, QueryError, parse_query, word_forms
from .tsquery import build_tsquery, proper_names, read_connection

SNIPPET_WINDOW = 600  # characters of a long text handed to ts_headline
START, STOP = "\x02", "\x03"  # headline markers: escaped text never contains them


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
    names = proper_names()
    forms = {f.replace("ё", "е") for w in parsed.words for f in word_forms(w, names)}
    if not forms:
        return None
    alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def mark_terms(marked: str) -> SafeString:
    """Escape everything, then turn the markers (and only them) into <mark>."""
    return mark_safe(escape(marked).replace(START, "<mark>").replace(STOP, "</mark>"))


class Match(NamedTuple):
    seq: int  # which part of the meeting page holds it
    sid: str  # its anchor there


def meeting_matches(meeting, text: str) -> tuple[str, list[Match]] | None:
    """The query's tsquery, and every statement of the meeting that matches it, in
    order, on whichever part of a long transcript; None if the query is unusable."""
    try:
        tsquery = build_tsquery(parse_query(text))
    except QueryError:
        return None
    rows = Utterance.objects.filter(meeting=meeting).matching(tsquery).order_by("seq").values_list("seq", "sid")
    return tsquery, [Match(*row) for row in rows]


def highlight_meeting(meeting, utterances, tsquery: str, matching_seqs: list[int]) -> None:
    """Mark the query's words on the statements of one meeting page.

    Each matching utterance gets .highlighted (its whole text, marked) and
    .highlighted_speaker (the speaker's name, marked): a statement can match by
    who spoke it. The meeting gets .highlighted_title, since titles count too.
    """
    wanted = set(matching_seqs)
    matching = [u for u in utterances if u.seq in wanted]
    with read_connection().cursor() as cursor:
        texts = headlines(cursor, {u.id: u.text for u in matching}, tsquery, whole=True)
        names = headlines(cursor, {u.id: u.speaker.name for u in matching if u.speaker}, tsquery, whole=True)
        title = headlines(cursor, {meeting.id: meeting.title}, tsquery, whole=True)
    for u in matching:
        u.highlighted = texts[u.id]
        u.highlighted_speaker = names.get(u.id, "")
    meeting.highlighted_title = title[meeting.id]
