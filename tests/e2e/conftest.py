"""Real-Chromium tests: Playwright drives Debian's /usr/bin/chromium against a live server.

Where Chromium is missing they skip with a message; with KZ_REQUIRE_BROWSER=1
(set by .ci/run) a missing browser is a failure. Screenshots go to test-artifacts/.
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("KZ_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Playwright's sync API runs an event loop in this thread; the ORM calls the tests
# make (fixtures) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("KZ_REQUIRE_BROWSER"):
            pytest.fail(message + "; KZ_REQUIRE_BROWSER is set, so this is a failure")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shot(page, request):
    """shot("name") saves a screenshot of the page as test-artifacts/<test>-<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name):
        page.screenshot(path=ARTIFACTS / f"{request.node.name}-{name}.png", full_page=True)

    return take


@pytest.fixture
def site(live_server, seeds):
    """The live server's address, with the seeds ingested (a test module may define its own archive)."""
    from transcripts.importing.ingest import ingest_paths

    assert not ingest_paths(seeds).failures
    return live_server.url
