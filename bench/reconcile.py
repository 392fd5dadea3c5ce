"""How long matching a corrected transcript to its stored statements takes.

    .venv/bin/python bench/reconcile.py [--turns 20000] [--runs 3] [--seed 1]

importing/reconcile.py alone, without the database: a stored meeting of N turns made of
the shared corpus's real statements (in their order, repeated to N), then corrected
versions of it: unchanged (the baseline), every turn of 6 words or more retouched (a word
changed),
100 turns inserted at the top, every other turn removed, 200 adjacent pairs swapped,
and a file with every text replaced (by a distant turn's). Prints the median seconds and the ratio to the
baseline, with the machine's CPU, load and commit.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def corpus_turns() -> list[tuple[str, str]]:
    from kzarchive.paths import corpus_dir
    from transcripts.importing import parser

    turns = []
    for path in sorted(corpus_dir().glob("*.txt")):
        doc = parser.parse_bytes(path.read_bytes(), path.name)
        turns += [(u.label, u.text) for u in doc.utterances]
    return turns


def rows(turns: list[tuple[str, str]]) -> list[dict]:
    from transcripts.importing.reconcile import text_hash

    return [
        {
            "meeting_id": 1, "sid": "", "seq": n, "speaker_id": None, "label": label, "remark": "",
            "section_id": None, "text": text, "source_line": n, "source_text": "", "source_hash": text_hash(text),
            "text_curated": False, "speaker_curated": False, "corrected_at": None,
        }
        for n, (label, text) in enumerate(turns, start=1)
    ]  # fmt: skip


def stored(turns: list[tuple[str, str]]) -> list[dict]:
    return [{**row, "id": row["seq"], "sid": f"s{row['seq']}", "file_text": row["text"]} for row in rows(turns)]


def versions(turns: list[tuple[str, str]], rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    swapped = list(turns)
    for at in rng.sample(range(0, len(turns) - 1, 2), 200):
        swapped[at], swapped[at + 1] = swapped[at + 1], swapped[at]

    def retouched(text: str) -> str:  # a word of a longer turn changed, as a source's fix does
        words = text.split(" ")
        if len(words) >= 6:
            words[len(words) // 2] = "иное"
        return " ".join(words)

    def replaced(n: int) -> str:  # another statement's words: not the same statement
        return f"{turns[(n + len(turns) // 2) % len(turns)][1]} ({n})"

    return {
        "unchanged (baseline)": turns,
        "every turn retouched": [(label, retouched(text)) for label, text in turns],
        "100 turns inserted at the top": [(f"Реплика {n}", f"Вставка номер {n}.") for n in range(100)] + turns,
        "every other turn removed": turns[::2],
        "200 pairs swapped": swapped,
        "every text replaced": [(label, replaced(n)) for n, (label, _) in enumerate(turns)],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from bench.long_meeting import machine
    from kzarchive.paths import corpus_dir

    if not corpus_dir().is_dir():
        print(f"the shared corpus is not at {corpus_dir()} (KZ_CORPUS_DIR)", file=sys.stderr)
        return 2
    import django

    django.setup()
    from transcripts.importing.reconcile import reconcile

    real = corpus_turns()
    turns = [real[n % len(real)] for n in range(args.turns)]
    print(f"{machine()}\n{args.turns:,} turns from {len(real):,} real ones; median of {args.runs} runs")
    baseline = None
    for name, version in versions(turns, random.Random(args.seed)).items():
        times, plan = [], None
        for _ in range(args.runs):
            old, new = stored(turns), rows(version)
            started = time.perf_counter()
            plan = reconcile(old, new)
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        baseline = baseline or median
        kept = sum(1 for row in plan.rows if row["sid"])
        print(
            f"{name:32} {median:7.2f} s  ×{median / baseline:6.1f}"
            f"  kept {kept:6,}  new {len(plan.rows) - kept:6,}  retired {len(plan.retired):6,}"
        )
    return 0


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kzarchive.settings")
    sys.exit(main())
