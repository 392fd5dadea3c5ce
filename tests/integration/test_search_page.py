"""The search page as a reader uses it: filter chips, the speaker picker, the line above
the hits and its plurals, the people a query names, and snippets that show the phrase
and are cut at word boundaries."""

import html
import re
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from tests.documents import transcript
from transcripts.importing.ingest import ingest_paths
from transcripts.models import Speaker
from transcripts.search import highlight
from transcripts.search.engine import SearchRequest, Total, search_archive

pytestmark = pytest.mark.django_db

# One long statement: a loose «нефть» early, the phrase in the middle, then more text.
LONG = (
    "Начну с того, что нефть остаётся важной темой для наших стран. "
    + "Мы подробно обсуждали промышленную кооперацию и транспортные коридоры. " * 6
    + "Главное сегодня — нефть и газ, поставки которых растут из года в год. "
    + "Кроме того, говорили о культуре, образовании и молодёжных обменах. " * 6
)
NEITHER = "У нас нет ни нефти, ни газа, зато есть зерно и металлы."
TAGS = "Сказал <b>жирно</b> про нефть и газ & <script>alert(1)</script> — вот."


@pytest.fixture
def archive(seeds, tmp_path):
    documents = {
        "energy.txt": transcript(45, title="Переговоры о гидроэнергетике", url="http://example.org/energy", lead=""),
        "oil.txt": transcript(
            [("В.Путин", LONG), ("К.-Ж.Токаев", NEITHER), ("В.Путин", TAGS)],
            title="Беседа о сырье",
            start="2021-05-20 12:00:00",
            place="Сочи",
            url="http://example.org/oil",
            lead="",
        ),
    }
    for name, text in documents.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert not ingest_paths([*seeds, tmp_path]).failures


def page(client, language="ru", **params):
    response = client.get("/search/" if language == "ru" else "/en/search/", params)
    assert response.status_code == 200
    return response.content.decode()


def chips(text):
    """(accessible name, visible label, href) of each chip."""
    found = re.findall(r'<a class="chip" href="([^"]+)" aria-label="([^"]+)">(.*?)<span', text)
    return [(html.unescape(name), html.unescape(label), html.unescape(href)) for href, name, label in found]


def params_of(href):
    return parse_qs(urlsplit(href).query)


def hit_count(text):
    return text.count('<li class="hit">')


# --- filter chips -------------------------------------------------------------


def test_each_applied_filter_is_a_chip_that_removes_only_itself(archive, client):
    asked = {
        "q": "Казахстан",
        "speaker": "vladimir-putin",
        "from": "2022-01-01",
        "to": "2022-12-31",
        "kind": "talks",
        "location": "Москва, Кремль",
        "sort": "newest",
        "page": "1",
    }
    text = page(client, **asked)
    shown = chips(text)
    assert [name for name, _label, _href in shown] == [
        "Убрать фильтр: Владимир Владимирович Путин",
        "Убрать фильтр: с 1 января 2022 г.",
        "Убрать фильтр: по 31 декабря 2022 г.",
        "Убрать фильтр: Тип: переговоры",
        "Убрать фильтр: Место: Москва, Кремль",
    ]
    removed = ["speaker", "from", "to", "kind", "location"]
    for (_name, _label, href), name in zip(shown, removed, strict=True):
        kept = params_of(href)
        assert name not in kept and "page" not in kept  # a different search starts at page 1
        assert kept == {k: [v] for k, v in asked.items() if k not in (name, "page")}
        assert len(chips(page(client, **{k: v[0] for k, v in kept.items()}))) == 4


def test_a_chip_removes_one_speaker_of_several(archive, client):
    text = page(client, q="Казахстан", speaker=["vladimir-putin", "kassym-jomart-tokayev"])
    by_name = {name: href for name, _label, href in chips(text)}
    href = by_name["Убрать фильтр: Касым-Жомарт Кемелевич Токаев"]
    assert params_of(href)["speaker"] == ["vladimir-putin"]
    # The picker shows the first; the second stays in the form as a hidden field.
    assert re.search(r'<option value="vladimir-putin" selected>', text)
    assert '<input type="hidden" name="speaker" value="kassym-jomart-tokayev">' in text


