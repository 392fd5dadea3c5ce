"""Search: morphology, syntax, filters, sorts, facets, escaping, robustness, JSON."""

import datetime as dt
import re
from collections import Counter

import pytest
from django.contrib.postgres.search import SearchQuery
from django.urls import reverse

from tests.documents import transcript
from transcripts.importing.ingest import ingest_paths
from transcripts.models import Meeting, Speaker, Utterance
from transcripts.search import counting, engine, highlight, tsquery
from transcripts.search.counting import Total
from transcripts.search.engine import SearchRequest, search_archive
from transcripts.search.syntax import QueryError

pytestmark = pytest.mark.django_db

EXTRA = {
    "mir.txt": (
        "Мировой порядок",
        "2019-06-01 10:00:00",
        "Сочи",
        [
            "В.Путин: Мировой порядок меняется. Миротворческие силы работают.",
            "К.-Ж.Токаев: <script>alert(1)</script> и <img src=x onerror=alert(2)> — это тоже мировой текст.",
        ],
    ),
    "peace.txt": (
        "Телефонный разговор с Президентом Казахстана",
        "2023-03-01 12:00:00",
        "",
        ["В.Путин: Мы говорили о мире и о мирах. Её позиция твёрдая, всё решено."],
    ),
}


def write_transcript(path, title, when, place, turns):
    text = transcript(turns, title=title, start=when, place=place, lead="Лид.", url=f"http://example.org/{path.stem}")
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def archive(seeds, tmp_path):
    for name, (title, when, place, turns) in EXTRA.items():
        write_transcript(tmp_path / name, title, when, place, turns)
    report = ingest_paths([*seeds, tmp_path])
    assert not report.failures


def found(q, **filters):
    results = search_archive(SearchRequest(q=q, **filters))
    return results


def texts(q, **filters):
    return [hit.utterance.text for hit in found(q, **filters).hits]


def ids(q, **filters):
    """Every hit, across all pages."""
    first = found(q, **filters)
    pages = [first] + [found(q, page=n, **filters) for n in range(2, first.num_pages + 1)]
    return {hit.utterance.id for results in pages for hit in results.hits}


@pytest.mark.parametrize(
    ("forms", "minimum"),
    [
        (["Токаев", "Токаева", "Токаеву", "Токаевым", "токаева"], 4),
        (["Назарбаев", "Назарбаева", "Назарбаеву"], 2),
        (["Казахстан", "Казахстаном", "Казахстана", "казахстане"], 20),
        (["твёрдой", "твердой", "твёрдый"], 2),
        (["переговоры", "переговоров", "переговорах"], 5),
        (["Путин", "Путина", "Путиным", "путину"], 10),
        (["Москва", "Москве", "Москву", "Москвой"], 3),
        (["безопасность", "безопасности"], 3),
    ],
)
def test_every_form_finds_the_same_utterances(archive, forms, minimum):
    results = [ids(f) for f in forms]
    assert len(results[0]) >= minimum
    assert all(r == results[0] for r in results), forms


def test_inflected_name_finds_the_nominative(archive):
    # "Президент Токаев" (nominative) only appears in the news item; "Токаева" must find it.
    hits = texts("Токаева")
    assert any("Токаева Касым-Жомарта" in t for t in hits)
    assert any("Касым-Жомарт Токаев" in t or "Токаевым" in t or "Токаеву" in t for t in texts("Токаев"))


def test_mir_does_not_match_words_that_merely_start_with_it(archive):
    hits = texts("мир")
    assert any("о мире" in t for t in hits)
    assert not any("Мировой порядок" in t for t in hits)
    assert not any("миротворческ" in t.lower() and "мир " not in t.lower() for t in hits)


def test_yo_and_ye_are_the_same_and_stop_words_stay_stop_words(archive):
    assert ids("твердая") == ids("твёрдая") != set()
    with pytest.raises(QueryError):
        search_archive(SearchRequest(q="всё её"))
    with pytest.raises(QueryError):
        search_archive(SearchRequest(q="все ее"))


def test_phrases_keep_word_order(archive):
    assert any("Президента Республики Казахстан" in t for t in texts('"Президент Республики Казахстан"'))
    assert texts('"Казахстан Республики Президент"') == []
    # A stop word inside a phrase keeps its place: "позиция твёрдая" ≠ "о мире".
    assert len(texts('"говорили о мире"')) == 1


