"""Each seed's expected parse is checked in under tests/golden/.

After a deliberate parser change, regenerate with UPDATE_GOLDEN=1 and review the diff.
"""

import json
import os
from pathlib import Path

import pytest

from tests.golden_format import golden_view
from transcripts.parser import parse_bytes

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "fixtures").glob("*.txt"))
GOLDEN = Path(__file__).parent / "golden"


def test_all_five_seeds_are_shipped():
    assert [p.name[:3] for p in SEEDS] == ["000", "001", "002", "003", "004"]


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name)
def test_seed_matches_golden(seed):
    view = golden_view(parse_bytes(seed.read_bytes(), seed.name))
    golden = GOLDEN / (seed.stem + ".json")
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(json.dumps(view, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert view == json.loads(golden.read_text(encoding="utf-8"))
