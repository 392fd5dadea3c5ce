"""The curation contract: what an editor may change, how it is remembered so that no
later ingest undoes it, and the editors' operations on speakers, revisions and conflicts.

- Meeting fields in CURATABLE that an editor changed are listed in
  Meeting.curated_fields; ingest (importing/store.py) refreshes every other field.
- A statement whose text or speaker an editor changed has text_curated or
  speaker_curated; ingest keeps that version where the statement still is
  (importing/reconcile.py) and reports a changed file as an IngestConflict.
- Every write here runs inside pghistory.context(user=…, operation=…), so each
  revision the triggers record names its editor and what they did (history.py shows it).
  Merges, label reassignments and publishing also go to Django's admin log.

These take a user, not a request: the admin calls them, and so can a shell or a test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pghistory
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from . import participants
from .importing.reconcile import is_gone
from .models import (
    IngestConflict,
    Meeting,
    OldSlug,
    RetiredStatement,
    Speaker,
    SpeakerAlias,
    SpeakerMerge,
    Utterance,
    normalize_name,
)

# What an editor may change on a meeting, and what ingest would otherwise refresh.
CURATABLE = ("title", "kind", "location", "start", "date", "lead", "source_url")

# What Restore writes back from a revision: content, never a statement's sid, meeting or
# place, nor a meeting's slug (its address).
RESTORABLE = {
    Meeting: CURATABLE,
    Utterance: ("text", "speaker", "label", "remark"),
    Speaker: ("name", "short_label", "role", "country", "kind"),
}

# What mark_statement_edits may set besides the edited fields.
STATEMENT_MARKS = ("text_curated", "speaker_curated", "source_text", "corrected_at")


class CurationError(Exception):
    """An operation refused, with the reason to show the editor."""


def editing(user, operation: str, **details):
    """The history context of an editor's operation (joins the admin request's own)."""
    return pghistory.context(user=user.pk if user else None, operation=operation, **details)


def mark_meeting_edits(meeting: Meeting, changed: Iterable[str]) -> None:
    """Remember which curatable fields an editor changed (before the meeting is saved)."""
    edited = [name for name in changed if name in CURATABLE]
    meeting.curated_fields = sorted(set(meeting.curated_fields) | set(edited))
    if "title" in edited:
        meeting.title_derived = False  # an editor wrote it


def mark_statement_edits(utterance: Utterance, changed: Iterable[str]) -> None:
    """Remember that an editor changed a statement's text or speaker (before it is saved):
    the file's wording goes to source_text and the time to corrected_at; a text put back
    to the file's wording is the file's again (ingest follows the file there)."""
    changed = set(changed)
    if "text" in changed:
        stored = Utterance.objects.filter(pk=utterance.pk).values("text", "source_text").first()
        file_wording = (stored["source_text"] or stored["text"]) if stored else utterance.text
        if utterance.text == file_wording:
            utterance.text_curated, utterance.source_text, utterance.corrected_at = False, "", None
        else:
            utterance.text_curated, utterance.source_text = True, file_wording
            utterance.corrected_at = timezone.now()
    if "speaker" in changed:
        utterance.speaker_curated = True


def log_change(user, obj, message: str, action_flag: int = CHANGE) -> None:
    LogEntry.objects.log_actions(
        user_id=user.pk, queryset=[obj], action_flag=action_flag, change_message=message, single_object=True
    )


def set_published(user, meetings: Iterable[Meeting], published: bool) -> int:
    """Publish or withdraw meetings; save() so triggers update search and did-you-mean."""
    count = 0
    with editing(user, "publish" if published else "unpublish"):
        for meeting in meetings:
            meeting.is_published = published
            meeting.save(update_fields=["is_published", "updated_at"])
            log_change(user, meeting, "Published" if published else "Unpublished")
            count += 1
    return count


@transaction.atomic
def merge_speakers(user, target: Speaker, duplicates: Iterable[Speaker]) -> str:
    """Move the duplicates' statements and aliases to `target`, delete the duplicates;
    returns their names. The aliases move too, so later ingests resolve the labels here.
    Each merge is a SpeakerMerge (undo_merge), and the duplicate's address redirects."""
    names = []
    speakers = ContentType.objects.get_for_model(Speaker)
    with editing(user, "merge", target=target.pk):
        for duplicate in duplicates:
            statement_ids = list(Utterance.objects.filter(speaker=duplicate).values_list("id", flat=True))
            alias_ids = list(duplicate.aliases.values_list("id", flat=True))
            aliases = list(duplicate.aliases.values_list("name", flat=True))
            Utterance.objects.filter(id__in=statement_ids).update(speaker=target)
            duplicate.aliases.update(speaker=target)
            # Meetings that name the duplicate name the target now (the rest would cascade away).
            named = Meeting.named_people.through.objects
            named.filter(speaker=duplicate).exclude(meeting__named_people=target).update(speaker=target)
            # The duplicate's own old addresses, and merges into it, now lead to the target.
            old_slugs = OldSlug.objects.filter(content_type=speakers, object_id=duplicate.pk)
            merged = {**_fields(duplicate), "old_slugs": list(old_slugs.values_list("slug", flat=True))}
            old_slugs.update(object_id=target.pk)
            SpeakerMerge.objects.filter(target=duplicate).update(target=target)
            SpeakerMerge.objects.create(
                target=target, merged=merged, statement_ids=statement_ids, alias_ids=alias_ids, merged_by=user
            )
            log_change(
                user,
                target,
                f"Merged «{duplicate.name}» into this speaker: {len(statement_ids)} statements, "
                f"aliases {', '.join(aliases) or '—'}",
            )
            log_change(user, duplicate, f"Merged into «{target.name}»", DELETION)
            names.append(duplicate.name)
            duplicate.delete()
            OldSlug.remember(target, merged["slug"])
    return ", ".join(names)  # the update() above refreshed the moved statements' search vectors