def test_exclusion_and_or(archive):
    putin = ids("Путин")
    both = ids("Путин Токаев")
    assert ids("Путин -Токаев") == putin - both
    assert ids("Назарбаев OR ЭКСПО") == ids("Назарбаев") | ids("ЭКСПО")
    assert ids("Назарбаев | ЭКСПО") == ids("Назарбаев OR ЭКСПО")
    with pytest.raises(QueryError):
        search_archive(SearchRequest(q="-Путин"))


def test_tsquery_operators_typed_by_a_user_are_plain_text(archive):
    assert ids("Путин & !Токаев") == ids("Путин Токаев")
    for hostile in ["'", "\\", "&&", "<->", "a:*", "!!!", "(((", "Путин:*A", "'; DROP TABLE x; --"]:
        search_archive(SearchRequest(q=f"Казахстан {hostile}"))


def test_filters(archive):
    nazarbayev = Speaker.objects.get(slug="nursultan-nazarbayev")
    putin = Speaker.objects.get(slug="vladimir-putin")
    by_speaker = found("Казахстан", speakers=(nazarbayev.id,))
    assert by_speaker.total.value >= 1 and all(h.utterance.speaker_id == nazarbayev.id for h in by_speaker.hits)
    both = found("Казахстан", speakers=(nazarbayev.id, putin.id))
    assert {h.utterance.speaker_id for h in both.hits} == {nazarbayev.id, putin.id}
    in_2022 = found("Казахстан", date_from=dt.date(2022, 1, 1), date_to=dt.date(2022, 12, 31))
    assert in_2022.total.value and all(h.utterance.meeting.date.year == 2022 for h in in_2022.hits)
    calls = found("Путин", kind="phone_call")
    assert [h.utterance.meeting.title for h in calls.hits] == ["Телефонный разговор с Президентом Казахстана"]
    assert {h.utterance.meeting.location for h in found("Путин", location="Сочи").hits} == {"Сочи"}


@pytest.mark.parametrize("filters", [{"kind": "phone_call"}, {"location": "Сочи"}, {"kind": "talks"}])
def test_a_kind_or_place_finds_the_same_as_a_list_of_its_meetings_or_a_filter(archive, monkeypatch, filters):
    """Meetings are listed for the index when few against the words' matches
    (engine._list_meetings); else each match is tested against them."""
    meetings = set(Meeting.objects.filter(**filters).values_list("id", flat=True))
    truth = set(Utterance.objects.filter(id__in=ids("Путин"), meeting_id__in=meetings).values_list("id", flat=True))
    assert truth
    found_by = {}
    for per_match, form in ((0, "u.meeting_id = ANY(%s::bigint[])"), (10**9, "u.meeting_id + 0 = ANY(%s::bigint[])")):
        monkeypatch.setattr(engine, "LISTED_PER_MATCH", per_match)
        engine.reset_caches()
        where, params = engine._where(SearchRequest(q="Путин", **filters), "'путин'")
        assert form in where and set(params[-1]) == meetings
        found_by[form] = set(ids("Путин", **filters))
    assert list(found_by.values()) == [truth, truth]


def test_meetings_are_listed_only_when_few_against_the_words_matches(archive):
    """«Путин» matches hundreds of statements, «Байконур» a handful: a kind of 3 meetings is
    listed for the first, and tested on each match of the second."""
    request = SearchRequest(q="x", kind="talks")
    assert 0 < Meeting.objects.filter(kind="talks").count() * engine.LISTED_PER_MATCH < len(ids("Путин"))
    assert "u.meeting_id = ANY(%s::bigint[])" in engine._where(request, "'путин'")[0]
    assert "u.meeting_id + 0 = ANY(%s::bigint[])" in engine._where(request, "'байконур'")[0]


def test_sorts_and_stable_pages(archive):
    newest = [h.utterance.meeting.date for h in found("Казахстан", sort="newest").hits]
    oldest = [h.utterance.meeting.date for h in found("Казахстан", sort="oldest").hits]
    assert newest == sorted(newest, reverse=True) and oldest == sorted(oldest)
    first = [h.utterance.id for h in found("Путин").hits]
    assert first == [h.utterance.id for h in found("Путин").hits]
    page2 = [h.utterance.id for h in found("Путин", page=2).hits]
    assert len(first) == 20 and not set(first) & set(page2)


