"""Search benchmark on a synthetic archive of N utterances.

    .venv/bin/python bench/search_bench.py --utterances 1000000 [--reuse] [--explain]

Builds the archive in its own database, kzarchive_bench, on the embedded cluster
(bench/build.py; --reuse keeps one that already has N utterances), then times a
fixed query mix (bench/queries.py) three ways: transcripts.search.engine.search_archive(), the
whole /search/ page through Django, and a naive ORM page. Then times keeping the
did-you-mean word list current (its triggers, migration 0011) against its full
rebuild: ingesting one real document, unpublishing and republishing the largest
meeting, deleting the document again. Prints a table and writes
bench/results/search-N.json (and explain-N.txt with --explain).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
# The code under test; others edit it while benchmarks run, so the report says which version ran.
WATCHED = (
    "transcripts/search/engine.py",
    "transcripts/search/counting.py",
    "transcripts/search/ranking.py",
    "transcripts/search/champions.py",
    "transcripts/search/tsquery.py",
    "transcripts/search/syntax.py",
    "transcripts/views.py",
    "templates/transcripts/search.html",
)
TARGETS = {"page_p95_ms": 100, "page_p50_ms": 30, "load_utterances_per_s": 2000}
# The real document ingested into the synthetic archive: the sample's largest file.
RENAMED_SPEAKER_UTTERANCES = 5_000  # the speaker renamed: the one with nearest this many statements
CHANGES = (
    "ingest_one_document",
    "unpublish_largest_meeting",
    "publish_it_again",
    "rename_a_speaker",
    "rename_it_back",
    "delete_the_document",
)

_started = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _started:7.1f}s] {message}", flush=True)


def code_version() -> dict:
    git = ["git", "rev-parse", "--short", "HEAD"]
    head = subprocess.run(git, cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()
    return {"git_head": head, **{p: hashlib.sha256((ROOT / p).read_bytes()).hexdigest()[:12] for p in WATCHED}}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--utterances", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep the database if it has N utterances")
    parser.add_argument("--workers", type=int, default=2, help="processes loading utterances")
    parser.add_argument("--speakers", type=int, default=400)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--runs", type=int, default=9, help="timed runs per class (after one warm-up)")
    parser.add_argument("--naive-runs", type=int, default=3, help="timed naive runs per class; 0 skips the baseline")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS) each class's slow SQL")
    parser.add_argument("--no-query-mix", action="store_true", help="time only the word list's upkeep")
    what_if = "what-if, without editing the app (repeatable): "
    for flag, example in (
        ("--set", "a PostgreSQL setting: work_mem=64MB"),
        ("--patch", "an int in transcripts.search: RANKED_CANDIDATES=500"),
    ):
        parser.add_argument(flag, action="append", default=[], metavar="NAME=VALUE", help=what_if + example)
    return parser.parse_args(argv)


def setup_database(args) -> dict:
    """Make kzarchive_bench hold N utterances; returns its build measurements."""
    from bench import build

    meta = build.existing_build()
    reuse = args.reuse and meta is not None and meta.get("utterances") == args.utterances
    if not reuse:
        held = f"it held {meta['utterances']:,} utterances" if meta else "no finished build there"
        log(f"creating database {build.BENCH_DB} ({held})…")
        build.recreate_database()
    os.environ["DATABASE_URL"] = build.server_url(build.BENCH_DB)
    os.environ["KZ_PAGE_CACHE"] = "off"  # repeated runs of a page must render it, not read it back
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kzarchive.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    if reuse:
        log(f"reusing {build.BENCH_DB}: {meta['utterances']:,} utterances built at {meta['built_at']}")
        return {**meta, "reused": True}
    meta = build.build(args.utterances, seed=args.seed, workers=args.workers, speakers=args.speakers, log=log)
    log(f"built: {meta}")
    return {**meta, "reused": False}


def apply_what_ifs(args) -> str:
    """--set: PostgreSQL settings for every Django connection; --patch: integer
    constants of transcripts.search.engine. Returns a tag for the report's file name."""
    from django.db import connection
    from django.db.backends.signals import connection_created

    from transcripts.search import engine as search_module

    settings = [item.split("=", 1) for item in args.set]

    def configure(sender, connection, **kwargs):
        with connection.cursor() as cursor:
            for name, value in settings:
                cursor.execute("SELECT set_config(%s, %s, false)", [name, value])

    connection_created.connect(configure, weak=False)
    connection.close()  # the next query opens a configured connection
    for name, value in (item.split("=", 1) for item in args.patch):
        if not isinstance(getattr(search_module, name, None), int):
            raise SystemExit(f"--patch: transcripts.search.engine has no integer constant {name}")
        setattr(search_module, name, int(value))
    return "".join(f"+{item}" for item in args.set + args.patch)


