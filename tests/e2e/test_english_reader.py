"""An English reader in real Chromium: types a name in Latin letters, opens a statement,
and switches the page to Russian."""

import re

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_english_reader_finds_tokayev_opens_a_statement_and_switches_to_russian(page, site, shot):
    page.goto(site + "/en/")
    page.get_by_role("searchbox", name="Search the archive").fill("Tokayev")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/en/search/\?q=Tokayev"))
    assert "«Токаев» (Tokayev)" in page.locator(".respelled").inner_text()
    assert page.locator(".people").get_by_role("link", name=re.compile("^Kassym-Jomart Tokayev")).count() == 1
    assert page.locator(".hit").count() > 0
    shot("search")
    page.locator(".hit .permalink").first.click()
    page.wait_for_url(re.compile(r"/en/statement/[0-9a-z]+/$"))
    assert page.locator("blockquote.statement-text").get_attribute("lang") == "ru"
    address = page.url.replace("/en/", "/")
    page.locator(".language-switch").get_by_role("link", name=re.compile("Рус")).click()
    page.wait_for_url(address)
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.locator("blockquote.statement-text").get_attribute("lang") is None  # Russian page: inherited
    shot("statement-ru")
