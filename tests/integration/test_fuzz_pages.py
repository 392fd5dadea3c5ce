"""Fuzz tests of the public pages: the search page and its JSON, the date archive,
meetings and their downloads, and speakers, in both languages, with hostile query
parameters and path segments, never answer 5xx. Bad parameters are a 4xx or a visible
error. Explicit cases cover each category of hostile value (NUL, 10 kB strings,
tsquery operators, SQL, odd Unicode, invalid UTF-8, impossible dates, bad page
numbers); hypothesis then mixes them with random text (tests/fuzzing.py)."""

import re
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from tests.fuzzing import fuzz_settings
from transcripts.importing.ingest import ingest_paths
from transcripts.importing.report import FAILED
from transcripts.models import Meeting, Speaker

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted((ROOT / "fixtures").glob("*.txt"))


# ---------------------------------------------------------------------------
# The pages


class Raw(str):
    """A query-string value sent exactly as written (bad percent escapes)."""


def encode(value) -> str:
    """A query-string component: text as UTF-8 (lone surrogates as their invalid
    3-byte forms), bytes as they are, Raw verbatim."""
    if isinstance(value, Raw):
        return str(value)
    data = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    return quote_from_bytes(data, safe="")


def query(pairs) -> str:
    return "&".join(f"{encode(k)}={encode(v)}" for k, v in pairs)


XSS = "<script>alert(1)</script>"

# Hostile text values by category; each goes into every parameter in turn.
HOSTILE_TEXT = {
    "nul": "\x00",
    "nul-inside": "Каз\x00ахстан",
    "long-10k": "x" * 10_240,
    "long-10k-words": "Казахстан " * 1024,
    "long-10k-quotes": "«" * 10_240,
    "tsquery-ops": "& | ! <-> :* ( ) ' \\",
    "tsquery-not": "!Путин",
    "tsquery-follows": "Путин <-> Токаев <2> Казахстан",
    "tsquery-weights": "Путин:AB & Токаев:*D",
    "tsquery-quote": "'Путин' | ''",
    "tsquery-backslash": "\\'\\\\",
    "or-only": "OR | ИЛИ",
    "minus-only": '- -- -«» -""',
    "sql-drop": "'; DROP TABLE transcripts_meeting; --",
    "sql-or": "' OR 1=1 --",
    "sql-union": "1' UNION SELECT NULL, version() --",
    "sql-sleep": "1); SELECT pg_sleep(10); --",
    "rtl-override": "\u202eнатсхазаК",
    "combining": "К\u0301\u0301\u0301азахстан" + "\u0308" * 200,
    "emoji": "🇷🇺🤝🇰🇿 Путин 👍🏽",
    "zero-width": "Ка\u200bзах\u200dстан\ufeff",
    "separators": "\u2028\u2029\x85",
    "dotted-i": "İstanbul İİİ",
    "ligature": "ﬁnal Ⅻ ㎏",
    "non-characters": "\uffff\ufffe\U0010ffff",
    "lone-surrogate": "Путин\udcff",
    "surrogate-pair-halves": "\ud800\udc00\ud83d",
    "invalid-utf8-ff": b"\xff",
    "invalid-utf8-overlong": b"\xc0\xaf",
    "invalid-utf8-cesu": b"\xed\xa0\x80\xed\xb0\x80",
    "bad-percent": Raw("%"),
    "bad-percent-zz": Raw("%zz%"),
    "xss": XSS,
    "html-entity": "&lt;mark&gt;&#0;",
    "headline-markers": "\x02Путин\x03",
    "whitespace": " \t\n ",
}

# Every query parameter a view reads: search.forms.SearchForm, search.views.search_page (format),
# views.meeting_detail (q), views.speaker_detail (page).
SEARCH_PARAMS = ["q", "speaker", "from", "to", "kind", "location", "sort", "page", "format"]

# page= values: negative, zero, huge, non-numeric, odd digits.
PAGE_NUMBERS = {
    "negative": "-1",
    "zero": "0",
    "minus-zero": "-0",
    "huge": str(10**30),
    "huge-negative": str(-(10**30)),
    "digits-10k": "9" * 10_240,
    "word": "abc",
    "float": "1.5",
    "exponent": "1e3",
    "nan": "NaN",
    "inf": "inf",
    "hex": "0x10",
    "nul": "1\x00",
    "arabic-indic-999": "٩٩٩",  # int() reads it as 999: past the end
    "sql": "1 OR 1=1",
}

