"""A corrected file against the stored meeting: which new turn is which stored
statement, so that each keeps its identifier (sid), its editors' work and its address.

Turns are matched in passes, each statement and turn used once:
1. the same text as the file last had it, under the same label;
2. the same text under another label (a speaker relabelled);
3. the same words with other spacing or case;
4. a similar text (words in common) near where the statement was: an edited turn.
An unmatched turn is a new statement; an unmatched statement is retired (its address
answers 410, or 301 when the file joined it into another turn), except an editor's
work, which stays where it was and is reported once as a conflict.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
from collections import defaultdict, deque
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from ..models import normalize_name

GONE = "gone"  # source_hash of an edited statement the file no longer has (reported once)
WINDOW = 20  # pass 3 looks this many places either side of where a statement was
SIMILAR_SAME_LABEL = 0.6  # word-sequence ratio for an edited turn under its label
SIMILAR_OTHER_LABEL = 0.85  # … and under another label
SETTLED = 0.9  # at its expected place, this similar is the same statement without looking further


def text_hash(text: str) -> str:
    """md5 of the text: PostgreSQL's md5() gives the same (migration 0009 backfills it)."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()


@dataclass
class Plan:
    """What to write: the final rows in order, and what becomes of the rest."""

    rows: list[dict]  # every statement of the meeting after this ingest, seq 1…n
    retired: list[tuple[dict, str]] = field(default_factory=list)  # (stored, successor sid or "")
    conflicts: list[tuple[dict, str]] = field(default_factory=list)  # (stored, file's text or "")
    seq_of_file_turn: dict[int, int] = field(default_factory=dict)  # file seq → final seq


def reconcile(stored: list[dict], rows: list[dict]) -> Plan:
    """Match the file's rows (seq 1…n, sid "") to the stored statements (in seq order)."""
    pairs: dict[int, dict] = {}  # row index → stored
    used: set[int] = set()  # stored ids

    def pair(index: int, statement: dict) -> None:
        pairs[index] = statement
        used.add(statement["id"])

    for key in (
        lambda s: (normalize_name(s["label"]), s["source_hash"]),
        lambda s: s["source_hash"],
        lambda s: _folded(s.get("file_text", s["text"])),  # only spacing or case changed
    ):
        waiting: dict = defaultdict(deque)
        for statement in stored:
            if statement["id"] not in used and statement["source_hash"] != GONE:
                waiting[key(statement)].append(statement)
        for index, row in enumerate(rows):
            if index not in pairs and (queue := waiting.get(key(row))):
                pair(index, queue.popleft())
    _pair_similar(stored, rows, pairs, used, pair)

    for index, statement in pairs.items():
        _carry_over(statement, rows[index])
    plan = Plan(rows=[])
    row_at = {partner["seq"]: index for index, partner in pairs.items()}  # stored seq → file index
    for statement in stored:
        if statement["id"] in used:
            continue
        if statement["text_curated"] or statement["speaker_curated"]:
            if statement["source_hash"] != GONE:
                plan.conflicts.append((statement, ""))
            continue
        plan.retired.append((statement, _successor(statement, rows, row_at)))
    plan.conflicts += [(pairs[i], rows[i]["source_text"]) for i in pairs if rows[i].pop("_conflict", False)]
    _order(stored, rows, pairs, used, plan)
    return plan


@functools.lru_cache(maxsize=4096)
def _folded(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split()).casefold()


