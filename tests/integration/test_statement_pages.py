"""A statement's own page (/statement/<sid>/): content, metadata and citations in both
languages; retired and moved addresses (410, 301); the access date and the daily cache key."""

import datetime as dt
import html as htmllib
import json
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone, translation

from transcripts.models import Meeting, OldSlug, RetiredStatement, Speaker, Utterance

pytestmark = pytest.mark.django_db

PRESS = "000_c5b0e3a29709c268.txt"  # 2022-02-10 18:15, Москва, Кремль: narration, then turns
TALKS = "001_18989ea348c53557.txt"  # a section heading before the first turn
KREMLIN = "http://kremlin.ru/events/president/news/copy/67749"


def statement(source_file=PRESS, seq=3) -> Utterance:
    return Utterance.objects.select_related("meeting", "speaker").get(meeting__source_file=source_file, seq=seq)


def page_of(u: Utterance, language="ru") -> str:
    with translation.override(language):
        return reverse("statement", kwargs={"sid": u.sid})


def get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def meta(html: str, key: str) -> str:
    found = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)">', html)
    assert found, key
    return htmllib.unescape(found.group(1))


def test_the_statement_page_in_russian(client, archive):
    u = statement()  # Tokayev's press statement, between two turns of Putin
    html = get(client, page_of(u))
    assert '<h1><a href="/speakers/kassym-jomart-tokayev/">Касым-Жомарт Кемелевич Токаев</a></h1>' in html
    assert '<span class="role">Президент Республики Казахстан</span>' in html
    assert f'<a href="{u.meeting.get_absolute_url()}">{u.meeting.title}</a>' in html
    assert "10 февраля 2022 г.," in html and "Москва, Кремль · заявления для прессы" in html
    assert all(f"<p>{paragraph}</p>" in html for paragraph in u.paragraphs)
    assert f'class="in-context" href="{u.meeting.get_absolute_url()}#s-{u.sid}"' in html
    assert f'href="{KREMLIN}"' in html
    before, after = statement(seq=2), statement(seq=4)
    assert f'<a rel="prev" href="/statement/{before.sid}/"><strong>Владимир Владимирович Путин</strong>' in html
    assert f'<a rel="next" href="/statement/{after.sid}/"><strong>Владимир Владимирович Путин</strong>' in html
    cite = html.split('<section id="cite"', 1)[1]
    labels = re.findall(r"<figcaption>(.*?)</figcaption>", cite)
    assert labels == ["Стиль архива", "Chicago", "APA", "BibTeX", "RIS"]
    house = htmllib.unescape(re.search(r'<pre id="cite-house">(.*?)</pre>', cite, re.S).group(1))
    assert house.startswith("Токаев К.-Ж. К. (Президент Республики Казахстан). Заявление в ходе «Заявления")
    assert f"URL: http://testserver/statement/{u.sid}/ (дата обращения:" in house and KREMLIN in house
    assert '<button type="button" class="copy" data-copy="cite-bibtex">Копировать</button>' in cite


def test_the_statement_page_metadata_in_both_languages(client, archive):
    u = statement()
    ru, en = f"http://testserver/statement/{u.sid}/", f"http://testserver/en/statement/{u.sid}/"
    for url, canonical in [(page_of(u), ru), (page_of(u, "en"), en)]:
        html = get(client, url)
        assert f'<link rel="canonical" href="{canonical}">' in html
        assert f'<link rel="alternate" hreflang="ru" href="{ru}">' in html
        assert f'<link rel="alternate" hreflang="en" href="{en}">' in html
        assert f'<link rel="alternate" hreflang="x-default" href="{ru}">' in html
        assert meta(html, "og:url") == canonical and meta(html, "og:type") == "article"
        assert meta(html, "og:title") == meta(html, "twitter:title") == "Касым-Жомарт Кемелевич Токаев"
        description = meta(html, "og:description")
        assert description.startswith("Уважаемый Владимир Владимирович! Уважаемые дамы и господа!")
        assert len(description) <= 200 and description.endswith("…") and "\n" not in description
        assert meta(html, "twitter:description") == description == meta(html, "description")
        assert meta(html, "og:site_name") == "kzarchive" and meta(html, "twitter:card") == "summary"
        assert meta(html, "article:published_time") == "2022-02-10T18:15:00+03:00"
    assert '<html lang="en">' in html and "10 February 2022" in html and "In the context of the transcript" in html
    house = htmllib.unescape(re.search(r'<pre id="cite-house">(.*?)</pre>', html, re.S).group(1))
    assert house.startswith("Касым-Жомарт Кемелевич Токаев (Президент Республики Казахстан). Statement at «")
    assert f"{en} (accessed " in house and KREMLIN in house


