import os
import shutil
from pathlib import Path

import pytest

from kzarchive.paths import corpus_dir

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CORPUS = corpus_dir()  # KZ_CORPUS_DIR, or ../shared/corpus/kremlin-2025-sample


def pytest_sessionfinish(session, exitstatus):
    # The embedded database starts on the first connection (its backend,
    # kzarchive/backends/embedded_psqlextra); stop it if this run started it.
    if not os.environ.get("DATABASE_URL"):
        from kzarchive import embedded_db

        embedded_db.stop_started_here()


@pytest.fixture
def seeds():
    return sorted(FIXTURES.glob("*.txt"))


@pytest.fixture
def seed_folder(seeds, tmp_path):
    """A folder of copies of the seeds, for tests that add or change files and re-ingest."""
    for seed in seeds:
        shutil.copy(seed, tmp_path / seed.name)
    return tmp_path


@pytest.fixture
def corpus_dir():
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    return CORPUS


@pytest.fixture(autouse=True)
def default_language():
    """A request leaves its language active in the thread: start every test in Russian,
    so reverse() outside a request gives the default (unprefixed) addresses."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def private_page_cache(settings, request):
    """Each test its own page cache: no page stored by another test's archive."""
    pages = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": request.node.nodeid}
    settings.CACHES = {**settings.CACHES, "pages": pages}


@pytest.fixture(autouse=True)
def fresh_search_caches():
    """Each test has its own archive: no counts or names cached from another."""
    from transcripts.search import engine

    engine.reset_caches()