def test_chips_widen_the_results_and_speak_english(archive, client):
    narrow = page(client, "en", q="Казахстан", speaker="kassym-jomart-tokayev", kind="talks")
    wide = page(client, "en", q="Казахстан")
    assert [name for name, _l, _h in chips(narrow)] == [
        "Remove filter: Kassym-Jomart Tokayev",  # the Latin name on English pages
        "Remove filter: Kind: talks",
    ]
    href = chips(narrow)[1][2]
    assert href.startswith("/en/search/?")
    without_kind = client.get(href).content.decode()
    assert hit_count(narrow) < hit_count(without_kind) <= hit_count(wide)
    assert chips(wide) == []


def test_rejected_filters_make_no_chips(archive, client):
    text = page(client, q="Казахстан", speaker="nobody", kind="party", **{"from": "2022-02-30"})
    assert chips(text) == []
    assert "Неизвестный выступающий" in text and "Введите правильную дату" in text


# --- the speaker picker ---------------------------------------------------------


def picker(text):
    select = re.search(r'<select name="speaker" id="id_speaker">(.*?)</select>', text, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"[^>]*>(.*?)</option>', select)


def test_the_picker_lists_people_with_their_statement_counts(archive, client):
    options = picker(page(client))
    assert options[0] == ("", "любой выступающий")
    people = Speaker.objects.filter(kind=Speaker.Kind.PERSON)
    expected = {
        s.slug: f"{s.name} ({s.utterances.filter(published=True).count()})"
        for s in people
        if s.utterances.filter(published=True).exists()
    }
    assert dict(options[1:]) == expected
    assert "vopros" not in dict(options)  # roles are not people
    assert [name for _slug, name in options[1:]] == sorted(name for _slug, name in options[1:])


def test_any_speaker_is_no_filter(archive, client):
    everyone = page(client, q="Казахстан", speaker="")
    assert "Неизвестный выступающий" not in everyone
    assert hit_count(everyone) == hit_count(page(client, q="Казахстан"))
    data = client.get("/search/", {"q": "Казахстан", "speaker": "", "format": "json"}).json()
    assert data["total"] == search_archive(SearchRequest(q="Казахстан")).total.value


def test_the_picker_script_is_a_static_file_and_the_page_has_no_inline_script(archive, client):
    text = page(client, q="Казахстан")
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", text, re.S)
    assert scripts and all('src="/static/js/' in attrs and not body.strip() for attrs, body in scripts)
    assert client.get("/static/js/speaker-picker.js").status_code == 200


# --- the line above the hits -------------------------------------------------------


def test_results_line_on_each_page(archive, client):
    # Every statement of the meeting matches by its title.
    first = page(client, q="гидроэнергетике")
    assert "Результаты 1–20 из 45" in first and "в 1 встрече" in first
    assert "Результаты 41–45 из 45" in page(client, q="гидроэнергетике", page=3)
    assert "Results 21–40 of 45 in 1 meeting" in " ".join(page(client, "en", q="гидроэнергетике", page=2).split())


def test_a_single_result_says_so(archive, client):
    text = page(client, q="зерно")
    assert "Результат 1 из 1" in text and "в 1 встрече" in text
    assert "Result 1 of 1" in page(client, "en", q="зерно")


def summary(total, meetings, *, first=1, shown=20, estimated=False, at_most=False, language="ru"):
    results = SimpleNamespace(
        first_index=first,
        hits=[None] * shown,
        total=Total(total, estimated, sample_percent=10 if estimated else 0),
        meetings=Total(meetings, at_most=at_most),
    )
    with translation.override(language):
        text = render_to_string("transcripts/partials/count.html", {"results": results})
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split()).replace("\xa0", " ")


