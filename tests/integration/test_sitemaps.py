"""The sitemap index and its sections, robots.txt and the favicon, as crawlers read them."""

import xml.etree.ElementTree as ET

import pytest
from django.contrib.staticfiles import finders
from django.utils import timezone

from transcripts import sitemaps
from transcripts.models import Meeting, Speaker, Utterance

pytestmark = pytest.mark.django_db

NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9", "xhtml": "http://www.w3.org/1999/xhtml"}
HOST = "http://testserver"


def xml(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("application/xml")
    return ET.fromstring(response.content)  # raises on anything that is not well-formed XML


def crawl(client) -> dict[str, dict]:
    """Every address the index leads to: {address: {"lastmod": …, "alternates": {hreflang: address}}}."""
    index = xml(client, "/sitemap.xml")
    assert index.tag == f"{{{NS['sm']}}}sitemapindex"
    found = {}
    for loc in index.findall("sm:sitemap/sm:loc", NS):
        for url in xml(client, loc.text.removeprefix(HOST)).findall("sm:url", NS):
            address = url.find("sm:loc", NS).text
            alternates = {a.get("hreflang"): a.get("href") for a in url.findall("xhtml:link", NS)}
            assert address not in found
            found[address] = {"lastmod": url.find("sm:lastmod", NS).text, "alternates": alternates}
    return found


def both(path: str) -> set[str]:
    return {HOST + path, HOST + "/en" + path}


def test_sitemap_lists_every_published_page_in_both_languages(client, archive):
    hidden = Meeting.objects.get(source_file="002_dc2adfdd6de3dfa8.txt")  # Nazarbayev's only meeting
    Meeting.objects.filter(pk=hidden.pk).update(is_published=False)
    found = crawl(client)
    expected = set().union(*(both(p) for p in ["/", "/meetings/", "/speakers/"]))
    for meeting in Meeting.objects.published():
        expected |= both(meeting.get_absolute_url())
    for u in Utterance.objects.filter(meeting__is_published=True):
        expected |= both(u.get_absolute_url())
    for slug in Speaker.objects.filter(utterances__meeting__is_published=True).values_list("slug", flat=True):
        expected |= both(f"/speakers/{slug}/")
    assert set(found) == expected
    assert not both(hidden.get_absolute_url()) & set(found)
    assert not any(u.sid in address for u in hidden.utterances.all() for address in found)
    assert not both("/speakers/nursultan-nazarbayev/") & set(found)


def test_each_address_names_its_alternates_and_x_default(client, archive):
    u = Utterance.objects.filter(speaker__isnull=False).first()
    found = crawl(client)
    path = u.get_absolute_url()
    alternates = {"ru": HOST + path, "en": HOST + "/en" + path, "x-default": HOST + path}
    assert found[HOST + path]["alternates"] == alternates
    assert found[HOST + "/en" + path]["alternates"] == alternates


def test_lastmod_follows_the_archives_change_times(client, archive):
    meeting = Meeting.objects.published().first()
    found = crawl(client)
    assert found[HOST + meeting.get_absolute_url()]["lastmod"] == timezone.localdate(meeting.updated_at).isoformat()
    # Dates are Moscow dates, as everywhere on the site: 22:30 UTC is already the next day.
    Meeting.objects.filter(pk=meeting.pk).update(updated_at="2030-01-01T22:30:00+00:00")
    assert crawl(client)[HOST + meeting.get_absolute_url()]["lastmod"] == "2030-01-02"
    Meeting.objects.filter(pk=meeting.pk).update(updated_at="2030-01-02T12:00:00+03:00")
    u = meeting.utterances.first()
    found = crawl(client)
    assert found[HOST + meeting.get_absolute_url()]["lastmod"] == "2030-01-02"
    assert found[HOST + u.get_absolute_url()]["lastmod"] == "2030-01-02"
    index = xml(client, "/sitemap.xml")
    assert {m.text[:10] for m in index.findall("sm:sitemap/sm:lastmod", NS)} >= {"2030-01-02"}


def test_sections_are_paged_and_the_index_names_each_page(client, archive, monkeypatch):
    monkeypatch.setattr(sitemaps.ArchiveSitemap, "limit", 7)  # an odd size: pages split an object's two languages
    statements = 2 * Utterance.objects.published().count()
    index = [loc.text for loc in xml(client, "/sitemap.xml").findall("sm:sitemap/sm:loc", NS)]
    pages = [loc for loc in index if "/sitemap-statements.xml" in loc]
    assert len(pages) == -(-statements // 7) and pages[1].endswith("?p=2")
    assert len(crawl(client)) == 6 + 2 * (
        Meeting.objects.published().count()
        + Utterance.objects.published().count()
        + Speaker.objects.filter(utterances__published=True).distinct().count()
    )
    assert client.get("/sitemap-statements.xml?p=999").status_code == 404
    assert client.get("/sitemap-statements.xml?p=x").status_code == 404
    assert client.get("/sitemap-nothing.xml").status_code == 404


def test_robots_txt_names_the_sitemap_and_keeps_crawlers_out_of_admin_and_search(client, archive):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines and "Allow: /" in lines
    assert {"Disallow: /admin/", "Disallow: /search/", "Disallow: /en/search/"} <= set(lines)
    # A search's feeds and the API's search are as endless as the search page.
    assert {"Disallow: /feed/search.atom", "Disallow: /en/feed/search.rss", "Disallow: /api/v1/search/"} <= set(lines)
    assert "Disallow: /" not in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines


def test_favicon(client, archive):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.ico")
    assert finders.find("favicon.ico") and finders.find("favicon.svg")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in client.get("/").content.decode()