def _fields(speaker: Speaker) -> dict:
    """Every concrete field, as JSON values (datetimes as ISO strings, to the microsecond:
    DjangoJSONEncoder would cut them to milliseconds)."""
    values = {field.attname: field.value_from_object(speaker) for field in Speaker._meta.concrete_fields}
    return {name: value.isoformat() if isinstance(value, dt.datetime) else value for name, value in values.items()}


@dataclass
class Undone:
    speaker: Speaker
    statements: int  # moved back
    skipped: int  # reassigned (or removed) since the merge: left where they are
    aliases: int


@transaction.atomic
def undo_merge(user, merge: SpeakerMerge) -> Undone:
    """Recreate the merged speaker with its id and slug, and move back its aliases and
    the statements that still belong to the target; the duplicate's address is its own again."""
    merge = SpeakerMerge.objects.select_for_update().get(pk=merge.pk)
    name = merge.merged.get("name", "")
    if merge.undone_at:
        when = date_format(timezone.localtime(merge.undone_at), "DATETIME_FORMAT")
        raise CurationError(_("The merge of %(name)s was already undone (%(when)s).") % {"name": name, "when": when})
    fields = {f.attname: f.to_python(merge.merged[f.attname]) for f in Speaker._meta.concrete_fields}
    if Speaker.objects.filter(pk=fields["id"]).exists() or Speaker.objects.filter(slug=fields["slug"]).exists():
        raise CurationError(_("%(name)s cannot come back: its address is taken by another speaker.") % {"name": name})
    target = merge.target
    with editing(user, "undo merge", merge=merge.pk):
        speaker = Speaker(**fields)
        speaker.save(force_insert=True)
        Speaker.objects.filter(pk=speaker.pk).update(created_at=fields["created_at"])  # auto_now_add set it
        speakers = ContentType.objects.get_for_model(Speaker)
        OldSlug.objects.filter(content_type=speakers, slug=speaker.slug).delete()
        OldSlug.objects.filter(content_type=speakers, object_id=target.pk, slug__in=merge.merged["old_slugs"]).update(
            object_id=speaker.pk
        )
        aliases = SpeakerAlias.objects.filter(id__in=merge.alias_ids, speaker=target).update(speaker=speaker)
        moved = Utterance.objects.filter(id__in=merge.statement_ids, speaker=target).update(speaker=speaker)
        # Its aliases are its own again: so are the meetings they name.
        participants.refresh_named_people(Meeting.objects.filter(named_people=target))
        merge.undone_at = timezone.now()
        merge.save(update_fields=["undone_at"])
    log_change(user, speaker, f"Merge into «{target.name}» undone: {moved} statements back", ADDITION)
    log_change(user, target, f"Merge of «{speaker.name}» undone: {moved} statements moved back")
    return Undone(speaker, moved, len(merge.statement_ids) - moved, aliases)


