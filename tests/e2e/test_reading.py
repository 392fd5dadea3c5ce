"""A reader's paths through the archive, in real Chromium."""

import re

import pytest

from transcripts.importing.ingest import ingest_paths

pytestmark = pytest.mark.django_db(transaction=True)


def test_home_then_date_archive_to_the_two_meetings_of_10_february_2022(page, site, shot):
    page.goto(site + "/")
    assert page.locator("h1").inner_text() == "Архив российско-казахстанских заявлений"
    shot("home")
    page.get_by_role("link", name="Встречи", exact=True).first.click()
    page.get_by_role("link", name="2022", exact=True).click()
    page.get_by_role("link", name="Февраль").click()
    assert page.locator("h1").inner_text().startswith("Февраль 2022")
    page.get_by_role("link", name="10", exact=True).click()
    assert page.locator("h1").inner_text() == "10 февраля 2022 г."
    titles = page.locator(".meeting-list li a").all_inner_texts()
    assert titles == [
        "Встреча с\u00a0Президентом Казахстана Касым-Жомартом Токаевым",
        "Заявления для прессы по\u00a0итогам российско-казахстанских переговоров",
    ]
    shot("day")
    page.get_by_role("link", name=titles[0]).click()  # the talks, 17:45
    page.get_by_role("link", name="Касым-Жомарт Кемелевич Токаев").first.click()
    assert page.locator("h1").inner_text() == "Касым-Жомарт Кемелевич Токаев"
    assert re.search(r"/speakers/kassym-jomart-tokayev/$", page.url)
    shot("speaker")


def test_search_from_the_header_to_the_highlighted_statement(page, site, shot):
    page.goto(site + "/meetings/")
    page.locator("#header-q").fill("Назарбаева")
    page.locator("#header-q").press("Enter")
    assert page.locator(".hit").count() >= 1
    shot("results")
    page.locator(".hit .snippet a").first.click()
    anchor = page.url.rsplit("#", 1)[1]
    target = page.locator(f"#{anchor}")
    assert target.locator("mark").count() >= 1
    assert target.is_visible()
    shot("statement")
    page.locator("a.next-match").first.click()
    assert re.search(r"#s-[a-z0-9]{8}$", page.url)
    assert page.evaluate("document.querySelector(':target').classList.contains('match')")


def test_switch_to_english_and_back(page, site, shot):
    page.goto(site + "/meetings/2022/02/10/")
    page.get_by_role("link", name="English").click()
    assert page.url.endswith("/en/meetings/2022/02/10/")
    assert page.locator("h1").inner_text() == "10 February 2022"
    assert page.locator("html").get_attribute("lang") == "en"
    shot("english")
    page.get_by_role("link", name="Русский").click()
    assert page.locator("h1").inner_text() == "10 февраля 2022 г."


def test_every_page_fits_360_pixels(browser, site, seeds):
    from transcripts.models import Meeting

    meeting = Meeting.objects.get(source_file="000_c5b0e3a29709c268.txt")
    statement = meeting.utterances.get(seq=3)
    pages = [
        "/",
        "/meetings/",
        "/meetings/2022/",
        "/meetings/2022/02/",
        "/meetings/2022/02/10/",
        meeting.get_absolute_url(),
        meeting.get_absolute_url() + "?q=Токаева",
        statement.get_absolute_url(),
        "/en" + statement.get_absolute_url(),
        "/speakers/",
        "/speakers/vladimir-putin/",
        "/search/?q=Казахстан",
        "/search/?q=Назарбев",
        "/en/",
        "/no-such-page/",
    ]
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="ru-RU")
    page = context.new_page()
    too_wide = {}
    for path in pages:
        page.goto(site + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            too_wide[path] = width
        page.screenshot(path=f"test-artifacts/mobile{path.replace('/', '_').replace('?', '_')}.png", full_page=True)
    context.close()
    assert too_wide == {}


def test_an_old_statement_link_reaches_its_part_of_a_long_transcript(page, live_server, tmp_path, shot):
    # A link written as "#u1234" before transcripts were split into parts of 200.
    from tests.documents import transcript
    from transcripts.models import Meeting

    (tmp_path / "long.txt").write_text(transcript(1500, lead=""), encoding="utf-8")
    assert not ingest_paths([tmp_path]).failures
    url = live_server.url + Meeting.objects.get().get_absolute_url()
    page.goto(url + "#u1234")
    page.wait_for_url(re.compile(r"\?page=7#u1234$"))
    statement = page.locator("section.utterance:has(> #u1234)")  # the old anchor is kept inside it
    assert "Реплика номер 1234." in statement.inner_text()
    assert statement.is_visible()
    assert page.evaluate("document.querySelector(':target').id") == "u1234"
    shot("part-7")
    page.goto(url + "?q=энергетике#u450")  # the query is kept
    page.wait_for_url(re.compile(r"\?q=%D1%8D.*&page=3#u450$|\?q=энергетике&page=3#u450$"))
    assert page.locator("section.utterance.match:has(> #u450)").count() == 1
