"""One JSON shape per public object: a meeting, a statement, a speaker. The meeting
download (.json), the search JSON, the API (transcripts/api/) and the bulk export
(transcripts/export.py) are built from these, so a field means the same everywhere.
`url` makes an address absolute (request.build_absolute_uri, or the export's site
address): addresses are absolute, for citing."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse
from django.utils import timezone

from . import licences
from .models import Meeting, Speaker, Utterance

AbsoluteUrl = Callable[[str], str]


def speaker(speaker: Speaker | None) -> dict | None:
    """A speaker named inside another object: enough to find it."""
    return {"name": speaker.name, "slug": speaker.slug} if speaker else None


def speaker_detail(speaker_: Speaker, url: AbsoluteUrl) -> dict:
    """A speaker on its own (the API's speakers, the export), with its published
    statements and meetings: reads the annotations of browse.speakers_with_counts."""
    return {
        **speaker(speaker_),
        "url": url(reverse("speaker", kwargs={"slug": speaker_.slug})),
        "kind": speaker_.kind,
        "role": speaker_.role,
        "country": speaker_.country,
        "statement_count": speaker_.utterance_count,
        "meeting_count": speaker_.meeting_count,
    }


def meeting(meeting: Meeting, url: AbsoluteUrl) -> dict:
    return {
        "title": meeting.title,
        "slug": meeting.slug,
        "url": url(meeting.get_absolute_url()),
        "date": meeting.date.isoformat(),
        "start": timezone.localtime(meeting.start).isoformat() if meeting.start else None,  # Moscow time
        "location": meeting.location,
        "kind": meeting.kind,
        "source_url": meeting.source_url,
    }


def meeting_detail(meeting_: Meeting, url: AbsoluteUrl) -> dict:
    """A meeting with its lead and section headings (the .json download's head, the API's meeting)."""
    return {
        **meeting(meeting_, url),
        "lead": meeting_.lead,
        "sections": [section.heading for section in meeting_.sections.all()],  # prefetched by the export
        "licence": licences.licence(meeting_.source_url) or None,  # the text's terms, where the archive knows them
    }


def statement(utterance: Utterance, url: AbsoluteUrl, *, q: str = "", text: bool = True, context: str = "") -> dict:
    """A statement; with text=False (search hits) without its section and full text.
    `url` is its own page, `context_url` its place in the meeting (with ?q=). Reads
    utterance.speaker (and .section with text): select_related them. `context`, the
    relative address in the meeting, saves reading the meeting when the caller knows it."""
    data = {
        "id": utterance.sid,
        "seq": utterance.seq,
        "anchor": utterance.anchor,
        "url": url(utterance.get_absolute_url()),
        "context_url": url(context or utterance.context_url(q)),
        "speaker": speaker(utterance.speaker),
        "label": utterance.label,
    }
    if text:
        data["remark"] = utterance.remark
        data["section"] = utterance.section.heading if utterance.section_id else None
        data["text"] = utterance.text
    return data


def statement_in_meeting(utterance: Utterance, url: AbsoluteUrl, **options) -> dict:
    """A statement with its meeting (search hits, the API's statements): reads utterance.meeting."""
    return {"meeting": meeting(utterance.meeting, url), **statement(utterance, url, **options)}
