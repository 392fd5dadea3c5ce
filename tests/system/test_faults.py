"""Faults under load, with real processes: the database stops and returns, a gunicorn
worker is killed, an ingest is killed mid-file. The archive lives in its own embedded
PostgreSQL cluster here, so the test can stop it without touching anyone else's."""

import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

import psutil
import psycopg
import pytest

from kzarchive import embedded_db
from tests.servers import ROOT, fetch, free_port, production_env, start_gunicorn, stop_process_group, wait_healthy

PAGES = ["/", "/meetings/2022/02/10/", "/search/?q=" + quote("Назарбаева"), "/speakers/"]
HTTPS = {"X-Forwarded-Proto": "https"}


@pytest.fixture(scope="module")
def cluster():
    """A private PostgreSQL cluster holding the sample archive: (data dir, URL)."""
    data_dir = Path(tempfile.mkdtemp(prefix="kzf", dir="/tmp"))  # short: a Unix socket lives here
    try:
        embedded_db.database_settings(data_dir, "kzarchive")
        url = embedded_db.status(data_dir).url("kzarchive")
        for step in (["migrate", "-v0"], ["ingest", "fixtures"]):
            manage(url, *step, check=True)
        yield data_dir, url
    finally:
        embedded_db.stop(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


def manage(url, *args, check=False, **popen):
    env = production_env(url, SITE_HTTPS="false")
    command = [sys.executable, "manage.py", *args]
    if popen:
        return subprocess.Popen(command, cwd=ROOT, env=env, **popen)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=check, timeout=300)


@pytest.fixture
def server(cluster, tmp_path):
    """gunicorn with production settings and two workers on the private cluster."""
    port = free_port()
    env = production_env(cluster[1], BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2", STATIC_ROOT=str(tmp_path))
    with (tmp_path / "gunicorn.log").open("w+") as log:
        process = start_gunicorn(env, log)
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process)
        yield base, process
        stop_process_group(process)


class Load:
    """Client threads requesting PAGES in a loop; every answer is kept as
    (start time, seconds taken, status or the exception's name)."""

    def __init__(self, base, clients=6):
        self.base, self.answers, self.running = base, [], True
        self.threads = [threading.Thread(target=self.client, args=(i,)) for i in range(clients)]

    def client(self, offset):
        i = offset
        while self.running:
            started = time.monotonic()
            try:
                status = fetch(self.base + PAGES[i % len(PAGES)], HTTPS, timeout=15)[0]
            except OSError as error:
                status = type(error).__name__
            self.answers.append((started, time.monotonic() - started, status))
            i += 1

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        for thread in self.threads:
            thread.join()

    def between(self, start, end=float("inf")):
        """Answers to the requests begun in [start, end)."""
        return [(took, status) for began, took, status in list(self.answers) if start <= began < end]

    def finished_before(self, moment):
        return [(took, status) for began, took, status in list(self.answers) if began + took < moment]


def test_database_stop_gives_fast_503s_and_pages_recover_by_themselves(cluster, server):
    data_dir, _ = cluster
    base, _ = server
    with Load(base) as load:
        time.sleep(2)
        stopped_at = time.monotonic()
        embedded_db.stop(data_dir)
        time.sleep(3)
        restarted_at = time.monotonic()
        embedded_db.ensure_running(data_dir)
        recovered_at = None
        while time.monotonic() - restarted_at < 20 and recovered_at is None:
            time.sleep(0.2)
            after = load.between(restarted_at)
            if after and all(status == 200 for _, status in after[-8:]) and len(after) >= 8:
                recovered_at = next(
                    began for began, _, status in load.answers if began >= restarted_at and status == 200
                )
        time.sleep(1)
    before = load.finished_before(stopped_at)
    during = load.between(stopped_at + 0.5, restarted_at)  # requests begun once the stop had finished
    assert before and {status for _, status in before} == {200}
    assert during and {status for _, status in during} == {503}, sorted({str(s) for _, s in during})
    slowest = max(took for took, _ in during)
    assert slowest < 1.0, f"a 503 took {slowest:.2f} s"
    assert recovered_at is not None, "pages did not come back after the database returned"
    assert fetch(base + "/", HTTPS)[0] == 200
    print(
        f"\ndatabase down {restarted_at - stopped_at:.1f} s: {len(during)} requests, all 503,"
        f" median {statistics.median(t for t, _ in during) * 1000:.1f} ms, slowest {slowest * 1000:.1f} ms;"
        f" first 200 {recovered_at - restarted_at:.2f} s after the restart began"
    )