@transaction.atomic
def reassign_label(user, label: str, target: Speaker) -> int:
    """Give every statement with this label (as written in the sources) to `target`."""
    utterances = Utterance.objects.filter(label=label)
    previous = set(utterances.exclude(speaker=target).values_list("speaker__name", flat=True))
    with editing(user, "reassign label", label=label):
        count = utterances.update(speaker=target)
        # The alias moves too, so the next ingest gives this label to the same speaker.
        SpeakerAlias.objects.update_or_create(
            normalized=normalize_name(label), defaults={"speaker": target, "name": label}
        )
    log_change(
        user,
        target,
        f"Label «{label}»: {count} statements reassigned here "
        f"(from {', '.join(sorted(n or '—' for n in previous)) or '—'})",
    )
    return count


@transaction.atomic
def restore_revision(user, obj, event) -> list[str]:
    """Write a revision's content fields (RESTORABLE) back to the object: itself a new
    revision. A restored meeting field or statement text counts as an editor's, so
    ingest keeps it. Returns the fields that changed."""
    model = type(obj)
    if event.pgh_obj_id != obj.pk:
        raise CurationError(_("That revision belongs to another object."))
    obj = model.objects.select_for_update().get(pk=obj.pk)
    changed = []
    for name in RESTORABLE[model]:
        attname = model._meta.get_field(name).attname
        if getattr(obj, attname) != getattr(event, attname):
            setattr(obj, attname, getattr(event, attname))
            changed.append(name)
    if not changed:
        return []
    if "speaker" in changed and obj.speaker_id and not Speaker.objects.filter(pk=obj.speaker_id).exists():
        raise CurationError(_("The speaker of that revision no longer exists; merge undo may bring it back."))
    with editing(user, "restore", revision=event.pgh_id):
        if model is Meeting:
            mark_meeting_edits(obj, changed)
            obj.save(update_fields=[*changed, "curated_fields", "title_derived", "updated_at"])
        elif model is Utterance:
            mark_statement_edits(obj, changed)
            obj.save(update_fields=[*changed, *STATEMENT_MARKS])
        else:
            obj.save(update_fields=[*changed, "updated_at"])
    return changed


@transaction.atomic
def resolve_conflict(user, conflict: IngestConflict, resolution: str) -> None:
    """Close an ingest conflict, and every other open one of its statement: keep the
    editor's version, or take the file's text (a statement the file no longer has is
    then deleted, and its address answers 410), or mark it edited (after an edit)."""
    Resolution = IngestConflict.Resolution
    if resolution not in (Resolution.KEPT, Resolution.TAKEN, Resolution.EDITED):
        raise ValueError(f"not a resolution: {resolution!r}")
    conflict = IngestConflict.objects.select_for_update().get(pk=conflict.pk)
    if conflict.resolution:
        raise CurationError(_("This conflict is already resolved."))
    statement = conflict.statement
    same = {"statement_id": statement.pk} if statement else {"pk": conflict.pk}
    with editing(user, f"conflict {resolution}", conflict=conflict.pk):
        # First: deleting the statement sets its conflicts' statement to null.
        IngestConflict.objects.filter(resolution=Resolution.OPEN, **same).update(
            resolution=resolution, resolved_by=user, resolved_at=timezone.now()
        )
        # Taking the file's side follows what the file says now, not when this conflict
        # was filed: a later ingest may have changed it again or brought the turn back.
        if resolution == Resolution.TAKEN and statement and is_gone(statement.source_hash):
            _retire_removed(statement)
            statement.delete()
        elif resolution == Resolution.TAKEN and statement:
            statement.text = statement.file_text
            mark_statement_edits(statement, ["text"])
            statement.save(update_fields=["text", *STATEMENT_MARKS])


def resolve_edited(user, utterance: Utterance) -> int:
    """An editor's edit of a statement answers its open conflicts (after it is saved)."""
    return IngestConflict.objects.filter(statement=utterance, resolution=IngestConflict.Resolution.OPEN).update(
        resolution=IngestConflict.Resolution.EDITED, resolved_by=user, resolved_at=timezone.now()
    )


def _retire_removed(statement: Utterance) -> None:
    """The reason ingest would have given (the delete trigger would say "deleted")."""
    RetiredStatement.objects.get_or_create(
        sid=statement.sid,
        defaults={
            "reason": RetiredStatement.Reason.REMOVED,
            "meeting_id": statement.meeting_id,
            "meeting_slug": statement.meeting.slug,
            "seq": statement.seq,
            "label": statement.label,
            "retired_at": timezone.now(),
        },
    )
