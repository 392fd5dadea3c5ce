"""Import transcript files into the archive.

One transaction per file: a file that fails stores nothing, and the others
still go in. Re-running unchanged files changes nothing; a changed file
updates its meeting in place (matched by source URL, or by file name where
there is none), with django-postgres-extra upserts keeping row ids stable.

Ingest may run as root on a folder anyone wrote to: it reads only regular files,
follows no symbolic link out of the folder, reads at most parser.MAX_BYTES + 1
bytes, and no message it prints quotes a file's content. Concurrent runs queue
per document on advisory locks, so their reports add up.
"""

from __future__ import annotations

import datetime as dt
import errno
import functools
import hashlib
import html
import json
import os
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from psqlextra.types import ConflictAction
from slugify import slugify

from . import dates, parser
from .models import Meeting, Section, Speaker, SpeakerAlias, Utterance, normalize_name

MOSCOW = ZoneInfo("Europe/Moscow")
ADDED, UPDATED, UNCHANGED, FAILED = "added", "updated", "unchanged", "failed"
SKIPPED = "skipped"  # found in a folder but not a file ingest reads (a link, a FIFO…)


@dataclass
class FileResult:
    path: Path
    status: str
    meeting_id: int | None = None
    reason: str = ""
    line: int | None = None
    conflicts: list = field(default_factory=list)  # Conflict: an editor's version kept

    def describe(self) -> str:
        # A file name with a newline in it must not forge a line of the report.
        where = _printable(str(self.path)) + (f":{self.line}" if self.line else "")
        return f"{where}: {self.reason}" if self.reason else where


def _printable(text: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m.group())[1:-1], text)


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failures(self) -> list[FileResult]:
        return [r for r in self.results if r.status == FAILED]

    def summary(self) -> str:
        skipped = self.count(SKIPPED)
        return (
            f"{len(self.results)} files: {self.count(ADDED)} added, {self.count(UPDATED)} updated, "
            f"{self.count(UNCHANGED)} unchanged, {self.count(FAILED)} failed"
        ) + (f", {skipped} skipped" if skipped else "")


@dataclass(frozen=True)
class Source:
    """A file to read. `root` is the real path of the folder it was found in (None for a
    file named directly): what it reads must lie inside, whatever links lead there."""

    path: Path
    root: str | None = None


class Unreadable(Exception):
    """A file ingest will not open or read; `reason` never quotes its content."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def kind_of(mode: int) -> str:
    """What a non-regular file is, in plain words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def _not_regular(mode: int) -> str:
    kind = kind_of(mode)
    return kind if kind == "not a regular file" else f"{kind}, not a regular file"


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def collect_files(
    paths: Iterable[str | Path], *, follow_symlinks: bool = False
) -> tuple[list[Source], list[FileResult]]:
    """Files named directly, plus *.txt below named folders, in a stable order; and
    what was refused (FAILED, named directly) or skipped (SKIPPED, found in a folder).

    Only regular files are read: a FIFO would block, a device never ends. Symbolic
    links are not followed (a link to /etc/shadow would be read as root), except a
    folder named on the command line; with follow_symlinks, links are followed when
    they stay inside the folder being ingested (named files: wherever they lead)."""
    files: list[Source] = []
    problems: list[FileResult] = []
    for raw in paths:
        path = Path(raw)
        try:
            st = path.lstat()
        except FileNotFoundError:
            problems.append(FileResult(path, FAILED, reason="no such file or directory"))
            continue
        except OSError as exc:
            problems.append(FileResult(path, FAILED, reason=f"cannot read: {exc.strerror or exc}"))
            continue
        if stat.S_ISLNK(st.st_mode):
            try:
                target = path.stat()
            except OSError:
                problems.append(FileResult(path, FAILED, reason="a symbolic link to nothing (its target is missing)"))
                continue
            if stat.S_ISDIR(target.st_mode):  # a folder named here is the folder to ingest
                _walk(path, os.path.realpath(path), follow_symlinks, files, problems)
            elif not follow_symlinks:
                reason = "a symbolic link; not followed (use --follow-symlinks to read the file it points to)"
                problems.append(FileResult(path, FAILED, reason=reason))
            elif not stat.S_ISREG(target.st_mode):
                problems.append(FileResult(path, FAILED, reason=f"a symbolic link to {_not_regular(target.st_mode)}"))
            else:
                files.append(Source(path))
        elif stat.S_ISDIR(st.st_mode):
            _walk(path, os.path.realpath(path), follow_symlinks, files, problems)
        elif stat.S_ISREG(st.st_mode):
            files.append(Source(path))
        else:
            problems.append(FileResult(path, FAILED, reason=_not_regular(st.st_mode)))
    seen, unique = set(), []
    for source in files:
        if os.path.realpath(source.path) not in seen:
            seen.add(os.path.realpath(source.path))
            unique.append(source)
    return unique, problems


