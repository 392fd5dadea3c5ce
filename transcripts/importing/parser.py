"""Parse plain-text transcripts into a small document structure.

Pure Python, no Django: text (or bytes) in, a `Document` out, or a `ParseError`
naming the file, the line and the reason. Two layouts exist:

* the kremlin.ru 'copy' transcript: title, `YYYY-MM-DD HH:MM:SS`, place, lead,
  optional `* * *` sections, speaker turns, `&lt;…&gt;` omission marks, URL;
* the news item: the date twice (`23-12-2024`, `23.12.2024`), then paragraphs,
  some of them quotes attributed to a speaker (`«…», — сказал Владимир Путин.`).

The seed files in fixtures/ are the specification; tests/golden/ holds their
expected parses.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, replace

PARSER_VERSION = 4  # 2: text after an omission mark inside a turn is its own utterance
# 3: a line of only control characters or entities is blank, not an empty title or paragraph;
#    a news item whose first paragraph is only dots keeps them as its title
# 4: labels with two- or three-word surnames ("Х.Гарсиа Лопес:") or particles ("Мохаммед бен Салман:");
#    UTF-16 files with a BOM are read
MAX_BYTES = 5 * 1024 * 1024  # the longest kremlin.ru transcripts are well under 1 MB
TITLE_MAX = 120
MAX_QUOTE_PARAGRAPHS = 12  # a «quote» left open longer than this is not one quote

# Labels that name a role rather than a person ("Вопрос:" is a journalist).
ROLE_LABELS = frozenset(
    {
        "Вопрос",
        "Реплика",
        "Примечание",
        "Ответ",
        "Голос из зала",
        "Ведущий",
        "Ведущая",
        "Модератор",
        "Председательствующий",
    }
)

# First words of "Xxx Yyy:" lines that introduce a document, not a speaker
# ("Текст Указа: В целях …"). Names without initials ("Берл Лазар:") still pass.
NOT_A_SPEAKER = frozenset({"Текст", "Справка", "Приложение", "Повестка", "Итоги", "Цитата", "Документ", "Перечень"})

_UPPER = "А-ЯЁA-Z"
_LOWER = "а-яёa-z"
_WORD = rf"[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}]?[{_LOWER}]+)*"
_INITIALS = rf"(?:[{_UPPER}]\.(?:-[{_UPPER}]\.)?){{1,2}}"
# Lower-case particles inside a name; only before a capitalised word, so a sentence
# still needs capitals throughout ("Мохаммед бен Салман", "У.фон дер Ляйен", "аль-Нахайян").
_PARTICLE = r"(?:бен|бин|ибн|аль|де|(?:ван|фон)(?: дер)?)[ -]"
_PART = rf"(?:{_PARTICLE})?{_WORD}"
_NAME = (
    rf"{_INITIALS} ?{_PART}(?: {_PART}){{0,2}}"  # В.Путин, К.-Ж.Токаев, Х.Гарсиа Лопес
    rf"|{_WORD}(?: {_PART}){{1,3}}"  # Патриарх Кирилл, Умару Сиссоку Эмбало, Мохаммед бен Салман
    rf"|{'|'.join(sorted(ROLE_LABELS, key=len, reverse=True))}"
)
LABEL_RE = re.compile(rf"^(?P<label>{_NAME}) ?(?P<remark>\([^()\n]{{1,120}}\))? ?:\s*(?P<rest>.*)$")

TRANSCRIPT_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?$")
NEWS_DATE_DASH_RE = re.compile(r"^(\d{2})-(\d{2})-(\d{4})$")
NEWS_DATE_DOT_RE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$")
URL_RE = re.compile(r"^https?://\S+$")
OMISSION_RE = re.compile(r"^<(?:…|\.\.\.)>$")
SECTION_BREAK = "* * *"
NEWS_TRAILER = frozenset({"Share Post", "Tags", "Поделиться", "Теги"})

# «…», — сказал российский лидер.   The verb is any word; the rest names the speaker.
# Possessive runs of spaces keep this linear: a plain \s*,?\s* or \s*[.!]?\s*$ tries every
# split of a run (8,000 spaces took 40 s). The second `who` branch is the one match that
# needed \s+ to give a space back: a one-letter name after two or more spaces.
ATTRIBUTION_RE = re.compile(
    r"[»“\"]\s*+,?\s*+[—–-]\s*+[а-яё]++\s++(?P<who>[^.!?«»]{2,80}?|(?<=\s\s)[^.!?«»])\s*+[.!]?\s*+$"
)

# First match wins; patterns are matched against the lower-cased title.
_KIND_PATTERNS = (
    ("press_statements", re.compile(r"заявлени[яей]\w* для (прессы|сми)|пресс-конференц")),
    ("phone_call", re.compile(r"телефонн\w+ разговор|по телефону")),
    ("briefing", re.compile(r"брифинг")),
    ("talks", re.compile(r"переговор")),
    ("conversation", re.compile(r"^беседа|\bбеседа с\b")),
    ("meeting", re.compile(r"встреч[аие]|совещани|заседани|саммит")),
)


class ParseError(ValueError):
    """A file that cannot be read as a transcript. `line` is 1-based, or None."""

    def __init__(self, reason: str, *, filename: str = "", line: int | None = None):
        self.reason = reason
        self.filename = filename
        self.line = line
        where = filename or "<text>"
        if line is not None:
            where += f":{line}"
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class ParsedUtterance:
    seq: int  # 1-based order in the document
    line: int  # where it starts in the source
    paragraphs: tuple[str, ...]
    label: str = ""  # as written, without the remark; "" for narration
    remark: str = ""  # e.g. "(как переведено)", parentheses kept
    section: int | None = None  # index into Document.sections
    attribution: str = ""  # news quotes: who the text says is speaking

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def is_narration(self) -> bool:
        return not self.label and not self.attribution


@dataclass(frozen=True)
class Document:
    layout: str  # "transcript" | "news"
    title: str
    title_derived: bool
    date: dt.date
    time: dt.time | None  # Moscow time as printed; None when the source has none
    location: str
    url: str
    lead: tuple[str, ...]
    sections: tuple[str, ...]
    utterances: tuple[ParsedUtterance, ...]
    omissions: tuple[int, ...] = ()  # count of utterances before each omission mark
    encoding: str = "utf-8"
    kind: str = "other"
    filename: str = ""

    @property
    def turns(self) -> tuple[ParsedUtterance, ...]:
        return tuple(u for u in self.utterances if u.label)


# ---------------------------------------------------------------------------
# Decoding


def decode(data: bytes, filename: str = "") -> tuple[str, str]:
    """Bytes to text: UTF-8 (BOM optional), UTF-16 with a BOM, or clearly-Cyrillic windows-1251."""
    if not data.strip():
        raise ParseError("empty file", filename=filename)
    if len(data) > MAX_BYTES:
        raise ParseError(f"file is {len(data)} bytes, over the {MAX_BYTES} byte limit", filename=filename)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode_utf16(data, filename), "utf-16"
    if b"\x00" in data:
        if _looks_utf16(data):
            raise ParseError(
                "looks like UTF-16 without a byte-order mark; re-save the file as UTF-8",
                filename=filename,
            )
        raise ParseError("binary file (contains NUL bytes), not a text transcript", filename=filename)
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    line = data[: utf8_error.start].count(b"\n") + 1
    # Russian UTF-8 is full of Ð/Ñ lead bytes; a file like that with a few broken
    # bytes is damaged UTF-8, not windows-1251 (which would turn it into "РџСѓС‚РёРЅ").
    if len(_UTF8_CYRILLIC.findall(data)) > 20:
        raise ParseError(
            f"invalid UTF-8 (byte {utf8_error.start}): the file is damaged or truncated",
            filename=filename,
            line=line,
        )
    text = data.decode("cp1251", errors="replace")
    if "\ufffd" not in text and _looks_russian(text):
        return text, "windows-1251"
    raise ParseError(
        "not UTF-8 text (nor clearly windows-1251 Russian); re-save the file as UTF-8",
        filename=filename,
        line=line,
    )


_UTF8_CYRILLIC = re.compile(rb"[\xd0\xd1][\x80-\xbf]")


def _decode_utf16(data: bytes, filename: str) -> str:
    try:
        text = data.decode("utf-16")  # the BOM gives the byte order and is dropped
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode("utf-16", errors="replace").count("\n") + 1
        raise ParseError(
            f"invalid UTF-16 (byte {exc.start}): the file is damaged or truncated", filename=filename, line=line
        ) from None
    # UTF-16 text has no U+0000; a UTF-32 file (its BOM starts like UTF-16's) or a binary does.
    if "\x00" in text:
        raise ParseError("binary file (contains NUL bytes), not a text transcript", filename=filename)
    return text


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without a BOM: NULs (the high byte of ASCII characters) on one side of the
    byte pairs only, and the pairs read as text (Latin, Cyrillic, punctuation)."""
    sample = data[:4096]
    sample = sample[: len(sample) // 2 * 2]
    for codec, high, low in (("utf-16-le", sample[1::2], sample[0::2]), ("utf-16-be", sample[0::2], sample[1::2])):
        if b"\x00" not in high or b"\x00" in low:
            continue
        text = sample.decode(codec, errors="replace")
        readable = sum(1 for c in text if c in "\t\n\r№" or " " <= c <= "\u04ff" or "\u2000" <= c <= "\u206f")
        if readable >= 0.95 * len(text):
            return True
    return False


def _looks_russian(text: str) -> bool:
    """Does text decoded as windows-1251 read as Russian? Latin-1 or random bytes decoded
    that way give words that mix Latin and Cyrillic letters ("Ьnпcцdй")."""
    words = re.findall(r"[^\W\d_]+", text)
    cyrillic = sum(1 for w in words if re.fullmatch(r"[а-яёА-ЯЁ]+", w))
    mixed = sum(1 for w in words if re.search(r"[а-яёА-ЯЁ]", w) and re.search(r"[a-zA-Z]", w))
    return cyrillic > 0 and mixed * 50 <= cyrillic


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _clean(line: str) -> str:
    """One source line: entities decoded, control characters dropped, ends trimmed;
    inner non-breaking spaces kept."""
    return _CONTROL.sub("", html.unescape(line)).strip(" \t\u00a0\ufeff")


def _label_match(line: str) -> re.Match | None:
    # Label detection sees non-breaking spaces as plain ones: "К.-Ж.Токаев:\xa0Уважаемый".
    match = LABEL_RE.match(line.replace("\u00a0", " "))
    if match and match.group("label").split(" ", 1)[0] in NOT_A_SPEAKER:
        return None
    return match


# ---------------------------------------------------------------------------
# Entry points


def parse_bytes(data: bytes, filename: str = "") -> Document:
    text, encoding = decode(data, filename)
    doc = parse_text(text, filename)
    if encoding != "utf-8":
        doc = replace(doc, encoding=encoding)
    return doc


def parse_text(text: str, filename: str = "") -> Document:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # A line of nothing but control characters, entities or odd spaces is blank:
    # otherwise it would become an empty title or an empty paragraph.
    lines = [line if _clean(line).strip() else "" for line in lines]
    if not any(line.strip() for line in lines):
        raise ParseError("empty file", filename=filename)
    first = next(i for i, line in enumerate(lines) if line.strip())
    if NEWS_DATE_DASH_RE.match(lines[first].strip()):
        return _parse_news(lines, first, filename)
    return _parse_transcript(lines, first, filename)


# ---------------------------------------------------------------------------
# kremlin.ru 'copy' transcript


def _parse_transcript(lines: list[str], first: int, filename: str) -> Document:
    def fail(reason: str, index: int | None) -> ParseError:
        return ParseError(reason, filename=filename, line=None if index is None else index + 1)

    title = _clean(lines[first])
    if TRANSCRIPT_DATE_RE.match(title):
        raise fail("the file starts with a date line; a title must come first", first)
    date_index = next((i for i in range(first + 1, len(lines)) if lines[i].strip()), None)
    if date_index is None:
        raise fail("no date line (YYYY-MM-DD HH:MM:SS) after the title", first)
    match = TRANSCRIPT_DATE_RE.match(lines[date_index].strip())
    if not match:
        raise fail(
            f"expected the date line YYYY-MM-DD HH:MM:SS after the title, found {lines[date_index].strip()[:60]!r}",
            date_index,
        )
    year, month, day, hour, minute, second = (int(g or 0) for g in match.groups())
    try:
        date = dt.date(year, month, day)
        time = dt.time(hour, minute, second)
    except ValueError as exc:
        raise fail(f"impossible date or time: {exc}", date_index) from None

    # Place: the line after the blank that follows the date (empty for phone calls).
    cursor = date_index + 1
    if cursor < len(lines) and not lines[cursor].strip():
        cursor += 1
    location = ""
    if cursor < len(lines):
        candidate = _clean(lines[cursor])
        following_blank = cursor + 1 >= len(lines) or not lines[cursor + 1].strip()
        if candidate and following_blank and not _label_match(candidate):
            location = candidate
            cursor += 1
        elif not candidate:
            cursor += 1

    # Trailer: the source URL on the last non-empty line.
    end = len(lines)
    while end > cursor and not lines[end - 1].strip():
        end -= 1
    url = ""
    if end > cursor and URL_RE.match(lines[end - 1].strip()):
        url = lines[end - 1].strip()
        end -= 1

    body = _TranscriptBody(filename)
    for index in range(cursor, end):
        body.feed(index, _clean(lines[index]))
    utterances = body.finish()

    # Narration before any turn or section is the lead (after a turn, lines continue it).
    lead = tuple(u.paragraphs[0] for u in utterances if u.is_narration and u.section is None)
    sections = tuple(body.sections)
    return Document(
        layout="transcript",
        title=title,
        title_derived=False,
        date=date,
        time=time,
        location=location,
        url=url,
        lead=lead,
        sections=sections,
        utterances=utterances,
        omissions=tuple(body.omissions),
        kind=infer_kind(title, "transcript", sections),
        filename=filename,
    )


class _TranscriptBody:
    """Line-by-line state machine for everything between the place and the URL."""

    def __init__(self, filename: str):
        self.filename = filename
        self.sections: list[str] = []
        self.omissions: list[int] = []
        self.items: list[dict] = []  # utterances being built
        self.current: dict | None = None  # the open speaker turn
        self.resume: dict | None = None  # the turn an omission mark interrupted
        self.expect_heading = False

    def feed(self, index: int, line: str) -> None:
        if not line:
            return
        if line == SECTION_BREAK:
            self.sections.append("")
            self.current = self.resume = None
            self.expect_heading = True
            return
        if OMISSION_RE.match(line):
            self.omissions.append(len(self.items))
            # Text after a gap inside a turn is the same speaker again, after the mark.
            self.resume, self.current = self.current, None
            return
        match = _label_match(line)
        if self.expect_heading:
            self.expect_heading = False
            if not match:
                self.sections[-1] = line
                return
        section = len(self.sections) - 1 if self.sections else None
        if match:
            rest = (match.group("rest") or "").strip()
            # Keep the text as written (with its non-breaking spaces), minus the label.
            raw_rest = line[len(line) - len(rest) :] if rest else ""
            self.resume = None
            self.current = {
                "line": index + 1,
                "label": match.group("label"),
                "remark": match.group("remark") or "",
                "section": section,
                "paragraphs": [raw_rest] if raw_rest else [],
            }
            self.items.append(self.current)
        elif self.current is not None:
            self.current["paragraphs"].append(line)
        elif self.resume is not None:
            self.current = {**self.resume, "line": index + 1, "paragraphs": [line]}
            self.items.append(self.current)
        else:
            self.items.append({"line": index + 1, "label": "", "remark": "", "section": section, "paragraphs": [line]})

    def finish(self) -> tuple[ParsedUtterance, ...]:
        # A "* * *" at the very end opens nothing.
        if self.sections and not self.sections[-1] and all(i["section"] != len(self.sections) - 1 for i in self.items):
            self.sections.pop()
        out = []
        for seq, item in enumerate(self.items, start=1):
            if not item["paragraphs"]:
                raise ParseError(
                    f"speaker label {item['label']!r} has no text",
                    filename=self.filename,
                    line=item["line"],
                )
            out.append(
                ParsedUtterance(
                    seq=seq,
                    line=item["line"],
                    paragraphs=tuple(item["paragraphs"]),
                    label=item["label"],
                    remark=item["remark"],
                    section=item["section"],
                )
            )
        return tuple(out)


# ---------------------------------------------------------------------------
# News item


def _parse_news(lines: list[str], first: int, filename: str) -> Document:
    dash = NEWS_DATE_DASH_RE.match(lines[first].strip())
    second = next((i for i in range(first + 1, len(lines)) if lines[i].strip()), None)
    dot = NEWS_DATE_DOT_RE.match(lines[second].strip()) if second is not None else None
    if not dot:
        raise ParseError(
            "a news item must repeat its date as DD.MM.YYYY on the second line",
            filename=filename,
            line=(second if second is not None else first) + 1,
        )
    if dash.groups() != dot.groups():
        raise ParseError(
            f"the two date lines disagree: {lines[first].strip()} vs {lines[second].strip()}",
            filename=filename,
            line=second + 1,
        )
    day, month, year = (int(g) for g in dash.groups())
    try:
        date = dt.date(year, month, day)
    except ValueError as exc:
        raise ParseError(f"impossible date: {exc}", filename=filename, line=first + 1) from None

    paragraphs = [(i + 1, _clean(lines[i])) for i in range(second + 1, len(lines)) if lines[i].strip()]
    while paragraphs and paragraphs[-1][1] in NEWS_TRAILER:
        paragraphs.pop()
    if not paragraphs:
        raise ParseError("the news item has a date but no text", filename=filename, line=second + 1)

    attributions = _quote_attributions([text for _, text in paragraphs])
    utterances = tuple(
        ParsedUtterance(seq=seq, line=line, paragraphs=(text,), attribution=who)
        for seq, ((line, text), who) in enumerate(zip(paragraphs, attributions, strict=True), start=1)
    )
    return Document(
        layout="news",
        title=derive_title(paragraphs[0][1]),
        title_derived=True,
        date=date,
        time=None,
        location="",
        url="",
        lead=(paragraphs[0][1],),
        sections=(),
        utterances=utterances,
        kind="news_report",
        filename=filename,
    )


def _quote_attributions(paragraphs: list[str]) -> list[str]:
    """For each paragraph, who a «quote» in it is attributed to ("" if none).

    A quote may open in one paragraph and close, with its attribution, in a
    later one (up to MAX_QUOTE_PARAGRAPHS); every paragraph of it gets that
    attribution. A paragraph that opens a new quote abandons an unclosed one.
    """
    result = [""] * len(paragraphs)
    open_since: int | None = None
    depth = 0
    for i, text in enumerate(paragraphs):
        starts_quote = text.startswith("«")
        if starts_quote and (open_since is None or depth > 0):
            open_since, depth = i, 0
        if open_since is None:
            continue
        depth += text.count("«") - text.count("»")
        if depth > 0:  # still open: opening guillemets outnumber closing ones
            if i - open_since >= MAX_QUOTE_PARAGRAPHS:
                open_since = None
            continue
        match = ATTRIBUTION_RE.search(text)
        if match:
            for j in range(open_since, i + 1):
                result[j] = match.group("who").strip()
        open_since = None
    return result


# "В.В. Путин", "в г. Астане", "5 млрд. рублей": a full stop that ends no sentence.
_NOT_SENTENCE_END = re.compile(r"(?:^|[\s(«.])(?:[А-ЯЁA-Z]|г|гг|млн|млрд|тыс|руб|т\.е|т\.к|им|ул|д|см|др|пр)\.$")


def derive_title(text: str, limit: int = TITLE_MAX) -> str:
    """A title from the first sentence, cut at a word boundary with an ellipsis."""
    text = text.strip()
    sentence = text
    for boundary in re.finditer(r"(?<=[.!?…])\s+(?=[«\"A-ZА-ЯЁ0-9])", text):
        # Only the few characters before the stop can make it an abbreviation: looking at
        # those alone keeps a long paragraph of "А. А. …" linear, not quadratic.
        if not _NOT_SENTENCE_END.search(text, max(0, boundary.start() - 10), boundary.start()):
            sentence = text[: boundary.start()]
            break
    sentence = sentence.rstrip(" .") or sentence  # a paragraph of dots keeps them as its title
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:—–-") + "…"


def infer_kind(title: str, layout: str, sections: tuple[str, ...] = ()) -> str:
    """Meeting kind from the title (editors can change it later)."""
    if layout == "news":
        return "news_report"
    lowered = title.lower()
    kind = next((name for name, pattern in _KIND_PATTERNS if pattern.search(lowered)), "other")
    # "Встреча с Президентом …" whose transcript opens "Начало … переговоров" is a round of talks.
    if kind in ("meeting", "other") and any("переговор" in s.lower() for s in sections):
        return "talks"
    return kind
