"""The English side: Latin names and spellings, Latin-script search, places in English,
Russian text marked lang="ru", and the people a meeting names without their turns."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from tests.admin_forms import change_url, form_data
from tests.documents import transcript
from transcripts import curation, participants
from transcripts.importing.ingest import ingest_paths
from transcripts.importing.pronouns import PersonMentions
from transcripts.models import Meeting, Speaker
from transcripts.places import in_english
from transcripts.search.engine import SearchRequest, search_archive

PHONE_CALL = "Телефонный разговор с Президентом Казахстана Касым-Жомартом Токаевым"


@pytest.fixture
def call(archive, tmp_path):
    """A phone call whose title names Tokayev, with only Putin's turn."""
    (tmp_path / "call.txt").write_text(
        transcript([("В.Путин", "Добрый день.")], title=PHONE_CALL, url="http://kremlin.ru/events/president/news/1"),
        encoding="utf-8",
    )
    assert not ingest_paths([tmp_path]).failures
    return Meeting.objects.get(source_file="call.txt")


def found(q, **filters):
    return search_archive(SearchRequest(q=q, **filters))


def en(name: str) -> str:
    with translation.override("en"):
        return reverse(name)


def test_the_directory_gives_latin_names(archive):
    tokayev = Speaker.objects.get(slug="kassym-jomart-tokayev")
    assert tokayev.name_latin == "Kassym-Jomart Tokayev"
    assert "Tokaev" in tokayev.latin_aliases
    assert Speaker.objects.get(slug="vopros").latin_name == "Question"
    # A speaker ingest created has no Latin name: a transliteration stands in.
    assert Speaker(name="Шавкат Мирзиёев").latin_name == "Shavkat Mirzieev"


def test_a_latin_search_finds_the_persons_statements_and_names_them(archive):
    russian = found("Токаев")
    for spelling in ("Tokayev", "tokaev", "Kasym-Zhomart Tokaev"):
        results = found(spelling)
        assert "Токаев" in dict(results.respelled).values(), spelling
        assert results.total.value >= russian.total.value > 0
        assert results.people and results.people[0][0].slug == "kassym-jomart-tokayev"
    same = found("Tokayev")
    assert [h.utterance.id for h in same.hits] == [h.utterance.id for h in russian.hits]
    assert not found("Токаев").respelled  # Cyrillic is searched as typed


def test_an_english_search_page_says_the_texts_are_russian(archive, client):
    html = client.get(en("search"), {"q": "Tokayev"}).content.decode()
    assert 'searched for <span lang="ru">«Токаев»</span> (Tokayev)' in html
    assert "Kassym-Jomart Tokayev" in html  # the person above the hits, in Latin letters
    nothing = client.get(en("search"), {"q": "uranium"}).content.decode()
    assert "Nothing found." in nothing and "The texts of the archive are in Russian" in nothing
    russian = client.get(reverse("search"), {"q": "уранмарсианский"}).content.decode()
    assert "The texts of the archive" not in russian and "Тексты архива" not in russian


def test_english_pages_show_latin_names_beside_the_russian(archive, client):
    tokayev = Speaker.objects.get(slug="kassym-jomart-tokayev")
    with translation.override("en"):
        url = reverse("speaker", args=[tokayev.slug])
    html = client.get(url).content.decode()
    assert (
        '<h1>Kassym-Jomart Tokayev <span class="original" lang="ru">(Касым-Жомарт Кемелевич Токаев)</span></h1>' in html
    )
    assert "<h1>Касым-Жомарт Кемелевич Токаев</h1>" in client.get(tokayev_url(tokayev)).content.decode()
    listing = client.get(en("speakers")).content.decode()
    assert "Vladimir Putin" in listing and "Nursultan Nazarbayev" in listing


def tokayev_url(speaker):
    with translation.override("ru"):
        return reverse("speaker", args=[speaker.slug])


