"""A 20,000-turn transcript: its meeting page and downloads, against rendering it whole.

    .venv/bin/python bench/long_meeting.py [--turns 20000] [--runs 5]

Builds its own database (kzarchive_long) on the embedded server, ingests one
transcript of N turns (tests/documents.py writes it), then times through Django's
test client, with the page cache off: parts of the meeting page (first, middle, last,
and with a query that matches every statement), the .txt and .json downloads (peak
Python memory while streaming, by tracemalloc, in a separate pass), and the baseline
of the same template rendering all N statements on one page, as it did before parts.
Prints p50 and max per address, sizes, and the machine's CPU, load and commit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB = "kzarchive_long"


def machine() -> str:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "?")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    when = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    return f"{when}, commit {commit.strip()}, {cpu}, {os.cpu_count()} cores, load {load}"


def row(name: str, times: list[float], size: int) -> str:
    p50, worst = statistics.median(times) * 1000, max(times) * 1000
    return f"{name:40} p50 {p50:7.0f} ms  max {worst:7.0f} ms  {size / 1e6:6.2f} MB"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from kzarchive import embedded_db

    info = embedded_db.ensure_database(embedded_db.DEFAULT_DATA_DIR, DB)
    os.environ["DATABASE_URL"] = info.url(DB)
    os.environ["KZ_PAGE_CACHE"] = "off"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kzarchive.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.template.loader import render_to_string
    from django.test import Client, RequestFactory

    from tests.documents import transcript
    from transcripts.importing.ingest import ingest_paths
    from transcripts.models import Meeting

    print(f"# long_meeting: {args.turns:,} turns; {machine()}")
    Meeting.objects.all().delete()
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "long.txt").write_text(transcript(args.turns, lead=""), encoding="utf-8")
        started = time.perf_counter()
        assert not ingest_paths([folder]).failures
        print(f"ingest: {time.perf_counter() - started:.1f} s")
    meeting = Meeting.objects.get()
    url = meeting.get_absolute_url()
    client = Client(HTTP_HOST="127.0.0.1")
    last = -(-args.turns // 200)

    def timed(address: str) -> tuple[list[float], int]:
        times, size = [], 0
        for _ in range(args.runs):
            started = time.perf_counter()
            response = client.get(address)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, (address, response.status_code)
            size = len(body)
        return times, size

    rows = [
        ("part 1", url),
        (f"part {last // 2}", f"{url}?page={last // 2}"),
        (f"part {last}", f"{url}?page={last}"),
        ("part 1, ?q= matching every statement", f"{url}?q=энергетике"),
        (".txt", f"/meeting/{meeting.slug}.txt"),
        (".json", f"/meeting/{meeting.slug}.json"),
    ]
    results = {}
    for name, address in rows:
        times, size = timed(address)
        results[name] = times
        print(row(name, times, size))
    for suffix in (".txt", ".json"):
        response = client.get(f"/meeting/{meeting.slug}{suffix}")
        tracemalloc.start()
        size = sum(len(chunk) for chunk in response.streaming_content)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"{suffix} streamed {size / 1e6:.2f} MB with a peak of {peak / 1e6:.2f} MB of Python memory")

    # The baseline: the same template with every statement on one page (before parts).
    request = RequestFactory().get(url, HTTP_HOST="127.0.0.1")
    times = []
    for _ in range(max(1, args.runs // 2)):
        started = time.perf_counter()
        utterances = list(meeting.utterances.select_related("speaker", "section").order_by("seq"))
        context = {
            "meeting": meeting,
            "utterances": utterances,
            "omitted_after": set(),
            "page": 1,
            "num_pages": 1,
            "page_size": args.turns,
            "permalink": url,
            "speaker_heading": "h2",
        }
        html = render_to_string("transcripts/meeting.html", context, request=request)
        times.append(time.perf_counter() - started)
    base = statistics.median(times)
    print(row("baseline: all on one page", times, len(html.encode())))
    print(f"ratio baseline / part 1: {base / statistics.median(results['part 1']):.0f}x")
    print(f"# end: load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