def _walk(folder: Path, root: str, follow_symlinks: bool, files: list[Source], problems: list[FileResult]) -> None:
    """*.txt below `folder`, sorted as paths sort; nothing is opened here, only lstat'ed."""
    found: list[tuple[Path, FileResult | None]] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as entries:
                entries = list(entries)
        except OSError as exc:
            problems.append(FileResult(current, FAILED, reason=f"cannot read the folder: {exc.strerror or exc}"))
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue  # gone since the listing
            if stat.S_ISDIR(mode):
                pending.append(path)
                continue
            is_txt = entry.name.endswith(".txt")
            if not stat.S_ISLNK(mode):
                if is_txt:
                    found.append(
                        (path, None if stat.S_ISREG(mode) else FileResult(path, SKIPPED, reason=_not_regular(mode)))
                    )
                continue
            # A link: reported when it names a transcript or a folder (whose files would be missed).
            try:
                target = path.stat()
            except OSError:
                target = None
            if not is_txt and not (target and stat.S_ISDIR(target.st_mode)):
                continue
            if not follow_symlinks:
                what = "a folder" if target and stat.S_ISDIR(target.st_mode) else "a file"
                reason = f"a symbolic link to {what}; not followed (use --follow-symlinks for links inside the folder)"
            elif target is None:
                reason = "a symbolic link to nothing (its target is missing)"
            elif not _inside(os.path.realpath(path), root):
                reason = "a symbolic link to outside the folder being ingested; not followed"
            elif stat.S_ISDIR(target.st_mode):
                continue  # its target is inside the folder, and read there
            elif not stat.S_ISREG(target.st_mode):
                reason = f"a symbolic link to {_not_regular(target.st_mode)}"
            else:
                found.append((path, None))
                continue
            found.append((path, FileResult(path, SKIPPED, reason=reason)))
    for path, problem in sorted(found, key=lambda item: item[0]):
        if problem:
            problems.append(problem)
        else:
            files.append(Source(path, root))


def read_source(source: Source, *, follow_symlinks: bool = False) -> bytes:
    """The file's bytes, unchanged, or Unreadable. Checked before opening (a FIFO would
    block, a device never ends, a sparse file can claim gigabytes) and again on the open
    file (it may have been swapped since); never more than parser.MAX_BYTES + 1 read."""
    path = source.path
    st = os.stat(path, follow_symlinks=follow_symlinks)
    if stat.S_ISLNK(st.st_mode):
        raise Unreadable("a symbolic link; not followed (use --follow-symlinks)")
    if not stat.S_ISREG(st.st_mode):
        raise Unreadable(_not_regular(st.st_mode))
    if st.st_size > parser.MAX_BYTES:
        raise Unreadable(f"file is {st.st_size} bytes, over the {parser.MAX_BYTES} byte limit")
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Unreadable("a symbolic link; not followed (use --follow-symlinks)") from None
        raise
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (st.st_dev, st.st_ino) or not stat.S_ISREG(opened.st_mode):
            raise Unreadable("the file was replaced while being opened; not read")
        if source.root is not None and not _inside(_real_path(fd, path), source.root):
            raise Unreadable("leads outside the folder being ingested; not read")
        chunks, left = [], parser.MAX_BYTES + 1  # +1: a file that grew past the limit is seen to
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > parser.MAX_BYTES:
        raise Unreadable(f"file is over the {parser.MAX_BYTES} byte limit (it grew while being read)")
    return data