@pytest.mark.parametrize(
    ("meetings", "words"),
    [
        (1, "в 1 встрече"),
        (2, "в 2 встречах"),
        (5, "в 5 встречах"),
        (11, "в 11 встречах"),
        (21, "в 21 встрече"),
        (22, "в 22 встречах"),
        (111, "в 111 встречах"),
        (1231, "в 1 231 встрече"),
    ],
)
def test_results_line_plurals(meetings, words):
    assert summary(3898, meetings) == f"Результаты 1–20 из 3 898 {words}"


def test_results_line_for_an_estimate():
    assert summary(219_734, 5_412, estimated=True).startswith(
        "Результаты 1–20, всего около 220 000 в 5 412 встречах (оценка по выборке"
    )
    assert summary(219_734, 5_412, estimated=True, language="en").startswith(
        "Results 1–20 of about 220,000 in 5,412 meetings (estimated"
    )
    bound = summary(219_734, 5_412, estimated=True, at_most=True)
    assert "около 220 000 не более чем в 5 412 встречах (оценка по выборке" in bound
    assert bound.endswith("(встречи, где есть все искомые слова, — возможно, в разных высказываниях)")
    assert summary(3898, 21, at_most=True) == (
        "Результаты 1–20 из 3 898 не более чем в 21 встрече"
        " (встречи, где есть все искомые слова, — возможно, в разных высказываниях)"
    )
    assert summary(3898, 2, at_most=True, language="en").startswith("Results 1–20 of 3,898 in at most 2 meetings (")
    assert summary(3898, 1, language="en") == "Results 1–20 of 3,898 in 1 meeting"
    assert summary(1001, 2, first=1001, shown=1, language="en") == "Result 1,001 of 1,001 in 2 meetings"


# --- people the query names -------------------------------------------------------------


def test_people_the_query_names_link_to_their_pages(archive, client):
    tokayev = Speaker.objects.get(slug="kassym-jomart-tokayev")
    n = tokayev.utterances.filter(published=True).count()
    text = page(client, q="Токаев")
    box = re.search(r'<p class="people">(.*?)</p>', text, re.S).group(1)
    assert "Люди:" in box and '<a href="/speakers/kassym-jomart-tokayev/">Касым-Жомарт Кемелевич Токаев</a>' in box
    assert n == 28 and "28 высказываний" in box  # the seeds' and the test documents' turns
    assert text.index('class="people"') < text.index('class="hits"')
    assert '<a href="/en/speakers/kassym-jomart-tokayev/">' in page(client, "en", q="Токаев")
    assert 'class="people"' not in page(client, q="гидроэнергетике")


def people_box(pairs, language="ru"):
    speakers = [(Speaker(slug=f"s{i}", name=f"Имя {i}"), n) for i, n in enumerate(pairs)]
    with translation.override(language):
        text = render_to_string("transcripts/partials/people.html", {"people": speakers})
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split()).replace("\xa0", " ")


def test_people_box_plurals():
    assert people_box([1, 3, 5, 21, 1234]) == (
        "Люди: Имя 0 — 1 высказывание ; Имя 1 — 3 высказывания ; Имя 2 — 5 высказываний ;"
        " Имя 3 — 21 высказывание ; Имя 4 — 1 234 высказывания"
    )
    # English: a transliteration where the speaker has no Latin name, with the Russian beside it.
    assert people_box([1, 1234], "en") == ("People: Imia 0 (Имя 0) — 1 statement ; Imia 1 (Имя 1) — 1,234 statements")
    assert people_box([]) == ""


# --- snippets -------------------------------------------------------------------


def snippet_of(q, needle):
    (hit,) = [h for h in search_archive(SearchRequest(q=q)).hits if needle in h.utterance.text]
    return str(hit.snippet), hit.utterance.text


def assert_cut_at_words(snippet, text):
    """The snippet is a stretch of the text that starts and ends at word boundaries,
    with «…» exactly where it was cut."""
    shown = html.unescape(re.sub(r"</?mark>", "", snippet))
    body = shown.removeprefix("… ").removesuffix(" …")
    at = text.find(body)
    assert at >= 0, shown
    assert shown.startswith("… ") == bool(text[:at].strip())
    assert shown.endswith(" …") == bool(text[at + len(body) :].strip())
    assert at == 0 or text[at - 1].isspace()
    end = at + len(body)
    assert end == len(text) or text[end].isspace()


