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

import functools
import html
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import pghistory
from django.db import DatabaseError, transaction
from django.utils import timezone

from .. import dates
from ..models import Meeting, Speaker, SpeakerAlias, Utterance
from ..search import champions
from . import parser
from .files import Source, Unreadable, collect_files, read_source
from .locks import advisory_lock
from .report import ADDED, FAILED, UNCHANGED, UPDATED, FileResult, IngestReport, printable
from .speakers import SpeakerResolver, load_speaker_directory
from .store import content_hash, source_key, store_document


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
    run = timezone.now().isoformat(timespec="seconds")  # names this run in the history
    for item in files:
        source = item if isinstance(item, Source) else Source(Path(item))
        result = ingest_file(
            source,
            resolver,
            keys_seen,
            run=run,
            follow_symlinks=follow_symlinks,
            allow_partial_copies=allow_partial_copies,
        )
        report.results.append(result)
        if on_file:
            on_file(result)
    # Words that became frequent get their champion lists now (search/champions.py).
    changed = [r.meeting_id for r in report.results if r.status in (ADDED, UPDATED) and r.meeting_id]
    champions.extend(changed)
    return report


def ingest_file(
    source: Source,
    resolver: SpeakerResolver,
    keys_seen: dict[str, Path],
    *,
    run: str = "",
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
            path, FAILED, reason=f"the same {same} as {printable(str(keys_seen[key]))}, read earlier in this run"
        )
    keys_seen[key] = path

    digest = content_hash(data)
    try:
        # Every revision this file makes is recorded as this run's, under the file's name.
        with transaction.atomic(), pghistory.context(ingest=run or timezone.now().isoformat(), file=path.name):
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
