"""Fuzz tests of the parser: arbitrary text, arbitrary bytes and seed files mutated
line by line and byte by byte either give a Document or raise ParseError; nothing else.
Explicit regressions first, then hypothesis (tests/fuzzing.py: its settings)."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from tests.fuzzing import fuzz_settings
from transcripts.importing.parser import Document, ParseError, parse_bytes, parse_text

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted((ROOT / "fixtures").glob("*.txt"))
SEED_BYTES = {p.name: p.read_bytes() for p in SEEDS}
SEED_TEXTS = {name: data.decode("utf-8-sig") for name, data in SEED_BYTES.items()}


# ---------------------------------------------------------------------------
# The parser


def parses_or_rejects(parse, data):
    """The parser's contract: a well-formed Document, or a ParseError with a reason."""
    try:
        doc = parse(data, "fuzz.txt")
    except ParseError as exc:
        assert exc.reason.strip()
        assert exc.line is None or exc.line >= 1
        return None
    assert isinstance(doc, Document)
    assert [u.seq for u in doc.utterances] == list(range(1, len(doc.utterances) + 1))
    # Every utterance has text: a label with none is a ParseError, not an empty turn.
    assert doc.title.strip()
    assert all(u.paragraphs and all(p.strip() for p in u.paragraphs) for u in doc.utterances)
    assert all(s is None or 0 <= s < len(doc.sections) for s in (u.section for u in doc.utterances))
    return doc


# Characters that have broken text parsers: NUL, BOM, line ends, bidi overrides,
# combining marks, zero-width characters, other separators and entities.
ODD_CHARACTERS = [
    "\x00",
    "\ufeff",
    "\r",
    "\r\n",
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u0301",  # COMBINING ACUTE ACCENT
    "\u0301\u0308\u0327" * 20,
    "\u200b",  # ZERO WIDTH SPACE
    "\u200d",  # ZERO WIDTH JOINER
    "\u2028",  # LINE SEPARATOR: str.splitlines() breaks there, split("\n") does not
    "\x0b\x0c\x1c\x1d\x1e\x85",
    "\xa0",
    "\U0001f1f7\U0001f1fa",
    "&#0;",
    "&#x110000;",
    "&lt;…&gt;",
    "* * *",
    ":",
    "«",
    "»",
    "В.Путин:",
    "2022-02-30 25:61:61",
    "31-02-2022",
]

# Lines in the seeds' own shapes, so that mutations reach deep into both layouts.
SEED_LIKE_LINES = [
    "",
    "* * *",
    "&lt;…&gt;",
    "В.Путин:",
    "В.Путин: Добрый день.",
    "К.-Ж.Токаев (как переведено):",
    "Вопрос:",
    "Текст Указа: В целях",
    "2022-02-10 17:45:00",
    "0000-00-00 00:00:00",
    "2022-02-10 17:45",
    "10-02-2022",
    "10.02.2022",
    "30.02.2023",
    "http://kremlin.ru/events/president/transcripts/67755",
    "«Мы договорились», — сказал российский лидер.",
    "Share Post",
    "Tags",
    "...",
]


def odd_text():
    return st.one_of(st.sampled_from(ODD_CHARACTERS + SEED_LIKE_LINES), st.text(max_size=40))