def test_a_phrase_is_marked_as_a_whole_and_its_loose_words_are_not(archive):
    snippet, text = snippet_of('"нефть и газ"', "Главное сегодня")
    assert "<mark>нефть и газ</mark>" in snippet
    assert snippet.count("<mark>") == 1  # not the loose «нефть» of the first sentence
    assert snippet.startswith("… ") and snippet.endswith(" …")
    assert_cut_at_words(snippet, text)


def test_a_phrase_with_another_word_in_place_of_its_stop_word(archive):
    # PostgreSQL keeps only the stop word's place: «нефти, ни газа» matches too.
    snippet, _text = snippet_of('"нефть и газ"', "ни нефти")
    assert "<mark>нефти, ни газа</mark>" in snippet


def test_words_of_an_unquoted_query_are_marked_one_by_one(archive):
    snippet, text = snippet_of("нефть газ", "Главное сегодня")
    assert "<mark>нефть</mark> и <mark>газ</mark>" in snippet
    assert_cut_at_words(snippet, text)


def test_the_window_holds_the_most_terms(archive):
    # «культуре» and «образовании» stand together only after the phrase: the window is there.
    snippet, text = snippet_of("культуре образовании", "Главное сегодня")
    assert "<mark>культуре</mark>, <mark>образовании</mark>" in snippet
    assert_cut_at_words(snippet, text)


def test_a_phrase_snippet_stays_escaped(archive):
    snippet, _text = snippet_of('"нефть и газ"', "жирно")
    assert "&lt;b&gt;жирно&lt;/b&gt; про <mark>нефть и газ</mark> &amp; &lt;script&gt;" in snippet
    assert re.sub(r"</?mark>", "", snippet).count("<") == 0


@pytest.mark.parametrize("q", ["Казахстан", "Токаев", "Президент", "сотрудничество", '"в Москве"'])
def test_seed_snippets_start_and_end_at_word_boundaries(archive, q):
    results = search_archive(SearchRequest(q=q))
    assert results.hits
    for hit in results.hits:
        assert_cut_at_words(str(hit.snippet), hit.utterance.text)


def window(text, *terms, size=60):
    finder = highlight.Finder([tuple((w,) for w in term.split()) for term in terms])
    return highlight.snippet_window(text, finder, size=size)


def test_snippet_window_never_splits_a_word():
    text = "слово " * 30 + "Касым-Жомарт Кемелевич сказал: " + "слово " * 30
    shown = window(text, "жомарт")
    assert shown.startswith("… слово ") and shown.endswith(" …") and "Касым-Жомарт" in shown
    assert_cut_at_words(shown, text)
    # A token far longer than the window is split only at a sign inside it.
    token = "а" * 50 + "/" + "б" * 50 + "-жомарт-" + "в" * 200
    assert window(token, "жомарт").startswith("… б")


def test_snippet_window_prefers_a_sentence_start():
    text = "Первое предложение здесь. Второе: нефть и газ. " + "Хвост текста " * 20
    assert window(text, "газ", size=60).startswith("… Второе: нефть и газ.")


def test_merged_marks_come_only_from_the_headline_markers():
    shown = highlight.Window("<b> нефть и газ")
    shown.phrases = ((4, 15),)
    marked = "<b> \x02нефть\x03 и \x02газ\x03"
    assert highlight.mark_terms(highlight.merge_phrases(marked, shown)) == "&lt;b&gt; <mark>нефть и газ</mark>"
    # A phrase ts_headline marked nothing of stays unmarked; a text other than the
    # window measured keeps ts_headline's marks as they are.
    assert highlight.merge_phrases("<b> нефть и газ", shown) == "<b> нефть и газ"
    assert highlight.merge_phrases("x \x02нефть\x03", shown) == "x \x02нефть\x03"
