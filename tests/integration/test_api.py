"""The read API (/api/v1/) and its /api/ page, on the seeds: every documented example
answers with its documented shape; filters, pages, errors, CORS, UTF-8, the HTTP cache;
nothing unpublished."""

import json

import pytest
from django.urls import reverse
from django.utils.html import escape

from transcripts.api import views as api_views
from transcripts.api.spec import ENDPOINTS, ERROR_EXAMPLES, items_of
from transcripts.models import Meeting, Speaker, Utterance

pytestmark = pytest.mark.django_db

HIDDEN = "002_dc2adfdd6de3dfa8.txt"  # unpublished in `hidden`


def api(client, path, status=200, **params):
    response = client.get(path, params)
    assert response.status_code == status, (path, params, response.content[:300])
    assert response["Access-Control-Allow-Origin"] == "*"
    if status < 300 or status >= 400:
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return response.json()
    return response


def all_pages(client, path, **params):
    """Every item of a list, following `next` from the first page."""
    data = api(client, path, **params)
    items = list(data["results"])
    while data["next"]:
        data = api(client, data["next"].removeprefix("http://testserver"))
        items += data["results"]
    return items


@pytest.fixture
def hidden(archive):
    meeting = Meeting.objects.get(source_file=HIDDEN)
    Meeting.objects.filter(pk=meeting.pk).update(is_published=False)
    return meeting


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_each_documented_example_answers_with_its_documented_shape(client, archive, endpoint):
    path = endpoint.example()
    assert path and reverse(endpoint.name, kwargs=getattr(client.get(path).resolver_match, "kwargs", {})) in path
    data = api(client, path)
    assert list(data) == list(endpoint.fields)
    if endpoint.item_fields:
        items = items_of(data, endpoint)
        assert items, f"the example of {endpoint.name} lists nothing"
        assert all(list(item) == list(endpoint.item_fields) for item in items)


def test_the_api_page_shows_every_endpoint_with_its_real_answer(client, archive):
    for prefix in ("", "/en"):
        html = client.get(f"{prefix}/api/").content.decode()
        for endpoint in ENDPOINTS:
            assert f"GET {escape(endpoint.path)}" in html and f'id="{endpoint.name}"' in html
            example = endpoint.example()
            assert f"GET http://testserver{example.replace('&', '&amp;')}</a> → 200" in html
        for path, status in ERROR_EXAMPLES:
            assert f"GET http://testserver{path}</a> → {status}" in html
    assert "Каждый пример ниже" in client.get("/api/").content.decode()  # the page in Russian
    # The examples' addresses are the API's (Russian, unprefixed) pages even on /en/api/.
    assert "http://testserver/en/meeting/" not in html and "http://testserver/meeting/" in html


def test_the_error_examples_answer_as_documented(client, archive):
    for path, status in ERROR_EXAMPLES:
        assert api(client, path, status)["status"] == status


def test_the_index_lists_the_endpoints(client, archive):
    data = api(client, "/api/v1/")
    assert [e["path"] for e in data["endpoints"]] == [e.path for e in ENDPOINTS]
    assert data["documentation"] == "http://testserver/api/"
    assert all(e["example"].startswith("http://testserver/api/v1/") for e in data["endpoints"])


def test_meetings_newest_first_and_filtered(client, archive):
    everything = all_pages(client, "/api/v1/meetings/")
    published = Meeting.objects.published()
    assert [m["slug"] for m in everything] == [m.slug for m in published.chronological().reverse()]
    in_2022 = all_pages(client, "/api/v1/meetings/", **{"from": "2022-01-01", "to": "2022-12-31"})
    assert {m["slug"] for m in in_2022} == set(published.filter(date__year=2022).values_list("slug", flat=True))
    talks = all_pages(client, "/api/v1/meetings/", kind="talks")
    assert talks and all(m["kind"] == "talks" for m in talks)
    place = next(m["location"] for m in everything if m["location"])
    there = all_pages(client, "/api/v1/meetings/", location=place)
    assert there and all(m["location"] == place for m in there)
    tokayev = Speaker.objects.get(slug="kassym-jomart-tokayev")
    spoke = set(Utterance.objects.filter(speaker=tokayev).values_list("meeting__slug", flat=True))
    assert {m["slug"] for m in all_pages(client, "/api/v1/meetings/", speaker=tokayev.slug)} == spoke
    assert len(spoke) < len(everything)


