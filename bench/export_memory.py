"""The bulk export's peak memory: manage.py export's work (transcripts/export.py), in this
process, with resource.getrusage's maxrss before and after.

    .venv/bin/python bench/export_memory.py [--bench] [--output DIR] [--keep]

--bench reads the million-statement archive of bench/search_bench.py (kzarchive_bench),
read-only; otherwise the configured database. The release goes to --output (default a
temporary folder, removed afterwards unless --keep). Prints and writes
bench/results/export-memory-<statements>.json: rows, bytes, seconds, and maxrss after
Django's set-up and at the end (the export's growth is the difference; bounded memory
means it does not grow with the archive).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports kB


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", action="store_true", help="the synthetic archive of bench/search_bench.py")
    parser.add_argument("--output", type=Path, help="where the release goes (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary release")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from bench import build

    if not build.set_up_django(bench=args.bench, read_only=True):
        return 2
    from django.conf import settings
    from django.db import connection

    from transcripts.export import export

    connection.ensure_connection()
    before = maxrss_mb()
    output = args.output or Path(tempfile.mkdtemp(prefix="kz-export-bench-"))
    started = time.perf_counter()
    try:
        release = export(output, settings.SITE_URL)
        elapsed = time.perf_counter() - started
        peak = maxrss_mb()
    finally:
        if args.output is None and not args.keep:
            shutil.rmtree(output, ignore_errors=True)
    manifest = release.manifest
    result = {
        "database": connection.settings_dict["NAME"],
        "counts": manifest["counts"],
        "bytes": sum(f["bytes"] for f in manifest["files"]),
        "seconds": round(elapsed, 1),
        "maxrss_mb_before": round(before, 1),
        "maxrss_mb_peak": round(peak, 1),
        "growth_mb": round(peak - before, 1),
        "release": str(release.path) if args.output or args.keep else None,
    }
    print(json.dumps(result, indent=1))
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"export-memory-{manifest['counts']['statements']}.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
