"""Every reading page: home, date archive, meeting, downloads, speakers, errors, languages."""

import json
import re

import pytest
from django.test import RequestFactory
from django.urls import reverse

from transcripts import views
from transcripts.models import Meeting, Speaker, Utterance

pytestmark = pytest.mark.django_db

PRESS = "000_c5b0e3a29709c268.txt"  # 2022-02-10 18:15
TALKS = "001_18989ea348c53557.txt"  # 2022-02-10 17:45


def get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def title_of(html):
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1)


def test_home_has_search_counts_timeline_and_latest_meetings(client, archive):
    html = get(client, "/")
    assert 'role="search"' in html and 'action="/search/"' in html
    totals = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", html))
    assert totals["встреч"] == "5" and totals["выступающих"] == "3"
    assert totals["высказывания"] == str(Utterance.objects.count())  # «32 высказывания», not «высказываний»
    assert totals["охваченные годы"] == "2017–2024"
    assert re.search(r'<li><a href="/meetings/2022/" title="2022: \d+">', html)  # timeline bar → its year
    latest = re.findall(r'<a href="/meeting/([^/]+)/">', html)
    dates = [Meeting.objects.get(slug=s).date for s in latest]
    assert dates == sorted(dates, reverse=True) and len(latest) == 5
    assert title_of(html).startswith("Главная")


def test_archive_index_lists_years_with_counts(client, archive):
    html = get(client, reverse("archive"))
    assert re.findall(r'href="/meetings/(\d+)/">\d+</a> <span class="count">(\d+)', html) == [
        ("2017", "1"),
        ("2022", "3"),
        ("2024", "1"),
    ]


def test_year_page_has_twelve_month_calendars_and_skips_empty_years(client, archive):
    html = get(client, "/meetings/2022/")
    assert html.count('<table class="calendar">') == 12
    assert '<a href="/meetings/2022/02/">Февраль</a> <span class="count">(2)' in html
    assert 'href="/meetings/2022/02/10/"' in html and 'href="/meetings/2022/05/16/"' in html
    assert 'rel="prev" href="/meetings/2017/"' in html and 'rel="next" href="/meetings/2024/"' in html


def test_month_page_lists_its_meetings_in_time_order(client, archive):
    html = get(client, "/meetings/2022/02/")
    assert html.index("17:45") < html.index("18:15")
    assert 'rel="prev" href="/meetings/2017/12/"' in html and 'rel="next" href="/meetings/2022/05/"' in html
    assert title_of(html).startswith("Февраль 2022")


def test_day_page_shows_both_meetings_of_10_february_2022(client, archive):
    html = get(client, "/meetings/2022/02/10/")
    talks, press = Meeting.objects.get(source_file=TALKS), Meeting.objects.get(source_file=PRESS)
    assert html.index(talks.get_absolute_url()) < html.index(press.get_absolute_url())
    assert "<h1>10 февраля 2022 г.</h1>" in html
    assert 'rel="next" href="/meetings/2022/05/16/"' in html


@pytest.mark.parametrize(
    "url",
    [
        "/meetings/2022/13/",
        "/meetings/2022/02/30/",
        "/meetings/2022/00/",
        "/meetings/2022/02/00/",
        "/meetings/0/",
        "/meetings/9999/",
        "/meetings/9999/12/",
        "/meetings/99999/",
        "/meetings/2147483648/",
        "/en/meetings/99999999999999999999/",
    ],
)
def test_impossible_dates_are_404(client, archive, url):
    html = get(client, url, status=404)
    assert 'class="site-header"' in html
    assert ("Page not found" if url.startswith("/en/") else "Страница не найдена") in html


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/meetings/2020/", "в этом году"),
        ("/meetings/2022/03/", "в этом месяце"),
        ("/meetings/2022/02/11/", "в этот день"),
    ],
)
def test_valid_empty_periods_show_a_friendly_empty_state(client, archive, url, message):
    html = get(client, url)
    assert f"Встреч {message} нет" in html
    assert 'rel="prev"' in html and 'rel="next"' in html