def test_totals_and_facets_are_exact_for_small_results(archive):
    results = found("Казахстан")
    assert not results.total.estimated
    assert results.total.value == sum(n for _y, n in results.year_facets)
    meetings = {h.utterance.meeting_id for h in found("Казахстан", sort="oldest").hits}
    assert results.meetings.value >= len(meetings)
    facets = {s.slug: n for s, n in results.speaker_facets}
    assert (
        facets["vladimir-putin"]
        == found("Казахстан", speakers=(Speaker.objects.get(slug="vladimir-putin").id,)).total.value
    )


def test_snippets_escape_transcript_html(archive):
    (hit,) = found("alert onerror").hits
    html = str(hit.snippet)
    assert "<script" not in html and "<img" not in html
    assert "<mark>onerror</mark>=<mark>alert</mark>(2)&gt;" in html


def test_markers_in_source_text_cannot_forge_marks():
    forged = highlight.mark_terms("a \x02<b>bold</b>\x03 <script>x</script>")
    assert forged == "a <mark>&lt;b&gt;bold&lt;/b&gt;</mark> &lt;script&gt;x&lt;/script&gt;"


def test_meeting_page_escapes_and_highlights_the_whole_text(archive, client):
    meeting = Meeting.objects.get(title="Мировой порядок")
    html = client.get(meeting.get_absolute_url(), {"q": "alert"}).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "onerror=<mark>alert</mark>(2)&gt;" in html
    assert "<script>alert" not in html and "<img src=x" not in html


def test_unpublished_meetings_never_appear(archive):
    assert found("Назарбаев").total.value
    Meeting.objects.filter(source_file="002_dc2adfdd6de3dfa8.txt").update(is_published=False)
    results = found("Назарбаев")
    assert all(h.utterance.meeting.is_published for h in results.hits)
    assert "nursultan-nazarbayev" not in {s.slug for s, _n in results.speaker_facets}


@pytest.mark.parametrize(("typo", "fixed"), [("Назарбев", "Назарбаев"), ("Токаеф", "Токаев")])
def test_did_you_mean(archive, typo, fixed):
    results = found(typo)
    assert results.total.value == 0 and results.suggestion == fixed


def test_statement_timeout_gives_a_clear_message(archive, client, monkeypatch):
    def slow(cursor, results):
        cursor.execute("SELECT pg_sleep(2)")

    monkeypatch.setattr(engine, "STATEMENT_TIMEOUT_MS", 50)
    monkeypatch.setattr(engine, "_count_and_facets", slow)
    response = client.get(reverse("search"), {"q": "Казахстан"})
    assert response.status_code == 200
    assert "занял слишком много времени" in response.content.decode()


# --- the page and its robustness ---------------------------------------------


def test_search_page_shows_hits_linking_to_the_anchor(archive, client):
    html = client.get(reverse("search"), {"q": "Назарбаева"}).content.decode()
    assert "<mark>" in html
    nazarbayev_meeting = Meeting.objects.get(source_file="002_dc2adfdd6de3dfa8.txt")
    assert f'href="{nazarbayev_meeting.get_absolute_url()}?q=%D0%9D' in html  # ?q=Назарбаева#s-<sid>
    hit = re.search(r'href="/meeting/[^"?]+/\?q=[^"#]+#s-([a-z0-9]{8})"', html).group(1)
    assert f'<a class="permalink" href="/statement/{hit}/"' in html  # and its own page
    assert '<ol class="bars">' in html and "Нурсултан Абишевич Назарбаев" in html
    # The bars' heights must not pick up the Russian decimal comma.
    assert re.search(r'<span class="bar" style="height: [\d.]+%">', html)
    assert not re.search(r'style="height: [^"]*\d,\d', html)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "слово " * 100}, "не более 500"),
        ({"q": "Казахстан", "from": "2022-13-45"}, "Введите правильную дату"),
        ({"q": "Казахстан", "from": "2023-01-01", "to": "2022-01-01"}, "раньше даты начала"),
        ({"q": "Казахстан", "speaker": "nobody"}, "Неизвестный выступающий"),
        ({"q": "Казахстан", "page": "abc"}, "Введите целое число"),
        ({"q": "Казахстан", "page": "-1"}, "больше либо равно 1"),
        ({"q": "Казахстан", "kind": "party"}, "Выберите корректный вариант"),
        ({"q": "и в на"}, "нет слов для поиска"),
    ],
)
def test_bad_parameters_are_form_errors(archive, client, params, message):
    response = client.get(reverse("search"), params)
    assert response.status_code == 200
    assert message in response.content.decode()
    json_response = client.get(reverse("search"), {**params, "format": "json"})
    assert json_response.status_code == 400 and "errors" in json_response.json()


