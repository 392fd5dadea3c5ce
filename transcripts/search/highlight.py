"""Marking the query's words: snippets for search hits, whole texts on a meeting page.

ts_headline is not a sanitizer: it marks matches with two control characters that
escaped text never contains, and only those become <mark> after escaping.

Snippets are cut here rather than by ts_headline, whose fragments may start at any
token (the second half of «Касым-Жомарт») and never say where they cut: the window
around the place holding most of the query's terms, cut at word boundaries (at a
sentence's start or end when one is near), «…» at each cut. ts_headline marks the
window's words one by one; a phrase's marks are then merged into one.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ..models import TS_CONFIG, Utterance
from . import latin
from .syntax import ParsedQuery, QueryError, parse_query, word_forms
from .tsquery import build_tsquery, lexemes_of, proper_names, read_connection

SNIPPET_CHARS = 300  # about 40 words of Russian
MAX_OCCURRENCES = 200  # of the query's terms, read per text to place the window
WORD_SLACK = 40  # how far a cut looks for a space before it must split a long token
START, STOP = "\x02", "\x03"  # headline markers: escaped text never contains them
ELLIPSIS = "…"

Span = tuple[int, int]
_SENTENCE_START = re.compile(r"[.!?…][»\")]*\s+(?=\S)")  # ends where a sentence starts
_SENTENCE_END = re.compile(r"[.!?…][»\")]*(?=\s)")
_BETWEEN = r"[\W_]+"  # what may stand between a phrase's words


class Window(str):
    """A snippet's text before marking, knowing where the query's phrases occur in it
    and where their words stand alone (those are left unmarked)."""

    phrases: tuple[Span, ...] = ()
    loose: tuple[Span, ...] = ()


def headlines(cursor, texts: dict[int, str], tsquery: str) -> dict[int, SafeString]:
    """Each text escaped, with the query's words in <mark>: a snippet's Window or a
    whole text, marked throughout."""
    if not texts:
        return {}
    ids = list(texts)
    cursor.execute(
        "SELECT ts_headline(%s::regconfig, translate(t, %s, ''), %s::tsquery, %s)"
        " FROM unnest(%s::text[]) WITH ORDINALITY AS x(t, n) ORDER BY n",
        [
            TS_CONFIG,
            START + STOP,
            tsquery,
            f"StartSel={START}, StopSel={STOP}, HighlightAll=true",
            [str(texts[i]) for i in ids],
        ],
    )
    marked = [row[0] for row in cursor.fetchall()]
    return {i: mark_terms(merge_phrases(m, texts[i])) for i, m in zip(ids, marked, strict=True)}


def mark_terms(marked: str) -> SafeString:
    """Escape everything, then turn the markers (and only them) into <mark>."""
    return mark_safe(escape(marked).replace(START, "<mark>").replace(STOP, "</mark>"))


# ---------------------------------------------------------------------------
# Where the query occurs in a text


def _fold(text: str) -> str:
    return text.replace("ё", "е").replace("Ё", "Е")  # the same length: offsets stay


def _alternatives(forms) -> str:
    """Any of the forms; any one word for none (a stop word: the index keeps only its place)."""
    folded = sorted({_fold(f) for f in forms}, key=len, reverse=True)
    return "(?:" + "|".join(re.escape(f) for f in folded) + ")" if folded else r"[^\W_]+"


class Finder:
    """The query's wanted terms in a text: a word in any of its forms; a phrase as its
    words in order, only spaces or punctuation between them, as PostgreSQL reads it."""

    def __init__(self, terms: list[tuple[tuple[str, ...], ...]]):
        """terms: each term's words, each word as its forms (lower case; none for a
        stop word inside a phrase)."""
        self.terms = list(dict.fromkeys(terms))
        self.phrases = frozenset(i for i, words in enumerate(self.terms) if len(words) > 1)
        # A phrase's words stand alone where no occurrence holds them; a word also
        # wanted by itself is marked wherever it stands.
        single = {words[0] for words in self.terms if len(words) == 1}
        loose = {w for i in self.phrases for w in self.terms[i] if w and w not in single}
        # Phrases first: where a phrase and a word of it both start, the phrase wins.
        order = sorted(range(len(self.terms)), key=lambda i: i not in self.phrases)
        groups = (f"(?P<t{i}>{_BETWEEN.join(_alternatives(w) for w in self.terms[i])})" for i in order)
        self.pattern = re.compile(rf"(?<!\w)(?:{'|'.join(groups)})(?!\w)", re.IGNORECASE)
        self.loose = (
            re.compile(rf"(?<!\w){_alternatives(f for w in loose for f in w)}(?!\w)", re.IGNORECASE) if loose else None
        )

    def occurrences(self, text: str) -> list[tuple[int, int, int]]:
        """(start, end, term) of the first MAX_OCCURRENCES occurrences, in order."""
        found = []
        for match in self.pattern.finditer(_fold(text)):
            found.append((match.start(), match.end(), int(match.lastgroup[1:])))
            if len(found) == MAX_OCCURRENCES:
                break
        return found


def forms_finder(parsed: ParsedQuery) -> Finder | None:
    """A Finder for every form of the query's wanted words and phrases. Stop words are
    left out as the tsquery leaves them (inside a phrase, any word stands in)."""
    names = proper_names()
    wanted = [term.words for clause in parsed.clauses for term in clause if not term.negated]
    stop = _stop_words({w for words in wanted for w in words})
    terms = []
    for words in wanted:
        forms = [() if w.lower() in stop else word_forms(w, names) for w in words]
        while forms and not forms[0]:
            forms.pop(0)
        while forms and not forms[-1]:
            forms.pop()
        if forms:
            terms.append(tuple(forms))
    return Finder(terms) if terms else None


def _stop_words(words: set[str]) -> set[str]:
    """Those of the words (lower-cased) that kz_russian does not index. build_tsquery has
    just asked PostgreSQL about these very words: its cache answers."""
    lexemes = lexemes_of({w.lower() for w in words})
    return {w for w, lexeme in lexemes.items() if not lexeme}


# ---------------------------------------------------------------------------
# The window


def snippet_window(text: str, finder: Finder | None, size: int = SNIPPET_CHARS) -> Window:
    """The part of a text to show for a hit, cut at word boundaries with «…» at each
    cut, around the place that holds the most of the query's terms."""
    text = text.replace(START, "").replace(STOP, "")  # as headlines() does: offsets stay true
    start, end = 0, len(text)
    if len(text) > size:
        start, end = _cut(text, _best_place(finder.occurrences(text) if finder else [], size), size)
    body = text[start:end].strip()
    prefix = f"{ELLIPSIS} " if text[:start].strip() else ""
    suffix = f" {ELLIPSIS}" if text[end:].strip() else ""
    window = Window(prefix + body + suffix)
    if finder:
        shift = len(prefix)
        found = [(s + shift, e + shift, t) for s, e, t in finder.occurrences(body)]
        window.phrases = tuple((s, e) for s, e, t in found if t in finder.phrases)
        if window.phrases and finder.loose:
            spans = ((m.start() + shift, m.end() + shift) for m in finder.loose.finditer(_fold(body)))
            window.loose = tuple(s for s in spans if not any(_overlap(s, p) for p in window.phrases))
    return window