def _real_path(fd: int, path: Path) -> str:
    """Where the open file really is (Linux: /proc/self/fd), whatever links led to it."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return os.path.realpath(path)


class SpeakerResolver:
    """Label → speaker, through the aliases; unknown transcript labels become new speakers."""

    def __init__(self):
        self.known = {a.normalized: a.speaker_id for a in SpeakerAlias.objects.all()}

    def for_label(self, label: str) -> int:
        key = normalize_name(label)
        if key in self.known:
            return self.known[key]
        # Created earlier in this file's transaction (or by a concurrent ingest, which
        # this lock waits for)?
        advisory_lock("label", key)
        speaker_id = SpeakerAlias.objects.filter(normalized=key).values_list("speaker_id", flat=True).first()
        if speaker_id is None:
            kind = Speaker.Kind.ROLE if label in parser.ROLE_LABELS else Speaker.Kind.PERSON
            speaker_id = Speaker.objects.create(
                name=label, short_label=label, slug=unique_slug(Speaker, label), kind=kind, needs_review=True
            ).id
            SpeakerAlias.objects.create(speaker_id=speaker_id, name=label)
        # Cache only once committed: if this file rolls back, the new speaker is gone.
        transaction.on_commit(lambda: self.known.setdefault(key, speaker_id))
        return speaker_id

    def knows(self, label: str) -> bool:
        key = normalize_name(label)
        return key in self.known or SpeakerAlias.objects.filter(normalized=key).exists()

    def for_attribution(self, phrase: str) -> int | None:
        """News quotes are attributed only to speakers the directory knows."""
        return self.known.get(normalize_name(phrase)) if phrase else None

    @functools.cached_property
    def persons(self) -> PersonMentions:
        return PersonMentions()

    def for_pronouns(self, doc: parser.Document) -> dict[int, tuple[int, str]]:
        """News quotes closed by "сказал он" / "отметила она": seq → (speaker, label) for
        those whose person the text named just before (see PersonMentions.resolve)."""
        if not any(normalize_name(u.attribution) in PRONOUNS for u in doc.utterances if not u.label):
            return {}
        return self.persons.resolve(doc.utterances)


PRONOUNS = {"он": "masc", "она": "femn"}

# A name's case forms by its ending (Токаев → Токаевым, Жомарт → Жомартом, Анна → Анной);
# a few forms that do not exist only cost a pattern that never matches.
_CASE_ENDINGS = (
    ("й", ("й", "я", "ю", "ем", "е", "и")),
    ("ь", ("ь", "я", "ю", "ем", "е")),
    ("а", ("а", "ы", "и", "е", "у", "ой", "ей")),
    ("я", ("я", "и", "е", "ю", "ей")),
)
_CONSONANT_ENDINGS = ("", "а", "у", "ом", "ым", "ем", "е")
_NAME_TAGS = frozenset({"Name", "Surn", "Patr"})


class PersonMentions:
    """Where a news text names a person the directory knows (any alias of a PERSON
    speaker, in any case: «Касым-Жомартом Токаевым»), and each person's gender, taken
    from the name: the patronymic (-вич / -вна), else the first name, else the surname."""

    def __init__(self):
        import pymorphy3  # only for documents with a pronoun to resolve

        self.morph = pymorphy3.MorphAnalyzer()
        rows = SpeakerAlias.objects.filter(speaker__kind=Speaker.Kind.PERSON).values_list(
            "speaker_id", "name", "speaker__name"
        )
        self.gender: dict[int, str] = {}
        self.patterns: list[tuple[int, str, re.Pattern]] = []
        for speaker_id, alias, name in rows:
            if speaker_id not in self.gender:
                self.gender[speaker_id] = self.gender_of(name)
            if self.gender[speaker_id] and (pattern := self.pattern(alias)):
                self.patterns.append((speaker_id, alias, pattern))

    def gender_of(self, name: str) -> str:
        parts = [re.sub(r"[^а-яёА-ЯЁ-]", "", p) for p in name.split()]
        parts = [p for p in parts if p.strip("-")]
        if len(parts) == 3:  # Имя Отчество Фамилия
            if re.search(r"..(вич|ич)$", parts[1].lower()):
                return "masc"
            if re.search(r"..(вна|чна)$", parts[1].lower()):
                return "femn"
        if len(parts) >= 2:
            first = parts[0].split("-")[-1]
            names = [p for p in self.morph.parse(first) if "Name" in p.tag and p.tag.gender in ("masc", "femn")]
            if names:
                return max(names, key=lambda p: p.score).tag.gender
        surname = re.sub(r".*[^а-яё]", "", name.lower().replace("ё", "е"))  # В.Путин → путин
        if re.search(r"..(ов|ев|ин|ын|ский|цкий)$", surname):
            return "masc"
        if re.search(r"..(ова|ева|ина|ына|ская|цкая)$", surname):
            return "femn"
        return ""

    def _common_word(self, word: str):
        """The singular nominative reading of a common noun or adjective ("лидер",
        "российский"), or None for a name (or a word the dictionary does not know)."""
        parses = self.morph.parse(word)
        if any(_NAME_TAGS & p.tag.grammemes for p in parses):
            return None
        return next(
            (p for p in parses if p.is_known and p.tag.POS in ("NOUN", "ADJF") and {"nomn", "sing"} <= p.tag.grammemes),
            None,
        )

    def forms(self, word: str, parse) -> set[str]:
        prefix, last = re.match(r"^(.*?)([а-яёА-ЯЁ]*)$", word).groups()
        if len(last) < 2:
            return {word}
        if parse is not None:  # a common word: the dictionary knows its forms
            found = {
                f.word
                for f in parse.lexeme
                if f.tag.POS == parse.tag.POS and "sing" in f.tag.grammemes and f.tag.gender == parse.tag.gender
            } or {last.lower()}
            endings = {form if last[0].islower() else form[:1].upper() + form[1:] for form in found}
        elif last[-1].lower() in "бвгджзклмнпрстфхцчшщ":
            endings = {last + e for e in _CONSONANT_ENDINGS}
        else:
            ending = next((pair for pair in _CASE_ENDINGS if last.lower().endswith(pair[0])), None)
            endings = {last[: -len(ending[0])] + e for e in ending[1]} if ending else {last}  # Шойгу: indeclinable
        return {prefix + e.replace("ё", "е") for e in endings}

    def pattern(self, alias: str) -> re.Pattern | None:
        words = alias.replace("ё", "е").replace("Ё", "Е").split()
        if not words:
            return None
        parses = [self._common_word(w) for w in words]
        # "Президент России": the head noun (and words before it) decline, its complement does not.
        head = next((i for i, p in enumerate(parses) if p is not None and p.tag.POS == "NOUN"), len(words) - 1)
        parts = []
        for i, word in enumerate(words):
            forms = self.forms(word, parses[i]) if i <= head else {word}
            if word[:1].islower():  # "российский лидер" may open a sentence
                forms |= {f[:1].upper() + f[1:] for f in forms}
            parts.append("(?:" + "|".join(map(re.escape, sorted(forms, key=len, reverse=True))) + ")")
        return re.compile(r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)")

    def mentions(self, text: str) -> dict[int, tuple[str, bool]]:
        """speaker → (the longest alias found, named in the nominative somewhere)."""
        text = text.replace("\u00a0", " ").replace("ё", "е").replace("Ё", "Е")
        found: dict[int, tuple[str, bool]] = {}
        for speaker_id, alias, pattern in self.patterns:
            for match in pattern.finditer(text):
                nominative = normalize_name(match.group()) == normalize_name(alias)
                best, was_nominative = found.get(speaker_id, ("", False))
                found[speaker_id] = (max(best, alias, key=len), was_nominative or nominative)
        return found

    def choose(self, text: str, gender: str) -> tuple[int, str] | None:
        """The one person of this gender `text` names; of several, the one named in the
        nominative (the subject: "Путин встретился с Токаевым"); else None."""
        found = {s: m for s, m in self.mentions(text).items() if self.gender.get(s) == gender}
        if len(found) > 1:
            found = {s: m for s, m in found.items() if m[1]}
        if len(found) == 1:
            ((speaker_id, (alias, _)),) = found.items()
            return speaker_id, alias
        return None

    def resolve(self, utterances) -> dict[int, tuple[int, str]]:
        """A pronoun goes to the person named just before its quote: in the same paragraph
        (outside quotes), else in the paragraph before the quote, else to whoever the
        previous quote's same pronoun went to. No match, or no agreeing gender: none."""
        resolved: dict[int, tuple[int, str]] = {}
        items = list(utterances)
        for i, u in enumerate(items):
            gender = PRONOUNS.get(normalize_name(u.attribution)) if not u.label else None
            if not gender:
                continue
            start = i  # the paragraph the quote opens in: a quote may span several
            while start > 0 and not items[start].text.startswith("«") and items[start - 1].attribution == u.attribution:
                start -= 1
            opening = _last_quote_start(items[start].text)
            choice = self.choose(_outside_quotes(items[start].text[:opening]), gender)
            if choice is None and start > 0:
                before = items[start - 1]
                choice = self.choose(_outside_quotes(before.text), gender)
                if choice is None and normalize_name(before.attribution) == normalize_name(u.attribution):
                    choice = resolved.get(before.seq)
            if choice:
                resolved[u.seq] = choice
        return resolved


