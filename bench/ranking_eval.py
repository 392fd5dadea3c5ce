"""How well the archive ranks its matches, against relevance judged by hand.

    .venv/bin/python bench/ranking_eval.py

Ingests the seed transcripts and the shared kremlin.ru sample into its own database,
kzarchive_rankeval (bench/morphology_eval.py's setup), then, for each query of
bench/ranking_judgments.json, ranks ALL its matches (exact, no sample) three ways:

* before: ts_rank(search_vector, q), the archive's ranking before 7ad42b4;
* after:  ranking.rank_sql(), today's ranking formula, over every match;
* page:   the hits engine.search_archive returns on page 1, as a reader sees them.

Ties go newest first (meeting date, meeting, seq descending), as the engine breaks them.
Each query's top 10 is scored against the judgments: nDCG@10 (gain 2^grade - 1, the
ideal ordering of the query's judged statements) and precision@10 (grade >= 1 counts as
relevant; unjudged = 0). Prints a table with the date and commit, and writes
bench/results/ranking.json.

Judged statements are named by their meeting's source file and seq, with a prefix of
their text as a check: if the seq no longer holds that text, the statement is looked up
by the prefix in its file. A judgment that names no matching statement is reported.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.morphology_eval import log, setup  # noqa: E402  (the same database set-up)

JUDGMENTS = ROOT / "bench" / "ranking_judgments.json"
RESULTS = ROOT / "bench" / "results" / "ranking.json"
RANK_DB = "kzarchive_rankeval"
K = 10
FUNCTIONS = ("before", "after", "page")
BEFORE_SQL = "ts_rank(u.search_vector, %s::tsquery)"


def request_for(entry: dict):
    """The SearchRequest of a judged query: its text and its speakers (slugs in the file)."""
    from transcripts.models import Speaker
    from transcripts.search.engine import SearchRequest

    slugs = entry.get("speakers", [])
    ids = dict(Speaker.objects.filter(slug__in=slugs).values_list("slug", "id"))
    missing = [s for s in slugs if s not in ids]
    if missing:
        raise SystemExit(f"{entry['q']!r}: unknown speaker slugs {missing}")
    return SearchRequest(q=entry["q"], speakers=tuple(ids[s] for s in slugs))


def all_matches(cursor, request) -> list[dict]:
    """Every published match of the request with both scores, newest first."""
    from transcripts.search.ranking import RANKED_FROM, rank_sql
    from transcripts.search.syntax import parse_query
    from transcripts.search.tsquery import build_tsquery, query_words

    parsed = parse_query(request.q)
    after, after_params = rank_sql(query_words(parsed))  # the engine's relevance (ranking.rank_sql)
    speaker = " AND u.speaker_id = ANY(%s)" if request.speakers else ""
    cursor.execute(
        "SELECT r.id, m.source_file, r.seq, r.meeting_date, r.meeting_id, r.before, r.after FROM ("
        f" SELECT u.id, u.seq, u.meeting_id, u.meeting_date, {BEFORE_SQL} AS before, {after} AS after"
        f" FROM {RANKED_FROM} WHERE u.published AND u.search_vector @@ %s::tsquery"
        f"{speaker}) r JOIN transcripts_meeting m ON m.id = r.meeting_id"
        " ORDER BY r.meeting_date DESC, r.meeting_id DESC, r.seq DESC",
        [
            build_tsquery(parsed),
            *after_params,
            build_tsquery(parsed),
            *([list(request.speakers)] if request.speakers else []),
        ],
    )
    names = ("id", "file", "seq", "date", "meeting", "before", "after")
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def ranked(matches: list[dict], function: str) -> list[int]:
    """Ids by descending score; Python's sort is stable, so ties keep newest first."""
    return [m["id"] for m in sorted(matches, key=lambda m: -m[function])]


def page_ids(request) -> list[int]:
    from transcripts.search.engine import search_archive

    return [hit.utterance.id for hit in search_archive(request).hits]


def resolve(cursor, judged: list[dict]) -> tuple[dict[int, int], list[dict]]:
    """{utterance id: grade} for the judged statements, and the judgments not found."""
    grades, missing = {}, []
    for j in judged:
        cursor.execute(
            "SELECT u.id, u.seq, u.text FROM transcripts_utterance u JOIN transcripts_meeting m"
            " ON m.id = u.meeting_id WHERE m.source_file = %s AND u.published ORDER BY u.seq",
            [j["file"]],
        )
        rows = cursor.fetchall()
        hit = [i for i, seq, text in rows if seq == j["seq"] and text.startswith(j["prefix"])]
        hit = hit or [i for i, _seq, text in rows if text.startswith(j["prefix"])]
        if len(hit) == 1 or (hit and len({t for i, _s, t in rows if i in hit}) == 1):
            grades[hit[0]] = j["grade"]
        else:
            missing.append(j)
    return grades, missing


