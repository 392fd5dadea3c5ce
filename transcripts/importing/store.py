"""Writing one parsed document: the meeting, its sections and statements, upserted
in place (django-postgres-extra) so ids and slugs stay stable, editors' work kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone
from psqlextra.types import ConflictAction

from ..models import Meeting, Section, Utterance, normalize_name
from . import parser
from .locks import advisory_lock, unique_slug
from .reconcile import apply_edits, text_hash
from .speakers import SpeakerResolver

MOSCOW = ZoneInfo("Europe/Moscow")


def source_key(url: str, path: Path) -> str:
    """What identifies a document across re-ingests: its URL without scheme or
    trailing slash (http/https and a final / are the same page), else its file name."""
    if url:
        return re.sub(r"^https?://", "", url).rstrip("/")
    return f"file:{path.name}"


def content_hash(data: bytes) -> str:
    # The parser version is part of the hash, so a better parser re-reads every file.
    return hashlib.sha256(b"parser-v%d\n" % parser.PARSER_VERSION + data).hexdigest()


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

    section_ids = upsert_children(
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
            "text_curated": False,  # apply_edits sets these where an editor's work lands
            "speaker_curated": False,
        }
        rows.append(row)
    kept = apply_edits(edited, rows, meeting_id, conflicts)
    upsert_children(Utterance, meeting_id, "seq", rows, keep_extra=kept)
    return meeting_id, conflicts


def upsert_children(model, meeting_id: int, order_field: str, rows: list[dict], keep_extra=()) -> dict[int, int]:
    """Upsert a meeting's ordered children in place (ids stay stable); drop the rest
    but `keep_extra`. Returns {position: id}."""
    keep = [row[order_field] for row in rows] + list(keep_extra)
    model.objects.filter(meeting_id=meeting_id).exclude(**{f"{order_field}__in": keep}).delete()
    if not rows:
        return {}
    stored = model.objects.on_conflict(["meeting", order_field], ConflictAction.UPDATE).bulk_insert(rows)
    return {row[order_field]: row["id"] for row in stored}