def _outside_quotes(text: str) -> str:
    """The narration: «quoted» words are the speaker's, not who the text names."""
    out, depth = [], 0
    for char in text:
        if char == "«":
            depth += 1
            out.append(" ")
        elif char == "»" and depth:
            depth -= 1
            out.append(" ")
        elif depth == 0:
            out.append(char)
    return "".join(out)


def _last_quote_start(text: str) -> int:
    """Where the last top-level «quote» in a paragraph opens (its length if none)."""
    start, depth = len(text), 0
    for i, char in enumerate(text):
        if char == "«":
            if depth == 0:
                start = i
            depth += 1
        elif char == "»" and depth:
            depth -= 1
    return start


def unique_slug(model, text: str, *, prefix: str = "", max_length: int = 100) -> str:
    base = slugify(f"{prefix} {text}".strip(), max_length=max_length, word_boundary=True) or "item"
    advisory_lock(model._meta.label, base)  # a concurrent ingest must not pick the same slug
    slug, n = base, 2
    while model.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


ADVISORY_LOCK_CLASS = 0x6B7A_0001  # ingest's advisory locks: (this, hash of what is locked)


def advisory_lock(kind: str, name: str) -> None:
    """Wait for, then hold until this transaction ends, the lock on one name: a source
    key, a slug, a label. A hash collision only makes an ingest wait."""
    digest = hashlib.sha256(f"{kind}\0{name}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            [ADVISORY_LOCK_CLASS, int.from_bytes(digest[:4], "big", signed=True)],
        )