def test_pages_link_to_each_other_and_cover_the_list_once(client, archive, monkeypatch):
    monkeypatch.setattr(api_views, "PER_PAGE", 2)
    first = api(client, "/api/v1/meetings/", kind="")
    assert first["count"] == Meeting.objects.published().count() and first["num_pages"] == 3
    assert first["previous"] is None and first["next"] == "http://testserver/api/v1/meetings/?kind=&page=2"
    second = api(client, "/api/v1/meetings/", page=2)
    assert second["previous"] == "http://testserver/api/v1/meetings/" and second["next"].endswith("page=3")
    slugs = [m["slug"] for m in all_pages(client, "/api/v1/meetings/")]
    assert len(slugs) == len(set(slugs)) == first["count"]


def test_a_meeting_with_its_statements_as_the_download_has_them(client, archive):
    meeting = Meeting.objects.published().first()
    data = api(client, f"/api/v1/meetings/{meeting.slug}/")
    download = json.loads(b"".join(client.get(f"/meeting/{meeting.slug}.json").streaming_content))
    assert data["statements"]["results"] == download["utterances"]  # one serializer: the same fields
    assert {k: v for k, v in data.items() if k != "statements"} == {
        k: v for k, v in download.items() if k != "utterances"
    }
    assert data["statements"]["count"] == meeting.utterances.count()


def test_speakers_and_their_statements(client, archive):
    people = all_pages(client, "/api/v1/speakers/", kind="person")
    assert people and all(p["kind"] == "person" for p in people)
    counts = [p["statement_count"] for p in people]
    assert counts == sorted(counts, reverse=True)
    putin = api(client, "/api/v1/speakers/vladimir-putin/")
    assert putin["statements_url"] == "http://testserver/api/v1/speakers/vladimir-putin/statements/"
    statements = all_pages(client, "/api/v1/speakers/vladimir-putin/statements/")
    assert (
        len(statements) == putin["statement_count"] == Utterance.objects.filter(speaker__slug="vladimir-putin").count()
    )
    assert all(s["speaker"]["slug"] == "vladimir-putin" for s in statements)
    dates = [s["meeting"]["date"] for s in statements]
    assert dates == sorted(dates, reverse=True)


def test_a_statement_by_its_identifier(client, archive):
    u = Utterance.objects.select_related("meeting").filter(speaker__isnull=False).first()
    data = api(client, f"/api/v1/statements/{u.sid}/")
    assert data["id"] == u.sid and data["text"] == u.text and data["meeting"]["slug"] == u.meeting.slug
    assert data["url"] == f"http://testserver/statement/{u.sid}/"


def test_search_is_the_search_pages(client, archive):
    data = api(client, "/api/v1/search/", q="Назарбаева", sort="newest")
    page = client.get("/search/", {"q": "Назарбаева", "sort": "newest", "format": "json"}).json()
    assert data == {**page, "next": data["next"], "previous": None}
    assert data["total"] > 0