def run_classes(args, rare_word: str) -> list[dict]:
    from django.db import OperationalError, connection

    from bench import queries
    from transcripts.models import Speaker

    speaker_id = Speaker.objects.get(slug=queries.SPEAKER_SLUG).id
    rows = []
    for qc in queries.query_classes(rare_word):
        for attempt in range(3):
            try:
                rows.append(run_class(args, qc, speaker_id))
                break
            except OperationalError:  # others' test runs restart the shared server now and then
                if attempt == 2:
                    raise
                log(f"{qc.name}: lost the database connection; measuring the class again")
                connection.close()
                time.sleep(10)
    return rows


def run_class(args, qc, speaker_id: int) -> dict:
    from bench import queries
    from transcripts.search.engine import search_archive as search

    fn_times, results = queries.timed(lambda: search(qc.request(speaker_id)), args.runs)
    page_times, _response = queries.timed(queries.page_getter(qc), args.runs)
    row = {
        "class": qc.name,
        "params": qc.page_params(),
        "hits": results.total.value,
        "estimated": results.total.estimated,
        "exact_hits": queries.exact_total(qc, speaker_id, results.tsquery),
        "tsquery": results.tsquery,
        "timed_out": results.timed_out,
        "function_ms": queries.summary(fn_times),
        "page_ms": queries.summary(page_times),
        "statements": queries.slowest_statements(qc, speaker_id),
    }
    page = row["page_ms"]
    row["pass"] = page["p95"] <= TARGETS["page_p95_ms"] and page["p50"] <= TARGETS["page_p50_ms"]
    if args.naive_runs:
        row["naive"] = queries.run_naive(qc, speaker_id, args.naive_runs)
        if row["naive"].get("p50"):
            row["naive_ratio"] = round(row["naive"]["p50"] / row["function_ms"]["p50"], 1)
    if args.explain:
        row["plans"] = [queries.explain(s["sql"]) for s in row["statements"][:2]]
    log(f"{qc.name}: page p50 {page['p50']} ms, p95 {page['p95']} ms, hits {row['hits']:,}")
    return row


# ---------------------------------------------------------------------------
# The did-you-mean word list: incremental upkeep against a full rebuild