def load_speaker_directory(path: Path | None = None) -> int:
    """Add the directory's speakers and aliases that are missing. Existing rows are
    left as they are, so an editor's changes to a speaker are not overwritten."""
    path = Path(path or settings.SPEAKER_DIRECTORY)
    entries = json.loads(path.read_text(encoding="utf-8"))["speakers"]
    added = 0
    known = set(SpeakerAlias.objects.values_list("normalized", flat=True))
    with transaction.atomic():
        for entry in entries:
            if any(normalize_name(a) in known for a in entry["aliases"]):
                continue  # already here, perhaps merged or renamed by an editor: theirs now
            row = Speaker.objects.on_conflict(["slug"], ConflictAction.NOTHING).insert(
                slug=entry["slug"],
                name=entry["name"],
                short_label=entry.get("short_label", ""),
                role=entry.get("role", ""),
                country=entry.get("country", ""),
                kind=entry.get("kind", Speaker.Kind.PERSON),
                needs_review=False,
            )
            added += row is not None
            speaker_id = Speaker.objects.only("id").get(slug=entry["slug"]).id
            SpeakerAlias.objects.on_conflict(["normalized"], ConflictAction.NOTHING).bulk_insert(
                [{"speaker_id": speaker_id, "name": a, "normalized": normalize_name(a)} for a in entry["aliases"]]
            )
    return added


def source_key(url: str, path: Path) -> str:
    """What identifies a document across re-ingests: its URL without scheme or
    trailing slash (http/https and a final / are the same page), else its file name."""
    if url:
        return re.sub(r"^https?://", "", url).rstrip("/")
    return f"file:{path.name}"


def content_hash(data: bytes) -> str:
    # The parser version is part of the hash, so a better parser re-reads every file.
    return hashlib.sha256(b"parser-v%d\n" % parser.PARSER_VERSION + data).hexdigest()


def ingest_paths(
    paths: Iterable[str | Path],
    *,
    on_file: Callable[[FileResult], None] | None = None,
    follow_symlinks: bool = False,
    allow_partial_copies: bool = False,
) -> IngestReport:
    files, problems = collect_files(paths, follow_symlinks=follow_symlinks)
    return ingest_files(
        files,
        on_file=on_file,
        earlier=problems,
        follow_symlinks=follow_symlinks,
        allow_partial_copies=allow_partial_copies,
    )


def ingest_files(
    files: list[Source | Path],
    *,
    on_file: Callable[[FileResult], None] | None = None,
    earlier: list[FileResult] = (),
    follow_symlinks: bool = False,
    allow_partial_copies: bool = False,
) -> IngestReport:
    """Ingest `files` in order; `on_file` is called after each one (progress)."""
    report = IngestReport(list(earlier))
    load_speaker_directory()
    resolver = SpeakerResolver()
    keys_seen: dict[str, Path] = {}
    for item in files:
        source = item if isinstance(item, Source) else Source(Path(item))
        result = ingest_file(
            source, resolver, keys_seen, follow_symlinks=follow_symlinks, allow_partial_copies=allow_partial_copies
        )
        report.results.append(result)
        if on_file:
            on_file(result)
    return report


