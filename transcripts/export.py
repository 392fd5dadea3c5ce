"""The bulk export (manage.py export): the public archive as JSON Lines and CSV, one
file per object, with a README of the fields, the licence, SHA256SUMS and a manifest.

Rows are the serializers' shapes (a field means what it means in the API), read with
server-side cursors in chunks, so memory stays bounded at any archive size. A release
is written in a hidden folder and renamed into place when complete: a failed export
leaves no half release, and the /data/ page (transcripts/data.py) only sees whole ones.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.db import connections, router, transaction
from django.db.models import F, Prefetch
from django.urls import reverse
from django.utils import timezone, translation

from . import browse, licences, serializers
from .models import ArchiveChange, Meeting, Section, Utterance, statement_url

CHUNK = 2000  # rows a server-side cursor fetches at a time
RELEASE_PREFIX = "kzarchive-"
KEEP_RELEASES = 3  # older releases are removed after a new one is in place
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
LICENCE = {
    "name": "CC BY 4.0",
    "url": licences.CC_BY,
    "attribution": "Texts from kremlin.ru (Президент России) are under CC BY 4.0: credit kremlin.ru and link"
    " to the source (each meeting's source_url). Texts from other sources keep their own terms; each meeting's"
    " source_url names its source.",
}

# Each file's columns, in order, with their meaning: the CSV header and the README.
# A nested JSON object is flattened into columns joined with "_" (speaker_name).
FIELDS = {
    "meetings": {
        "title": "title as published",
        "slug": "the meeting's permanent name in addresses",
        "url": "its page in the archive",
        "date": "date, YYYY-MM-DD",
        "start": "start in Moscow time, ISO 8601, or empty",
        "location": "place",
        "kind": "talks, meeting, conversation, press_statements, phone_call, briefing, news_report or other",
        "source_url": "the source (kremlin.ru)",
        "lead": "the lead paragraph",
        "sections": "section headings in order (in CSV: a JSON list)",
        "licence": "the licence of the text (CC BY 4.0 for kremlin.ru), or empty where the source names its own terms",
    },
    "speakers": {
        "name": "canonical name",
        "slug": "the speaker's permanent name in addresses",
        "url": "their page in the archive",
        "kind": "person, or role (a question or a voice from the floor)",
        "role": "their office",
        "country": "country",
        "statement_count": "published statements",
        "meeting_count": "published meetings with their statements",
    },
    "statements": {
        "meeting": "the meeting's slug (meetings.slug)",
        "id": "the statement's permanent identifier (sid)",
        "seq": "its number in the meeting, from 1",
        "anchor": "its anchor on the meeting page",
        "url": "its own page, the address to cite",
        "context_url": "its place on the meeting page",
        "speaker_name": "speaker's canonical name, or empty (narration, or an unresolved label)",
        "speaker_slug": "speakers.slug, or empty",
        "label": "the label as written in the source",
        "remark": "a remark after the label, e.g. (по-казахски)",
        "section": "the heading of its section, or empty",
        "text": "the text; paragraphs separated by a blank line",
    },
}


def _meetings():
    sections = Prefetch("sections", queryset=Section.objects.order_by("position"))
    return Meeting.objects.published().prefetch_related(sections).order_by("date", "id").iterator(chunk_size=CHUNK)


def _speakers():
    return browse.speakers_with_counts().order_by("slug").iterator(chunk_size=CHUNK)


def _statements():
    statements = Utterance.objects.published().select_related("speaker", "section")
    statements = statements.annotate(meeting_slug=F("meeting__slug"))  # the meeting without its lead, per row
    return statements.order_by("meeting_date", "meeting_id", "seq").iterator(chunk_size=CHUNK)


def _statement_row(u: Utterance, url) -> dict:
    meeting_url = reverse("meeting", kwargs={"slug": u.meeting_slug})
    return {
        "meeting": u.meeting_slug,
        **serializers.statement(u, url, context=statement_url(meeting_url, u.seq, u.sid)),
    }


def rows(url):
    """(file name, its rows) for each object, as generators."""
    yield "meetings", (serializers.meeting_detail(m, url) for m in _meetings())
    yield "speakers", (serializers.speaker_detail(s, url) for s in _speakers())
    yield "statements", (_statement_row(u, url) for u in _statements())


def flatten(row: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in row.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}_"))
        elif isinstance(value, list):
            flat[prefix + key] = json.dumps(value, ensure_ascii=False)
        else:
            flat[prefix + key] = "" if value is None else value
    return flat


def csv_row(row: dict, columns: list[str]) -> list:
    """The row's values in the columns' order. A field no column documents is an error
    (the README would not describe it), except an empty object (no speaker: speaker_*)."""
    flat = flatten(row)
    for key in set(flat) - set(columns):
        if flat[key] != "" or not any(column.startswith(key + "_") for column in columns):
            raise ValueError(f"{key} is not among the export's documented fields")
    return [flat.get(column, "") for column in columns]


class HashedFile:
    """A file being written, with its SHA-256 and size as it goes (nothing is read back)."""

    def __init__(self, path: Path):
        self.path, self.sha256, self.size = path, hashlib.sha256(), 0
        self.file = path.open("wb")

    def write(self, text: str) -> None:
        data = text.encode()
        self.sha256.update(data)
        self.size += len(data)
        self.file.write(data)

    def close(self) -> dict:
        self.file.close()
        return {"name": self.path.name, "bytes": self.size, "sha256": self.sha256.hexdigest()}


def _write_object(folder: Path, name: str, objects) -> tuple[int, list[dict]]:
    jsonl, table = HashedFile(folder / f"{name}.jsonl"), HashedFile(folder / f"{name}.csv")
    columns = list(FIELDS[name])
    writer = csv.writer(table)
    writer.writerow(columns)
    count = 0
    for row in objects:
        jsonl.write(json.dumps(row, ensure_ascii=False) + "\n")
        writer.writerow(csv_row(row, columns))
        count += 1
    return count, [jsonl.close(), table.close()]


@dataclass(frozen=True)
class Release:
    path: Path
    manifest: dict

    def file(self, name: str) -> Path | None:
        """A file of the release that may be downloaded, by name; None for any other."""
        names = {f["name"] for f in self.manifest["files"]} | {MANIFEST, SUMS}
        return self.path / name if name in names else None


def export(output: Path, site_url: str) -> Release:
    """Write a release into `output` from one consistent snapshot of the archive."""
    output.mkdir(parents=True, exist_ok=True)
    created = timezone.now().replace(microsecond=0)
    name = RELEASE_PREFIX + created.strftime("%Y%m%dT%H%M%SZ")
    partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=output))
    try:
        manifest = _write_release(partial, name, created, site_url.rstrip("/"))
        final = output / name
        if final.exists():  # a second export within the same second
            raise FileExistsError(final)
        _make_durable_and_readable(partial)
        partial.rename(final)  # atomic on one file system: the release appears whole
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    _prune(output)
    return Release(final, manifest)


def _make_durable_and_readable(folder: Path) -> None:
    """On disk before the rename (a crash cannot leave a release of empty files), and
    readable by the web server, which may be another user (mkdtemp makes the folder 0700)."""
    for file in folder.iterdir():
        with file.open("rb") as handle:
            os.fsync(handle.fileno())
        file.chmod(0o644)
    folder.chmod(0o755)


def _write_release(folder: Path, name: str, created: dt.datetime, site_url: str) -> dict:
    def url(path):
        return site_url + path

    alias = router.db_for_read(Utterance)
    files, counts = [], {}
    # One snapshot for every file: a statement's meeting and speaker are in the others.
    connection = connections[alias]
    outermost = not connection.in_atomic_block  # a test's transaction is already open: its snapshot serves
    with transaction.atomic(using=alias), translation.override("ru"):
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        changed_at = ArchiveChange.objects.using(alias).values_list("changed_at", flat=True).first()
        for object_name, objects in rows(url):
            counts[object_name], written = _write_object(folder, object_name, objects)
            files.extend({**f, "rows": counts[object_name]} for f in written)
    readme = HashedFile(folder / "README.md")
    readme.write(readme_text(name, created, counts, site_url))
    files.append(readme.close())
    manifest = {
        "name": name,
        "created_at": created.isoformat(),
        "archive_changed_at": changed_at.isoformat() if changed_at else None,
        "site": site_url,
        "licence": LICENCE,
        "counts": counts,
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    manifest_sum = hashlib.sha256((folder / MANIFEST).read_bytes()).hexdigest()
    sums = [f"{f['sha256']}  {f['name']}\n" for f in files] + [f"{manifest_sum}  {MANIFEST}\n"]
    (folder / SUMS).write_text("".join(sums), encoding="utf-8")
    return manifest


def readme_text(name: str, created: dt.datetime, counts: dict, site_url: str) -> str:
    lines = [
        f"# {name}",
        "",
        f"The public part of the Russia–Kazakhstan statements archive at {site_url}, exported {created.isoformat()}:",
        "published meetings, the speakers of their statements, and the statements. Nothing else is included",
        "(no accounts, editors' history or unpublished work).",
        "",
        "Each object is in two files with the same rows: JSON Lines (`.jsonl`, one JSON object a line, nested as",
        "in the archive's API) and CSV (UTF-8, RFC 4180, a header row; nested fields flattened with `_`).",
        "Texts keep the source's non-breaking spaces. `SHA256SUMS` checks the files: `sha256sum -c SHA256SUMS`;",
        "`manifest.json` lists them with sizes, row counts and checksums.",
        "",
        "## Licence",
        "",
        f"{LICENCE['attribution']} Licence: {LICENCE['url']}",
    ]
    for object_name, fields in FIELDS.items():
        lines += ["", f"## {object_name} ({counts.get(object_name, 0)} rows)", ""]
        lines += [f"- `{field}`: {meaning}" for field, meaning in fields.items()]
    return "\n".join(lines) + "\n"


def releases(folder: Path) -> list[Release]:
    """The complete releases in `folder`, newest first."""
    found = []
    for path in sorted(folder.glob(RELEASE_PREFIX + "*"), reverse=True):
        manifest = path / MANIFEST
        if path.is_dir() and manifest.is_file():
            found.append(Release(path, json.loads(manifest.read_text(encoding="utf-8"))))
    return found


def latest(folder: Path) -> Release | None:
    found = releases(folder) if folder.is_dir() else []
    return found[0] if found else None


def _prune(folder: Path) -> None:
    for old in releases(folder)[KEEP_RELEASES:]:
        shutil.rmtree(old.path, ignore_errors=True)