def test_page_past_the_end_is_404(archive, client):
    assert client.get(reverse("search"), {"q": "Казахстан", "page": "999"}).status_code == 404


def test_control_characters_are_stripped(archive, client):
    data = client.get(reverse("search"), {"q": "Каз\x00ахстан\x07", "format": "json"}).json()
    assert data["query"] == "Казахстан" and data["total"] == found("Казахстан").total.value > 0
    assert client.get(reverse("search"), {"q": "\x00\x01"}).status_code == 200


@pytest.mark.parametrize("slug", ["\x00", "a\x00b", "x" * 500, "../../etc", "'; DROP TABLE x; --"])
def test_hostile_speaker_values_are_form_errors(archive, client, slug):
    response = client.get(reverse("search"), {"q": "Казахстан", "speaker": slug, "format": "json"})
    assert response.status_code == 400 and "speaker" in response.json()["errors"]


def test_json_page_past_the_end_is_a_json_404(archive, client):
    response = client.get(reverse("search"), {"q": "Казахстан", "page": "999", "format": "json"})
    assert response.status_code == 404 and "page" in response.json()["errors"]


def test_json_output(archive, client):
    data = client.get(reverse("search"), {"q": "Назарбаева", "format": "json"}).json()
    assert data["total"] == found("Назарбаева").total.value and not data["total_is_estimate"]
    hit = data["hits"][0]
    assert hit["url"] == f"http://testserver/statement/{hit['id']}/" and hit["anchor"] == f"s-{hit['id']}"
    context = hit["context_url"]
    assert context.startswith("http://testserver/meeting/") and context.endswith(f"#s-{hit['id']}")
    assert "?q=%D0%9D" in context  # the query marked in the meeting
    assert hit["meeting"]["date"] and hit["snippet_html"]
    assert {"speakers", "years"} <= set(data["facets"])
    assert data["facets"]["years"][0]["count"] >= 1


def test_meeting_page_highlights_and_offers_next_match(archive, client):
    meeting = Meeting.objects.get(source_file="000_c5b0e3a29709c268.txt")
    html = client.get(meeting.get_absolute_url(), {"q": "Токаева"}).content.decode()
    assert "<mark>Токаева</mark>" in html
    assert 'class="next-match"' in html and "к первому совпадению" in html
    assert client.get(meeting.get_absolute_url(), {"q": "\x00<script>"}).status_code == 200


def sampled_everything(monkeypatch, modulus=2, enough=1, year_margin=10.0):
    """Make the test archive "large": every count estimated from `id % modulus = 0`
    (every year the sample holds, unless year_margin says which years it knows)."""
    monkeypatch.setattr(counting, "EXACT_LIMIT", 0)
    monkeypatch.setattr(counting, "YEAR_MARGIN", year_margin)
    monkeypatch.setattr(counting, "PROBE", 1)
    monkeypatch.setattr(counting, "SAMPLE", modulus)
    monkeypatch.setattr(counting, "DENSE_SAMPLE", modulus)
    monkeypatch.setattr(counting, "ENOUGH_SAMPLED", enough)
    engine.reset_caches()


def exact_order(q, **filters):
    """Every match by relevance, ties newest first: the ranking the page must show."""
    from django.db import connection

    from transcripts.search import ranking

    request = SearchRequest(q=q, **filters)
    results = search_archive(request)
    where, params = engine._where(request, results.indexed)
    with connection.cursor() as cursor:
        return ranking.exact_top(cursor, where, params, results.indexed.wanted, limit=10**6)