IMPOSSIBLE_DATES = {
    "feb-30": "2023-02-30",
    "zeros": "0000-00-00",
    "five-digit-year": "99999",
    "five-digit-year-date": "99999-01-01",
    "month-13": "2022-13-01",
    "month-00": "2022-00-10",
    "day-00": "2022-01-00",
    "day-32": "2022-01-32",
    "feb-29-non-leap": "2023-02-29",
    "year-0": "0000-01-01",
    "negative-year": "-2022-01-01",
    "year-10000": "10000-01-01",
    "slashes": "2022/01/01",
    "datetime": "2022-01-01T00:00:00",
    "nul": "2022-01-01\x00",
}


@pytest.fixture(scope="module")
def archive(django_db_setup, django_db_blocker):
    """The five seeds, ingested once for the whole module (the pages only read) in a
    transaction that is rolled back afterwards, so other modules never see them.
    Each test's own transaction is a savepoint inside it."""
    with django_db_blocker.unblock(), transaction.atomic():
        report = ingest_paths(SEEDS)
        assert report.count(FAILED) == 0, report.summary()
        meetings = list(Meeting.objects.order_by("date", "id").values_list("slug", flat=True))
        people = Speaker.objects.filter(kind=Speaker.Kind.PERSON)
        busiest = max(people, key=lambda s: s.utterances.count())
        yield {"meetings": meetings, "speaker": busiest.slug, "speakers": list(people.values_list("slug", flat=True))}
        transaction.set_rollback(True)


def fetch(path: str, query_string: str = ""):
    """GET through the whole Django stack; an exception in a view fails the test."""
    url = f"{path}?{query_string}" if query_string else path
    with transaction.atomic():  # a failed request cannot spoil the next one's transaction
        response = Client().get(url)
        transaction.set_rollback(True)
    assert response.status_code < 500, f"{response.status_code} for {url[:300]!r}"
    return response


def assert_no_injected_markup(response):
    if response["Content-Type"].startswith("text/html"):
        assert b"<script>alert(1)" not in response.content


def shows_an_error(response) -> bool:
    return 'role="alert"' in response.content.decode()


def check_search(pairs, hostile: str, *, html: bool = True):
    """One hostile parameter on the search page, as JSON and (html=True) as HTML:
    a JSON error names that parameter, and the HTML page then shows an error too."""
    as_json = fetch("/search/", query([*pairs, ("format", "json")]))
    if not html:
        assert as_json.status_code in (200, 400, 404)
        if as_json.status_code != 200:
            assert hostile in as_json.json()["errors"], as_json.json()
        return as_json
    as_html = fetch("/search/", query(pairs))
    assert_no_injected_markup(as_html)
    if as_json.status_code == 200:
        assert "hits" in as_json.json()
        assert as_html.status_code == 200 and not shows_an_error(as_html)
    elif as_json.status_code == 400:
        assert hostile in as_json.json()["errors"], as_json.json()
        assert as_html.status_code == 200 and shows_an_error(as_html)
    else:
        assert as_json.status_code == 404 and hostile == "page"
        assert as_html.status_code == 404
    return as_json


@pytest.mark.django_db
@pytest.mark.parametrize("value", HOSTILE_TEXT.values(), ids=HOSTILE_TEXT.keys())
def test_search_survives_hostile_text_in_every_parameter(archive, value):
    for param in SEARCH_PARAMS:
        if param == "format":
            # Any format but "json" is the HTML page.
            response = fetch("/search/", query([("q", "Казахстан"), ("format", value)]))
            assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
            continue
        base = [] if param == "q" else [("q", "Казахстан")]
        # The HTML of the closed parameters is checked below, with fewer values.
        check_search([*base, (param, value)], param, html=param in ("q", "location"))


@pytest.mark.django_db
@pytest.mark.parametrize("param", ["speaker", "kind", "sort", "page", "from", "to"])
@pytest.mark.parametrize(
    "value", ["x" * 10_240, "'; DROP TABLE transcripts_meeting; --", XSS, "\x00"], ids=["10k", "sql", "xss", "nul"]
)
def test_a_hostile_value_in_a_closed_parameter_is_an_error(archive, param, value):
    # These parameters accept only known values: anything else must be reported.
    response = check_search([("q", "Казахстан"), (param, value)], param)
    assert response.status_code == 400


@pytest.mark.django_db
def test_tsquery_operators_and_sql_are_searched_as_plain_words(archive):
    plain = fetch("/search/", query([("q", "Путин Токаев"), ("format", "json")])).json()
    for hostile in ("Путин & Токаев", "Путин <-> Токаев", "(Путин:* & Токаев')", "!Путин \\Токаев:*"):
        data = fetch("/search/", query([("q", hostile), ("format", "json")])).json()
        assert data["total"] == plain["total"] > 0, hostile
    # SQL is words too (found nowhere); the tables are still there afterwards.
    response = fetch("/search/", query([("q", "'; DROP TABLE transcripts_meeting; --"), ("format", "json")]))
    assert response.status_code == 200 and response.json()["total"] == 0
    assert Meeting.objects.count() == 5


