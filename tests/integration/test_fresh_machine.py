"""A machine that booted a minute ago, and writes made by other processes.

Process caches (speaker name words, table counts) are keyed on the archive's change
stamp, not on a clock: right from the first request whatever time.monotonic() says,
and current after another process writes."""

import os
import subprocess
import sys
import time

import pytest
from django.db import connection

from tests.servers import ROOT, server_url
from transcripts.importing.ingest import ingest_paths
from transcripts.models import Speaker
from transcripts.search import counting, engine

PESKOV_DOC = """Встреча с представителями прессы

2023-05-17 15:00:00

Москва, Кремль

В.Путин: Добрый день. Слово предоставляется Дмитрию Пескову.

Вопрос: Спасибо.

http://example.org/peskov-briefing
"""


@pytest.fixture
def booted_a_minute_ago(monkeypatch):
    """time.monotonic() counts from boot: make it say 42 s, as on a fresh cloud machine."""
    started = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: 42.0 + (time.perf_counter() - started) % 1)


@pytest.mark.django_db
def test_search_works_on_the_first_request_after_boot(client, seed_folder, booted_a_minute_ago):
    assert not ingest_paths([seed_folder]).failures
    engine.reset_caches()  # a new worker process: nothing loaded yet
    assert time.monotonic() < 300
    page = client.get("/search/", {"q": "Токаевым"})
    assert page.status_code == 200
    data = client.get("/search/", {"q": "Токаевым", "format": "json"}).json()
    # The surname paradigm needs the speakers' names: «Токаевым» finds «Токаев» in the texts.
    assert data["total"] > 0
    assert any("Токаев" in hit["snippet_html"] for hit in data["hits"])
    # Above EXACT_LIMIT the sample scales are needed; here a common word exercises the same path.
    assert client.get("/search/", {"q": "Казахстан", "format": "json"}).json()["total"] > 0


def count(q: str) -> int:
    return engine.search_archive(engine.SearchRequest(q=q)).total.value


@pytest.mark.django_db(transaction=True)
def test_a_speaker_added_by_another_process_is_used_by_the_next_search(tmp_path, booted_a_minute_ago):
    (tmp_path / "peskov.txt").write_text(PESKOV_DOC, encoding="utf-8")
    assert not ingest_paths([tmp_path]).failures
    # Lower-case «песков» reads as the plural of «песок» until the archive knows the name;
    # the text has «Пескову», which only the surname paradigm reaches.
    assert count("песков") == 0
    create = (
        "from transcripts.models import Speaker;"
        "Speaker.objects.create(name='Дмитрий Сергеевич Песков', slug='dmitry-peskov', kind='person')"
    )
    env = {**os.environ, "DATABASE_URL": server_url(connection.settings_dict["NAME"])}
    env.pop("KZ_TEST_DATABASE", None)
    subprocess.run([sys.executable, "manage.py", "shell", "-c", create], cwd=ROOT, env=env, check=True, timeout=120)
    assert Speaker.objects.filter(slug="dmitry-peskov").exists()
    assert count("песков") == 1  # the very next search, no expiry to wait for


@pytest.mark.django_db
def test_counts_cached_for_sampling_follow_the_archive(seed_folder):
    assert not ingest_paths([seed_folder]).failures
    rows, _scales = counting.scales.get()
    from transcripts.models import Utterance

    assert rows == Utterance.objects.count()
    Utterance.objects.filter(seq__gt=3).delete()
    assert counting.scales.get()[0] == Utterance.objects.count() < rows