@st.composite
def mutated_seed(draw):
    """A seed with a few line edits and character insertions, perhaps truncated."""
    lines = SEED_TEXTS[draw(st.sampled_from(sorted(SEED_TEXTS)))].split("\n")
    for _ in range(draw(st.integers(1, 6))):
        index = draw(st.integers(0, max(0, len(lines) - 1)))
        edit = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "inject", "long"]))
        if edit == "delete" and lines:
            del lines[index]
        elif edit == "duplicate" and lines:
            lines.insert(index, lines[index])
        elif edit == "swap" and lines:
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        elif edit == "insert":
            lines.insert(index, draw(odd_text()))
        elif edit == "inject" and lines:
            line = lines[index]
            at = draw(st.integers(0, len(line)))
            lines[index] = line[:at] + draw(odd_text()) + line[at:]
        elif edit == "long" and lines:
            # A line of 10 kB and more, in the line's own words or in odd characters.
            filler = lines[index] or draw(odd_text()) or "x"
            lines[index] = (filler + " ") * (10_240 // (len(filler) + 1) + 1)
    text = "\n".join(lines)
    line_end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = text.replace("\n", line_end)
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    return text


@fuzz_settings(300)
@given(st.text(max_size=2000))
def test_parser_on_arbitrary_text(text):
    parses_or_rejects(parse_text, text)


@fuzz_settings(300)
@given(st.lists(st.sampled_from(SEED_LIKE_LINES + ODD_CHARACTERS), max_size=40).map("\n".join))
def test_parser_on_random_lines_in_the_seeds_shapes(text):
    parses_or_rejects(parse_text, text)


@fuzz_settings(300, HealthCheck.too_slow, HealthCheck.data_too_large)
@given(mutated_seed())
def test_parser_on_mutated_seeds(text):
    parses_or_rejects(parse_text, text)
    # The same text as a file: UTF-8, with or without the BOM.
    parses_or_rejects(parse_bytes, text.encode("utf-8", "surrogatepass"))
    parses_or_rejects(parse_bytes, b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass"))


@fuzz_settings(300)
@given(st.binary(max_size=2000))
def test_decoding_arbitrary_bytes(data):
    parses_or_rejects(parse_bytes, data)


@st.composite
def damaged_seed_bytes(draw):
    """A seed file as bytes, re-encoded, with bytes replaced or inserted, and perhaps
    cut in the middle of a multi-byte character."""
    name = draw(st.sampled_from(sorted(SEED_TEXTS)))
    encoding = draw(st.sampled_from(["utf-8", "cp1251", "koi8-r", "utf-16", "latin-1"]))
    data = bytearray(SEED_TEXTS[name].encode(encoding, errors="replace"))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(data)))
        junk = draw(
            st.one_of(st.binary(min_size=1, max_size=8), st.sampled_from([b"\xff", b"\xc0\xaf", b"\xed\xa0\x80"]))
        )
        if draw(st.booleans()):
            data[at : at + len(junk)] = junk
        else:
            data[at:at] = junk
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@fuzz_settings(200)
@given(damaged_seed_bytes())
def test_decoding_damaged_seed_files(data):
    parses_or_rejects(parse_bytes, data)


# Inputs the fuzzing found (fixed in parser.py), each with the title it must get.
PARSER_REGRESSIONS = {
    # A line of control characters only was not blank: it became an empty title,
    # or an empty first paragraph (and so an empty derived title) of a news item.
    "control-character-title": ("\x01\x07\n2022-02-10 17:45:00\n\nМосква\n\nВ.Путин: Добрый день.\n", None),
    "control-character-paragraph": ("23-12-2024\n23.12.2024\n\x01\n\nТекст новости.\n", "Текст новости"),
    "entity-only-paragraph": ("23-12-2024\n23.12.2024\n&nbsp;\nТекст новости.\n", "Текст новости"),
    "line-separator-paragraph": ("Встреча\n2022-02-10 17:45:00\n\n\u2028\n* * *\nТекст.\n", "Встреча"),
    # A first paragraph of dots lost them all: the derived title was empty.
    "dots-paragraph": ("23-12-2024\n23.12.2024\n...\n\nТекст новости.\n", "..."),
}


@pytest.mark.parametrize(("text", "title"), PARSER_REGRESSIONS.values(), ids=PARSER_REGRESSIONS.keys())
def test_parser_regressions(text, title):
    """None: the file has no title line, so it is rejected; otherwise the title it gets."""
    if title is None:
        with pytest.raises(ParseError):
            parse_text(text)
    else:
        assert parses_or_rejects(parse_text, text).title == title


@pytest.mark.parametrize("name", sorted(SEED_BYTES))
@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda b: b.replace(b"\n", b"\r\n"), id="crlf"),
        pytest.param(lambda b: b.replace(b"\n", b"\r"), id="cr"),
        pytest.param(lambda b: b"\xef\xbb\xbf" + b, id="bom"),
        pytest.param(lambda b: b"\xef\xbb\xbf" + b.replace(b"\n", b"\r\n"), id="bom-crlf"),
    ],
)
def test_line_ends_and_bom_leave_a_seed_parse_unchanged(name, transform):
    assert parse_bytes(transform(SEED_BYTES[name]), name) == parse_bytes(SEED_BYTES[name], name)


@pytest.mark.parametrize("name", sorted(SEED_BYTES))
def test_a_seed_in_windows_1251_parses_as_in_utf8(name):
    data = SEED_TEXTS[name].encode("cp1251")
    doc = parse_bytes(data, name)
    assert doc.encoding == "windows-1251"
    assert doc.utterances == parse_bytes(SEED_BYTES[name], name).utterances