def test_cyrillic_is_readable_utf8(client, archive):
    content = client.get("/api/v1/speakers/kassym-jomart-tokayev/").content
    assert "Касым-Жомарт".encode() in content and b"\\u04" not in content


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/meetings/", {"page": "0"}, "page"),
        ("/api/v1/meetings/", {"page": "два"}, "page"),
        ("/api/v1/meetings/", {"page": "99"}, "page"),
        ("/api/v1/meetings/", {"page": "9" * 40}, "page"),
        ("/api/v1/meetings/", {"from": "2022-13-01"}, "from"),
        ("/api/v1/meetings/", {"to": "вчера"}, "to"),
        ("/api/v1/meetings/", {"from": "2023-01-01", "to": "2022-01-01"}, "to"),
        ("/api/v1/meetings/", {"kind": "picnic"}, "kind"),
        ("/api/v1/meetings/", {"speaker": "nobody-at-all"}, "speaker"),
        ("/api/v1/meetings/", {"location": "\x00" + "x" * 300}, "location"),
        ("/api/v1/meetings/", {"fill": "123"}, "fill"),
        ("/api/v1/speakers/", {"kind": "robot"}, "kind"),
        ("/api/v1/speakers/vladimir-putin/statements/", {"page": "-1"}, "page"),
        ("/api/v1/search/", {}, "q"),
        ("/api/v1/search/", {"q": "-Путин"}, "q"),
        ("/api/v1/search/", {"q": "мир " * 200}, "q"),
        ("/api/v1/search/", {"q": "Казахстан", "page": "999"}, "page"),
        ("/api/v1/search/", {"q": "Казахстан", "sort": "random"}, "sort"),
    ],
)
def test_bad_parameters_are_json_400s_naming_the_parameter(client, archive, path, params, field):
    data = api(client, path, 400, **params)
    assert data["status"] == 400 and field in data["errors"]
    assert data["errors"][field][0]["message"]


@pytest.mark.parametrize(
    "path",
    ["/api/v1/meetings/no-such-meeting/", "/api/v1/speakers/nobody/", "/api/v1/speakers/nobody/statements/",
     "/api/v1/statements/zzzzzzzz/", "/api/v1/nothing-here/"],
)  # fmt: skip
def test_unknown_objects_are_json_404s(client, archive, path):
    response = client.get(path)
    assert response.status_code == 404
    if path != "/api/v1/nothing-here/":  # not an endpoint: the site's 404 page
        assert response.json()["errors"]["__all__"][0]["code"] == "not_found"
        assert response["Access-Control-Allow-Origin"] == "*"


def test_other_methods_are_a_json_405(client, archive):
    response = client.post("/api/v1/meetings/")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    assert response.json()["errors"]["__all__"][0]["code"] == "method_not_allowed"


def test_unpublished_content_is_never_present(client, hidden):
    sids = set(Utterance.objects.filter(meeting=hidden).values_list("sid", flat=True))
    assert [m for m in all_pages(client, "/api/v1/meetings/") if m["slug"] == hidden.slug] == []
    api(client, f"/api/v1/meetings/{hidden.slug}/", 404)
    for sid in sids:
        api(client, f"/api/v1/statements/{sid}/", 404)
    for person in all_pages(client, "/api/v1/speakers/"):
        assert person["statement_count"] == Utterance.objects.published().filter(speaker__slug=person["slug"]).count()
        statements = all_pages(client, f"/api/v1/speakers/{person['slug']}/statements/")
        assert not {s["id"] for s in statements} & sids
    for word in ("Казахстан", "Россия", "Президент"):
        data = api(client, "/api/v1/search/", q=word)
        assert all(h["meeting"]["slug"] != hidden.slug for h in data["hits"])
    only_there = Speaker.objects.filter(utterances__meeting=hidden).exclude(utterances__published=True)
    for s in only_there:
        api(client, f"/api/v1/speakers/{s.slug}/", 404)


def test_an_old_slug_is_a_301_to_the_present_endpoint(client, archive):
    meeting = Meeting.objects.published().first()
    old = meeting.slug
    meeting.slug = "renamed-meeting"
    meeting.save()
    response = api(client, f"/api/v1/meetings/{old}/", 301, page="1")
    assert response["Location"] == "/api/v1/meetings/renamed-meeting/?page=1"


def test_answers_carry_the_archives_etag(client, archive):
    first = client.get("/api/v1/meetings/")
    assert first["ETag"] and first["Cache-Control"] == "public, no-cache"
    again = client.get("/api/v1/meetings/", headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304
    assert client.get("/api/v1/meetings/", {"page": "0"}).get("ETag") is None  # a 400 is not cached
