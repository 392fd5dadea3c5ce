"""Citations of one statement for a researcher to paste: the archive's own style (GOST R 7.0.100-like),
Chicago, APA 7, BibTeX and RIS, with the frame in Russian or English. Names and titles stay as the
transcript writes them (no transliteration). Plain Python and plain text: no database, no settings, no HTML."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields, replace
from typing import NamedTuple

STYLES = ("house", "chicago", "apa", "bibtex", "ris")
LANGS = ("ru", "en")

MONTHS_RU = (
    *("января", "февраля", "марта", "апреля", "мая", "июня"),
    *("июля", "августа", "сентября", "октября", "ноября", "декабря"),
)
MONTHS_EN = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)

WORDS = {  # key: (Russian, English)
    "label": ("Стиль архива", "Archive style"),
    "archive": (
        "kzarchive — архив российско-казахстанских заявлений",
        "kzarchive: Russia–Kazakhstan statements archive",
    ),
    "publisher": ("Президент России", "President of Russia"),
    "statement": ("Заявление", "Statement"),
    "archived": ("Архивная копия:", "Archived in"),
    "accessed": ("Дата обращения:", "Accessed"),
    "source": ("Источник:", "Source:"),
}
LABELS = {"chicago": "Chicago", "apa": "APA", "bibtex": "BibTeX", "ris": "RIS"}


def _word(key: str, lang: str) -> str:
    return WORDS[key][LANGS.index(lang)]


@dataclass(frozen=True)
class CitedStatement:
    speaker: str  # canonical name; "" for a narrative paragraph
    role: str
    title: str  # the meeting's title
    date: dt.date  # the meeting's date
    place: str
    source_url: str  # the kremlin.ru transcript
    permalink: str  # the archive's permanent absolute address of this statement
    sid: str  # the statement's stable id
    accessed: dt.date


class Citation(NamedTuple):
    style: str
    label: str
    text: str


def cite(statement: CitedStatement, style: str, lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown citation language {lang!r}; expected one of {', '.join(LANGS)}")
    if style not in STYLES:
        raise ValueError(f"unknown citation style {style!r}; expected one of {', '.join(STYLES)}")
    return _FORMATTERS[style](_collapsed(statement), lang)


def citations(statement: CitedStatement, lang: str) -> list[Citation]:
    return [Citation(style, LABELS.get(style, _word("label", lang)), cite(statement, style, lang)) for style in STYLES]


def _collapsed(st: CitedStatement) -> CitedStatement:
    # A title or role edited in the admin may carry line breaks; every citation (and every RIS tag) is one line.
    texts = {f.name: " ".join(getattr(st, f.name).split()) for f in fields(st) if isinstance(getattr(st, f.name), str)}
    return replace(st, **texts)


def _name_parts(name: str) -> tuple[str, list[str]] | None:
    """(surname, given names): three words are "Name Patronymic Surname", two "Name Surname"; else None.
    Labels such as "Голос из зала" are not names: every word of a name is capitalised."""
    words = name.split()
    if len(words) not in (2, 3) or not all(word[0].isupper() for word in words):
        return None
    return words[-1], words[:-1]


def _initials(word: str) -> str:
    # «Касым-Жомарт» → «К.-Ж.»; a word already written as initials stays.
    return word if word.endswith(".") else "-".join(part[0] + "." for part in word.split("-") if part)


def _surname_initials(name: str, comma: str = "") -> str:
    parts = _name_parts(name)
    return f"{parts[0]}{comma} {' '.join(map(_initials, parts[1]))}" if parts else name


def _inverted(name: str) -> str:
    parts = _name_parts(name)
    return f"{parts[0]}, {' '.join(parts[1])}" if parts else name


def _long_date(d: dt.date, lang: str, month_first: bool = False) -> str:
    """«10 февраля 2022 г.», "10 February 2022", or "February 10, 2022" with month_first (Chicago, APA)."""
    if lang == "ru":
        return f"{d.day} {MONTHS_RU[d.month - 1]} {d.year} г."
    month = MONTHS_EN[d.month - 1]
    return f"{month} {d.day}, {d.year}" if month_first else f"{d.day} {month} {d.year}"


def _end(text: str) -> str:
    """The text as a sentence: a final period unless it already ends with one (or ?, !, …)."""
    return text if not text or text.endswith((".", "?", "!", "…")) else text + "."


def _join(separator: str, *parts: str) -> str:
    return separator.join(part for part in parts if part)


def _guillemets(text: str) -> str:
    # Quotes inside quotes: «…„…“…», as Russian typography nests them.
    return "«" + text.replace("«", "„").replace("»", "“") + "»"


def _source(st: CitedStatement, lang: str) -> str:
    """The source as «Президент России, http://kremlin.ru/…»: the publisher is named only for a kremlin.ru address."""
    if re.match(r"https?://([^/?#]*\.)?kremlin\.ru([:/?#]|$)", st.source_url, re.IGNORECASE):
        return f"{_word('publisher', lang)}, {st.source_url}"
    return st.source_url


def _who(st: CitedStatement, name: str) -> str:
    return f"{name} ({st.role})" if st.speaker and st.role else name or st.role


def _labelled_source(st: CitedStatement, lang: str) -> str:
    return f"{_word('source', lang)} {_source(st, lang)}" if st.source_url else ""


