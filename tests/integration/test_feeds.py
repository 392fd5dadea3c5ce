"""The Atom and RSS feeds, read with feedparser as a feed reader would."""

import re
import time

import feedparser
import pytest

from transcripts.licences import CC_BY
from transcripts.models import Meeting, Speaker, Utterance

pytestmark = pytest.mark.django_db

NAZARBAYEV_MEETING = "002_dc2adfdd6de3dfa8.txt"


def feed(client, url, params=None, content_type="application/atom+xml"):
    response = client.get(url, params or {})
    assert response.status_code == 200, (url, response.content[:300])
    assert response["Content-Type"].startswith(content_type)
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.bozo_exception
    return parsed


def paths(parsed):
    return [re.sub(r"^https?://[^/]+", "", e.link) for e in parsed.entries]


def published(parsed):
    return [time.mktime(e.published_parsed) for e in parsed.entries]


@pytest.mark.parametrize(("suffix", "content_type"), [("atom", "application/atom+xml"), ("rss", "application/rss+xml")])
def test_latest_meetings_newest_first_with_source_and_licence(client, archive, suffix, content_type):
    parsed = feed(client, f"/feed/meetings.{suffix}", content_type=content_type)
    meetings = list(Meeting.objects.published().chronological().reverse())
    assert paths(parsed) == [m.get_absolute_url() for m in meetings]
    assert published(parsed) == sorted(published(parsed), reverse=True)
    assert [e.title for e in parsed.entries] == [m.title for m in meetings]
    n, meeting = next((n, m) for n, m in enumerate(meetings) if m.source_url)
    assert meeting.source_url in parsed.entries[n].summary
    assert parsed.entries[n].license == CC_BY  # <link rel="license"> in Atom, creativeCommons:license in RSS
    assert "license" not in parsed.entries[0]  # the 2024 news item names no source: no licence is claimed
    assert parsed.feed.language == "ru"


def test_atom_entries_link_their_source_page(client, archive):
    parsed = feed(client, "/feed/meetings.atom")
    meetings = list(Meeting.objects.published().chronological().reverse())
    n, meeting = next((n, m) for n, m in enumerate(meetings) if m.source_url)
    via = [link.href for link in parsed.entries[n].links if link.rel == "via"]
    assert via == [meeting.source_url]
    assert "CC BY 4.0" in parsed.entries[n].rights


def test_a_speakers_feed_lists_only_their_statements_newest_first(client, archive):
    tokayev = Speaker.objects.get(slug="kassym-jomart-tokayev")
    parsed = feed(client, "/feed/speakers/kassym-jomart-tokayev.atom")
    statements = sorted(Utterance.objects.filter(speaker=tokayev), key=lambda u: (-u.meeting.start.timestamp(), u.seq))
    assert paths(parsed) == [u.get_absolute_url() for u in statements]  # the stable /statement/<sid>/ addresses
    assert {e.author for e in parsed.entries} == {tokayev.name}
    assert published(parsed) == sorted(published(parsed), reverse=True)
    entry, first = parsed.entries[0], statements[0]
    assert entry.id.endswith(first.get_absolute_url())
    assert first.meeting.get_absolute_url() in entry.summary and first.meeting.source_url in entry.summary


def test_a_speakers_old_slug_moves_and_an_unknown_one_is_404(client, archive):
    tokayev = Speaker.objects.get(slug="kassym-jomart-tokayev")
    tokayev.slug = "tokayev"
    tokayev.save()
    response = client.get("/feed/speakers/kassym-jomart-tokayev.rss")
    assert response.status_code == 301 and response["Location"] == "/feed/speakers/tokayev.rss"
    assert client.get("/feed/speakers/nobody.atom").status_code == 404


def test_english_feeds_are_english_and_link_english_pages(client, archive):
    parsed = feed(client, "/en/feed/speakers/kassym-jomart-tokayev.atom")
    assert parsed.feed.language == "en" and parsed.feed.subtitle == "Statements, newest first"
    assert all(p.startswith("/en/statement/") for p in paths(parsed))
    assert "In the context of the transcript" in parsed.entries[0].summary