def ingest_file(
    source: Source,
    resolver: SpeakerResolver,
    keys_seen: dict[str, Path],
    *,
    follow_symlinks: bool = False,
    allow_partial_copies: bool = False,
) -> FileResult:
    path = source.path
    try:
        data = read_source(source, follow_symlinks=follow_symlinks)
        doc = parser.parse_bytes(data, path.name)  # the bytes as read: the parser finds the encoding
    except Unreadable as exc:
        return FileResult(path, FAILED, reason=exc.reason)
    except parser.ParseError as exc:
        return FileResult(path, FAILED, reason=parse_reason(exc.reason), line=exc.line)
    except OSError as exc:
        return FileResult(path, FAILED, reason=f"cannot read: {exc.strerror or exc}")

    problem = document_problem(doc, data, path, resolver)
    if problem:
        return FileResult(path, FAILED, reason=problem[0], line=problem[1])

    key = source_key(doc.url, path)
    if key in keys_seen:
        same = "source URL" if doc.url else "file name (and no URL)"
        return FileResult(
            path, FAILED, reason=f"the same {same} as {_printable(str(keys_seen[key]))}, read earlier in this run"
        )
    keys_seen[key] = path

    digest = content_hash(data)
    try:
        with transaction.atomic():
            # Two ingests of one document queue here, so the second sees what the first
            # stored (and reports it unchanged) instead of both reporting it added.
            advisory_lock("source", key)
            existing = (
                Meeting.objects.filter(source_key=key).only("id", "content_hash", "date", "curated_fields").first()
            )
            if existing and existing.content_hash == digest:
                return FileResult(path, UNCHANGED, meeting_id=existing.id)
            if existing and not doc.url and existing.date != doc.date and "date" not in existing.curated_fields:
                # Without a URL the file name is all that ties a file to its meeting; a
                # different date means a different document that happens to share the name.
                return FileResult(
                    path,
                    FAILED,
                    reason=f"another document dated {existing.date} is already stored under the name"
                    f" {path.name!r}; rename the file",
                )
            maybe_cut = not existing and not doc.url and doc.layout == "transcript" and not allow_partial_copies
            if maybe_cut and (full := full_copy_of(doc)):
                return FileResult(path, FAILED, reason=full)
            meeting_id, conflicts = store_document(
                doc, key=key, digest=digest, source_file=path.name, resolver=resolver
            )
    except DatabaseError as exc:
        return FileResult(path, FAILED, reason=f"database error, nothing stored: {database_reason(exc)}")
    return FileResult(path, UPDATED if existing else ADDED, meeting_id=meeting_id, conflicts=conflicts)


def full_copy_of(doc: parser.Document) -> str:
    """Why a transcript without its URL line is taken for a truncated copy of a stored
    meeting ("" if it is not): a file that lost its last lines loses the URL with them,
    and would otherwise be added beside the full meeting under a "-2" slug."""
    full = (
        Meeting.objects.filter(title=doc.title, date=doc.date, location=doc.location)
        .exclude(source_url="")
        .only("slug", "source_url")
        .first()
    )
    if not full:
        return ""
    return (
        f"no source URL, but the same title, date and place as the meeting {full.slug} ({full.source_url}):"
        " likely a truncated copy of it; not added (use --allow-partial-copies to add it)"
    )


def _field_max(model, name: str) -> int:
    return model._meta.get_field(name).max_length


def document_problem(
    doc: parser.Document, data: bytes, path: Path, resolver: SpeakerResolver
) -> tuple[str, int | None] | None:
    """What in a parsed document the database would refuse, checked before writing
    (a date outside the archive's span, a value longer than its column), as
    (reason, line); None when it fits. Reasons name the field, never its value."""
    lines = _Lines(data, path.name)
    problem = dates.date_problem(doc.date)
    if problem:
        return problem, lines.date_line(doc.layout)

    def too_long(what: str, value: str, limit: int, line, fits: str = "fit") -> tuple[str, int | None] | None:
        if len(value) <= limit:
            return None
        return f"{what} is {len(value)} characters long; at most {limit} {fits}", line() if callable(line) else line

    checks = [
        ("the place", doc.location, _field_max(Meeting, "location"), lambda: lines.find(doc.location)),
        ("the source URL", doc.url, _field_max(Meeting, "source_url"), lambda: lines.find(doc.url, last=True)),
        ("the file name", path.name, _field_max(Meeting, "source_file"), None),
    ]
    for check in checks:
        if problem := too_long(*check):
            return problem
    label_max, remark_max = _field_max(Utterance, "label"), _field_max(Utterance, "remark")
    # A label the directory does not know becomes a speaker: its name and short label too.
    new_max = min(_field_max(Speaker, "name"), _field_max(Speaker, "short_label"), _field_max(SpeakerAlias, "name"))
    for u in doc.utterances:
        if problem := too_long("the speaker label", u.label, label_max, u.line) or too_long(
            "the remark", u.remark, remark_max, u.line
        ):
            return problem
        if u.label and len(u.label) > new_max and not resolver.knows(u.label):
            return too_long("the speaker label", u.label, new_max, u.line, "fit a new speaker's short label")
    return None