def test_russian_text_on_english_pages_is_marked(archive, client):
    meeting = Meeting.objects.get(source_file="001_18989ea348c53557.txt")
    with translation.override("en"):
        url = meeting.get_absolute_url()
    html = client.get(url).content.decode()
    assert re.search(r'<h1 [^>]*lang="ru"[^>]*>Встреча с\sПрезидентом Казахстана', html)
    paragraphs = re.findall(r"<p( lang=\"ru\")?>[А-ЯЁ«]", html)
    assert paragraphs and all(paragraphs), "every paragraph of the transcript is marked Russian"


def test_places_the_directory_knows_show_in_english(archive, client):
    assert in_english("Москва, Кремль") == ("Moscow, the Kremlin", True)
    assert in_english("Москва, Дом Пашкова") == ("Moscow, Дом Пашкова", False)
    meeting = Meeting.objects.filter(location="Москва, Кремль").first() or Meeting.objects.exclude(location="").first()
    english, known = in_english(meeting.location)
    with translation.override("en"):
        url = meeting.get_absolute_url()
    html = client.get(url).content.decode()
    assert (english if known else f'<span lang="ru">{english}</span>') in html
    assert meeting.location in client.get(meeting.get_absolute_url()).content.decode()


def test_a_meeting_names_people_without_turns(call, tmp_path, client, admin_client):
    tokayev = Speaker.objects.get(slug="kassym-jomart-tokayev")
    assert not call.utterances.filter(speaker=tokayev).exists()
    assert set(call.named_people.all()) == {tokayev}
    assert [p.slug for p in participants.people_of(call)] == ["vladimir-putin", "kassym-jomart-tokayev"]
    page = client.get(tokayev_url(tokayev)).content.decode()
    assert call.get_absolute_url() in page
    assert "Участники:" in client.get(call.get_absolute_url()).content.decode()

    # Ingest again: unchanged; an editor's new title decides who is named.
    assert not ingest_paths([tmp_path]).failures
    assert set(call.named_people.all()) == {tokayev}
    data = form_data(admin_client.get(change_url(call)))
    data["title"] = "Телефонный разговор с Президентом Казахстана"
    response = admin_client.post(change_url(call), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not call.named_people.exists()
    assert call.get_absolute_url() not in client.get(tokayev_url(tokayev)).content.decode()


def test_a_merge_and_its_undo_keep_the_meetings_a_person_is_named_in(call, admin_user):
    tokayev = Speaker.objects.get(slug="kassym-jomart-tokayev")
    putin = Speaker.objects.get(slug="vladimir-putin")
    curation.merge_speakers(admin_user, putin, [tokayev])
    assert set(call.named_people.all()) == {putin}  # Tokayev's aliases are Putin's now
    merge = curation.SpeakerMerge.objects.get(target=putin)
    curation.undo_merge(admin_user, merge)
    assert set(call.named_people.all()) == {Speaker.objects.get(slug="kassym-jomart-tokayev")}


def test_a_meeting_names_people_by_their_names_not_their_offices(archive):
    mentions = PersonMentions(names_only=True)
    putin, tokayev = (Speaker.objects.get(slug=s).id for s in ("vladimir-putin", "kassym-jomart-tokayev"))
    # «Президент России» is one of Putin's aliases, but in 2010 it was Medvedev.
    assert (
        participants.named_in(
            "Телефонный разговор с Президентом Казахстана", "Президент России Дмитрий Медведев обсудил", mentions
        )
        == set()
    )
    assert participants.named_in("Встреча с Владимиром Путиным и Касым-Жомартом Токаевым", "", mentions) == {
        putin,
        tokayev,
    }


def test_a_latin_query_marks_its_matches_in_the_meeting(archive, client):
    hit = found("Tokayev").hits[0]
    html = client.get(hit.utterance.meeting.get_absolute_url(), {"q": "Tokayev"}).content.decode()
    assert "<mark>Токаев" in html and 'class="next-match"' in html
