"""Citing a statement in real Chromium: search, open a hit's own page, copy a citation and
read the clipboard, then follow it back into the meeting, where the statement is marked."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)

LANGUAGES = {
    # language: (prefix, browser locale, the "Copied" message, words every house citation has)
    "ru": ("", "ru-RU", "Скопировано", "дата обращения"),
    "en": ("/en", "en-GB", "Copied", "accessed"),
}


@pytest.fixture(params=sorted(LANGUAGES))
def reader(request, browser, site):
    """A page in that language whose clipboard the test may read; console errors (a CSP
    violation, a script error) are collected."""
    prefix, locale, copied, words = LANGUAGES[request.param]
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale=locale, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    page.errors = []
    # Failed loads are read from the responses: the console also reports the favicon's 404.
    page.on("console", lambda m: m.type == "error" and "Failed to load" not in m.text and page.errors.append(m.text))
    page.on("response", lambda response: response.status >= 400 and page.errors.append(response.url))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page, site + prefix, copied, words
    context.close()


def clipboard(page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def background(page, selector) -> str:
    return page.eval_on_selector(selector, "element => getComputedStyle(element).backgroundColor")


def test_search_copy_a_citation_and_return_to_the_marked_statement(reader, shot):
    page, site, copied, words = reader
    page.goto(site + "/search/?q=Назарбаева")
    page.locator(".hit a.permalink").first.click()
    page.wait_for_url(re.compile(r"/statement/[a-z0-9]{8}/$"))
    permalink, sid = page.url, page.url.rstrip("/").rsplit("/", 1)[1]
    speaker = page.locator("h1").inner_text()
    assert speaker and page.locator("link[rel=canonical]").get_attribute("href") == permalink
    shot("statement")

    page.locator('button[data-copy="cite-house"]').click()
    expect(page.locator('button[data-copy="cite-house"] + .copy-status')).to_have_text(copied)
    text = clipboard(page)
    surname = speaker.split()[-1]
    assert surname in text and "http://kremlin.ru/" in text and permalink in text and words in text

    page.locator('button[data-copy="cite-bibtex"]').click()
    expect(page.locator('button[data-copy="cite-bibtex"] + .copy-status')).to_have_text(copied)
    assert f"@misc{{kzarchive-{sid}," in clipboard(page) and permalink in clipboard(page)

    page.locator("a.in-context").click()
    page.wait_for_url(re.compile(rf"/meeting/[^/]+/(\?page=\d+)?#s-{sid}$"))
    target = f"#s-{sid}"
    assert page.evaluate("document.querySelector(':target').id") == f"s-{sid}"
    neighbour = page.evaluate(
        f"(() => {{ const s = [...document.querySelectorAll('section.utterance')];"
        f" const i = s.findIndex(e => e.id === 's-{sid}'); return s[i ? i - 1 : 1].id; }})()"
    )
    assert background(page, target) != background(page, f"#{neighbour}")
    assert page.locator(target).is_visible()
    shot("in-context")
    assert page.errors == []


def test_on_the_meeting_page_cite_copies_and_loads_the_other_styles(reader):
    page, site, copied, words = reader
    page.goto(site + "/meetings/2022/02/10/")
    page.locator(".meeting-list a").last.click()  # the press statements, 18:15
    statement = page.locator("section.utterance:not(.narration)").first
    sid = statement.get_attribute("id").removeprefix("s-")

    link = statement.locator("a.permalink")
    box = link.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24  # a target of at least 24 × 24 CSS px
    assert link.get_attribute("href").endswith(f"/statement/{sid}/")

    statement.locator("details.cite summary").click()
    statement.locator(f"#cite-{sid}-ris").wait_for()  # the other styles came with the first opening
    statement.locator(f'button[data-copy="cite-{sid}-house"]').click()
    expect(statement.locator(f'button[data-copy="cite-{sid}-house"] + .copy-status')).to_have_text(copied)
    assert words in clipboard(page) and f"/statement/{sid}/" in clipboard(page)
    statement.locator(f'button[data-copy="cite-{sid}-ris"]').click()
    expect(statement.locator(f'button[data-copy="cite-{sid}-ris"] + .copy-status')).to_have_text(copied)
    assert clipboard(page).startswith("TY  - GEN\n") and f"ID  - kzarchive-{sid}" in clipboard(page)

    # An old positional link (#u2) still lands on its statement, marked.
    page.goto(page.url.split("#")[0] + "#u2")
    assert page.evaluate("document.querySelector(':target').id") == "u2"
    assert background(page, "section.utterance:has(#u2)") != background(page, "section.utterance:has(#u3)")
    assert page.errors == []