def _vocabulary_ms() -> float:
    """Milliseconds the word list's trigger functions took, pending in this backend's
    statistics (which hold this transaction's and possibly earlier ones' not yet flushed)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(total_time), 0) FROM pg_stat_xact_user_functions AS f"
            " JOIN pg_proc AS p ON p.oid = f.funcid"
            " WHERE f.funcname LIKE %s AND p.prorettype = 'trigger'::regtype",
            ["kz\\_vocabulary\\_%"],
        )
        return float(cursor.fetchone()[0])


def _timed_change(change) -> dict:
    """Run `change` in one transaction (as the admin's request or one ingested file is):
    seconds in all, with the commit, and the word list's triggers' share."""
    from django.db import transaction

    from transcripts.models import VocabularyWord

    words = VocabularyWord.objects.count()
    started = time.perf_counter()
    with transaction.atomic():
        earlier_ms = _vocabulary_ms()  # statistics are not flushed inside a transaction
        detail = change() or {}
        vocabulary_ms = _vocabulary_ms() - earlier_ms
    total = time.perf_counter() - started
    return {
        "s": round(total, 3),
        "vocabulary_triggers_s": round(vocabulary_ms / 1000, 3),
        "words_before": words,
        "words_after": VocabularyWord.objects.count(),
        **detail,
    }


def measure_vocabulary(log) -> dict:
    """Each change as the app makes it, timed, then the full rebuild (the old cost of
    every change: the materialized view's refresh re-read the whole archive)."""
    from django.db import connection
    from django.db.models import Count

    from transcripts.importing import ingest
    from transcripts.importing.report import ADDED
    from transcripts.models import Meeting, Speaker, VocabularyWord

    with connection.cursor() as cursor:
        cursor.execute("SET track_functions = 'pl'")  # the triggers' share (superuser: the embedded server)
    from kzarchive.paths import corpus_dir

    document = max(corpus_dir().glob("*.txt"), key=lambda p: p.stat().st_size)
    Meeting.objects.filter(source_file=document.name).delete()  # left by an interrupted run
    result = {"document": document.name}

    def add():
        report = ingest.ingest_paths([document])
        assert report.count(ADDED) == 1, report.summary()
        meeting = Meeting.objects.get(source_file=document.name)
        return {"meeting_id": meeting.id, "utterances": meeting.utterances.count()}

    log(f"vocabulary: ingesting {document.name}…")
    result["ingest_one_document"] = _timed_change(add)
    added = result["ingest_one_document"]["meeting_id"]

    largest = (
        Meeting.objects.filter(is_published=True)
        .annotate(n=Count("utterances"))
        .order_by("-n", "id")
        .values_list("id", "n")
        .first()
    )

    def set_published(value: bool):
        def change():
            meeting = Meeting.objects.get(pk=largest[0])
            meeting.is_published = value  # as the admin's Publish/Unpublish action does
            meeting.save(update_fields=["is_published", "updated_at"])
            return {"meeting_id": meeting.id, "utterances": largest[1]}

        return change

    log(f"vocabulary: unpublishing and publishing meeting {largest[0]} ({largest[1]} utterances)…")
    result["unpublish_largest_meeting"] = _timed_change(set_published(False))
    result["publish_it_again"] = _timed_change(set_published(True))

    # A speaker rename re-indexes the speaker's statements (migration 0002): the word
    # list's update trigger sees them all, with their texts unchanged, and skips them.
    counts = Speaker.objects.annotate(n=Count("utterances")).filter(n__gt=0).values_list("id", "n")
    speaker = min(counts, key=lambda row: (abs(row[1] - RENAMED_SPEAKER_UTTERANCES), row[0]))

    def rename(suffix: str):
        def change():
            person = Speaker.objects.get(pk=speaker[0])
            person.name = person.name.removesuffix(" Переименованный") + suffix
            person.save(update_fields=["name"])
            return {"speaker_id": person.id, "utterances": speaker[1]}

        return change

    log(f"vocabulary: renaming speaker {speaker[0]} ({speaker[1]} utterances) and back…")
    result["rename_a_speaker"] = _timed_change(rename(" Переименованный"))
    result["rename_it_back"] = _timed_change(rename(""))
    log("vocabulary: deleting the ingested document…")
    result["delete_the_document"] = _timed_change(lambda: {"deleted": Meeting.objects.filter(pk=added).delete()[1]})

    log("vocabulary: full rebuild (VocabularyWord.rebuild)…")
    started = time.perf_counter()
    corrected = VocabularyWord.rebuild()
    result["full_rebuild"] = {"s": round(time.perf_counter() - started, 1), "words_corrected": corrected}
    baseline = result["full_rebuild"]["s"]
    for key in CHANGES:
        result[key]["rebuild_over_this"] = round(baseline / max(result[key]["s"], 0.001))
    result["loadavg"] = os.getloadavg()
    return result


def vocabulary_lines(v: dict) -> str:
    def line(label, key):
        r = v[key]
        what = f" ({r['utterances']:,} utterances)" if "utterances" in r else ""
        return (
            f"  {label}{what}: {r['s']:.2f} s, of which the word list's triggers {r['vocabulary_triggers_s']:.2f} s;"
            f" words {r['words_before']:,} → {r['words_after']:,}; the full rebuild takes {r['rebuild_over_this']:,}×"
        )

    full = v["full_rebuild"]
    return "\n".join(
        [
            "did-you-mean word list, kept by triggers (each change in one transaction, with its commit):",
            line(f"ingest one document {v['document']}", "ingest_one_document"),
            line("unpublish the largest meeting", "unpublish_largest_meeting"),
            line("publish it again", "publish_it_again"),
            line("rename a speaker", "rename_a_speaker"),
            line("rename the speaker back", "rename_it_back"),
            line("delete the ingested document", "delete_the_document"),
            f"  full rebuild (the baseline): {full['s']} s; words it had to correct: {full['words_corrected']}",
        ]
    )


def table(rows: list[dict]) -> str:
    head = (
        f"{'class':<16} {'fn p50':>7} {'p95':>7} {'max':>7} │ {'page p50':>8} {'p95':>7} {'max':>7} │"
        f" {'hits':>9} {'exact':>8} │ {'naive p50':>9} {'naive/fn':>8} {'naive hits':>10} │ target"
    )
    lines = [head, "─" * len(head)]
    for r in rows:
        fn, page, naive = r["function_ms"], r["page_ms"], r.get("naive", {})
        hits = ("≈" if r["estimated"] else "") + f"{r['hits']:,}" + (" TIMEOUT" if r["timed_out"] else "")
        exact = "-" if r["exact_hits"] is None else f"{r['exact_hits']:,}"
        naive_p50 = "timeout" if naive.get("timed_out") else f"{naive['p50']:.1f}" if naive.get("p50") else "-"
        ratio = f"{r['naive_ratio']:.1f}×" if r.get("naive_ratio") else "-"
        naive_hits = f"{naive['hits']:,}" if naive.get("hits") is not None else "-"
        lines.append(
            f"{r['class']:<16} {fn['p50']:>7.1f} {fn['p95']:>7.1f} {fn['max']:>7.1f} │"
            f" {page['p50']:>8.1f} {page['p95']:>7.1f} {page['max']:>7.1f} │ {hits:>9} {exact:>8} │"
            f" {naive_p50:>9} {ratio:>8} {naive_hits:>10} │ {'PASS' if r['pass'] else 'MISS'}"
        )
    return "\n".join(lines)


def machine() -> dict:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")
    return {"cpu": cpu, "cores": os.cpu_count()}


def server_settings() -> dict:
    from django.db import connection

    names = ["server_version", "shared_buffers", "work_mem", "effective_cache_size", "jit", "random_page_cost"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, current_setting(name) FROM unnest(%s::text[]) AS name", [names])
        return dict(cursor.fetchall())


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    version = code_version()
    meta = setup_database(args)
    tag = apply_what_ifs(args)
    load_start = os.getloadavg()
    rows = []
    if not args.no_query_mix:
        runs = f"{args.runs} timed runs each, naive {args.naive_runs}"
        log(f"running the query mix ({runs}); rare word: {meta['rare_word']}")
        rows = run_classes(args, meta["rare_word"])
    vocabulary = measure_vocabulary(log)
    load_ok = meta["load_utterances_per_s"] >= TARGETS["load_utterances_per_s"]
    report = {"utterances": args.utterances, "what_if": tag, "code": version, "targets": TARGETS}
    report["server"] = server_settings()
    # Other work on this 2-core machine skews timings: the load average says how much.
    report.update(loadavg={"start": load_start, "end": os.getloadavg()}, build=meta, classes=rows)
    report.update(vocabulary=vocabulary, machine=machine())
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"search-{args.utterances}{tag}{'-vocabulary' if args.no_query_mix else ''}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    if args.explain:
        plans = [f"### {r['class']} {r['params']}\n\n" + "\n\n".join(r["plans"]) for r in rows]
        (RESULTS / f"explain-{args.utterances}{tag}.txt").write_text("\n\n".join(plans), encoding="utf-8")
    build_note = " (reused: measured when it was built)" if meta["reused"] else ""
    print(f"\nSearch at {args.utterances:,} utterances{' with ' + tag if tag else ''}; times in ms;", end=" ")
    print(f"naive/fn = naive p50 / search() p50; load average {load_start[0]:.2f} → {os.getloadavg()[0]:.2f}")
    print(table(rows))
    print(
        f"\nbuild{build_note}: {meta['load_utterances_per_s']:,} utterances/s with {meta['workers']} workers"
        f" ({meta['load_s']} s) → {'PASS' if load_ok else 'MISS'} (target ≥ {TARGETS['load_utterances_per_s']:,}/s)"
        f"; index builds {meta['index_build_s']} s; VACUUM ANALYZE {meta['vacuum_analyze_s']} s;"
        f" vocabulary rebuild {meta.get('vocabulary_rebuild_s', '-')} s; sizes (MB) {meta['sizes_mb']}"
    )
    print(vocabulary_lines(vocabulary))
    missed = [r["class"] for r in rows if not r["pass"]]
    print(f"page targets (p50 ≤ {TARGETS['page_p50_ms']} ms, p95 ≤ {TARGETS['page_p95_ms']} ms): ", end="")
    print(f"{len(rows) - len(missed)}/{len(rows)} classes pass" + (f"; MISS: {', '.join(missed)}" if missed else ""))
    if code_version() != version:
        print(f"WARNING: the code under test changed during the run (was {version}); rerun with --reuse")
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