def test_large_results_are_estimated_from_the_statement_sample(archive, monkeypatch, client):
    every_match = ids("Путин")  # exact: the test archive is small
    sampled = [i for i in every_match if i % 2 == 0]
    assert 5 < len(sampled) < len(every_match)
    sampled_everything(monkeypatch)
    results = found("Путин")
    # Scaled by all rows over the sample's rows.
    scale = Utterance.objects.count() / sum(1 for i in Utterance.objects.values_list("id", flat=True) if i % 2 == 0)
    # ... plus, counted exactly, the matches of years the sample holds none of.
    by_year = Utterance.objects.filter(id__in=every_match).values_list("id", "meeting_date__year")
    sampled_years = {y for i, y in by_year if i % 2 == 0}
    unsampled = sum(1 for _i, y in by_year if y not in sampled_years)
    assert results.total.estimated and results.total.value == round(len(sampled) * scale) + unsampled
    assert 0 < results.total.margin < 1 and results.total.margin_percent >= 1
    assert abs(sum(n for _y, n in results.year_facets) - results.total.value) <= len(results.year_facets)
    # Relevance is still over every match, not the sample's.
    assert [h.utterance.id for h in results.hits] == exact_order("Путин")[:20]
    assert not results.ranked_subset
    newest = found("Путин", sort="newest")  # date sorts walk every match, not the sample
    assert newest.total.estimated
    assert [h.utterance.id for h in newest.hits] == [
        u.id for u in Utterance.objects.filter(id__in=every_match).order_by("-meeting_date", "-meeting_id", "-seq")[:20]
    ]
    last = found("Путин", page=results.num_pages)  # every promised page has hits
    assert last.hits and len(last.hits) <= 20
    html = client.get(reverse("search"), {"q": "Путин"}).content.decode()
    assert results.total.sample_percent == 50  # id % 2 = 0
    assert "около" in html and f"оценка по выборке в 50%, ±{results.total.margin_percent}%" in html
    data = client.get(reverse("search"), {"q": "Путин", "format": "json"}).json()
    assert data["total_is_estimate"] and data["total_margin"] == pytest.approx(results.total.margin)
    assert data["total_sample_percent"] == 50
    assert all((y["margin"] > 0) == y["estimated"] == (y["year"] in sampled_years) for y in data["facets"]["years"])