def test_meeting_page(client, archive):
    meeting = Meeting.objects.get(source_file=PRESS)
    talks = Meeting.objects.get(source_file=TALKS)
    html = get(client, meeting.get_absolute_url())
    # His three turns, and once among the participants under the title.
    assert html.count('<a href="/speakers/vladimir-putin/">Владимир Владимирович Путин</a>') == 4
    assert re.search(r'<p class="participants">.*?vladimir-putin.*?kassym-jomart-tokayev.*?</p>', html, re.S)
    assert '<span class="role">Президент Российской Федерации</span>' in html
    fifth = Utterance.objects.get(meeting=meeting, seq=5)
    assert "обращаясь к" in html and f'<section class="utterance" id="s-{fifth.sid}">' in html
    assert '<span id="u5" class="old-anchor"></span>' in html  # older #u5 links still land on it
    assert f'<a class="permalink" href="/statement/{fifth.sid}/"' in html
    second = Utterance.objects.get(meeting=meeting, seq=2)  # Putin's first turn
    citation = re.search(rf'<pre id="cite-{second.sid}-house">(.*?)</pre>', html, re.S).group(1)
    assert citation.startswith("Путин В. В. (Президент Российской Федерации). Заявление в ходе «Заявления для прессы")
    assert f"URL: http://testserver/statement/{second.sid}/ (дата обращения: " in citation
    assert f'data-fragment="/statement/{second.sid}/cite/"' in html  # the other styles, on demand
    assert 'href="http://kremlin.ru/events/president/news/copy/67749"' in html
    assert f'href="{reverse("meeting-text", args=[meeting.slug])}"' in html
    assert f'href="{talks.get_absolute_url()}"' in html  # also on this day, and the previous meeting
    assert re.search(rf'rel="prev" href="{talks.get_absolute_url()}"', html)
    assert re.search(r'rel="next" href="/meeting/2022-05-16-', html)
    assert '<meta name="description" content="10 февраля 2022 г., Москва, Кремль.' in html


def test_downloads(client, archive):
    meeting = Meeting.objects.get(source_file=TALKS)
    text = client.get(reverse("meeting-text", args=[meeting.slug]))
    assert text["Content-Type"].startswith("text/plain")
    assert text.streaming  # a download is streamed, never built whole
    body = b"".join(text.streaming_content).decode()
    assert body.startswith("Встреча с\u00a0Президентом Казахстана Касым-Жомартом Токаевым\n2022-02-10 17:45\n")
    assert "Владимир Владимирович Путин: Уважаемый" in body
    # The section heading and the omission mark where the page has them (after the last statement).
    assert meeting.omitted_after == [4]
    assert "\n\nНачало российско-казахстанских переговоров\n\n" in body
    assert body.index(meeting.utterances.get(seq=4).text) < body.index("\n<…>\n") < body.index("Источник:")
    assert body.rstrip().endswith(
        f"\nИсточник: {meeting.source_url}\nВ архиве: http://testserver{meeting.get_absolute_url()}"
        "\nЛицензия: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/); указывайте источник."
    )
    raw = b"".join(client.get(reverse("meeting-json", args=[meeting.slug])).streaming_content)
    assert "Токаев".encode() in raw  # readable UTF-8, not \\u escapes
    data = json.loads(raw)
    assert data["licence"] == "https://creativecommons.org/licenses/by/4.0/"
    assert all(u["url"].startswith("http://testserver/statement/") for u in data["utterances"])
    assert data["sections"] == ["Начало российско-казахстанских переговоров"]
    speakers = [u["speaker"]["slug"] for u in data["utterances"] if u["speaker"]]
    assert speakers == ["vladimir-putin", "kassym-jomart-tokayev"]
    assert data["start"] == "2022-02-10T17:45:00+03:00"


def test_speaker_list_keeps_roles_apart(client, archive):
    html = get(client, reverse("speakers"))
    people, roles = html.split("<h2>", 1)
    assert "Нурсултан Абишевич Назарбаев" in people and "Вопрос" not in people
    assert "/speakers/vopros/" in roles
    row = re.search(r'href="/speakers/nursultan-nazarbayev/">.*?</tr>', html, re.S).group(0)
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["1", "2"]


