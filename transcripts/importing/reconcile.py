"""Editors' work against a changed file: an editor's version follows its statement,
and a disagreement with the file is reported once as a Conflict."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..models import Meeting, Utterance

GONE = "gone"  # source_hash of an edited statement the file no longer has (reported once)


def apply_edits(edited: list[dict], rows: list[dict], meeting_id: int, conflicts: list) -> list[int]:
    """Carry editors' versions onto the file's rows. An edit follows its statement:
    the row with the same label and the same text as the file had when the editor
    worked (a turn inserted above only shifts it), else the row at its old place if
    that still has its label. Returns the positions of edits with no row to go to:
    they are kept where they are and reported once."""
    by_seq = {row["seq"]: row for row in rows}
    taken: set[int] = set()
    unplaced = []
    for mine in edited:
        row = next(
            (
                r
                for r in rows
                if r["label"] == mine["label"] and r["source_hash"] == mine["source_hash"] and r["seq"] not in taken
            ),
            None,
        )
        if row is None:
            same_place = by_seq.get(mine["seq"])
            if same_place and same_place["label"] == mine["label"] and same_place["seq"] not in taken:
                row = same_place
        if row is None:
            if mine["source_hash"] != GONE and mine["seq"] not in by_seq:
                conflicts.append(Conflict(meeting_id, mine["seq"], mine["label"], ""))
            if mine["seq"] in by_seq:  # its place now holds another statement: report the editor's text
                conflicts.append(Conflict(meeting_id, mine["seq"], mine["label"], "", replaced=mine["text"]))
            else:
                unplaced.append(mine["seq"])
            continue
        taken.add(row["seq"])
        if mine["text_curated"]:
            if mine["source_hash"] != row["source_hash"]:
                conflicts.append(Conflict(meeting_id, row["seq"], row["label"], row["text"]))
            row["text"], row["text_curated"] = mine["text"], True
        if mine["speaker_curated"]:
            row["speaker_id"], row["speaker_curated"] = mine["speaker_id"], True
    if unplaced:
        Utterance.objects.filter(meeting_id=meeting_id, seq__in=unplaced).update(source_hash=GONE)
    return unplaced


def text_hash(text: str) -> str:
    """md5 of the text: PostgreSQL's md5() gives the same (migration 0009 backfills it)."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Conflict:
    """An editor's version of an utterance that the file now disagrees with."""

    meeting_id: int
    seq: int
    label: str
    file_text: str  # "" when the file no longer has this utterance
    replaced: str = ""  # the editor's text, when the file put another statement in its place

    def describe(self) -> str:
        meeting = Meeting.objects.only("title").get(id=self.meeting_id)
        where = f"«{meeting.title}», utterance #{self.seq}" + (f" ({self.label})" if self.label else "")
        if self.replaced:
            return (
                f"{where} was edited, but the file now has another statement in its place and none like it;"
                f" the editor's text was: «{self.replaced}»"
            )
        if not self.file_text:
            return f"{where} was edited and is no longer in the file; the editor's version is kept"
        quoted = self.file_text if len(self.file_text) <= 300 else self.file_text[:300] + "…"
        return f"{where} was edited; kept the editor's version. The file now says: «{quoted}»"
