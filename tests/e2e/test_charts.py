"""The year charts in real Chromium over 25 years, one of them 100 times bigger than the
rest: every year with a count is a visible bar, the visible year labels never overlap
(on a wide screen and at 360 px, the search sidebar included), and a speaker's bar is a
link, by its accessible name, to that speaker's statements of that year."""

import itertools

import pytest
from django.urls import reverse

from tests.documents import transcript
from transcripts.importing.ingest import ingest_paths
from transcripts.models import Speaker

pytestmark = pytest.mark.django_db(transaction=True)

YEARS = range(2000, 2025)
BIG = 2024


def turns_in(year):
    return 400 if year == BIG else 2 + year % 3


@pytest.fixture
def site(live_server, tmp_path):
    for year in YEARS:
        text = transcript(
            turns_in(year),
            title=f"Переговоры {year} года",
            start=f"{year}-05-10 12:00:00",
            url=f"http://kremlin.ru/events/president/transcripts/{year}",
        )
        (tmp_path / f"{year}.txt").write_text(text, encoding="utf-8")
    assert not ingest_paths([tmp_path]).failures
    return live_server.url


def bars_and_labels(page):
    return page.locator(".bars").first.evaluate(
        """ol => ({
          bars: [...ol.querySelectorAll('li:not(.zero) .bar')].map(b => b.getBoundingClientRect().height),
          labels: [...ol.querySelectorAll('.year')].map(l => {
            const r = l.getBoundingClientRect(); return [l.textContent, r.left, r.right]; }),
          width: ol.getBoundingClientRect().width,
        })"""
    )


def check_chart(chart, where):
    assert len(chart["bars"]) == len(YEARS), where
    assert min(chart["bars"]) >= 4, f"{where}: a year of 2 next to one of 400 is {min(chart['bars']):.1f} px tall"
    labels = chart["labels"]
    assert labels and labels[-1][0] == str(BIG), where  # the latest year is labelled
    for (year, _left, right), (following, left, _right) in itertools.pairwise(labels):
        assert right + 2 <= left, f"{where}: labels {year} and {following} overlap"


@pytest.mark.parametrize("width", [1280, 360])
def test_labels_never_overlap_and_small_years_stay_visible(page, site, shot, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(site + "/search/?q=%D1%8D%D0%BD%D0%B5%D1%80%D0%B3%D0%B5%D1%82%D0%B8%D0%BA%D0%B5")  # энергетике
    check_chart(bars_and_labels(page), f"search at {width} px")
    page.locator(".histogram").first.scroll_into_view_if_needed()
    shot(f"search-{width}")
    speaker = Speaker.objects.get(name__contains="Путин")
    page.goto(site + reverse("speaker", args=[speaker.slug]))
    check_chart(bars_and_labels(page), f"speaker page at {width} px")
    shot(f"speaker-{width}")


def test_a_speakers_bar_leads_to_their_statements_of_that_year(page, site):
    speaker = Speaker.objects.get(name__contains="Путин")
    page.goto(site + reverse("speaker", args=[speaker.slug]))
    theirs = speaker.utterances.filter(meeting_date__year=2003).count()
    page.get_by_role("link", name=f"2003: {theirs}", exact=True).click()
    assert page.url.endswith(reverse("speaker", args=[speaker.slug]) + "?year=2003#statements")
    assert "2003" in page.locator("#statements").inner_text()
    listed = page.locator("ol.statements > li")
    assert listed.count() == theirs
    assert all("2003" in text for text in listed.locator(".meta").all_inner_texts())
