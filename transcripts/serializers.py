"""One JSON shape per public object: a meeting, a statement, a speaker. The meeting
download (.json) and the search JSON are built from these, so a field means the same
everywhere. `url` is request.build_absolute_uri: addresses are absolute, for citing."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from .models import Meeting, Speaker, Utterance

AbsoluteUrl = Callable[[str], str]


def speaker(speaker: Speaker | None) -> dict | None:
    return {"name": speaker.name, "slug": speaker.slug} if speaker else None


def meeting(meeting: Meeting, url: AbsoluteUrl) -> dict:
    return {
        "title": meeting.title,
        "url": url(meeting.get_absolute_url()),
        "date": meeting.date.isoformat(),
        "start": timezone.localtime(meeting.start).isoformat() if meeting.start else None,  # Moscow time
        "location": meeting.location,
        "kind": meeting.kind,
        "source_url": meeting.source_url,
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
