"""Two real `manage.py ingest` processes on one folder at once: the database holds each
meeting once, and the two reports add up to the truth (each file added by one of
them, found unchanged by the other)."""

import re
import subprocess
import sys
import time

import psycopg
import pytest
from django.db import connection

from tests.documents import transcript
from tests.servers import ROOT, production_env, server_url
from transcripts.models import Meeting, Speaker

pytestmark = pytest.mark.django_db(transaction=True)  # the processes must see committed rows

TOPICS = ["энергетике", "транспорту", "образованию", "космосу", "сельскому хозяйству", "культуре", "таможне"]
SUMMARY = re.compile(r"^12 files: (\d+) added, 0 updated, (\d+) unchanged, 0 failed$")


def write_transcripts(folder):
    for i, topic in enumerate(TOPICS):
        turns = [
            ("В.Путин", f"Обсудим сотрудничество по {topic}."),
            ("К.-Ж.Токаев", "Согласен."),
            ("С.Жуманов", f"Подготовлено соглашение по {topic}."),
        ]
        text = transcript(
            turns,
            title=f"Переговоры по {topic}",
            start=f"2024-0{i + 1}-15 12:00:00",
            lead="Состоялись переговоры.",
            url=f"http://example.org/talks/{i}",
        )
        (folder / f"talks-{i}.txt").write_text(text, encoding="utf-8")


def others(db) -> list[tuple]:
    """(wait event type, query) of the other sessions on the test database."""
    query = "SELECT wait_event_type, query FROM pg_stat_activity WHERE datname = current_database()"
    return db.execute(query + " AND pid <> pg_backend_pid()").fetchall()


def test_two_ingests_of_one_folder_at_once_report_the_truth(seed_folder):
    write_transcripts(seed_folder)
    url = server_url(connection.settings_dict["NAME"])
    env = production_env(url, SITE_HTTPS="false")
    command = [sys.executable, "manage.py", "ingest", "--no-progress", str(seed_folder)]
    # The watcher in autocommit: a transaction would see pg_stat_activity frozen at its first look.
    with psycopg.connect(url) as blocker, psycopg.connect(url, autocommit=True) as watcher:
        # No meeting can be written until both processes are under way: they meet on the first file.
        blocker.execute("LOCK TABLE transcripts_meeting IN SHARE MODE")
        ingests = [
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        try:
            deadline, steady = time.monotonic() + 120, 0
            while steady < 5:  # both waiting, for a moment (not just passing one another)
                assert all(p.poll() is None for p in ingests), [p.communicate() for p in ingests]
                sessions = others(watcher)
                assert time.monotonic() < deadline, f"the ingests never met: {sessions}"
                steady = steady + 1 if sum(kind == "Lock" for kind, _ in sessions) >= 2 else 0
                time.sleep(0.1)
        except BaseException:
            for ingest in ingests:
                ingest.kill()
                ingest.wait()
            raise
        blocker.rollback()
    reports = []
    for ingest in ingests:
        out, errors = ingest.communicate(timeout=120)
        assert ingest.returncode == 0, out + errors
        match = SUMMARY.match(out.strip().splitlines()[-1])
        assert match, out + errors
        reports.append(tuple(int(n) for n in match.groups()))
    added, unchanged = (sum(column) for column in zip(*reports, strict=True))
    assert (added, unchanged) == (12, 12), reports
    assert Meeting.objects.count() == 12
    assert Speaker.objects.filter(short_label="С.Жуманов").count() == 1
