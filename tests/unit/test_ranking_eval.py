"""bench/ranking_eval.py: its metrics, and the shape of its judgments file (no database)."""

import json
import math

import pytest

from bench import ranking_eval


def test_ndcg_is_one_for_the_ideal_order_and_less_for_another():
    grades = {1: 2, 2: 1, 3: 1}
    ideal = ranking_eval.scores([1, 2, 3, 4], grades, matched={1, 2, 3, 4})
    assert ideal["ndcg"] == pytest.approx(1.0)
    assert ideal["precision"] == pytest.approx(0.3)  # three relevant in the top 10
    worse = ranking_eval.scores([4, 2, 3, 1], grades, matched={1, 2, 3, 4})
    expected = (1 / math.log2(3) + 1 / math.log2(4) + 3 / math.log2(5)) / (3 + 1 / math.log2(3) + 1 / math.log2(4))
    assert worse["ndcg"] == pytest.approx(expected)
    assert worse["top"] == [0, 1, 1, 2]


def test_a_query_without_a_relevant_match_has_no_ndcg():
    assert ranking_eval.scores([5, 6], {7: 2}, matched={5, 6})["ndcg"] is None


def test_the_judgments_are_complete_and_unambiguous():
    spec = json.loads(ranking_eval.JUDGMENTS.read_text(encoding="utf-8"))
    queries = spec["queries"]
    assert len(queries) >= 36
    for entry in queries:
        assert entry["q"] and entry["need"], entry
        keys = [(j["file"], j["seq"]) for j in entry["judged"]]
        assert len(keys) == len(set(keys)), entry["q"]
        assert {j["grade"] for j in entry["judged"]} <= {0, 1, 2}
        assert any(j["grade"] for j in entry["judged"]), entry["q"]
        assert all(j["prefix"] for j in entry["judged"])
    assert any(entry.get("speakers") for entry in queries)