def test_search_feed_has_the_search_pages_hits_newest_first(client, archive):
    params = {"q": "Казахстан", "speaker": "vladimir-putin", "from": "2017-01-01", "to": "2022-12-31"}
    parsed = feed(client, "/feed/search.rss", params, content_type="application/rss+xml")
    page = client.get("/search/", {**params, "sort": "newest"}).content.decode()
    on_page = re.findall(r'class="permalink" href="(/statement/[^/]+/)"', page)
    assert on_page and paths(parsed) == on_page
    days = [Utterance.objects.get(sid=p.split("/")[2]).meeting_date for p in paths(parsed)]
    assert days == sorted(days, reverse=True)  # the engine's newest first: by day, then as the page has it
    putin = Speaker.objects.get(slug="vladimir-putin")
    assert {e.author for e in parsed.entries} == {putin.name}
    assert "sort=newest" in parsed.feed.link and "speaker=vladimir-putin" in parsed.feed.link


@pytest.mark.parametrize(
    "params",
    [{}, {"q": ""}, {"q": "-Путин"}, {"q": "Путин", "from": "2022-13-01"}, {"q": "Путин", "speaker": "nobody"}],
)
def test_a_bad_search_feed_is_a_clear_400(client, archive, params):
    response = client.get("/feed/search.atom", params)
    assert response.status_code == 400 and response["Content-Type"].startswith("text/plain")
    assert response.content.decode().strip()


def test_unpublished_meetings_are_in_no_feed(client, archive):
    hidden = Meeting.objects.get(source_file=NAZARBAYEV_MEETING)
    Meeting.objects.filter(pk=hidden.pk).update(is_published=False)
    addresses = {u.get_absolute_url() for u in hidden.utterances.all()} | {hidden.get_absolute_url()}
    urls = [
        "/feed/meetings.atom",
        "/feed/speakers/vladimir-putin.atom",
        "/feed/speakers/nursultan-nazarbayev.atom",
        "/feed/search.atom?q=Назарбаев",
    ]
    for url in urls:
        assert not addresses & set(paths(feed(client, url)))
    assert not feed(client, "/feed/speakers/nursultan-nazarbayev.atom").entries


def test_feed_text_is_escaped_html(client, archive):
    u = Utterance.objects.filter(speaker__slug="kassym-jomart-tokayev").order_by("-meeting_date", "seq").first()
    Utterance.objects.filter(pk=u.pk).update(text="<script>alert(1)</script> & <b>bold</b>")
    raw = client.get("/feed/speakers/kassym-jomart-tokayev.atom").content.decode()
    assert "<script>" not in raw
    summary = re.search(r'<summary type="html">(.*?)</summary>', raw, re.S).group(1)
    assert "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;" in summary  # escaped as HTML, then as XML
    entry = feedparser.parse(raw).entries[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in entry.summary
    assert entry.title == "<script>alert(1)</script> & <b>bold</b>"  # Atom titles are text


def test_feeds_carry_etags_and_revalidate(client, archive):
    first = client.get("/feed/speakers/vladimir-putin.atom")
    assert first["ETag"] and first["Last-Modified"]
    again = client.get("/feed/speakers/vladimir-putin.atom", headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304
    Utterance.objects.filter(speaker__slug="vladimir-putin", seq=1).update(text="Новый текст.")
    changed = client.get("/feed/speakers/vladimir-putin.atom", headers={"if-none-match": first["ETag"]})
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def test_feed_addresses_take_only_their_parameters(client, archive):
    response = client.get("/feed/search.atom", {"q": "Путин", "sort": "relevance", "utm_source": "x"})
    assert response.status_code == 301 and response["Location"] == "/feed/search.atom?q=%D0%9F%D1%83%D1%82%D0%B8%D0%BD"
    assert client.get("/feed/meetings.rss?page=2").status_code == 301
    assert client.get("/feed/")["Location"] == "/feed/meetings.atom"


@pytest.mark.parametrize(
    "query",
    [
        "q=%00",
        "q=" + "я" * 10_000,
        "q=a%00b&speaker=%00",
        "q=%FF%FE",
        "q=Путин&from=9999-12-31&to=0001-01-01",
        "q=Путин&kind=%27%3B--",
        "q=%27+OR+1%3D1&location=" + "x" * 300,
        "q=!:*%26|()",
    ],
)
def test_odd_search_feed_values_are_never_a_server_error(client, archive, query):
    assert client.get(f"/feed/search.atom?{query}").status_code in (200, 400)
