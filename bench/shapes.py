"""Search shapes drawn at random: speed, relevance agreement and estimate error per shape.

    .venv/bin/python bench/shapes.py [--bench] [--seed 1] [--per-shape 12]

For each shape of query a reader types (a common word and a speaker, a quoted phrase from
a real text, a rare word newest first, OR, an exclusion, a deep page, a place…), draws
--per-shape distinct queries with the seed from the archive's own words (by frequency
band: the did-you-mean word list holds every word's statement count) and from all of its
speakers (uniformly, not only the largest), then times each once — its first run — as the
whole /search/ page through Django with the page cache off; then search_archive() alone (its
second run), and the naive answer over every match (count, years, the exact top by relevance)
with its time. Per query: how many of the page's hits the exact top shares (relevance
shapes), whether the engine called its page exact, the error of an estimated total and of
its worst year.

--bench reads the synthetic archive of bench/search_bench.py (kzarchive_bench; build it
first); otherwise the configured database. Prints a table with the date, commit, CPU and
load, and writes bench/results/shapes-<seed>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
TOP = 20


def bands(cursor, statements: int) -> dict[str, list[str]]:
    """Searchable words (not stop words, of letters) by how many statements hold them."""
    cursor.execute(
        "SELECT word, frequency FROM transcripts_vocabularyword WHERE word ~ '^[а-яё]{4,}$'"
        " AND numnode(plainto_tsquery('kz_russian', word)) > 0 ORDER BY frequency DESC"
    )
    words = cursor.fetchall()
    common = [w for w, _f in words[:300]]
    mid = [w for w, f in words if statements / 5000 <= f <= statements / 500] or [w for w, _f in words[300:2000]]
    rare = [w for w, f in words if 3 <= f <= 30]
    return {"common": common, "mid": mid, "rare": rare}


def text_words(cursor, rng: random.Random, n: int) -> list[str]:
    """n consecutive words of a random statement's text."""
    cursor.execute("SELECT min(id), max(id) FROM transcripts_utterance")
    low, high = cursor.fetchone()
    while True:
        cursor.execute(
            "SELECT text FROM transcripts_utterance WHERE id >= %s AND published ORDER BY id LIMIT 1",
            [rng.randint(low, high)],
        )
        row = cursor.fetchone()
        words = [w.strip('.,:;!?«»()"–—') for w in (row[0] if row else "").split()]
        words = [w for w in words if len(w) >= 4 and w.isalpha()]
        if len(words) >= n:
            start = rng.randrange(len(words) - n + 1)
            return words[start : start + n]


def shapes(cursor, rng: random.Random, statements: int) -> dict[str, callable]:
    from transcripts.models import Meeting, Speaker

    words = bands(cursor, statements)
    speakers = list(Speaker.objects.filter(utterances__isnull=False).distinct().values_list("slug", flat=True))
    kinds = list(Meeting.objects.values_list("kind", flat=True).distinct())
    places = [p for p in Meeting.objects.values_list("location", flat=True).distinct() if p]
    years = sorted({d.year for d in Meeting.objects.values_list("date", flat=True)})

    def pick(band):
        return rng.choice(words[band])

    return {
        "common word + speaker": lambda: {"q": pick("common"), "speaker": rng.choice(speakers)},
        "two common words + speaker": lambda: {
            "q": f"{pick('common')} {pick('common')}",
            "speaker": rng.choice(speakers),
        },
        "phrase of two common words": lambda: {"q": f'"{pick("common")} {pick("common")}"'},
        "three-word phrase from a text": lambda: {"q": '"' + " ".join(text_words(cursor, rng, 3)) + '"'},
        "common word + kind": lambda: {"q": pick("common"), "kind": rng.choice(kinds)},
        "rare word + speaker, newest": lambda: {"q": pick("rare"), "speaker": rng.choice(speakers), "sort": "newest"},
        "mid word + year, newest": lambda: {"q": pick("mid"), **_year(rng.choice(years)), "sort": "newest"},
        "three words from a text": lambda: {"q": " ".join(text_words(cursor, rng, 3))},
        "mid OR mid": lambda: {"q": f"{pick('mid')} OR {pick('mid')}"},
        "common -mid": lambda: {"q": f"{pick('common')} -{pick('mid')}"},
        "common word, page 10": lambda: {"q": pick("common"), "page": 10},
        "mid word + place": lambda: (
            {"q": pick("mid"), "location": rng.choice(places)} if places else {"q": pick("mid")}
        ),
        "a common word": lambda: {"q": pick("common")},
        "a rare word": lambda: {"q": pick("rare")},
    }


def _year(year: int) -> dict:
    return {"from": f"{year}-01-01", "to": f"{year}-12-31"}


