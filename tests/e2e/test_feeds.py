"""A reader follows a speaker in real Chromium: the speaker page's feed link leads to a feed."""

import feedparser
import pytest

from transcripts.models import Utterance

pytestmark = pytest.mark.django_db(transaction=True)


def test_follow_the_feed_link_from_a_speaker_page(page, site, shot):
    page.goto(site + "/speakers/kassym-jomart-tokayev/")
    advertised = page.locator('head link[rel="alternate"][type="application/atom+xml"]').get_attribute("href")
    link = page.locator("p.feed-links").get_by_role("link", name="Atom", exact=True)
    assert link.is_visible() and link.get_attribute("href") == advertised
    shot("speaker")
    with page.expect_response(lambda r: r.url.endswith(advertised)) as answered:
        link.click()
    response = answered.value
    assert page.url.endswith(advertised)  # Chromium opened the feed
    assert response.status == 200 and response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.body())
    assert not feed.bozo and feed.feed.title.startswith("Касым-Жомарт Кемелевич Токаев")
    tokayev = Utterance.objects.filter(speaker__slug="kassym-jomart-tokayev")
    assert {e.link.removeprefix(site) for e in feed.entries} == {u.get_absolute_url() for u in tokayev}