def test_speaker_page(client, archive):
    html = get(client, reverse("speaker", args=["kassym-jomart-tokayev"]))
    assert "Президент Республики Казахстан" in html and "Казахстан" in html
    assert '<input type="hidden" name="speaker" value="kassym-jomart-tokayev">' in html
    dates = [m.group(1) for m in re.finditer(r'<li><p class="meta"><a href="[^"]+">[^<]+</a> · ([^<\n]+)', html)]
    assert dates[0] == "16 мая 2022 г." and dates[-1] == "10 февраля 2022 г."
    assert 'href="/speakers/kassym-jomart-tokayev/?year=2022#statements"' in html  # their year, not the archive's
    newest = Utterance.objects.filter(speaker__slug="kassym-jomart-tokayev").order_by("-meeting_date", "seq").first()
    assert f'<a href="{newest.context_url()}">' in html and f'href="/statement/{newest.sid}/"' in html
    assert get(client, reverse("speaker", args=["kassym-jomart-tokayev"]) + "?page=abc")
    get(client, reverse("speaker", args=["nobody"]), status=404)


def test_english_pages_and_language_switch(client, archive):
    html = get(client, "/en/meetings/2022/02/10/")
    assert '<html lang="en">' in html and "<h1>10 February 2022</h1>" in html
    assert '<a href="/meetings/2022/02/10/" lang="ru" hreflang="ru">Русский</a>' in html
    russian = get(client, "/meetings/2022/02/10/")
    assert '<a href="/en/meetings/2022/02/10/" lang="en" hreflang="en">English</a>' in russian
    assert "Meetings" in get(client, "/en/") and "Встречи" in get(client, "/")


def test_unpublished_meetings_leave_the_archive(client, archive):
    Meeting.objects.filter(source_file="002_dc2adfdd6de3dfa8.txt").update(is_published=False)
    assert "/meetings/2017/" not in get(client, reverse("archive"))
    assert "Назарбаев" not in get(client, reverse("speakers"))
    assert "охваченные годы</dt><dd>2022–2024" in get(client, "/")


def test_server_error_page_is_styled():
    request = RequestFactory().get("/")
    response = views.server_error(request)
    assert response.status_code == 500 and "Ошибка сервера" in response.content.decode()


def test_transcript_text_is_escaped(client, archive):
    Utterance.objects.filter(seq=1).update(text="<script>alert(1)</script> <img src=x onerror=alert(2)>")
    html = get(client, Meeting.objects.first().get_absolute_url())
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("page", ["2", "0", "-1", "abc", "99999999999999999999", "1\x00"])
def test_any_page_parameter_is_answered(client, archive, page):
    assert client.get(reverse("speaker", args=["vladimir-putin"]), {"page": page}).status_code == 200


def test_speaker_needs_review_is_marked(client, archive):
    repik = Speaker.objects.create(name="А.Репик", slug="a-repik", needs_review=True)
    Utterance.objects.filter(seq=2, label="В.Путин").update(speaker=repik)  # give it a statement
    row = re.search(r'href="/speakers/a-repik/">А.Репик</a>(.*?)</td>', get(client, reverse("speakers")), re.S)
    assert row and "ещё не проверен" in row.group(1)


def test_speaker_names_follow_the_heading_order(client, archive):
    without_sections = get(client, Meeting.objects.get(source_file=PRESS).get_absolute_url())
    assert '<h2 class="speaker">' in without_sections and '<h3 class="speaker">' not in without_sections
    with_sections = get(client, Meeting.objects.get(source_file=TALKS).get_absolute_url())
    assert '<h2 class="section">' in with_sections and '<h3 class="speaker">' in with_sections


def test_the_language_switch_on_a_404_leads_to_the_other_home(client, archive):
    html = get(client, "/en/no-such-page/", status=404)
    assert '<a href="/" lang="ru" hreflang="ru">Русский</a>' in html
