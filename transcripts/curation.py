"""The curation contract: what an editor may change, how it is remembered so that no
later ingest undoes it, and the editors' operations on speakers.

- Meeting fields in CURATABLE that an editor changed are listed in
  Meeting.curated_fields; ingest (importing/store.py) refreshes every other field.
- A statement whose text or speaker an editor changed has text_curated or
  speaker_curated; ingest keeps that version where the statement still is
  (importing/reconcile.py) and reports a changed file as a conflict.
- Merges, label reassignments and publishing are logged to the admin history of the
  objects they touch, under the editor's name.

These take a user, not a request: the admin calls them, and so can a shell or a test.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.db import transaction

from .models import Meeting, Speaker, SpeakerAlias, Utterance, normalize_name

# What an editor may change on a meeting, and what ingest would otherwise refresh.
CURATABLE = ("title", "kind", "location", "start", "date", "lead", "source_url")


def mark_meeting_edits(meeting: Meeting, changed: Iterable[str]) -> None:
    """Remember which curatable fields an editor changed (before the meeting is saved)."""
    edited = [name for name in changed if name in CURATABLE]
    meeting.curated_fields = sorted(set(meeting.curated_fields) | set(edited))
    if "title" in edited:
        meeting.title_derived = False  # an editor wrote it


def mark_statement_edits(utterance: Utterance, changed: Iterable[str]) -> None:
    """Remember that an editor changed a statement's text or speaker (before it is saved)."""
    changed = set(changed)
    if "text" in changed:
        utterance.text_curated = True
    if "speaker" in changed:
        utterance.speaker_curated = True


def log_change(user, obj, message: str, action_flag: int = CHANGE) -> None:
    LogEntry.objects.log_actions(
        user_id=user.pk, queryset=[obj], action_flag=action_flag, change_message=message, single_object=True
    )


def set_published(user, meetings: Iterable[Meeting], published: bool) -> int:
    """Publish or withdraw meetings; save() so triggers update search and did-you-mean."""
    count = 0
    for meeting in meetings:
        meeting.is_published = published
        meeting.save(update_fields=["is_published", "updated_at"])
        log_change(user, meeting, "Published" if published else "Unpublished")
        count += 1
    return count


@transaction.atomic
def merge_speakers(user, target: Speaker, duplicates: Iterable[Speaker]) -> str:
    """Move the duplicates' statements and aliases to `target`, delete the duplicates;
    returns their names. The aliases move too, so later ingests resolve the labels here."""
    names = []
    for duplicate in duplicates:
        moved = Utterance.objects.filter(speaker=duplicate).update(speaker=target)
        aliases = list(duplicate.aliases.values_list("name", flat=True))
        duplicate.aliases.update(speaker=target)
        log_change(
            user,
            target,
            f"Merged «{duplicate.name}» into this speaker: {moved} statements, aliases {', '.join(aliases) or '—'}",
        )
        log_change(user, duplicate, f"Merged into «{target.name}»", DELETION)
        names.append(duplicate.name)
        duplicate.delete()
    return ", ".join(names)  # the update() above refreshed the moved statements' search vectors


@transaction.atomic
def reassign_label(user, label: str, target: Speaker) -> int:
    """Give every statement with this label (as written in the sources) to `target`."""
    utterances = Utterance.objects.filter(label=label)
    previous = set(utterances.exclude(speaker=target).values_list("speaker__name", flat=True))
    count = utterances.update(speaker=target)
    # The alias moves too, so the next ingest gives this label to the same speaker.
    SpeakerAlias.objects.update_or_create(normalized=normalize_name(label), defaults={"speaker": target, "name": label})
    log_change(
        user,
        target,
        f"Label «{label}»: {count} statements reassigned here "
        f"(from {', '.join(sorted(n or '—' for n in previous)) or '—'})",
    )
    return count
