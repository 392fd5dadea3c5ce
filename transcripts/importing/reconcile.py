"""A corrected file against the stored meeting: which new turn is which stored
statement, so that each keeps its identifier (sid), its editors' work and its address.

Turns are matched in passes, each statement and turn used once:
1. the same label and text as the file last had, found once on each side (wherever it
   moved), then repeated ones («Спасибо.») by nearness to where they were expected;
2. an editor's text that the file now has under the same label;
3. near its place: the same text under another label (a speaker relabelled), or the same
   words with other spacing or case;
4. near its place, a similar text (words in common): a turn the source edited.
"Its place" follows the statements paired so far (a turn inserted above shifts it).
An unmatched turn is a new statement; an unmatched statement is retired (its address
answers 410, or 301 when the file joined it into another turn), except an editor's
work, which stays where it was and is reported once as a conflict.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from ..models import normalize_name

# An edited statement the file no longer has keeps source_hash "gone:<its last hash>":
# reported once, and found again by that hash if the file brings the turn back.
GONE = "gone"


def is_gone(source_hash: str) -> bool:
    return source_hash.startswith(GONE)


def last_hash(source_hash: str) -> str:
    """The hash of the text as the file last had it, gone or not."""
    return source_hash.split(":", 1)[1] if is_gone(source_hash) and ":" in source_hash else source_hash


WINDOW = 20  # pass 3 looks this many places either side of where a statement was
SIMILAR_SAME_LABEL = 0.6  # word-sequence ratio for an edited turn under its label
SIMILAR_OTHER_LABEL = 0.85  # … and under another label
GROUP_LIMIT = 400  # repeated turns of one key compared pairwise, at most this many a side
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

    # Turns whose label and text occur once on each side are the same statement wherever
    # they moved; they anchor where everything else is expected to be.
    _pair_exact(stored, rows, pairs, used, pair, LABEL_AND_TEXT, unique_only=True)
    for key, windowed in (
        (LABEL_AND_TEXT, False),  # repeated turns («Спасибо.»): the one nearest its place
        (ADOPTED, False),
        (RELABELLED, True),  # near its place only: «Спасибо.» is said by everyone
        (RESPACED, True),
    ):
        _pair_exact(stored, rows, pairs, used, pair, key, windowed=windowed)
    _pair_similar(stored, rows, pairs, used, pair)

    for index, statement in pairs.items():
        _carry_over(statement, rows[index])
    plan = Plan(rows=[])
    row_at = {partner["seq"]: index for index, partner in pairs.items()}  # stored seq → file index
    for statement in stored:
        if statement["id"] in used:
            continue
        if statement["text_curated"] or statement["speaker_curated"]:
            if not is_gone(statement["source_hash"]):
                plan.conflicts.append((statement, ""))
            continue
        plan.retired.append((statement, _successor(statement, rows, row_at)))
    plan.conflicts += [(pairs[i], rows[i]["source_text"]) for i in pairs if rows[i].pop("_conflict", False)]
    _order(stored, rows, pairs, used, plan)
    return plan


def _label(item: dict) -> str:
    return normalize_name(item["label"])


# The exact passes: (a stored statement's key or None, a file row's key). A statement
# the file had dropped is found by the hash it had.
LABEL_AND_TEXT = (lambda s: (_label(s), last_hash(s["source_hash"])), lambda r: (_label(r), r["source_hash"]))
# An editor's text that the source has now adopted.
ADOPTED = (lambda s: (_label(s), text_hash(s["text"])) if s["text_curated"] else None, LABEL_AND_TEXT[1])
RELABELLED = (lambda s: last_hash(s["source_hash"]), lambda r: r["source_hash"])
RESPACED = (lambda s: _folded(s["file_text"]), lambda r: _folded(r["text"]))


def _pair_exact(stored, rows, pairs, used, pair, key, *, unique_only=False, windowed=False) -> None:
    """Pair rows and statements with equal keys: with unique_only, only keys found once on
    each side; else the closest to their expected places first (within WINDOW if windowed)."""
    stored_key, row_key = key
    waiting: dict = defaultdict(list)
    for statement in stored:
        if statement["id"] not in used and (k := stored_key(statement)) is not None:
            waiting[k].append(statement)
    wanted: dict = defaultdict(list)
    for index, row in enumerate(rows):
        if index not in pairs and (k := row_key(row)) in waiting:
            wanted[k].append(index)
    if unique_only:
        for k, indexes in wanted.items():
            if len(indexes) == 1 and len(waiting[k]) == 1:
                pair(indexes[0], waiting[k][0])
        return
    anchors, at = _anchors(stored, pairs)
    for k, indexes in wanted.items():
        # Closest pairs first, over the whole group: a repeated turn inserted above
        # another must not take its place.
        expected = {index: _expected_seq(index, anchors, at) for index in indexes}
        distances = sorted(
            (abs(statement["seq"] - expected[index]), index, statement["seq"], statement)
            for index in indexes[:GROUP_LIMIT]
            for statement in waiting[k][:GROUP_LIMIT]
        )
        for distance, index, _seq, statement in distances:
            if index not in pairs and statement["id"] not in used and (not windowed or distance <= WINDOW):
                pair(index, statement)


def _anchors(stored, pairs) -> tuple[list[tuple[int, int]], list[int]]:
    """(file index, stored seq) of the pairs so far, by file index; and the file indexes."""
    file_index_of = {statement["id"]: index for index, statement in pairs.items()}
    anchors = sorted((file_index_of[s["id"]], s["seq"]) for s in stored if s["id"] in file_index_of)
    return anchors, [index for index, _ in anchors]


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
    anchors, at = _anchors(stored, pairs)
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
    if statement["text_curated"] and row["text"] != statement["text"]:
        if statement["source_hash"] != row["source_hash"]:
            row["_conflict"] = True  # the file changed under the editor's text
        row["source_text"] = row["text"]
        row["text"], row["text_curated"] = statement["text"], True
        row["corrected_at"] = statement["corrected_at"]
    # else the file says what the editor wrote: it is the file's text again
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
        source_hash=f"{GONE}:{last_hash(statement['source_hash'])}",  # reported once
        text_curated=statement["text_curated"],
        speaker_curated=statement["speaker_curated"],
        corrected_at=statement["corrected_at"],
    )
    return row
