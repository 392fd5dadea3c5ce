"""Each seed's expected parse, and that of each document in tests/golden/inputs/, is
checked in under tests/golden/ as the full parse (see tests/golden_format.py).

After a deliberate parser change, regenerate with UPDATE_GOLDEN=1 and review the diff.
"""

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from tests.golden_format import document_from_golden, dumps, golden_view
from transcripts.importing.parser import parse_bytes

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted((ROOT / "fixtures").glob("*.txt"))
GOLDEN = Path(__file__).resolve().parents[1] / "golden"
INPUTS = sorted((GOLDEN / "inputs").glob("*.txt"))  # documents written for the tests


def test_all_five_seeds_are_shipped():
    assert [p.name[:3] for p in SEEDS] == ["000", "001", "002", "003", "004"]


def test_the_golden_inputs_are_shipped():
    assert [p.name for p in INPUTS] == ["initials_two_word_surname.txt", "name_with_particles.txt"]


@pytest.mark.parametrize("source", SEEDS + INPUTS, ids=lambda p: p.name)
def test_parse_matches_golden(source):
    doc = parse_bytes(source.read_bytes(), source.name)
    view = golden_view(doc)
    golden = GOLDEN / (source.stem + ".json")
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(dumps(view), encoding="utf-8")
    if not golden.exists():
        pytest.fail(f"no golden file {golden.name}; write it with UPDATE_GOLDEN=1 and review it")
    stored = json.loads(golden.read_text(encoding="utf-8"))
    assert view == stored
    assert document_from_golden(stored) == doc


def test_every_source_has_a_golden_file_and_every_golden_file_a_source():
    # After the parametrized test, so a run with UPDATE_GOLDEN=1 has written new files first.
    expected = {p.stem + ".json" for p in SEEDS + INPUTS}
    present = {p.name for p in GOLDEN.glob("*.json")}
    assert sorted(expected - present) == [], "golden files missing"
    assert sorted(present - expected) == [], "golden files with no seed or input"


def test_a_lost_non_breaking_space_inside_a_text_differs_from_the_golden_file():
    # The old summary (first six words, lengths) passed this.
    seed = SEEDS[1]
    doc = parse_bytes(seed.read_bytes(), seed.name)
    stored = json.loads((GOLDEN / (seed.stem + ".json")).read_text(encoding="utf-8"))
    turn = next(u for u in doc.turns if len(u.paragraphs) > 2 and "\u00a0" in u.paragraphs[1])
    middle = turn.paragraphs[1].replace("\u00a0", " ")
    damaged_turn = replace(turn, paragraphs=(turn.paragraphs[0], middle, *turn.paragraphs[2:]))
    damaged = replace(doc, utterances=tuple(damaged_turn if u is turn else u for u in doc.utterances))
    assert golden_view(doc) == stored
    assert golden_view(damaged) != stored
    assert document_from_golden(stored) != damaged