def _house(st: CitedStatement, lang: str) -> str:
    source = _end(_labelled_source(st, lang))
    when = _join(", ", _guillemets(st.title), st.place, _long_date(st.date, lang))
    if lang == "ru":
        who = _who(st, _surname_initials(st.speaker))
        event = f"Заявление в ходе {when}" if who else when
        link = f"URL: {st.permalink} (дата обращения: {st.accessed:%d.%m.%Y})."
        return _join(" ", _end(who), f"{event} // {_word('archive', 'ru')}.", link, source)
    who = _who(st, st.speaker)
    event = f"Statement at {when}" if who else when
    link = f"{st.permalink} (accessed {_long_date(st.accessed, 'en')})."
    return _join(" ", _end(who), _end(event), _end(_word("archive", "en")), link, source)


def _chicago(st: CitedStatement, lang: str) -> str:
    title = f"“{_end(st.title)}”" if lang == "en" else _end(_guillemets(st.title))
    genre = _who(st, _word("statement", lang)) if st.speaker else st.role
    event = _end(_join(", ", genre, st.place, _long_date(st.date, lang, month_first=True)))
    archive = f"{_word('archived', lang)} {_word('archive', lang)}."
    accessed = _end(f"{_word('accessed', lang)} {_long_date(st.accessed, lang, month_first=True)}")
    author = _end(_inverted(st.speaker))
    return _join(" ", author, title, event, _end(_source(st, lang)), archive, accessed, _end(st.permalink))


def _apa(st: CitedStatement, lang: str) -> str:
    d = st.date
    day = f"{MONTHS_EN[d.month - 1]} {d.day}" if lang == "en" else f"{d.day} {MONTHS_RU[d.month - 1]}"
    date = f"({d.year}, {day})."  # APA: (2022, February 10)
    description = _join("; ", _word("statement", lang) if st.speaker else "", st.role, st.place)
    work = _end(st.title + (f" [{description}]" if description else ""))
    head = [_end(_surname_initials(st.speaker, comma=",")), date, work] if st.speaker else [work, date]
    sites = _end(_join("; ", _source(st, lang), _word("archive", lang)))
    if lang == "en":
        retrieved = f"Retrieved {_long_date(st.accessed, lang, month_first=True)}, from {st.permalink}"
    else:
        retrieved = f"Дата обращения: {_long_date(st.accessed, lang)} URL: {st.permalink}"
    return _join(" ", *head, sites, retrieved if st.permalink else "")  # APA: no period after the URL


# Braces as commands, not \{ \}: BibTeX counts every brace, escaped or not, so a lone \{ would break the entry.
_TEX = {"{": r"\textbraceleft{}", "}": r"\textbraceright{}", "\\": r"\textbackslash{}"}
_TEX |= {"~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _tex(text: str) -> str:
    # One pass, so the braces of \textbackslash{} are not escaped again; % & $ # _ take a backslash.
    return re.sub(r"[\\{}%&$#_~^]", lambda m: _TEX.get(m.group(), "\\" + m.group()), text)


def _key(st: CitedStatement) -> str:
    return "kzarchive-" + re.sub(r"[^A-Za-z0-9_:-]", "", st.sid)


def _braced(text: str) -> str:
    return "{" + text + "}" if text else ""


def _bibtex(st: CitedStatement, lang: str) -> str:
    author = _tex(_inverted(st.speaker))
    if author and not _name_parts(st.speaker):
        author = "{" + author + "}"  # not "Surname, Given": double braces stop BibTeX splitting it into name parts
    # The note: role, where and when, access date, then the source address last, so that no period follows it.
    when = _join(", ", st.place, _long_date(st.date, lang))
    accessed = f"{_word('accessed', lang)} {_long_date(st.accessed, lang)}"
    note = _join(" ", _end(st.role), _end(when), _end(accessed), _labelled_source(st, lang))
    # The url field is read verbatim: percent-encode what would break the entry instead of escaping it.
    url = re.sub(r"[{}\\ ]", lambda m: f"%{ord(m.group()):02X}", st.permalink)
    entries = [
        ("author", _braced(author)),
        ("title", _braced(_tex(st.title))),
        ("howpublished", _braced(_tex(_word("archive", lang)))),
        ("year", str(st.date.year)),
        ("month", MONTHS_EN[st.date.month - 1][:3].lower()),  # the standard macro: jan … dec
        ("note", _braced(_tex(note))),
        ("url", _braced(url)),
        ("urldate", _braced(st.accessed.isoformat())),
    ]
    body = ",\n".join(f"  {name} = {value}" for name, value in entries if value)
    return f"@misc{{{_key(st)},\n{body}\n}}"


def _ris(st: CitedStatement, lang: str) -> str:
    tags = [
        ("TY", "GEN"),
        ("AU", _inverted(st.speaker)),
        ("TI", st.title),
        ("T2", _word("archive", lang)),
        ("DA", st.date.isoformat().replace("-", "/") + "/"),
        ("PY", str(st.date.year)),
        ("CY", st.place),
        ("UR", st.permalink),
        ("Y2", st.accessed.isoformat().replace("-", "/") + "/"),
        ("N1", _join(" ", _end(st.role), _labelled_source(st, lang))),
        ("ID", _key(st)),
    ]
    return "\n".join([*(f"{tag}  - {value}" for tag, value in tags if value), "ER  - "])


_FORMATTERS = {"house": _house, "chicago": _chicago, "apa": _apa, "bibtex": _bibtex, "ris": _ris}