def test_narration_is_titled_by_its_meeting_and_a_section_heading_is_shown(client, archive):
    narration = statement(seq=1)
    html = get(client, page_of(narration))
    assert meta(html, "og:title") == narration.meeting.title
    assert 'rel="prev"' not in html and 'rel="next" href="/statement/' in html
    first_turn = Utterance.objects.filter(meeting__source_file=TALKS, speaker__isnull=False).order_by("seq").first()
    assert '<h2 class="section">Начало российско-казахстанских переговоров</h2>' in get(client, page_of(first_turn))


def test_a_correction_shows_its_date_and_the_source_wording(client, archive):
    u = statement()
    u.source_text, u.text = u.text, "Исправленный редактором текст."
    u.text_curated, u.corrected_at = True, dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
    u.save()
    html = get(client, page_of(u))
    assert '<details class="correction">\n      <summary>исправлено 30 ноября 2026 г.</summary>' in html
    source = html.split('<details class="correction">', 1)[1].split("</details>", 1)[0]
    assert "В источнике:" in source and f"<p>{u.source_text.split(chr(10))[0]}</p>" in source
    assert "<summary>corrected on 30 November 2026</summary>" in get(client, page_of(u, "en"))
    assert "correction" not in get(client, page_of(statement(seq=2)))  # not corrected


def test_statement_text_is_escaped_everywhere(client, archive):
    u = statement()
    Utterance.objects.filter(pk=u.pk).update(text='<script>alert(1)</script> "quoted" <img src=x onerror=alert(2)>')
    html = get(client, page_of(u))
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert meta(html, "og:description").startswith('<script>alert(1)</script> "quoted"')  # escaped in the tag
    fragment = get(client, reverse("statement-cite", args=[statement(seq=2).sid]))
    assert "<script" not in fragment


def test_unpublished_unknown_and_malformed_statements_are_404(client, archive):
    u = statement()
    Meeting.objects.filter(pk=u.meeting_id).update(is_published=False)
    get(client, page_of(u), status=404)
    get(client, reverse("statement-cite", args=[u.sid]), status=404)
    get(client, "/statement/23456789/", status=404)  # well formed, never existed
    for malformed in ["/statement/ABCDEFGH/", "/statement/short/", "/statement/0000oooo/"]:
        get(client, malformed, status=404)


def test_a_deleted_statement_is_gone_410_with_a_link_to_its_meeting(client, archive):
    u = statement()
    first = client.get(page_of(u))
    assert first.status_code == 200 and first["ETag"]
    u.delete()  # the trigger of migration 0013 records it as deleted
    retired = RetiredStatement.objects.get(sid=u.sid)
    assert retired.reason == RetiredStatement.Reason.DELETED and retired.meeting_id == u.meeting_id
    for validators in [{}, {"if-none-match": first["ETag"]}, {"if-none-match": "*"}]:
        response = client.get(page_of(u), headers=validators)
        assert response.status_code == 410 and "ETag" not in response, validators
    html = response.content.decode()
    day = timezone.localdate(retired.retired_at).day
    assert "Этого высказывания больше нет в архиве" in html and f"{day} " in html and "его удалил редактор" in html
    assert f'<a href="{u.meeting.get_absolute_url()}">«{u.meeting.title}»</a>' in html
    english = client.get(page_of(u, "en"))
    assert english.status_code == 410 and "An editor deleted it on" in english.content.decode()
    assert client.get(page_of(u), headers={"if-none-match": client.get("/")["ETag"]}).status_code == 410