def test_the_503_page_says_what_happened(cluster, server):
    data_dir, _ = cluster
    base, _ = server
    embedded_db.stop(data_dir)
    try:
        status, headers, body = fetch(base + "/meetings/", HTTPS)
    finally:
        embedded_db.ensure_running(data_dir)
    assert status == 503 and headers["Retry-After"] == "10" and headers["Cache-Control"] == "no-store"
    assert "Архив временно недоступен" in body.decode()
    assert fetch(base + "/healthz")[0] in (200, 503)  # answers either way, never hangs


def test_a_killed_worker_is_replaced_while_the_other_serves(server):
    base, master = server
    workers = psutil.Process(master.pid).children()
    assert len(workers) == 2
    with Load(base, clients=4) as load:
        time.sleep(1.5)
        killed_at = time.monotonic()
        workers[0].kill()
        time.sleep(4)
    after = load.between(killed_at)
    failures = [status for _, status in after if status != 200]
    # A sync worker holds one request at a time: at most that one is lost.
    assert len(failures) <= 1, failures
    assert len(after) > 20 and statistics.median(took for took, _ in after) < 1.0
    replaced = psutil.Process(master.pid).children()
    assert len(replaced) == 2 and workers[0].pid not in {w.pid for w in replaced}
    print(f"\nworker {workers[0].pid} killed: {len(after)} requests in 4 s after it, {len(failures)} failed")


def long_transcript(turns: int) -> str:
    speeches = [
        "В.Путин: Уважаемый Касым-Жомарт Кемелевич, мы обсудили торгово-экономическое сотрудничество, номер {}.",
        "К.Токаев: Благодарю, Владимир Владимирович, Казахстан и Россия продолжат совместную работу, пункт {}.",
    ]
    body = "\n".join(speeches[i % 2].format(i) for i in range(turns))
    return (
        "\nПереговоры о длинной повестке\n\n\n2024-11-27 15:00:00\n\nАстана\n\nЛид переговоров.\n"
        + body
        + "\n\n\n\nhttp://example.org/long-talks"
    )


def test_an_ingest_killed_mid_file_leaves_nothing_and_the_next_run_completes(cluster, tmp_path):
    _, url = cluster
    turns = 20_000  # about 4 MB, under the parser's 5 MB limit
    path = tmp_path / "long.txt"
    path.write_text(long_transcript(turns), encoding="utf-8")
    key = "example.org/long-talks"
    with psycopg.connect(url, autocommit=True) as db:
        writing = (
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
            " WHERE c.relname = 'transcripts_utterance' AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()"
        )
        ingest = manage(url, "ingest", str(path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not db.execute(writing).fetchone()[0]:
            assert ingest.poll() is None, "the ingest finished before it could be killed: make the file longer"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.3)  # well inside the file's transaction
        ingest.kill()
        ingest.wait()
        meetings = "SELECT count(*) FROM transcripts_meeting WHERE source_key = %s"
        orphans = "SELECT count(*) FROM transcripts_utterance u LEFT JOIN transcripts_meeting m ON m.id = u.meeting_id"
        orphans += " WHERE m.id IS NULL"
        assert db.execute(meetings, [key]).fetchone()[0] == 0
        assert db.execute(orphans).fetchone()[0] == 0
        again = manage(url, "ingest", str(path))
        assert again.returncode == 0 and "1 added" in again.stdout, again.stdout + again.stderr
        stored = db.execute(
            "SELECT count(*) FROM transcripts_utterance u JOIN transcripts_meeting m ON m.id = u.meeting_id"
            " WHERE m.source_key = %s AND u.speaker_id IS NOT NULL",
            [key],
        ).fetchone()[0]
        assert stored == turns