class _Lines:
    """The document's lines, decoded only when a problem needs a line number."""

    def __init__(self, data: bytes, filename: str):
        self.data, self.filename = data, filename

    @functools.cached_property
    def lines(self) -> list[str]:
        text, _ = parser.decode(self.data, self.filename)
        return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")

    def date_line(self, layout: str) -> int | None:
        pattern = parser.NEWS_DATE_DASH_RE if layout == "news" else parser.TRANSCRIPT_DATE_RE
        return next((i + 1 for i, line in enumerate(self.lines) if pattern.match(line.strip())), None)

    def find(self, value: str, *, last: bool = False) -> int | None:
        numbered = list(enumerate(self.lines, start=1))
        for number, line in reversed(numbered) if last else numbered:
            if value and value in html.unescape(line):
                return number
        return None


# Parser reasons that quote the file, and what ingest says instead: a reason is printed,
# and the file may be anything (a link to /etc/shadow).
_QUOTING_REASONS = (
    (re.compile(r"^expected the date line"), "expected the date line YYYY-MM-DD HH:MM:SS after the title"),
    (re.compile(r"^speaker label .* has no text$"), "a speaker label with no text after it"),
    (re.compile(r"^the two date lines disagree"), "the two date lines (DD-MM-YYYY, DD.MM.YYYY) name different days"),
)
_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|«[^»\n]*»")


def parse_reason(reason: str) -> str:
    """A parser reason with nothing of the file in it: known quoting reasons are
    replaced, and anything else in quotes is cut (a reason added to the parser later)."""
    for pattern, plain in _QUOTING_REASONS:
        if pattern.search(reason):
            return plain
    return _QUOTED.sub("…", reason)


def database_reason(exc: DatabaseError) -> str:
    """PostgreSQL's primary message without its DETAIL ("Key (slug)=(…)" quotes the
    data) and without quoted values."""
    diag = getattr(exc.__cause__, "diag", None) or getattr(exc, "diag", None)
    message = getattr(diag, "message_primary", None) or str(exc).strip().split("\n", 1)[0]
    message = _QUOTED.sub("…", message.strip())
    constraint = getattr(diag, "constraint_name", None)
    return f"{message} ({constraint})" if constraint else message


def store_document(
    doc: parser.Document, *, key: str, digest: str, source_file: str, resolver: SpeakerResolver
) -> tuple[int, list]:
    """Write one parsed document, keeping editors' work; call inside a transaction.
    Returns the meeting id and the conflicts between editors' versions and the file."""
    start = dt.datetime.combine(doc.date, doc.time, tzinfo=MOSCOW) if doc.time else None
    values = {
        "title": doc.title,
        "title_derived": doc.title_derived,
        "start": start,
        "date": doc.date,
        "location": doc.location,
        "kind": doc.kind,
        "lead": "\n\n".join(doc.lead),
        "source_url": doc.url,
        "source_file": source_file,
        "layout": doc.layout,
        "content_hash": digest,
        "language": "ru",
        "omitted_after": list(doc.omissions),
        "updated_at": timezone.now(),  # auto_now does not run inside an upsert
    }
    # Labels new to the directory, locked in one order before any: two ingests creating
    # the same speakers cannot then wait for each other.
    for label_key in sorted({normalize_name(u.label) for u in doc.utterances if u.label} - resolver.known.keys()):
        advisory_lock("label", label_key)
    stored = Meeting.objects.filter(source_key=key).values("slug", "curated_fields").first() or {}
    slug = stored.get("slug") or unique_slug(Meeting, doc.title, prefix=doc.date.isoformat(), max_length=120)
    # On conflict everything is refreshed but the slug (a permalink), created_at,
    # and the fields an editor changed.
    curated = set(stored.get("curated_fields") or ())
    refreshed = {field: value for field, value in values.items() if field not in curated}
    meeting_id = (
        Meeting.objects.on_conflict(["source_key"], ConflictAction.UPDATE, update_values=refreshed)
        .insert_and_get(source_key=key, slug=slug, **values)
        .id
    )

    section_ids = _upsert_children(
        Section,
        meeting_id,
        "position",
        [{"meeting_id": meeting_id, "position": i, "heading": h} for i, h in enumerate(doc.sections)],
    )
    pronouns = resolver.for_pronouns(doc) if doc.layout == "news" else {}
    edited = list(
        Utterance.objects.filter(meeting_id=meeting_id)
        .filter(Q(text_curated=True) | Q(speaker_curated=True))
        .values("seq", "label", "text", "speaker_id", "text_curated", "speaker_curated", "source_hash")
    )
    rows, conflicts = [], []
    for u in doc.utterances:
        if u.label:
            speaker_id, label = resolver.for_label(u.label), u.label
        else:
            speaker_id = resolver.for_attribution(u.attribution)
            label = u.attribution if speaker_id else ""
            if speaker_id is None and u.seq in pronouns:
                # The alias the text named, not "он": a label is what an editor reassigns.
                speaker_id, label = pronouns[u.seq]
        row = {
            "meeting_id": meeting_id,
            "seq": u.seq,
            "speaker_id": speaker_id,
            "label": label,
            "remark": u.remark,
            "section_id": None if u.section is None else section_ids[u.section],
            "text": u.text,
            "source_line": u.line,
            "source_hash": text_hash(u.text),
            "text_curated": False,  # _apply_edits sets these where an editor's work lands
            "speaker_curated": False,
        }
        rows.append(row)
    kept = _apply_edits(edited, rows, meeting_id, conflicts)
    _upsert_children(Utterance, meeting_id, "seq", rows, keep_extra=kept)
    return meeting_id, conflicts


