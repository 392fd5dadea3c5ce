"""axe-core, from npm (package.json), run in real Chromium on the reading pages in both
languages: no violation of impact "serious" or "critical" (minor and moderate ones are
printed, not failed). Without node_modules/axe-core the test skips with a message; with
KZ_REQUIRE_BROWSER=1 (.ci/run) that is a failure, as for a missing Chromium."""

import os
from pathlib import Path

import pytest

from transcripts.models import Meeting

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
FAILING = {"serious", "critical"}
PAGES = {
    "home": lambda: "/",
    "meeting": lambda: Meeting.objects.order_by("-date", "slug").first().get_absolute_url(),
    "search": lambda: "/search/?q=%D1%81%D0%BE%D1%82%D1%80%D1%83%D0%B4%D0%BD%D0%B8%D1%87%D0%B5%D1%81%D1%82%D0%B2%D0%BE",
    "speaker": lambda: "/speakers/kassym-jomart-tokayev/",
}


@pytest.fixture
def axe_script():
    if not AXE.is_file():
        message = f"axe-core not found at {AXE} (run `npm ci` at the project top; `make test` does it when npm exists)"
        if os.environ.get("KZ_REQUIRE_BROWSER"):
            pytest.fail(message + "; KZ_REQUIRE_BROWSER is set, so this is a failure")
        pytest.skip(message)
    return AXE


@pytest.fixture
def page(browser):
    """The conftest's page, but the site's Content-Security-Policy (script-src 'self')
    would refuse the injected axe script: this context bypasses it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU", bypass_csp=True)
    yield context.new_page()
    context.close()


def described(violations) -> str:
    """The violations as lines a reader can act on: rule, impact, help, and each node's selector."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"][:10]:
            lines.append(f"    {' '.join(node['target'])}: {node.get('failureSummary', '').splitlines()[-1:]}")
            lines.append(f"      {node['html'][:200]}")
    return "\n".join(lines)


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_or_critical_axe_violations(axe_script, page, site, shot, language, name):
    path = PAGES[name]()
    url = site + ("/en" + path if language == "en" else path)
    response = page.goto(url)
    assert response.status == 200, url
    page.add_script_tag(path=str(axe_script))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    shot(f"{language}-{name}")
    assert result["passes"], "axe ran no checks"  # it did run on a real page
    failing = [v for v in result["violations"] if v["impact"] in FAILING]
    others = [v for v in result["violations"] if v["impact"] not in FAILING]
    if others:
        print(f"{url}: minor or moderate:\n{described(others)}")
    assert not failing, f"{url}:\n{described(failing)}"
