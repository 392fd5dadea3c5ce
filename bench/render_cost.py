"""What the search page costs over search(): the whole /search/ page against search_archive().

    .venv/bin/python bench/render_cost.py [--bench] [--seed 1] [--per-shape 3]

Draws --per-shape distinct queries for each shape of bench/shapes.py (its helpers, so
the archive's own words by frequency band, with and without a speaker, dates, kind,
place, sort and page), and times each query's
  (a) search()  search_archive(SearchForm(...).search_request()), as the view calls it,
  (b) page      the whole page through Django's test client (GET /search/?…, every
                middleware, the view, form validation, the template, context processors),
with the page cache off (KZ_PAGE_CACHE=off). Both run once in alternation (query i runs
(a) then (b) when i is even, (b) then (a) when odd, so neither is always the one that
finds cold buffers), then once more each, warm. Prints p50 and p95 of (a), (b) and of
the difference (b) − (a), per query, for the first run and the warm second run, and
(c) "in-page": the page's time minus the time search_archive took inside that same
request, which is exactly the page's own cost, with no cold/warm noise between two runs.
Issue 13's goal: the page costs at most 10 ms over search().

One page is rendered first, untimed, so that the process's one-off costs (compiling
templates, the URL resolver, the caches kept per archive change) are not in the figures.

--bench reads the million-statement archive of bench/search_bench.py (kzarchive_bench),
read-only (every transaction there is READ ONLY); otherwise the configured database.
Writes bench/results/render-cost-<statements>-<seed>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)]


def draw(per_shape: int, seed: int) -> tuple[int, list[tuple[str, dict]]]:
    """(statements, [(shape, params)]): distinct queries, per_shape of each shape."""
    from django.db import connection

    from bench.shapes import shapes

    rng = random.Random(seed)
    drawn, seen = [], set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM transcripts_utterance")
        statements = cursor.fetchone()[0]
        for name, make in shapes(cursor, rng, statements).items():
            got = 0
            for _attempt in range(per_shape * 5):
                params = make()
                key = json.dumps(params, sort_keys=True, ensure_ascii=False)
                if key not in seen:
                    seen.add(key)
                    drawn.append((name, params))
                    got += 1
                if got == per_shape:
                    break
    return statements, drawn


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", action="store_true", help="the synthetic archive of bench/search_bench.py")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-shape", type=int, default=3, help="queries per shape of bench/shapes.py (14 shapes)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ["KZ_PAGE_CACHE"] = "off"
    from bench import build

    if not build.set_up_django(bench=args.bench, read_only=True):
        return 2
    from django.http import QueryDict
    from django.test import Client

    from bench.long_meeting import machine
    from transcripts.search import views
    from transcripts.search.engine import PageOutOfRange, search_archive
    from transcripts.search.forms import SearchForm
    from transcripts.search.syntax import QueryError

    inside: list[float] = []

    def timed_search(request):  # search_archive as the view calls it, timed
        started = time.perf_counter()
        try:
            return search_archive(request)
        finally:
            inside.append((time.perf_counter() - started) * 1000)

    views.search_archive = timed_search

    def search_only(params: dict) -> float:
        started = time.perf_counter()
        form = SearchForm(QueryDict(urlencode(params, doseq=True)))  # as the view gets them
        if form.is_valid() and form.cleaned_data["q"]:
            with contextlib.suppress(PageOutOfRange, QueryError):
                search_archive(form.search_request())
        return (time.perf_counter() - started) * 1000

    client = Client(HTTP_HOST="127.0.0.1")
    codes: dict[int, int] = {}

    def page(params: dict) -> tuple[float, float]:
        """(the page's time, its time minus search_archive's inside it)."""
        inside.clear()
        started = time.perf_counter()
        response = client.get("/search/", params)
        elapsed = (time.perf_counter() - started) * 1000
        codes[response.status_code] = codes.get(response.status_code, 0) + 1
        return elapsed, elapsed - sum(inside)

    statements, queries = draw(args.per_shape, args.seed)
    print(f"{machine()}\n{statements:,} statements; seed {args.seed}; {len(queries)} queries; page cache off")
    page({"q": "заявление"})  # one-off costs of the process, not timed

    rows = []
    for i, (shape, params) in enumerate(queries):
        row = {"shape": shape, "params": params}
        if i % 2 == 0:
            row["search_1"] = search_only(params)
            row["page_1"], row["own_1"] = page(params)
        else:
            row["page_1"], row["own_1"] = page(params)
            row["search_1"] = search_only(params)
        row["search_2"] = search_only(params)
        row["page_2"], row["own_2"] = page(params)
        rows.append(row)

    report = {"seed": args.seed, "statements": statements, "machine": machine(), "codes": codes, "summary": {}}
    print(f"{'ms':38} {'p50':>7} {'p95':>7}")
    for run, label in ((1, "first run"), (2, "warm second run")):
        lines = {
            f"(a) search(), {label}": [r[f"search_{run}"] for r in rows],
            f"(b) page, {label}": [r[f"page_{run}"] for r in rows],
            f"(b) − (a), {label}": [r[f"page_{run}"] - r[f"search_{run}"] for r in rows],
            f"(c) in-page own cost, {label}": [r[f"own_{run}"] for r in rows],
        }
        for name, values in lines.items():
            p50, p95 = percentiles(values)
            report["summary"][name] = {"p50_ms": round(p50, 2), "p95_ms": round(p95, 2)}
            print(f"{name:38} {p50:7.1f} {p95:7.1f}")
    worst = max(rows, key=lambda r: r["own_2"])
    print(f"status codes: {codes}; largest warm own cost {worst['own_2']:.1f} ms: {worst['shape']} {worst['params']}")
    print(f"# end: load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    report["queries"] = rows
    out = ROOT / "bench" / "results" / f"render-cost-{statements}-{args.seed}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(f"written: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