@functools.lru_cache(maxsize=4096)
def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _pair_similar(stored, rows, pairs, used, pair) -> None:
    """Pass 4: an unmatched turn and an unmatched statement near its expected place
    whose words mostly agree; best pairs first."""
    left = [s for s in stored if s["id"] not in used]
    if not left:
        return
    by_seq = {s["seq"]: s for s in left}
    file_seq_of = {statement["id"]: index for index, statement in pairs.items()}
    anchors = sorted((file_seq_of[s["id"]], s["seq"]) for s in stored if s["id"] in file_seq_of)
    at = [index for index, _ in anchors]
    candidates = []
    for index, row in enumerate(rows):
        if index in pairs:
            continue
        expected = _expected_seq(index, anchors, at)
        matcher = SequenceMatcher(None, b=_words(row["text"]), autojunk=False)  # b is indexed once
        # Nearest places first: a turn edited in place is settled at once, so a file
        # whose every turn was retouched costs one comparison per turn, not 2×WINDOW.
        for seq in sorted(range(expected - WINDOW, expected + WINDOW + 1), key=lambda n: abs(n - expected)):
            statement = by_seq.get(seq)
            if statement is None or statement["id"] in used:
                continue
            same_label = normalize_name(statement["label"]) == normalize_name(row["label"])
            needed = SIMILAR_SAME_LABEL if same_label else SIMILAR_OTHER_LABEL
            matcher.set_seq1(_words(statement["file_text"]))
            if matcher.real_quick_ratio() < needed or (bound := matcher.quick_ratio()) < needed:
                continue
            here = seq == expected
            # The same words, under its label, at its place: no need for the ordered ratio,
            # which costs most on long turns.
            if here and same_label and bound >= SETTLED:
                pair(index, statement)
                break
            if (score := matcher.ratio()) >= needed:
                if here and score >= SETTLED:
                    pair(index, statement)
                    break
                candidates.append((-score, abs(seq - expected), index, seq))
    for _score, _distance, index, seq in sorted(candidates):
        statement = by_seq[seq]
        if index not in pairs and statement["id"] not in used:
            pair(index, statement)


def _expected_seq(index: int, anchors: list[tuple[int, int]], at: list[int]) -> int:
    """Where the turn at file index `index` would have been: after the nearest matched
    statement above it (anchors: (file index, stored seq) by file index; `at` their
    file indexes), else at the same place."""
    nearest = bisect.bisect_left(at, index) - 1
    if nearest < 0:
        return index + 1
    above, seq = anchors[nearest]
    return seq + (index - above)


def _carry_over(statement: dict, row: dict) -> None:
    """The row takes the statement's identity and its editors' work."""
    row["sid"] = statement["sid"]
    if statement["text_curated"]:
        if statement["source_hash"] != row["source_hash"] and row["text"] != statement["text"]:
            row["_conflict"] = True  # the file changed under the editor's text
        row["source_text"] = row["text"]
        row["text"], row["text_curated"] = statement["text"], True
        row["corrected_at"] = statement["corrected_at"]
        if row["source_text"] == row["text"]:
            row["source_text"] = ""  # the file now agrees with the editor
    if statement["speaker_curated"]:
        row["speaker_id"], row["speaker_curated"] = statement["speaker_id"], True


def _successor(statement: dict, rows: list[dict], row_at: dict[int, int]) -> str:
    """The statement a removed one was joined into, if the file merged two turns:
    a nearby surviving statement whose new text holds all of its text."""
    text = _folded(statement["file_text"])
    if len(text) < 20:
        return ""  # "Спасибо." is in many turns
    for seq in range(statement["seq"] - WINDOW, statement["seq"] + WINDOW + 1):
        index = row_at.get(seq)
        if index is not None and text in _folded(rows[index]["text"]):
            return rows[index]["sid"]
    return ""


def _order(stored, rows, pairs, used, plan: Plan) -> None:
    """Final order: the file's turns, with each kept editor's statement after the
    statement that preceded it before; numbered 1…n."""
    after: dict = defaultdict(list)  # final place of a file row index (or -1) → kept statements
    row_of_stored = {statement["id"]: index for index, statement in pairs.items()}
    previous = -1
    for statement in stored:
        if statement["id"] in row_of_stored:
            previous = row_of_stored[statement["id"]]
        elif statement["text_curated"] or statement["speaker_curated"]:
            after[previous].append(statement)
    kept_fields = ("sid", "speaker_id", "label", "remark", "section_id", "text", "source_line", "source_text")
    ordered = [_kept(statement, kept_fields) for statement in after[-1]]
    for index, row in enumerate(rows):
        ordered.append(row)
        plan.seq_of_file_turn[row["seq"]] = len(ordered)
        ordered += [_kept(statement, kept_fields) for statement in after[index]]
    for seq, row in enumerate(ordered, start=1):
        row["seq"] = seq
    plan.rows = ordered


def _kept(statement: dict, fields: tuple[str, ...]) -> dict:
    row = {name: statement[name] for name in fields}
    row.update(
        meeting_id=statement["meeting_id"],
        source_hash=GONE,  # reported once
        text_curated=statement["text_curated"],
        speaker_curated=statement["speaker_curated"],
        corrected_at=statement["corrected_at"],
    )
    return row