def _best_place(found: list[tuple[int, int, int]], size: int) -> Span:
    """The occurrence that starts the stretch of text holding the most distinct terms
    (the earliest such); the text's start when nothing was found."""
    reach = size * 2 // 3
    best, best_count = (0, 0), 0
    for i, (start, end, _term) in enumerate(found):
        count = len({t for s, _e, t in found[i:] if s < start + reach})
        if count > best_count:
            best, best_count = (start, end), count
    return best


def _cut(text: str, place: Span, size: int) -> Span:
    """Where to cut a long text so it shows `place`: a little context before it, from a
    word's or a sentence's start, up to a word's or a sentence's end."""
    at, until = place
    start = _word_start(text, max(0, at - size // 4))
    sentence = _SENTENCE_START.search(text, start, at)
    if sentence:
        start = sentence.end()
    limit = max(start + size, until)
    if limit >= len(text):
        return start, len(text)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, max(until, limit - size // 4), limit)]
    return start, ends[-1] if ends else _word_end(text, limit)


def _word_start(text: str, i: int) -> int:
    if i == 0 or text[i - 1].isspace():
        return i
    lo = max(0, i - WORD_SLACK)
    space = re.search(r"\s\S*\Z", text[lo:i])
    if space:
        return lo + space.start() + 1
    if lo == 0:
        return 0
    other = re.search(r"\W\w*\Z", text[lo:i])  # a long token: split it between a sign and a word
    return lo + other.start() + 1 if other else i


def _word_end(text: str, i: int) -> int:
    if i >= len(text) or text[i].isspace():
        return i
    space = re.search(r"\s", text[i : i + WORD_SLACK])
    if space:
        return i + space.start()
    if i + WORD_SLACK >= len(text):
        return len(text)
    other = re.search(r"\W", text[i : i + WORD_SLACK])
    return i + other.start() if other else i


# ---------------------------------------------------------------------------
# One mark per phrase


def merge_phrases(marked: str, window: str) -> str:
    """ts_headline marks a phrase's words one by one, and the same words standing
    alone: give each phrase occurrence it marked a word of one mark over the whole
    phrase, and unmark its words elsewhere. Other marks stay as they are."""
    phrases = getattr(window, "phrases", ())
    if not phrases:
        return marked
    plain, spans = _unmark(marked)
    shown = [p for p in phrases if any(_overlap(p, s) for s in spans)]
    if plain != window or not shown:  # not the text measured, or no phrase marked
        return marked
    merged = []
    for phrase in shown:
        parts = [phrase, *(s for s in spans if _overlap(phrase, s))]
        merged.append((min(a for a, _b in parts), max(b for _a, b in parts)))
    kept = [s for s in spans if not any(_overlap(s, p) for p in [*merged, *window.loose])]
    return _remark(plain, _union(kept + merged))


def _overlap(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _union(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def _unmark(marked: str) -> tuple[str, list[Span]]:
    """The text without markers, and the marked spans in it."""
    plain, spans, pos, opened = [], [], 0, None
    for piece in re.split(f"([{START}{STOP}])", marked):
        if piece == START:
            opened = pos
        elif piece == STOP:
            if opened is not None:
                spans.append((opened, pos))
            opened = None
        else:
            plain.append(piece)
            pos += len(piece)
    return "".join(plain), spans


def _remark(plain: str, spans: list[Span]) -> str:
    out, pos = [], 0
    for start, end in spans:
        out += [plain[pos:start], START, plain[start:end], STOP]
        pos = end
    return "".join([*out, plain[pos:]])


# ---------------------------------------------------------------------------
# A meeting page


class Match(NamedTuple):
    seq: int  # which part of the meeting page holds it
    sid: str  # its anchor there


def meeting_matches(meeting, text: str) -> tuple[str, list[Match]] | None:
    """The query's tsquery, and every statement of the meeting that matches it, in
    order, on whichever part of a long transcript; None if the query is unusable."""
    try:
        tsquery = build_tsquery(latin.respell(parse_query(text))[0])  # as the search: Tokayev is «Токаев»
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
        texts = headlines(cursor, {u.id: u.text for u in matching}, tsquery)
        names = headlines(cursor, {u.id: u.speaker.name for u in matching if u.speaker}, tsquery)
        title = headlines(cursor, {meeting.id: meeting.title}, tsquery)
    for u in matching:
        u.highlighted = texts[u.id]
        u.highlighted_speaker = names.get(u.id, "")
    meeting.highlighted_title = title[meeting.id]