@pytest.mark.django_db
@pytest.mark.parametrize("value", PAGE_NUMBERS.values(), ids=PAGE_NUMBERS.keys())
def test_bad_page_numbers(archive, value):
    # The search page: anything but a number from 1 up is a form error; past the end is a 404.
    response = check_search([("q", "Казахстан"), ("page", value)], "page")
    assert response.status_code in (400, 404)
    # A speaker's statements: Django's Paginator.get_page falls back to the first or last page.
    speaker = fetch(f"/speakers/{archive['speaker']}/", query([("page", value)]))
    assert speaker.status_code == 200
    assert re.search(r'<ol class="statements">\s*<li', speaker.content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize("value", IMPOSSIBLE_DATES.values(), ids=IMPOSSIBLE_DATES.keys())
@pytest.mark.parametrize("field", ["from", "to"])
def test_impossible_dates_in_the_search_are_errors(archive, field, value):
    response = check_search([("q", "Казахстан"), (field, value)], field)
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31"])
def test_the_extreme_possible_dates_are_accepted(archive, value):
    assert check_search([("q", "Казахстан"), ("from", value)], "from").status_code == 200
    assert check_search([("q", "Казахстан"), ("to", value)], "to").status_code == 200


ARCHIVE_PATHS = {
    # Impossible dates in the date archive are 404s.
    "/meetings/2023/02/30/": 404,
    "/meetings/2023/02/29/": 404,
    "/meetings/0000/": 404,
    "/meetings/0000/00/": 404,
    "/meetings/0000/00/00/": 404,
    "/meetings/99999/": 404,
    "/meetings/99999/01/01/": 404,
    "/meetings/9999/": 404,
    "/meetings/2022/13/": 404,
    "/meetings/2022/00/": 404,
    "/meetings/2022/99/": 404,
    "/meetings/2022/02/00/": 404,
    "/meetings/2022/02/32/": 404,
    "/meetings/-1/": 404,
    "/meetings/2022/-1/": 404,
    "/meetings/2022a/": 404,
    "/meetings/%00/": 404,
    "/meetings/2022%00/": 404,
    "/meetings/%FF/": 404,
    "/meetings/%C0%AF/": 404,
    "/meetings/2022/02/10%00/": 404,
    "/meetings/" + "9" * 10_240 + "/": 404,
    "/meetings/%D9%A2%D9%A0%D9%A2%D9%A2/": 404,  # 2022 in Arabic-Indic digits
    # The first and last years a calendar can show, and short months and days.
    "/meetings/0001/": 200,
    "/meetings/1/01/01/": 200,
    "/meetings/9998/": 200,
    "/meetings/9998/12/": 200,
    "/meetings/9998/12/31/": 200,
    "/meetings/2022/2/10/": 200,
    "/meetings/2024/02/29/": 200,
}


@pytest.mark.django_db
@pytest.mark.parametrize("prefix", ["", "/en"])
@pytest.mark.parametrize(("path", "status"), ARCHIVE_PATHS.items(), ids=[p[:40] for p in ARCHIVE_PATHS])
def test_date_archive_paths(archive, prefix, path, status):
    assert fetch(prefix + path).status_code == status


HOSTILE_SLUGS = [
    "%00",
    "a%00b",
    "x" * 10_240,
    "'%3B%20DROP%20TABLE%20transcripts_meeting%3B%20--",
    "'%20OR%201=1%20--",
    "..%2F..%2Fetc%2Fpasswd",
    "%FF",
    "%C0%AF",
    "%ED%A0%80",
    "%E2%80%AE",
    "%F0%9F%87%B7%F0%9F%87%BA",
    "%26%7C!%3C-%3E:*",
    "-",
    "_",
]


@pytest.mark.django_db
@pytest.mark.parametrize("prefix", ["", "/en"])
@pytest.mark.parametrize("slug", HOSTILE_SLUGS, ids=[s[:30] for s in HOSTILE_SLUGS])
def test_hostile_slugs_are_404(archive, prefix, slug):
    for template in ("/meeting/{}/", "/meeting/{}.txt", "/meeting/{}.json", "/speakers/{}/"):
        url = prefix + template.format(slug)
        assert fetch(url).status_code == 404, url


@pytest.mark.django_db
@pytest.mark.parametrize("value", HOSTILE_TEXT.values(), ids=HOSTILE_TEXT.keys())
def test_meeting_pages_with_a_hostile_query(archive, value):
    slug = archive["meetings"][1]
    page = fetch(f"/meeting/{slug}/", query([("q", value)]))
    assert page.status_code == 200
    assert_no_injected_markup(page)
    # The downloads read no parameter: their one address, without any.
    for suffix in (".txt", ".json"):
        download = fetch(f"/meeting/{slug}{suffix}", query([("q", value), ("page", value)]))
        assert download.status_code == 301 and download["Location"] == f"/meeting/{slug}{suffix}"


@pytest.mark.django_db
def test_too_many_parameters_and_huge_names(archive):
    many = query([("q", "Казахстан")] + [("speaker", "x")] * 1001)
    assert fetch("/search/", many).status_code == 400  # Django's DATA_UPLOAD_MAX_NUMBER_FIELDS
    huge_name = query([("q", "Казахстан"), ("x" * 10_240, "1"), ("\x00", "\x00")])
    response = fetch("/search/", huge_name)  # parameters no view reads: the address without them
    assert response.status_code == 301 and response["Location"] == "/search/?" + query([("q", "Казахстан")])


@pytest.mark.django_db
@pytest.mark.parametrize("category", ["nul", "long-10k", "tsquery-ops", "sql-drop", "rtl-override", "invalid-utf8-ff"])
def test_english_pages_with_hostile_values(archive, category):
    value = HOSTILE_TEXT[category]
    as_json = fetch("/en/search/", query([("q", value), ("format", "json")]))
    assert as_json.status_code == 200 or (as_json.status_code == 400 and "q" in as_json.json()["errors"])
    bad_filters = fetch("/en/search/", query([("q", "Kazakhstan"), ("from", value), ("page", value)]))
    assert bad_filters.status_code == 200 and shows_an_error(bad_filters)
    assert fetch(f"/en/meeting/{archive['meetings'][0]}/", query([("q", value)])).status_code == 200
    assert fetch(f"/en/speakers/{archive['speaker']}/", query([("page", value)])).status_code == 200


# ---------------------------------------------------------------------------
# Random combinations of the above


def hostile_value():
    numbers = st.integers(-(10**31), 10**31).map(str)
    dates = st.tuples(st.integers(-1, 99999), st.integers(-1, 99), st.integers(-1, 99)).map(
        lambda ymd: f"{ymd[0]:04d}-{ymd[1]:02d}-{ymd[2]:02d}"
    )
    atoms = st.sampled_from([*HOSTILE_TEXT.values(), *PAGE_NUMBERS.values(), *IMPOSSIBLE_DATES.values()])
    text = st.text(max_size=60)
    joined = st.lists(st.one_of(atoms, text), min_size=2, max_size=4).map(
        lambda parts: b"".join(p if isinstance(p, bytes) else p.encode("utf-8", "surrogatepass") for p in parts)
    )
    return st.one_of(atoms, text, numbers, dates, joined, st.binary(max_size=30))


def path_segment():
    return st.one_of(
        st.integers(-1, 10**6).map(str),
        st.sampled_from(["0000", "00", "13", "32", "%00", "%FF", "%C0%AF", "x" * 10_240, "2022%00"]),
        st.text(alphabet="0123456789", min_size=1, max_size=6),
    )


@st.composite
def hostile_request(draw, archive):
    prefix = draw(st.sampled_from(["", "/en"]))
    slug = draw(st.one_of(st.sampled_from(archive["meetings"]), st.sampled_from(HOSTILE_SLUGS)))
    speaker = draw(st.one_of(st.sampled_from(archive["speakers"]), st.sampled_from(HOSTILE_SLUGS)))
    year, month, day = draw(path_segment()), draw(path_segment()), draw(path_segment())
    path = draw(
        st.sampled_from(
            [
                "/search/",
                "/",
                "/meetings/",
                f"/meetings/{year}/",
                f"/meetings/{year}/{month}/",
                f"/meetings/{year}/{month}/{day}/",
                f"/meeting/{slug}/",
                f"/meeting/{slug}.txt",
                f"/meeting/{slug}.json",
                "/speakers/",
                f"/speakers/{speaker}/",
            ]
        )
    )
    names = st.one_of(st.sampled_from(SEARCH_PARAMS), st.text(max_size=10))
    pairs = draw(st.lists(st.tuples(names, hostile_value()), max_size=6))
    if draw(st.booleans()):
        pairs.insert(0, ("q", draw(st.sampled_from(["Казахстан", "Путин", "Токаева", "сотрудничество"]))))
    return prefix + path, pairs


# The test's database transaction is shared by its examples on purpose: every
# request runs in its own rolled-back savepoint (fetch), so none affects the next.
@pytest.mark.django_db
@fuzz_settings(150, HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large)
@given(data=st.data())
def test_random_hostile_requests(archive, data):
    path, pairs = data.draw(hostile_request(archive))
    response = fetch(path, query(pairs))
    assert_no_injected_markup(response)
    if response["Content-Type"].startswith("application/json") and path.endswith("/search/"):
        # The search's JSON: results, or errors that say which parameter was wrong.
        assert "hits" in response.json() if response.status_code == 200 else response.json()["errors"]