def dcg(gains: list[int]) -> float:
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains))


def scores(top: list[int], grades: dict[int, int], matched: set[int]) -> dict:
    """nDCG@K and P@K of a ranked list of ids."""
    gains = [grades.get(i, 0) for i in top[:K]]
    ideal = dcg(sorted((g for i, g in grades.items() if i in matched), reverse=True)[:K])
    return {
        "ndcg": dcg(gains) / ideal if ideal else None,
        "precision": sum(g >= 1 for g in gains) / K,
        "top": gains,
    }


def mean(values: list[float | None]) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def evaluate() -> dict:
    from django.db import connection

    spec = json.loads(JUDGMENTS.read_text(encoding="utf-8"))
    rows = []
    with connection.cursor() as cursor:
        for entry in spec["queries"]:
            request = request_for(entry)
            matches = all_matches(cursor, request)
            matched = {m["id"] for m in matches}
            grades, missing = resolve(cursor, entry["judged"])
            not_matching = sorted(i for i in grades if i not in matched)
            lists = {f: ranked(matches, f) for f in ("before", "after")}
            lists["page"] = page_ids(request)
            rows.append(
                {
                    "q": entry["q"],
                    "speakers": entry.get("speakers", []),
                    "need": entry["need"],
                    "matches": len(matches),
                    "judged": len(entry["judged"]),
                    "relevant": sum(g >= 1 for g in grades.values()),
                    "unresolved": missing,
                    "judged_not_matching": len(not_matching),
                    **{f: scores(lists[f], grades, matched) for f in FUNCTIONS},
                }
            )
    return {
        "k": K,
        "queries": len(rows),
        "judged_statements": sum(r["judged"] for r in rows),
        "mean": {f: {m: mean([r[f][m] for r in rows]) for m in ("ndcg", "precision")} for f in FUNCTIONS},
        "rows": rows,
    }


def fmt(value: float | None) -> str:
    return f"{'—':>6}" if value is None else f"{value:6.3f}"


def label(row: dict) -> str:
    speakers = f" [{','.join(row['speakers'])}]" if row["speakers"] else ""
    return (row["q"] + speakers)[:44]


def print_report(result: dict, when: str, commit: str) -> None:
    log(f"\nranking evaluation, {when}, commit {commit}")
    log(
        f"{result['queries']} queries, {result['judged_statements']} judged statements;"
        f" nDCG@{K} (gain 2^grade-1) and P@{K} (grade >= 1) over all matches of each query"
    )
    cols = "".join(f"{f + ' nDCG':>12}{'P':>6}" for f in FUNCTIONS)
    head = f"{'query':<45}{'match':>6}{'rel':>5} |{cols}"
    log("\n" + head + "\n" + "-" * len(head))
    for row in result["rows"]:
        cells = "".join(f"{fmt(row[f]['ndcg']):>12}{row[f]['precision']:6.1f}" for f in FUNCTIONS)
        worse = "  < before" if (row["after"]["ndcg"] or 0) < (row["before"]["ndcg"] or 0) - 1e-9 else ""
        log(f"{label(row):<45}{row['matches']:>6}{row['relevant']:>5} |{cells}{worse}")
    mean_cells = "".join(
        f"{fmt(result['mean'][f]['ndcg']):>12}{fmt(result['mean'][f]['precision'])}" for f in FUNCTIONS
    )
    log("-" * len(head) + f"\n{'MEAN':<56} |{mean_cells}")
    for row in result["rows"]:
        if row["unresolved"] or row["judged_not_matching"]:
            log(
                f"  {row['q']!r}: {len(row['unresolved'])} judgments not found,"
                f" {row['judged_not_matching']} judged statements not matching"
            )


def main() -> None:
    started = time.perf_counter()
    setup(RANK_DB)
    result = evaluate()
    when = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    print_report(result, when, commit.stdout.strip())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps({"date": when, "commit": commit.stdout.strip(), **result}, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    log(f"\nwrote {RESULTS.relative_to(ROOT)} in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
