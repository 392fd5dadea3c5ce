"""Load test: gunicorn with production settings under wrk, on loopback, bounded in time.

    .venv/bin/python bench/load.py [--bench] [--clients 50] [--seconds 60]

Serves the sample archive (the embedded `kzarchive` database, after migrate and an
ingest of fixtures/) or, with --bench, the million-utterance database that
bench/search_bench.py builds. Builds a mix of addresses from what the database holds:
home pages, the date archive, meeting pages and searches (common, rare and filtered
queries), starts gunicorn (gunicorn.conf.py) on a free loopback port, warms it up,
runs `wrk` (Debian's package) with bench/load.lua and prints throughput, latency
percentiles and errors. Writes bench/results/load-<name>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


RESULTS = ROOT / "bench" / "results"
TARGET_P95_MS = 300
# Share of requests per kind of page (the mix: browsing, reading, searching).
MIX = {"home": 10, "date_archive": 20, "meeting": 30, "search_common": 15, "search_rare": 15, "search_filtered": 10}
COMMON_WORDS = ["Россия", "Казахстан", "сотрудничество", "президент", "экономика", "договор", "Путин", "Назарбаева"]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", action="store_true", help="serve the million-utterance benchmark database")
    parser.add_argument("--clients", type=int, default=50, help="concurrent connections (default 50)")
    parser.add_argument("--seconds", type=int, default=60, help="how long wrk runs (default 60)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's, 2 × cores + 1)")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--no-page-cache", action="store_true", help="render every page (KZ_PAGE_CACHE=off)")
    return parser.parse_args(argv)


def database_url(bench: bool) -> str:
    if os.environ.get("DATABASE_URL") and not bench:
        return os.environ["DATABASE_URL"]
    from bench import build
    from kzarchive import embedded_db

    if bench:
        if not build.existing_build():
            sys.exit("no benchmark database: run bench/search_bench.py --utterances 1000000 first")
        return build.server_url(build.BENCH_DB)
    embedded_db.database_settings(embedded_db.DEFAULT_DATA_DIR)  # creates the database if missing
    return build.server_url("kzarchive")


def prepare(url: str, bench: bool) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    if not bench:
        subprocess.run([sys.executable, "manage.py", "ingest", "fixtures"], cwd=ROOT, env=env, check=True)


def address_mix(url: str, seed: int, size: int = 4000) -> tuple[list[str], dict[str, int]]:
    """Paths in MIX's proportions, shuffled; and how many distinct ones of each kind."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kzarchive.settings")
    import django

    django.setup()
    from urllib.parse import urlencode

    from django.db.models import Count

    from transcripts.models import Meeting, Speaker, VocabularyWord

    rng = random.Random(seed)
    meetings = list(Meeting.objects.filter(is_published=True).values_list("slug", "date").order_by("?")[:500])
    days = sorted({d for _, d in meetings})
    speakers = list(Speaker.objects.annotate(n=Count("utterances")).order_by("-n").values_list("slug", flat=True)[:10])
    rare = list(VocabularyWord.objects.filter(frequency__lte=3).order_by("?").values_list("word", flat=True)[:300])
    years = sorted({d.year for d in days})

    def search(**params):
        return "/search/?" + urlencode(params)

    kinds = {
        "home": lambda: rng.choice(["/", "/en/", "/meetings/"]),
        "date_archive": lambda: rng.choice(
            [
                lambda d: f"/meetings/{d.year}/",
                lambda d: f"/meetings/{d.year}/{d.month:02d}/",
                lambda d: f"/meetings/{d.year}/{d.month:02d}/{d.day:02d}/",
                lambda d: f"/en/meetings/{d.year}/{d.month:02d}/{d.day:02d}/",
            ]
        )(rng.choice(days)),
        "meeting": lambda: rng.choice(["/meeting/{}/", "/en/meeting/{}/"]).format(rng.choice(meetings)[0]),
        # A second page only for the words with many hits everywhere (a page past the end is a 404).
        "search_common": lambda: rng.choice(
            [lambda: search(q=rng.choice(COMMON_WORDS)), lambda: search(q=rng.choice(COMMON_WORDS[:3]), page=2)]
        )(),
        "search_rare": lambda: search(q=rng.choice(rare)),
        "search_filtered": lambda: rng.choice(
            [
                lambda: search(q=rng.choice(COMMON_WORDS), speaker=rng.choice(speakers)),
                lambda: search(q=rng.choice(COMMON_WORDS), **{"from": f"{rng.choice(years)}-01-01"}),
                lambda: search(q=rng.choice(COMMON_WORDS), kind="talks", sort="date"),
                lambda: search(q='"' + " ".join(rng.sample(COMMON_WORDS[:4], 2)) + '"'),
            ]
        )(),
    }
    total = sum(MIX.values())
    paths, distinct = [], {}
    for kind, share in MIX.items():
        chosen = [kinds[kind]() for _ in range(size * share // total)]
        distinct[kind] = len(set(chosen))
        paths += chosen
    rng.shuffle(paths)
    return paths, distinct


def run_wrk(base: str, paths_file: Path, clients: int, seconds: int) -> dict:
    threads = min(2, clients)
    command = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", "bench/load.lua"]
    output = subprocess.run(
        [*command, base, "--", str(paths_file)], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    result = json.loads(output.strip().splitlines()[-1])
    result["throughput_rps"] = round(result["requests"] / result["duration_s"], 1)
    result["errors_total"] = sum(result["errors"].values())
    return result


def main(argv=None) -> int:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk (Debian)")
    url = database_url(args.bench)
    prepare(url, args.bench)
    paths, distinct = address_mix(url, args.seed)
    # tests.servers imports the models (through transcripts.pg_clients): only now that Django is set up.
    from tests.servers import free_port, production_env, start_gunicorn, stop_process_group, wait_healthy

    name = ("bench" if args.bench else "sample") + ("-uncached" if args.no_page_cache else "")
    with tempfile.TemporaryDirectory() as tmp:
        paths_file = Path(tmp, "paths.txt")
        paths_file.write_text("\n".join(paths) + "\n", encoding="utf-8")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = production_env(url, BIND=f"127.0.0.1:{port}", STATIC_ROOT=str(Path(tmp, "static")))
        if args.workers:
            env["WEB_CONCURRENCY"] = str(args.workers)
        if args.no_page_cache:
            env["KZ_PAGE_CACHE"] = "off"
        with Path(tmp, "gunicorn.log").open("w+") as log:
            server = start_gunicorn(env, log)
            try:
                wait_healthy(base, server)
                run_wrk(base, paths_file, min(args.clients, 10), 10)  # warm caches and every worker
                result = run_wrk(base, paths_file, args.clients, args.seconds)
            except Exception:
                log.seek(0)
                print(log.read()[-3000:], file=sys.stderr)
                raise
            finally:
                stop_process_group(server)
    result.update(database=name, page_cache=not args.no_page_cache, clients=args.clients, mix=MIX)
    result.update(distinct_paths=distinct, target_p95_ms=TARGET_P95_MS)
    result["within_target"] = result["errors_total"] == 0 and result["p95_ms"] <= TARGET_P95_MS
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"load-{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(
        f"{name}: {args.clients} clients, {result['duration_s']:.0f} s: {result['requests']} requests,"
        f" {result['throughput_rps']} req/s; p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms,"
        f" p99 {result['p99_ms']} ms, max {result['max_ms']} ms; errors {result['errors_total']} {result['errors']}"
    )
    print(f"distinct paths per kind: {distinct}")
    print("within target (0 errors, p95 <= 300 ms)" if result["within_target"] else "NOT within target")
    return 0 if result["within_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