def test_a_statement_removed_from_the_source_or_of_a_deleted_meeting_is_gone(client, archive):
    meeting = Meeting.objects.get(source_file=TALKS)
    u = meeting.utterances.order_by("seq").last()
    Utterance.objects.filter(pk=u.pk).delete()
    RetiredStatement.objects.filter(sid=u.sid).update(reason=RetiredStatement.Reason.REMOVED)
    assert "Оно удалено из источника" in get(client, page_of(u), status=410)
    other = Meeting.objects.get(source_file=PRESS)
    sid = other.utterances.order_by("seq").first().sid
    other.delete()
    html = get(client, f"/statement/{sid}/", status=410)
    assert "стенограммы" not in html.split("<main", 1)[1] and "/meeting/" not in html.split("<main", 1)[1]
    # The deleted meeting's own address is gone too, saying so, in both languages.
    count = RetiredStatement.objects.filter(meeting_slug=other.slug).count()
    assert count > 1
    assert f"вместе с {count} высказываниями" in get(client, other.get_absolute_url(), status=410)
    with translation.override("en"):
        address = reverse("meeting", kwargs={"slug": other.slug})
    assert f"with its {count} statements" in get(client, address, status=410)
    get(client, "/meeting/never-was-here/", status=404)


def test_a_merged_statement_redirects_to_what_it_became(client, archive):
    gone, successor = statement(seq=4), statement(seq=5)
    Utterance.objects.filter(pk=gone.pk).delete()
    RetiredStatement.objects.filter(sid=gone.sid).update(reason="merged", successor=successor.sid)
    response = client.get(page_of(gone), {})
    assert response.status_code == 301 and response["Location"] == page_of(successor)
    assert client.get(page_of(gone, "en"))["Location"] == page_of(successor, "en")
    # Merged into one that was merged in its turn: straight to the last.
    third = statement(seq=6)
    Utterance.objects.filter(pk=successor.pk).delete()
    RetiredStatement.objects.filter(sid=successor.sid).update(reason="merged", successor=third.sid)
    assert client.get(page_of(gone))["Location"] == page_of(third)
    # Into one that is gone: a 410 that says it was merged.
    Utterance.objects.filter(pk=third.pk).delete()
    assert "оно объединено с другим высказыванием" in get(client, page_of(gone), status=410)


def test_an_old_meeting_slug_is_a_301_to_the_present_address(client, archive):
    meeting = Meeting.objects.get(source_file=PRESS)
    old = meeting.slug
    meeting.slug = "2022-02-10-press-statements"
    meeting.save()
    new = "/meeting/2022-02-10-press-statements"
    for old_url, new_url in [
        (f"/meeting/{old}/", f"{new}/"),
        (f"/meeting/{old}/?q=Путин&page=1", f"{new}/?q=%D0%9F%D1%83%D1%82%D0%B8%D0%BD&page=1"),
        (f"/en/meeting/{old}/", f"/en{new}/"),
        (f"/meeting/{old}.txt", f"{new}.txt"),
        (f"/en/meeting/{old}.json", f"/en{new}.json"),
    ]:
        response = client.get(old_url)
        assert response.status_code == 301 and response["Location"] == new_url, old_url
    assert client.get("/meeting/2022-02-10-press-statements/").status_code == 200
    Meeting.objects.filter(pk=meeting.pk).update(is_published=False)
    assert client.get(f"/meeting/{old}/").status_code == 404  # not to an unpublished meeting


