"""Shared fixtures, and the layers of the suite. Each test gets the marker of its folder:

- unit: no database (the parser, the layout, pure functions);
- integration: the test database through Django (pages, search, ingest, the admin);
- system: real processes (gunicorn, private clusters, a streaming replica, faults)
  and archive-sized documents (a 20,000-turn transcript);
- e2e: real Chromium.

The fuzz tests (tests/*/test_fuzz_*.py) are marked `fuzz` too. `make test-fast` runs the
unit and integration layers without them; `make test` runs everything.
"""

import os
import shutil
from pathlib import Path

import pytest

from kzarchive.paths import corpus_dir

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CORPUS = corpus_dir()  # KZ_CORPUS_DIR, or ../shared/corpus/kremlin-2025-sample


LAYERS = ("unit", "integration", "system", "e2e")


def pytest_collection_modifyitems(config, items):
    for item in items:
        layer = Path(item.fspath).relative_to(ROOT / "tests").parts[0]
        if layer in LAYERS:
            item.add_marker(getattr(pytest.mark, layer))
        if Path(item.fspath).name.startswith("test_fuzz_"):
            item.add_marker(pytest.mark.fuzz)


def pytest_sessionfinish(session, exitstatus):
    # The embedded database starts on the first connection (its backend,
    # kzarchive/backends/embedded_psqlextra); stop it if this run started it.
    if not os.environ.get("DATABASE_URL"):
        from kzarchive import embedded_db

        embedded_db.stop_started_here()


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    """PBKDF2 costs ~0.3 s a login by design; tests log in hundreds of times."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
def archive(seed_folder, db):
    """The five seeds, ingested; modules that need more define their own `archive`."""
    from transcripts.importing.ingest import ingest_paths

    assert not ingest_paths([seed_folder]).failures
    return seed_folder


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