def exact(request, results) -> dict:
    """The naive answer over every match (count, years, exact top by relevance), how long it
    took, and how the page agrees with it: relevance, the total's and each year's error."""
    from django.db import connection

    from transcripts.search import ranking
    from transcripts.search.engine import PAGE_SIZE, _where

    where, params = _where(request, results.indexed)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT extract(year FROM u.meeting_date)::int, count(*) FROM transcripts_utterance u WHERE {where}"
            " GROUP BY 1",
            params,
        )
        years = dict(cursor.fetchall())
        total = sum(years.values())
        best = set()
        if request.sort == "relevance" and request.page == 1 and total:
            best = set(ranking.exact_top(cursor, where, params, results.indexed.wanted, limit=PAGE_SIZE))
    naive_ms = (time.perf_counter() - started) * 1000
    out = {"exact_total": total, "shown_total": results.total.value, "estimated": results.total.estimated}
    out["naive_ms"] = naive_ms
    out["total_error"] = (results.total.value - total) / total if total else 0.0
    shown_years = dict(results.year_facets)
    out["year_error_max"] = max((abs(shown_years.get(y, 0) - n) / n for y, n in years.items()), default=0.0)
    if best:
        shown = {hit.utterance.id for hit in results.hits}
        out["agreement"] = len(best & shown) / min(PAGE_SIZE, total)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", action="store_true", help="the synthetic archive of bench/search_bench.py")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-shape", type=int, default=12)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ["KZ_PAGE_CACHE"] = "off"
    from bench import build

    if not build.set_up_django(bench=args.bench, read_only=False):
        return 2
    from django.db import connection
    from django.http import QueryDict
    from django.test import Client

    from bench.long_meeting import machine
    from transcripts.search.engine import search_archive
    from transcripts.search.forms import SearchForm

    rng = random.Random(args.seed)
    client = Client(HTTP_HOST="127.0.0.1")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM transcripts_utterance")
        statements = cursor.fetchone()[0]
        makers = shapes(cursor, rng, statements)
        drawn = {name: [] for name in makers}
        for name, make in makers.items():
            seen = set()
            for _attempt in range(args.per_shape * 5):
                params = make()
                key = json.dumps(params, sort_keys=True, ensure_ascii=False)
                if key not in seen:
                    seen.add(key)
                    drawn[name].append(params)
                if len(drawn[name]) == args.per_shape:
                    break
    print(
        f"{machine()}\n{statements:,} statements; seed {args.seed}; {args.per_shape} queries a shape, each timed once"
    )
    report = {"seed": args.seed, "statements": statements, "machine": machine(), "shapes": {}}
    header = (
        f"{'shape':32} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'search50':>8} {'naive50':>8}  {'agree min/mean':>14}"
        f" {'exact':>7} {'err total/year':>14}  codes"
    )
    print(header)
    for name, queries in drawn.items():
        times, codes, checks = [], {}, []
        for params in queries:
            started = time.perf_counter()
            response = client.get("/search/", params)
            times.append((time.perf_counter() - started) * 1000)
            codes[response.status_code] = codes.get(response.status_code, 0) + 1
            form = SearchForm(QueryDict(urlencode(params)))  # as the view gets them (speaker is a list)
            if response.status_code == 200 and form.is_valid():
                started = time.perf_counter()
                results = search_archive(form.search_request())  # its second run: the page ran it first
                search_ms = (time.perf_counter() - started) * 1000
                timing = {"page_ms": times[-1], "search_ms": search_ms, "exact_page": not results.ranked_subset}
                checks.append({"params": params, **timing, **exact(form.search_request(), results)})
        agreements = [c["agreement"] for c in checks if "agreement" in c]
        errors = [abs(c["total_error"]) for c in checks if c["estimated"]]
        year_errors = [c["year_error_max"] for c in checks if c["estimated"]]
        naive = sorted(c["naive_ms"] for c in checks)
        searches = sorted(c["search_ms"] for c in checks)
        exact_pages = sum(c["exact_page"] for c in checks)
        times.sort()
        row = {
            "p50_ms": statistics.median(times),
            "p95_ms": times[max(0, round(0.95 * len(times)) - 1)],
            "max_ms": times[-1],
            "codes": codes,
            "agreement_min": min(agreements) if agreements else None,
            "agreement_mean": statistics.mean(agreements) if agreements else None,
            "estimate_error_max": max(errors) if errors else None,
            "year_error_max": max(year_errors) if year_errors else None,
            "naive_p50_ms": statistics.median(naive) if naive else None,
            "search_p50_ms": statistics.median(searches) if searches else None,
            "exact_pages": exact_pages,
            "queries": checks,
        }
        report["shapes"][name] = row
        agree = f"{row['agreement_min']:.2f}/{row['agreement_mean']:.2f}" if agreements else "—"
        error = f"{row['estimate_error_max']:.1%}/{row['year_error_max']:.0%}" if errors else "exact"
        naive_p50 = f"{row['naive_p50_ms']:.0f}" if naive else "—"
        search_p50 = f"{row['search_p50_ms']:.0f}" if searches else "—"
        print(
            f"{name:32} {row['p50_ms']:7.0f} {row['p95_ms']:7.0f} {row['max_ms']:7.0f} {search_p50:>8} {naive_p50:>8}"
            f"  {agree:>14} {exact_pages:>3}/{len(checks):<3} {error:>14}  {codes}"
        )
    out = ROOT / "bench" / "results" / f"shapes-{statements}-{args.seed}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(f"written: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
