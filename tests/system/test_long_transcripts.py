"""A transcript of 20,000 turns: its page is split into parts of STATEMENTS_PER_PAGE
statements with stable addresses, and its downloads stream in bounded memory."""

import json
import re
import tracemalloc

import pytest

from tests.documents import transcript
from transcripts.importing.ingest import ingest_paths
from transcripts.models import STATEMENTS_PER_PAGE, Meeting, Utterance

pytestmark = pytest.mark.django_db
TURNS = 20_000


@pytest.fixture
def long_meeting(tmp_path):
    (tmp_path / "long.txt").write_text(transcript(TURNS, lead=""), encoding="utf-8")
    assert not ingest_paths([tmp_path]).failures
    return Meeting.objects.get()


def statement_numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<section class="utterance[^"]*" id="s-\w+">\s*<span id="u(\d+)"', html)]


def test_a_20000_turn_meeting_page_is_one_part_of_it(client, long_meeting):
    response = client.get(long_meeting.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200 and len(response.content) < 2_000_000
    assert statement_numbers(html) == list(range(1, STATEMENTS_PER_PAGE + 1))
    assert "часть 1 из 100: высказывания 1–200" in html
    english = client.get("/en" + long_meeting.get_absolute_url()).content.decode()
    assert "part 1 of 100: statements 1–200" in english
    assert 'rel="next" href="?page=2"' in html


def test_every_part_has_a_stable_address_and_bad_page_numbers_are_404s(client, long_meeting):
    url = long_meeting.get_absolute_url()
    last = client.get(url, {"page": 100})
    assert statement_numbers(last.content.decode()) == list(range(19_801, 20_001))
    assert f'<link rel="canonical" href="http://testserver{url}?page=100">' in last.content.decode()
    for bad in ["0", "101", "abc", "٩", "-1", "1.5", "9" * 30, ""]:
        response = client.get(url, {"page": bad})
        assert response.status_code == 404, bad


def sid_of(meeting, seq: int) -> str:
    return Utterance.objects.get(meeting=meeting, seq=seq).sid


def test_a_statement_in_context_names_its_part(client, long_meeting):
    statement = Utterance.objects.get(meeting=long_meeting, seq=12_345)
    url = statement.context_url()
    assert url == f"{long_meeting.get_absolute_url()}?page=62#s-{statement.sid}"
    page = client.get(url.split("#")[0]).content.decode()
    assert f'id="s-{statement.sid}"' in page and 'id="u12345"' in page and "Реплика номер 12345." in page
    # The statement's own page leads to the same part.
    own = client.get(statement.get_absolute_url()).content.decode()
    assert f'class="in-context" href="{long_meeting.get_absolute_url()}?page=62#s-{statement.sid}"' in own
    last_of_part_1 = Utterance.objects.get(meeting=long_meeting, seq=200)
    assert last_of_part_1.context_url() == f"{long_meeting.get_absolute_url()}#s-{last_of_part_1.sid}"


def test_search_highlighting_counts_and_links_matches_on_every_part(client, long_meeting):
    # «номер 150» occurs in statements 150 and 1500–1509 ... as the phrase only in 150;
    # «номер 7777» in 7777 alone: the match bar on the first part leads to part 39.
    page = client.get(long_meeting.get_absolute_url(), {"q": '"номер 7777"'}).content.decode()
    sid = sid_of(long_meeting, 7777)
    assert "7777" in page and 'id="u7777"' not in page
    assert re.search(rf'class="next-match" href="[^"]*\?q=[^"]*&amp;page=39#s-{sid}"', page)
    part = client.get(long_meeting.get_absolute_url(), {"q": '"номер 7777"', "page": 39}).content.decode()
    assert f'<section class="utterance match" id="s-{sid}">' in part
    # A word on every statement: the last match of part 1 points at the first of part 2.
    first = client.get(long_meeting.get_absolute_url(), {"q": "энергетике"}).content.decode()
    assert "20000" in first.replace("\xa0", "").replace(" ", "")
    assert re.search(rf'href="[^"]*page=2#s-{sid_of(long_meeting, 201)}"', first)


def peak_while_streaming(response) -> tuple[int, int]:
    """(bytes streamed, peak memory Python allocated meanwhile); the chunks are dropped
    as they come, as a server sending them would."""
    tracemalloc.start()
    try:
        size = sum(len(chunk) for chunk in response.streaming_content)
        return size, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_downloads_stream_in_bounded_memory(client, long_meeting):
    for url in [f"/meeting/{long_meeting.slug}.txt", f"/meeting/{long_meeting.slug}.json"]:
        response = client.get(url)
        assert response.streaming
        size, peak = peak_while_streaming(response)
        # Bounded by a chunk of statements, not by the download (3.2 and 6.4 MB here).
        assert size > 3_000_000 and peak < 1_500_000, (url, size, peak)
    text = b"".join(client.get(f"/meeting/{long_meeting.slug}.txt").streaming_content).decode()
    transcript, provenance = text.rsplit("\n—\n", 1)  # the closing note: source, address, licence
    assert text.count("Реплика номер") == TURNS and transcript.rstrip().endswith(
        "Реплика номер 20000. Обсудили сотрудничество в энергетике."
    )
    assert provenance.startswith("Источник: http") and "Лицензия:" in provenance
    data = json.loads(b"".join(client.get(f"/meeting/{long_meeting.slug}.json").streaming_content))
    assert [u["seq"] for u in data["utterances"]] == list(range(1, TURNS + 1))
    assert data["title"] == long_meeting.title and data["utterances"][0]["speaker"]["slug"] == "vladimir-putin"