def lexeme_table_read(q, **filters) -> tuple[bool, object]:
    """Whether the search read LexemeCount, and its results."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        results = found(q, **filters)
    return any("transcripts_lexemecount" in query["sql"] for query in queries.captured_queries), results


def test_a_one_word_search_takes_exact_counts_from_the_lexeme_table(archive, monkeypatch, client):
    # One form, two forms («Казахстан»: 'казахста' and 'казахстан'), an exclusion, ORs of
    # words: three lexemes, some statements holding all three (summed thrice, read back twice).
    eligible = [
        "Россия",
        "Казахстан",
        "Россия -Токаев",
        "Казахстан -Россия",
        "Россия OR вопрос",
        "Россия OR Казахстан",
        "Россия OR Казахстан -Токаев",
    ]
    exact = {q: found(q) for q in eligible}  # fewer matches than COUNTED_FROM: read, and all exact
    assert all(not r.total.estimated and not r.meetings.estimated and r.total.value for r in exact.values())
    assert exact["Казахстан"].indexed.table_counts.lexemes == ("казахста", "казахстан")
    assert exact["Россия OR Казахстан"].indexed.table_counts.lexemes == ("казахста", "казахстан", "росс")
    assert Utterance.objects.filter(
        published=True,
        search_vector=SearchQuery("'росс' & 'казахста' & 'казахстан'", config="simple", search_type="raw"),
    ).exists(), "no statement holds all three lexemes"
    monkeypatch.setattr(counting, "COUNTED_FROM", 1)
    engine.reset_caches()
    for q, truth in exact.items():
        read, counted = lexeme_table_read(q)
        assert read, q
        assert counted.total == truth.total and counted.year_totals == truth.year_totals, q
        assert counted.speaker_facets == truth.speaker_facets, q
        if "-" in q:  # an exclusion: the meetings holding the wanted word bound those with a match
            assert counted.meetings.at_most and truth.meetings.value <= counted.meetings.value <= truth.total.value, q
        else:  # any of some words: MeetingLexemes counts the meetings exactly
            assert counted.meetings == truth.meetings, q
        assert [h.utterance.id for h in counted.hits] == [h.utterance.id for h in truth.hits], q
    html = client.get(reverse("search"), {"q": "Россия"}).content.decode()
    summary = " ".join(re.search(r'<p class="summary">(.*?)</p>', html, re.S).group(1).split())
    meetings = exact["Россия"].meetings.value
    assert f"из {exact['Россия'].total.value} в {meetings} встреч" in summary and "оценка" not in summary, summary
    data = client.get(reverse("search"), {"q": "Россия", "format": "json"}).json()
    assert not data["meetings_is_estimate"] and not data["meetings_is_upper_bound"] and not data["total_is_estimate"]
    html = client.get(reverse("search"), {"q": "Россия -Токаев"}).content.decode()
    summary = " ".join(re.search(r'<p class="summary">(.*?)</p>', html, re.S).group(1).split())
    bound = found("Россия -Токаев").meetings.value
    assert f"не более чем в {bound} встреч" in summary and "все искомые слова" in summary, summary
    # Filters, two words that must both occur, a phrase, three lexemes: counted from the matches.
    putin = Speaker.objects.get(slug="vladimir-putin").id
    for q, filters in [
        ("Россия", {"kind": "talks"}),
        ("Россия", {"speakers": (putin,)}),
        ("Россия Казахстан", {}),
        ('"Россия Казахстан"', {}),
    ]:
        read, results = lexeme_table_read(q, **filters)
        assert not read and not results.meetings.estimated and not results.meetings.at_most, (q, filters)
    monkeypatch.setattr(tsquery, "TABLE_LEXEMES", 2)  # more lexemes than that: read
    assert not lexeme_table_read("Россия OR Казахстан")[0]


def test_a_sample_too_small_to_say_gives_exact_counts(archive, monkeypatch):
    sampled_everything(monkeypatch, modulus=10**9, enough=400)  # no statement is in the sample
    results = found("Путин")
    assert not results.total.estimated and results.total.value == len(ids("Путин"))
    assert results.hits and results.speaker_facets and results.year_facets


def test_vectors_follow_edits_to_titles_speakers_and_texts(archive):
    meeting = Meeting.objects.get(source_file="003_656b868d880b5e26.txt")
    assert not found("Уральская").total.value
    meeting.title = "Беседа в Уральской резиденции"
    meeting.save()
    assert {h.utterance.meeting_id for h in found("Уральская").hits} == {meeting.id}

    nazarbayev = Speaker.objects.get(slug="nursultan-nazarbayev")
    nazarbayev.name = "Елбасы Нурсултан Назарбаев"
    nazarbayev.save()
    assert {h.utterance.speaker_id for h in found("Елбасы").hits} == {nazarbayev.id}

    utterance = meeting.utterances.get(seq=2)
    utterance.text = "Совершенно новый текст про аксиоматику."
    utterance.save()
    assert [h.utterance.id for h in found("аксиоматика").hits] == [utterance.id]


def test_words_past_the_limit_are_reported_and_exclusions_kept(archive, client):
    words = " ".join(["Казахстан"] * 16)
    results = found(f"{words} Россия -Токаев")
    assert results.query.dropped_words == 1
    assert all("Токаев" not in h.utterance.text for h in results.hits)
    html = client.get(reverse("search"), {"q": f"{words} Россия -Токаев"}).content.decode()
    assert "не искали" in html or "не искалось" in html


def test_meetings_are_counted_when_statements_are_estimated_even_with_one_long_meeting(archive, monkeypatch, tmp_path):
    # One long meeting: a sample of statements over-weighs it or misses the small ones;
    # MeetingLexemes counts the meetings themselves.
    (tmp_path / "long.txt").write_text(transcript(400, lead=""), encoding="utf-8")
    assert not ingest_paths([tmp_path]).failures
    long = Meeting.objects.get(source_file="long.txt")
    sampled_everything(monkeypatch)

    def meetings_of(q, **filters):
        matched = Utterance.objects.filter(id__in=ids(q), **{f"meeting__{k}": v for k, v in filters.items()})
        return matched.values("meeting_id").distinct().count()

    results = found("сотрудничество")
    assert results.total.estimated and results.meetings == Total(meetings_of("сотрудничество"))
    same_kind = found("сотрудничество", kind=long.kind)
    assert same_kind.meetings == Total(meetings_of("сотрудничество", kind=long.kind))
    assert same_kind.meetings.value <= Meeting.objects.filter(kind=long.kind).count()
    year = dt.date(long.date.year, 1, 1), dt.date(long.date.year, 12, 31)
    in_its_year = found("сотрудничество", date_from=year[0], date_to=year[1])
    truth = Utterance.objects.filter(id__in=ids("сотрудничество"), meeting__date__range=year)
    assert in_its_year.total.estimated and in_its_year.meetings == Total(truth.values("meeting_id").distinct().count())
    # Two words that must both occur: a bound, the meetings holding both, never above the matches.
    both = found("сотрудничество Казахстан")
    assert both.total.estimated and both.meetings.at_most
    truth = meetings_of("сотрудничество Казахстан")
    holding_both = set.intersection(
        *(
            set(Utterance.objects.filter(id__in=ids(w)).values_list("meeting_id", flat=True))
            for w in ("Казахстан", "сотрудничество")
        )
    )
    assert truth <= both.meetings.value == len(holding_both) <= both.total.value
    # Nothing every match must hold: a bound of every meeting with published statements.
    anything = found("сотрудничество OR -Казахстан")
    assert anything.total.estimated and anything.meetings.at_most
    assert anything.meetings.value == min(
        Meeting.objects.filter(utterances__published=True).distinct().count(), anything.total.value
    )


def test_years_the_sample_knows_little_of_are_counted_exactly(archive, monkeypatch, tmp_path, client):
    # One long meeting of 2023 and the seeds' few statements of other years.
    (tmp_path / "long.txt").write_text(transcript(400, lead=""), encoding="utf-8")
    assert not ingest_paths([tmp_path]).failures
    truth = Counter(Utterance.objects.filter(id__in=ids("сотрудничество")).values_list("meeting_date__year", flat=True))
    assert truth[2023] >= 400 and len(truth) > 1
    sampled_everything(monkeypatch, year_margin=0.2)  # a year needs about 50 sampled matches
    results = found("сотрудничество")
    years = dict(results.year_totals)
    assert years.keys() == truth.keys()  # no year the sample missed is left out
    assert years[2023].estimated and abs(years[2023].value - truth[2023]) <= 0.2 * truth[2023]
    assert all(not t.estimated and t.value == truth[y] for y, t in years.items() if y != 2023)
    assert results.total.estimated and results.total.value == sum(t.value for t in years.values())
    html = client.get(reverse("search"), {"q": "сотрудничество"}).content.decode()
    exact_year = next(y for y in truth if y != 2023)
    assert re.search(rf">{exact_year}</a>\s*<span class=\"count\">{truth[exact_year]}</span>", html)
    assert re.search(r">2023</a>\s*<span class=\"count\">≈", html)
    assert "≈ — оценка по выборке, в пределах ±20%; остальные годы подсчитаны точно." in html
    data = client.get(reverse("search"), {"q": "сотрудничество", "format": "json"}).json()
    json_years = {y["year"]: y for y in data["facets"]["years"]}
    assert json_years[exact_year]["estimated"] is False and json_years[exact_year]["margin"] == 0
    assert json_years[2023]["estimated"] is True


def test_a_search_that_times_out_is_a_503_in_the_api_and_the_csv(archive, client, monkeypatch):
    from django.db import connection, transaction

    from transcripts.search import download

    def slow(cursor, results):
        cursor.execute("SELECT pg_sleep(2)")

    monkeypatch.setattr(engine, "STATEMENT_TIMEOUT_MS", 50)
    monkeypatch.setattr(engine, "_count_and_facets", slow)
    api = client.get("/api/v1/search/", {"q": "Казахстан"})
    assert api.status_code == 503 and api["Retry-After"] and api.json()["errors"]["q"][0]["code"] == "timeout"
    assert client.get(reverse("search"), {"q": "Казахстан", "format": "csv"}).status_code == 503
    # The count in time, then the CSV's own read of the matches too slow.
    monkeypatch.undo()

    def slow_ids(request, tsquery):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 50")
            cursor.execute("SELECT pg_sleep(2)")

    monkeypatch.setattr(download, "matching_ids", slow_ids)
    csv = client.get(reverse("search"), {"q": "Казахстан", "format": "csv"})
    assert csv.status_code == 503 and "слишком много времени" in csv.content.decode()