GONE = "gone"  # source_hash of an edited statement the file no longer has (reported once)


def _apply_edits(edited: list[dict], rows: list[dict], meeting_id: int, conflicts: list) -> list[int]:
    """Carry editors' versions onto the file's rows. An edit follows its statement:
    the row with the same label and the same text as the file had when the editor
    worked (a turn inserted above only shifts it), else the row at its old place if
    that still has its label. Returns the positions of edits with no row to go to:
    they are kept where they are and reported once."""
    by_seq = {row["seq"]: row for row in rows}
    taken: set[int] = set()
    unplaced = []
    for mine in edited:
        row = next(
            (
                r
                for r in rows
                if r["label"] == mine["label"] and r["source_hash"] == mine["source_hash"] and r["seq"] not in taken
            ),
            None,
        )
        if row is None:
            same_place = by_seq.get(mine["seq"])
            if same_place and same_place["label"] == mine["label"] and same_place["seq"] not in taken:
                row = same_place
        if row is None:
            if mine["source_hash"] != GONE and mine["seq"] not in by_seq:
                conflicts.append(Conflict(meeting_id, mine["seq"], mine["label"], ""))
            if mine["seq"] in by_seq:  # its place now holds another statement: report the editor's text
                conflicts.append(Conflict(meeting_id, mine["seq"], mine["label"], "", replaced=mine["text"]))
            else:
                unplaced.append(mine["seq"])
            continue
        taken.add(row["seq"])
        if mine["text_curated"]:
            if mine["source_hash"] != row["source_hash"]:
                conflicts.append(Conflict(meeting_id, row["seq"], row["label"], row["text"]))
            row["text"], row["text_curated"] = mine["text"], True
        if mine["speaker_curated"]:
            row["speaker_id"], row["speaker_curated"] = mine["speaker_id"], True
    if unplaced:
        Utterance.objects.filter(meeting_id=meeting_id, seq__in=unplaced).update(source_hash=GONE)
    return unplaced


def text_hash(text: str) -> str:
    """md5 of the text: PostgreSQL's md5() gives the same (migration 0009 backfills it)."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Conflict:
    """An editor's version of an utterance that the file now disagrees with."""

    meeting_id: int
    seq: int
    label: str
    file_text: str  # "" when the file no longer has this utterance
    replaced: str = ""  # the editor's text, when the file put another statement in its place

    def describe(self) -> str:
        meeting = Meeting.objects.only("title").get(id=self.meeting_id)
        where = f"«{meeting.title}», utterance #{self.seq}" + (f" ({self.label})" if self.label else "")
        if self.replaced:
            return (
                f"{where} was edited, but the file now has another statement in its place and none like it;"
                f" the editor's text was: «{self.replaced}»"
            )
        if not self.file_text:
            return f"{where} was edited and is no longer in the file; the editor's version is kept"
        quoted = self.file_text if len(self.file_text) <= 300 else self.file_text[:300] + "…"
        return f"{where} was edited; kept the editor's version. The file now says: «{quoted}»"


def _upsert_children(model, meeting_id: int, order_field: str, rows: list[dict], keep_extra=()) -> dict[int, int]:
    """Upsert a meeting's ordered children in place (ids stay stable); drop the rest
    but `keep_extra`. Returns {position: id}."""
    keep = [row[order_field] for row in rows] + list(keep_extra)
    model.objects.filter(meeting_id=meeting_id).exclude(**{f"{order_field}__in": keep}).delete()
    if not rows:
        return {}
    stored = model.objects.on_conflict(["meeting", order_field], ConflictAction.UPDATE).bulk_insert(rows)
    return {row[order_field]: row["id"] for row in stored}
