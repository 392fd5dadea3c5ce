"""The first public pages: the home page lists meetings, the meeting page shows turns."""

import pytest
from django.urls import reverse

from transcripts.ingest import ingest_paths
from transcripts.models import Meeting, Utterance

pytestmark = pytest.mark.django_db


@pytest.fixture
def archive(seeds):
    ingest_paths(seeds)


def test_home_lists_meetings_newest_first(client, archive):
    html = client.get(reverse("home")).content.decode()
    titles = [m.title for m in Meeting.objects.order_by("-date", "-start")]
    positions = [html.index(t) for t in titles]
    assert positions == sorted(positions)
    assert titles[0].startswith("Президент России Владимир Путин на брифинге")  # 2024-12-23
    assert html.index("18:15") < html.index("17:45")  # same day, later first


def test_meeting_page_shows_the_transcript_turn_by_turn(client, archive):
    meeting = Meeting.objects.get(source_file="000_c5b0e3a29709c268.txt")
    response = client.get(meeting.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<h3 class="speaker">Владимир Владимирович Путин') == 3
    assert html.count('<h3 class="speaker">Касым-Жомарт Кемелевич Токаев') == 2
    assert "(обращаясь к\u00a0представителям СМИ)" in html or "(обращаясь к представителям СМИ)" in html
    assert html.index('id="u2"') < html.index('id="u3"') < html.index('id="u7"')
    assert "http://kremlin.ru/events/president/news/copy/67749" in html


def test_omission_marks_and_sections_are_shown(client, archive):
    html = client.get(Meeting.objects.get(source_file="001_18989ea348c53557.txt").get_absolute_url()).content.decode()
    assert '<h2 class="section">Начало российско-казахстанских переговоров</h2>' in html
    assert html.count('class="omission"') == 1


def test_transcript_text_is_escaped(client, archive):
    Utterance.objects.filter(seq=1).update(text="<script>alert(1)</script> <img src=x onerror=alert(2)>")
    html = client.get(Meeting.objects.first().get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_unpublished_and_unknown_meetings_are_404(client, archive):
    meeting = Meeting.objects.first()
    Meeting.objects.filter(pk=meeting.pk).update(is_published=False)
    assert client.get(meeting.get_absolute_url()).status_code == 404
    assert meeting.title not in client.get(reverse("home")).content.decode()
    assert client.get("/meeting/no-such-meeting/").status_code == 404


@pytest.mark.parametrize("page", ["2", "0", "-1", "abc", "99999999999999999999", "1\x00"])
def test_any_page_parameter_is_answered(client, archive, page):
    assert client.get(reverse("home"), {"page": page}).status_code == 200
