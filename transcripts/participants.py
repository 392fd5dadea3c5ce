"""The people a meeting involves: those with turns, and those its title or lead names
(a phone call «с Президентом Казахстана Касым-Жомартом Токаевым» has no transcript,
but it is Tokayev's meeting too). The named ones are stored (Meeting.named_people),
derived from the stored title and lead: ingest and the admin refresh them."""

from __future__ import annotations

from django.db.models import Min, Q

from .importing.pronouns import PersonMentions
from .models import Meeting, Speaker, Utterance


def named_in(title: str, lead: str, mentions: PersonMentions) -> set[int]:
    """The directory's people that a title or lead names, in any case."""
    return set(mentions.mentions(f"{title}\n{lead}"))


def refresh_named_people(meetings, mentions: PersonMentions | None = None) -> None:
    """Store who each meeting's title and lead name (one PersonMentions for them all)."""
    mentions = mentions or PersonMentions(names_only=True)
    for meeting in meetings:
        meeting.named_people.set(named_in(meeting.title, meeting.lead, mentions))


def people_of(meeting: Meeting) -> list[Speaker]:
    """Persons with turns (in order of their first turn), then the others named."""
    first_turn = dict(
        meeting.utterances.filter(speaker__kind=Speaker.Kind.PERSON)
        .values("speaker_id")
        .annotate(first=Min("seq"))
        .values_list("speaker_id", "first")
    )
    people = Speaker.objects.filter(Q(id__in=list(first_turn)) | Q(named_in=meeting)).distinct()
    return sorted(people, key=lambda p: (p.id not in first_turn, first_turn.get(p.id, 0), p.name))


def meetings_of(speaker: Speaker):
    """Published meetings where the speaker has turns or is named."""
    # Two id lists, not an OR over joins: that would join every meeting to all its statements.
    speaks = Utterance.objects.filter(speaker=speaker).values("meeting_id")
    named = Meeting.named_people.through.objects.filter(speaker=speaker).values("meeting_id")
    return Meeting.objects.published().filter(Q(id__in=speaks) | Q(id__in=named)).chronological().reverse()