def test_an_old_or_merged_speaker_slug_is_a_301(client, archive):
    putin = Speaker.objects.get(slug="vladimir-putin")
    putin.slug = "putin"
    putin.save()
    response = client.get("/speakers/vladimir-putin/?page=2")
    assert response.status_code == 301 and response["Location"] == "/speakers/putin/?page=2"
    assert response["Cache-Control"] == "public, max-age=86400"  # it may move back: kept a day
    assert client.get("/en/speakers/vladimir-putin/")["Location"] == "/en/speakers/putin/"
    putin.slug = "vladimir-putin"  # renamed back: the old address is current again, the new one moves
    putin.save()
    assert client.get("/speakers/vladimir-putin/").status_code == 200
    assert client.get("/speakers/putin/")["Location"] == "/speakers/vladimir-putin/"
    # A speaker merged away: the merge records its slug for the target.
    OldSlug.objects.create(content_type=ContentType.objects.get_for_model(Speaker), object_id=putin.pk, slug="v-putin")
    assert client.get("/speakers/v-putin/")["Location"] == "/speakers/vladimir-putin/"
    assert client.get("/speakers/nobody-ever/").status_code == 404


def test_citations_carry_todays_moscow_date_and_the_cache_follows_the_day(client, archive, monkeypatch):
    u = statement()
    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    for url in [page_of(u), u.meeting.get_absolute_url()]:
        monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: today)
        first = client.get(url)
        assert f"(дата обращения: {today:%d.%m.%Y})" in first.content.decode()
        assert client.get(url, headers={"if-none-match": first["ETag"]}).status_code == 304
        monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: tomorrow)
        stored = client.get(url)  # not yesterday's stored page
        assert f"(дата обращения: {tomorrow:%d.%m.%Y})" in stored.content.decode(), url
        assert stored["ETag"] != first["ETag"]
        assert client.get(url, headers={"if-none-match": first["ETag"]}).status_code == 200
        assert client.get(url, headers={"if-modified-since": first["Last-Modified"]}).status_code == 200
        assert client.get(url, headers={"if-none-match": stored["ETag"]}).status_code == 304


def test_the_other_styles_fragment(client, archive):
    u = statement(seq=2)
    response = client.get(reverse("statement-cite", args=[u.sid]))
    html = response.content.decode()
    assert response.status_code == 200 and response["X-Robots-Tag"] == "noindex" and response["ETag"]
    assert re.findall(r'<pre id="([^"]+)">', html) == [f"cite-{u.sid}-{s}" for s in ("chicago", "apa", "bibtex", "ris")]
    assert "<html" not in html and "Путин, Владимир Владимирович" in html


def test_the_meeting_json_names_each_statement_and_its_pages(client, archive):
    meeting = Meeting.objects.get(source_file=PRESS)
    data = json.loads(b"".join(client.get(reverse("meeting-json", args=[meeting.slug])).streaming_content))
    first = data["utterances"][2]
    u = statement(seq=3)
    assert first["id"] == u.sid and first["seq"] == 3 and first["anchor"] == f"s-{u.sid}"
    assert first["url"] == f"http://testserver/statement/{u.sid}/"
    assert first["context_url"] == f"http://testserver{meeting.get_absolute_url()}#s-{u.sid}"


def test_a_public_read_with_a_session_cookie_does_not_open_the_session(client, archive):
    # pghistory's middleware records who makes a change: only writing methods, so a
    # reader's GET never reads the session (nor varies on the cookie).
    u = Utterance.objects.order_by("id").first()
    client.cookies["sessionid"] = "x" * 32
    for address in (f"/statement/{u.sid}/", u.meeting.get_absolute_url(), "/meetings/"):
        response = client.get(address)
        assert response.status_code == 200 and "Cookie" not in response.get("Vary", ""), address


def test_a_retired_statement_of_a_withdrawn_meeting_is_404(client, archive):
    meeting = Meeting.objects.get(source_file=PRESS)
    u = meeting.utterances.order_by("seq").last()
    u.delete()
    assert client.get(f"/statement/{u.sid}/").status_code == 410
    Meeting.objects.filter(pk=meeting.pk).update(is_published=False)
    assert client.get(f"/statement/{u.sid}/").status_code == 404
