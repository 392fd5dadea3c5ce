"""How many meetings a search matches: counted in MeetingLexemes against a sample's estimate.

    .venv/bin/python bench/meetings_count.py [--bench] [--seed 1] [--words 24]

Draws --words distinct words with the seed from the archive's 2,000 most frequent
searchable words (the did-you-mean list holds every word's statement count), and for each
compares the exact number of meetings with a match (every match read: the baseline, with
its time) with
  (a) counting.count_meetings over MeetingLexemes, as the engine counts them now, and
  (b) the Horvitz–Thompson estimate from the 10% sample the engine used before migration
      0022: a meeting with k sampled matches counts as 1 / (1 - 0.9 ** (10 k)).
Prints each word's figures and the worst and median errors; writes
bench/results/meetings-<statements>-<seed>.json.

--bench reads the synthetic archive of bench/search_bench.py (kzarchive_bench), read-only.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sample_estimate(cursor, where: str, params: list, fraction: float) -> int:
    """The old estimate: each meeting seen in the sample weighs 1 / P(seen), P from its sampled matches."""
    from transcripts.search import counting

    cursor.execute(
        "SELECT k, count(*) FROM (SELECT u.meeting_id, count(*) AS k FROM transcripts_utterance u"
        f" WHERE {counting.in_sample(where)} GROUP BY 1) AS per GROUP BY 1",
        params,
    )
    return round(sum(n / (1 - (1 - fraction) ** (k / fraction)) for k, n in cursor.fetchall()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", action="store_true", help="the synthetic archive of bench/search_bench.py")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--words", type=int, default=24)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from bench import build

    if not build.set_up_django(bench=args.bench, read_only=True):
        return 2
    from django.db import connection, transaction

    from bench.long_meeting import machine
    from bench.shapes import bands
    from transcripts.search import counting, ranking
    from transcripts.search.engine import SearchRequest, _where
    from transcripts.search.syntax import parse_query
    from transcripts.search.tsquery import indexed_query

    rng = random.Random(args.seed)
    rows = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SELECT count(*) FROM transcripts_utterance")
        statements = cursor.fetchone()[0]
        common = bands(cursor, statements)["common"]
        cursor.execute(
            "SELECT word FROM transcripts_vocabularyword WHERE word ~ '^[а-яё]{4,}$'"
            " AND numnode(plainto_tsquery('kz_russian', word)) > 0 ORDER BY frequency DESC LIMIT 2000"
        )
        frequent = [w for (w,) in cursor.fetchall()]
        words = rng.sample(sorted(set(frequent) | set(common)), args.words)
        fraction = 1 / counting.scales.get()[1][counting.SAMPLE]
        print(f"{machine()}\n{statements:,} statements; seed {args.seed}; {len(words)} words")
        print(
            f"{'word':18} {'matches':>8} {'meetings':>8} {'read ms':>8} {'counted':>8} {'ms':>5}"
            f" {'sample est':>10} {'err':>6}"
        )
        for word in words:
            query = indexed_query(parse_query(word))
            where, params = _where(SearchRequest(q=word), query)
            ranking.plan(cursor, bitmap=True)
            started = time.perf_counter()
            cursor.execute(
                f"SELECT count(*), count(DISTINCT u.meeting_id) FROM transcripts_utterance u WHERE {where}", params
            )
            matches, exact = cursor.fetchone()
            read_ms = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            counted = counting.count_meetings(cursor, query.meeting_terms, None)
            counted_ms = (time.perf_counter() - started) * 1000
            estimate = sample_estimate(cursor, where, params, fraction)
            error = (estimate - exact) / exact if exact else 0.0
            rows.append(
                {
                    "word": word,
                    "matches": matches,
                    "meetings": exact,
                    "read_ms": read_ms,
                    "counted": counted,
                    "counted_ms": counted_ms,
                    "counted_exact": counted == exact,
                    "sample_estimate": estimate,
                    "sample_error": error,
                }
            )
            print(
                f"{word:18} {matches:8,} {exact:8,} {read_ms:8.0f} {counted:8,} {counted_ms:5.0f}"
                f" {estimate:10,} {error:+6.0%}"
            )
    errors = sorted(abs(r["sample_error"]) for r in rows)
    summary = {
        "counted_exact": sum(r["counted_exact"] for r in rows),
        "counted_ms_p50": statistics.median(r["counted_ms"] for r in rows),
        "read_ms_p50": statistics.median(r["read_ms"] for r in rows),
        "sample_error_median": statistics.median(errors),
        "sample_error_max": errors[-1],
    }
    print(
        f"MeetingLexemes: {summary['counted_exact']}/{len(rows)} exact, p50 {summary['counted_ms_p50']:.0f} ms"
        f" (reading every match: p50 {summary['read_ms_p50']:.0f} ms); the 10% sample's estimate: median error"
        f" {summary['sample_error_median']:.0%}, worst {summary['sample_error_max']:.0%}"
    )
    out = ROOT / "bench" / "results" / f"meetings-{statements}-{args.seed}.json"
    out.parent.mkdir(exist_ok=True)
    report = {"seed": args.seed, "machine": machine(), "summary": summary, "words": rows}
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"written: {out.relative_to(ROOT)}")
    return 0 if summary["counted_exact"] == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
