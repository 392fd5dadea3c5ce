"""Writing one parsed document: the meeting, its sections and statements, upserted
in place (django-postgres-extra) so ids and slugs stay stable, editors' work kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection
from django.db.models import Q
from django.utils import timezone
from psqlextra.types import ConflictAction

from ..models import IngestConflict, Meeting, RetiredStatement, Section, Utterance, new_sid, normalize_name
from ..participants import named_in
from . import parser
from .locks import advisory_lock, unique_slug
from .reconcile import Plan, reconcile, text_hash
from .speakers import SpeakerResolver

STORED_FIELDS = (
    "id", "sid", "seq", "meeting_id", "speaker_id", "label", "remark", "section_id", "text", "source_line",
    "source_text", "source_hash", "text_curated", "speaker_curated", "corrected_at",
)  # fmt: skip

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

    # Who the title and lead name, as stored (an editor's title counts, not the file's).
    title, lead = Meeting.objects.values_list("title", "lead").get(id=meeting_id)
    Meeting(id=meeting_id).named_people.set(named_in(title, lead, resolver.names))

    section_ids = upsert_children(
        Section,
        meeting_id,
        "position",
        [{"meeting_id": meeting_id, "position": i, "heading": h} for i, h in enumerate(doc.sections)],
    )
    pronouns = resolver.for_pronouns(doc) if doc.layout == "news" else {}
    rows = []
    for u in doc.utterances:
        if u.label:
            speaker_id, label = resolver.for_label(u.label), u.label
        else:
            speaker_id = resolver.for_attribution(u.attribution)
            label = u.attribution if speaker_id else ""
            if speaker_id is None and u.seq in pronouns:
                # The alias the text named, not "он": a label is what an editor reassigns.
                speaker_id, label = pronouns[u.seq]
        rows.append(
            {
                "meeting_id": meeting_id,
                "sid": "",  # reconcile gives a surviving statement its own
                "seq": u.seq,
                "speaker_id": speaker_id,
                "label": label,
                "remark": u.remark,
                "section_id": None if u.section is None else section_ids[u.section],
                "text": u.text,
                "source_line": u.line,
                "source_text": "",
                "source_hash": text_hash(u.text),
                "text_curated": False,  # reconcile sets these where an editor's work lands
                "speaker_curated": False,
                "corrected_at": None,
            }
        )
    conflicts = store_statements(meeting_id, rows, source_file, doc.omissions)
    return meeting_id, conflicts


def store_statements(meeting_id: int, rows: list[dict], source_file: str, omissions=()) -> list[IngestConflict]:
    """Write the file's statements over the stored ones, each surviving statement
    keeping its sid (importing/reconcile.py); retire the rest. Returns the conflicts."""
    stored = [
        {**s, "file_text": s["source_text"] or s["text"]}
        for s in Utterance.objects.filter(meeting_id=meeting_id).order_by("seq").values(*STORED_FIELDS)
    ]
    plan = reconcile(stored, rows)
    _give_new_sids([row for row in plan.rows if not row["sid"]])
    if plan.retired:
        now = timezone.now()
        slug = Meeting.objects.values_list("slug", flat=True).get(id=meeting_id)
        RetiredStatement.objects.bulk_create(
            [
                RetiredStatement(
                    sid=statement["sid"],
                    reason=RetiredStatement.Reason.MERGED if successor else RetiredStatement.Reason.REMOVED,
                    successor=successor,
                    meeting_id=meeting_id,
                    meeting_slug=slug,
                    seq=statement["seq"],
                    label=statement["label"],
                    retired_at=now,
                )
                for statement, successor in plan.retired
            ]
        )
        Utterance.objects.filter(id__in=[statement["id"] for statement, _ in plan.retired]).delete()
    if plan.rows:
        written = Utterance.objects.on_conflict(
            ["sid"], ConflictAction.UPDATE, update_condition=Q(meeting_id=meeting_id)
        ).bulk_insert(plan.rows)
        if len(written) != len(plan.rows):  # a new sid that another meeting took meanwhile
            raise IntegrityError("a new statement identifier was taken meanwhile; run the ingest again")
    with connection.cursor() as cursor:  # the renumbering holds now, not only at commit
        cursor.execute("SET CONSTRAINTS utterance_seq_unique IMMEDIATE")
        cursor.execute("SET CONSTRAINTS utterance_seq_unique DEFERRED")
    # An omission mark counts the statements before it: kept editors' statements move it.
    marks = [plan.seq_of_file_turn.get(n, n) for n in omissions]
    if marks != list(omissions):
        Meeting.objects.filter(id=meeting_id).update(omitted_after=marks)
    return _record_conflicts(meeting_id, plan, source_file)


def _give_new_sids(rows: list[dict]) -> None:
    """Fresh identifiers, none ever used (live or retired) nor drawn twice here."""
    given: set[str] = set()
    while rows:
        for row in rows:
            row["sid"] = new_sid()
        wanted = {row["sid"] for row in rows}
        taken = set(Utterance.objects.filter(sid__in=wanted).values_list("sid", flat=True))
        taken |= set(RetiredStatement.objects.filter(sid__in=wanted).values_list("sid", flat=True))
        clash = []
        for row in rows:
            if row["sid"] in taken or row["sid"] in given:
                clash.append(row)
            else:
                given.add(row["sid"])
        rows = clash


def _record_conflicts(meeting_id: int, plan: Plan, source_file: str) -> list[IngestConflict]:
    """Each disagreement becomes a row of the editors' queue, once: a statement the
    file dropped is marked gone (reconcile.GONE), so the next ingest does not report it again."""
    conflicts = IngestConflict.objects.bulk_create(
        [
            IngestConflict(
                statement_id=statement["id"],
                sid=statement["sid"],
                meeting_id=meeting_id,
                label=statement["label"],
                editor_text=statement["text"],
                file_text=file_text,
                source_file=source_file,
            )
            for statement, file_text in plan.conflicts
        ]
    )
    return conflicts


def upsert_children(model, meeting_id: int, order_field: str, rows: list[dict], keep_extra=()) -> dict[int, int]:
    """Upsert a meeting's ordered children in place (ids stay stable); drop the rest
    but `keep_extra`. Returns {position: id}."""
    keep = [row[order_field] for row in rows] + list(keep_extra)
    model.objects.filter(meeting_id=meeting_id).exclude(**{f"{order_field}__in": keep}).delete()
    if not rows:
        return {}
    stored = model.objects.on_conflict(["meeting", order_field], ConflictAction.UPDATE).bulk_insert(rows)
    return {row[order_field]: row["id"] for row in stored}
