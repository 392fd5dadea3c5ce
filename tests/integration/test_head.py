"""What every page's <head> tells crawlers, link previews and feed readers: the canonical
address, hreflang alternates, OpenGraph and Twitter cards, the feeds; all escaped."""

from html.parser import HTMLParser
from urllib.parse import unquote

import feedparser
import pytest

from transcripts.models import Meeting, Speaker, Utterance

pytestmark = pytest.mark.django_db

HOST = "http://testserver"


class Head(HTMLParser):
    """The <link> and <meta> elements of <head>, and the <a> elements of <body>."""

    def __init__(self, html):
        super().__init__()
        self.links, self.meta, self.anchors, self.in_head = [], {}, [], False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "head":
            self.in_head = True
        elif tag == "link" and self.in_head:
            self.links.append(attrs)
        elif tag == "meta" and self.in_head and ("property" in attrs or "name" in attrs):
            self.meta[attrs.get("property") or attrs["name"]] = attrs.get("content")
        elif tag == "a":
            self.anchors.append(attrs)

    def handle_endtag(self, tag):
        if tag == "head":
            self.in_head = False

    def rel(self, rel, **match):
        return [a for a in self.links if a.get("rel") == rel and all(a.get(k) == v for k, v in match.items())]


def head(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    return Head(response.content.decode())


def pages():
    meeting = Meeting.objects.get(source_file="001_18989ea348c53557.txt")
    u = meeting.utterances.filter(speaker__isnull=False).first()
    return [
        "/",
        "/meetings/",
        "/meetings/2022/",
        "/meetings/2022/02/",
        "/meetings/2022/02/10/",
        meeting.get_absolute_url(),
        u.get_absolute_url(),
        "/speakers/",
        "/speakers/kassym-jomart-tokayev/",
        "/search/?q=%D0%A2%D0%BE%D0%BA%D0%B0%D0%B5%D0%B2",
    ]


def test_every_page_has_one_canonical_and_its_alternates(client, archive):
    for path in pages():
        for prefix in ("", "/en"):
            page = head(client, prefix + path)
            [canonical] = page.rel("canonical")
            assert canonical["href"] == HOST + prefix + path, path
            alternates = {a["hreflang"]: a["href"] for a in page.rel("alternate") if "hreflang" in a}
            assert alternates == {"ru": HOST + path, "en": HOST + "/en" + path, "x-default": HOST + path}


def test_canonical_keeps_what_chooses_the_page_and_drops_marks(client, archive):
    meeting = Meeting.objects.get(source_file="001_18989ea348c53557.txt")
    url = meeting.get_absolute_url()
    [canonical] = head(client, url + "?q=%D0%9A%D0%B0%D0%B7%D0%B0%D1%85%D1%81%D1%82%D0%B0%D0%BD").rel("canonical")
    assert canonical["href"] == HOST + url  # ?q= only marks the matches
    [canonical] = head(client, "/en/speakers/vladimir-putin/?page=2").rel("canonical")
    assert canonical["href"] == HOST + "/en/speakers/vladimir-putin/?page=2"
    [canonical] = head(client, "/speakers/vladimir-putin/?page=1").rel("canonical")
    assert canonical["href"] == HOST + "/speakers/vladimir-putin/"


def test_error_pages_offer_no_address(client, archive):
    for url in ["/meeting/no-such-meeting/", "/no/such/page/", "/meetings/2022/13/"]:
        page = head(client, url, status=404)
        assert not page.rel("canonical") and not [a for a in page.rel("alternate") if "hreflang" in a]


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_meeting_statement_and_speaker_pages_have_link_previews(client, archive, prefix):
    meeting = Meeting.objects.get(source_file="001_18989ea348c53557.txt")
    u = meeting.utterances.filter(speaker__slug="kassym-jomart-tokayev").first()
    tokayev = Speaker.objects.get(slug="kassym-jomart-tokayev")
    locale, other = ("en_GB", "ru_RU") if prefix else ("ru_RU", "en_GB")
    path_of_meeting = meeting.get_absolute_url()
    for path, kind, title in [
        (meeting.get_absolute_url(), "article", meeting.title),
        (u.get_absolute_url(), "article", tokayev.name),
        ("/speakers/kassym-jomart-tokayev/", "profile", tokayev.name),
    ]:
        meta = head(client, prefix + path).meta
        assert meta["og:type"] == kind and meta["og:title"] == title and meta["twitter:title"] == title
        assert meta["og:url"] == HOST + prefix + path
        assert meta["og:description"] and meta["twitter:description"] == meta["og:description"]
        assert meta["og:locale"] == locale and meta["og:locale:alternate"] == other
        assert meta["twitter:card"] == "summary" and meta["og:site_name"] == "kzarchive"
    description = head(client, prefix + path_of_meeting).meta["og:description"]
    assert description == meeting.lead and len(meeting.lead) < 200


def test_metadata_is_escaped(client, archive):
    evil = '"><script>alert(1)</script>'
    meeting = Meeting.objects.get(source_file="001_18989ea348c53557.txt")
    Meeting.objects.filter(pk=meeting.pk).update(title=evil, lead=evil)
    Speaker.objects.filter(slug="kassym-jomart-tokayev").update(name=evil, role=evil)
    u = meeting.utterances.filter(speaker__slug="kassym-jomart-tokayev").first()
    Utterance.objects.filter(pk=u.pk).update(text=evil)
    for path in [meeting.get_absolute_url(), u.get_absolute_url(), "/speakers/kassym-jomart-tokayev/"]:
        html = client.get(path).content.decode()
        assert "<script>alert" not in html, path
        assert 'content="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html, path
        assert Head(html).meta["og:title"] == evil  # the parser unescapes: the value is the text itself
    html = client.get("/speakers/kassym-jomart-tokayev/").content.decode()
    assert 'title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt; (Atom)"' in html


@pytest.mark.parametrize(
    ("path", "feed_path"),
    [
        ("/", "/feed/meetings.atom"),
        ("/meetings/", "/feed/meetings.atom"),
        ("/en/", "/en/feed/meetings.atom"),
        ("/speakers/kassym-jomart-tokayev/", "/feed/speakers/kassym-jomart-tokayev.atom"),
        ("/en/speakers/vladimir-putin/", "/en/feed/speakers/vladimir-putin.atom"),
        ("/search/?q=Токаев&speaker=vladimir-putin&sort=oldest", "/feed/search.atom?q=Токаев&speaker=vladimir-putin"),
    ],
)
def test_pages_offer_their_feeds_in_head_and_visibly(client, archive, path, feed_path):
    page = head(client, path)
    atom = page.rel("alternate", type="application/atom+xml")
    rss = page.rel("alternate", type="application/rss+xml")
    assert len(atom) == len(rss) == 1 and atom[0]["title"].endswith("(Atom)")
    assert unquote(atom[0]["href"]) == feed_path
    visible = [a["href"] for a in page.anchors if a.get("type") == "application/atom+xml"]
    assert visible == [atom[0]["href"]]
    assert [a["href"] for a in page.anchors if a.get("type") == "application/rss+xml"] == [rss[0]["href"]]
    for link in (atom[0], rss[0]):
        response = client.get(link["href"])
        assert response.status_code == 200 and response["Content-Type"].startswith(link["type"])
        assert not feedparser.parse(response.content).bozo


def test_pages_without_a_feed_offer_none(client, archive):
    for path in ["/search/", "/search/?q=-", "/speakers/", "/meetings/2022/"]:
        assert not head(client, path, status=200).rel("alternate", type="application/atom+xml"), path
