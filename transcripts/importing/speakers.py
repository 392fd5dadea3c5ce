"""Speakers: the directory (fixtures/speakers.json) and the label → speaker resolver."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from django.conf import settings
from django.db import transaction
from psqlextra.types import ConflictAction

from ..models import Speaker, SpeakerAlias, normalize_name
from . import parser
from .locks import advisory_lock, unique_slug
from .pronouns import PRONOUNS, PersonMentions


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
                name_latin=entry.get("name_latin", ""),
                latin_aliases=entry.get("latin_aliases", []),
                kind=entry.get("kind", Speaker.Kind.PERSON),
                needs_review=False,
            )
            added += row is not None
            speaker_id = Speaker.objects.only("id").get(slug=entry["slug"]).id
            SpeakerAlias.objects.on_conflict(["normalized"], ConflictAction.NOTHING).bulk_insert(
                [{"speaker_id": speaker_id, "name": a, "normalized": normalize_name(a)} for a in entry["aliases"]]
            )
    return added


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

    @functools.cached_property
    def names(self) -> PersonMentions:
        """Who a title or lead names: by the words of their names only (participants.py)."""
        return PersonMentions(names_only=True)

    def for_pronouns(self, doc: parser.Document) -> dict[int, tuple[int, str]]:
        """News quotes closed by "сказал он" / "отметила она": seq → (speaker, label) for
        those whose person the text named just before (see PersonMentions.resolve)."""
        if not any(normalize_name(u.attribution) in PRONOUNS for u in doc.utterances if not u.label):
            return {}
        return self.persons.resolve(doc.utterances)
