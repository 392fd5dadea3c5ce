"""HTTP caching of public pages: validators from the archive's change stamp, a 304
without rendering, and invalidation by ingest and by admin edits."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.admin_forms import change_url, form_data
from transcripts import http_cache
from transcripts.importing.ingest import ingest_paths
from transcripts.models import ArchiveChange, Meeting, OldSlug, RetiredStatement, Speaker, Utterance

pytestmark = pytest.mark.django_db

PRESS = "000_c5b0e3a29709c268.txt"


def revalidate(client, url, response):
    return client.get(url, headers={"if-none-match": response["ETag"]})


@pytest.mark.parametrize("url", ["/", "/en/", "/meetings/2022/02/10/", "/search/?q=Назарбаев", "/speakers/"])
def test_public_pages_carry_validators_and_answer_304_without_rendering(client, archive, url):
    first = client.get(url)
    assert first.status_code == 200
    assert first["ETag"].startswith('"') and first["Last-Modified"].endswith("GMT")
    assert first["Cache-Control"] == "public, no-cache"
    with CaptureQueriesContext(connection) as queries:
        again = revalidate(client, url, first)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == first["ETag"]
    assert len(queries) == 1, [q["sql"] for q in queries]  # the stamp, nothing of the page
    since = client.get(url, headers={"if-modified-since": first["Last-Modified"]})
    assert since.status_code == 304


def test_the_server_keeps_rendered_pages_until_the_archive_changes(client, archive):
    first = client.get("/speakers/")
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/speakers/")
    assert again.status_code == 200 and again.content == first.content and again["ETag"] == first["ETag"]
    assert len(queries) == 1  # the stamp: the page came from the cache
    speaker = Speaker.objects.get(slug="vladimir-putin")
    speaker.name = "Путин Владимир Владимирович"
    speaker.save()
    changed = client.get("/speakers/")
    assert "Путин Владимир Владимирович" in changed.content.decode() and changed["ETag"] != first["ETag"]


def test_a_meeting_page_and_its_downloads_are_cacheable(client, archive):
    slug = Meeting.objects.get(source_file=PRESS).slug
    for url in [f"/meeting/{slug}/", f"/meeting/{slug}.txt", f"/meeting/{slug}.json", f"/en/meeting/{slug}/"]:
        response = client.get(url)
        assert response.status_code == 200 and response["Cache-Control"] == "public, no-cache", url
        assert revalidate(client, url, response).status_code == 304


def test_an_ingest_that_changes_the_archive_invalidates_pages(client, archive):
    first = client.get("/")
    unchanged = ingest_paths([archive])
    assert unchanged.count("unchanged") == 5
    assert revalidate(client, "/", first).status_code == 304  # nothing new: caches stay valid
    (archive / "extra.txt").write_text(
        "\nВстреча с акимом Алматы\n\n\n2024-03-01 12:00:00\n\nМосква, Кремль\n\nЛид.\n"
        "В.Путин: Добрый день, уважаемые коллеги.\n\n\n\nhttp://example.org/akim",
        encoding="utf-8",
    )
    assert ingest_paths([archive]).count("added") == 1
    fresh = revalidate(client, "/", first)
    assert fresh.status_code == 200 and fresh["ETag"] != first["ETag"]
    assert "Встреча с акимом Алматы" in fresh.content.decode()


def test_an_admin_edit_invalidates_the_public_page(client, admin_client, archive):
    meeting = Meeting.objects.get(source_file=PRESS)
    url = meeting.get_absolute_url()
    first = client.get(url)
    statement = Utterance.objects.filter(meeting=meeting).order_by("seq").first()
    data = form_data(admin_client.get(change_url(meeting)))
    prefix = next(k for k, v in data.items() if k.endswith("-id") and str(v) == str(statement.pk))[: -len("id")]
    data[prefix + "text"] = "Правленный редактором текст заявления."
    assert admin_client.post(change_url(meeting), data).status_code == 302
    assert Utterance.objects.get(pk=statement.pk).text == "Правленный редактором текст заявления."
    fresh = revalidate(client, url, first)
    assert fresh.status_code == 200 and fresh["ETag"] != first["ETag"]
    assert "Правленный редактором текст заявления." in fresh.content.decode()


def test_signed_in_pages_admin_and_errors_are_not_shared(client, admin_client, archive):
    assert "ETag" not in admin_client.get("/")  # an editor's session: their own view
    assert "public" not in admin_client.get("/admin/").get("Cache-Control", "")
    missing = client.get("/meeting/no-such-meeting/")
    assert missing.status_code == 404 and "ETag" not in missing
    assert "ETag" not in client.get("/healthz")


def test_a_new_release_changes_every_etag(client, archive, settings):
    first = client.get("/")
    settings.RELEASE = "next-release"
    http_cache.release.cache_clear()
    try:
        assert revalidate(client, "/", first).status_code == 200
    finally:
        http_cache.release.cache_clear()


def test_a_max_age_lets_caches_reuse_pages(client, archive, settings):
    settings.ARCHIVE_CACHE_MAX_AGE = 300
    assert client.get("/")["Cache-Control"] == "public, max-age=300"


def test_without_the_stamp_row_pages_are_served_uncached(client, archive):
    ArchiveChange.objects.all().delete()
    response = client.get("/")
    assert response.status_code == 200 and "ETag" not in response


def test_stored_pages_are_kept_per_host_because_citations_name_it(client, archive, settings):
    settings.ALLOWED_HOSTS = ["a.example.org", "b.example.org"]
    url = Meeting.objects.get(source_file=PRESS).get_absolute_url()
    first = client.get(url, headers={"host": "a.example.org"}).content.decode()
    assert "http://a.example.org/meeting/" in first and "URL: http://a.example.org/statement/" in first
    other = client.get(url, headers={"host": "b.example.org"}).content.decode()
    assert "http://b.example.org/statement/" in other and "a.example.org" not in other


MISSING = ["/meeting/does-not-exist/", "/speakers/nobody/", "/meetings/2022/02/30/", "/search/?q=Путин&page=99999"]


@pytest.mark.parametrize("url", MISSING)
@pytest.mark.parametrize("validator", ["*", "current"])
def test_a_missing_page_is_a_404_whatever_the_validators_say(client, archive, url, validator):
    current = client.get("/")["ETag"]  # one tag for the whole site
    response = client.get(url, headers={"if-none-match": current if validator == "current" else validator})
    assert response.status_code == 404
    assert client.get(url, headers={"if-none-match": current}).status_code == 404  # also once rendered before


def test_a_bad_search_stays_a_400_whatever_the_validators_say(client, archive):
    current = client.get("/")["ETag"]
    response = client.get("/search/", {"q": "Путин", "page": "x", "format": "json"}, headers={"if-none-match": "*"})
    assert response.status_code == 400 and "page" in response.json()["errors"]
    response = client.get(
        "/search/", {"q": "Путин", "sort": "nope", "format": "json"}, headers={"if-none-match": current}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("url", ["/", "/speakers/", "/search/?q=Назарбаев"])
def test_a_page_that_exists_answers_304_to_a_star_and_to_its_tag(client, archive, url):
    assert client.get(url, headers={"if-none-match": "*"}).status_code == 304  # not stored yet: rendered first
    first = client.get(url)
    assert revalidate(client, url, first).status_code == 304


def test_unknown_parameters_redirect_to_the_page_without_them(client, archive):
    slug = Meeting.objects.get(source_file=PRESS).slug
    for url, expected in [
        ("/?fill=1", "/"),
        ("/speakers/?fill=2&x=y", "/speakers/"),
        (f"/meeting/{slug}/?fill=3&q=Путин", f"/meeting/{slug}/?q=%D0%9F%D1%83%D1%82%D0%B8%D0%BD"),
        ("/search/?q=Путин&fill=4&sort=newest", "/search/?q=%D0%9F%D1%83%D1%82%D0%B8%D0%BD&sort=newest"),
        ("/en/meetings/2022/?utm_source=mail", "/en/meetings/2022/"),
    ]:
        response = client.get(url)
        assert response.status_code == 301 and response["Location"] == expected, url
        assert client.get(expected).status_code == 200


def test_unknown_parameters_cannot_fill_the_page_cache(client, archive, settings):
    settings.CACHES = {**settings.CACHES, "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import caches

    client.get("/speakers/")
    stored = len(caches["pages"]._cache)
    for n in range(20):
        client.get(f"/speakers/?fill={n}")
        client.get(f"/search/?sort=newest&q=Путин&fill={n}")
    client.get("/search/?q=Путин&sort=newest")
    client.get("/search/?sort=newest&q=Путин")  # the same page: parameters in another order
    assert len(caches["pages"]._cache) == stored + 1


def test_a_made_up_session_cookie_does_not_switch_off_caching(client, archive):
    first = client.get("/speakers/")
    for value in ["0" * 32, "not-a-session", "x" * 5000, "abc\x7f"]:
        client.cookies["sessionid"] = value
        response = client.get("/speakers/")
        assert response.status_code == 200 and response["ETag"] == first["ETag"], value
        assert revalidate(client, "/speakers/", first).status_code == 304


def test_a_signed_in_session_still_sees_its_own_pages(admin_client, archive):
    response = admin_client.get("/speakers/")
    assert response.status_code == 200 and "ETag" not in response
    assert admin_client.get("/speakers/?fill=1").status_code == 200  # editors are not redirected either


def _stamp():
    return ArchiveChange.objects.get(pk=1).changed_at


def test_the_stamp_moves_when_only_a_link_table_changes(archive):
    """Participants, retired statements and old addresses are on public pages too
    (migration 0019): a change to one of them alone moves the stamp."""
    meeting = Meeting.objects.filter(named_people__isnull=False).first()
    person = meeting.named_people.first()
    changes = [
        lambda: meeting.named_people.remove(person),
        lambda: OldSlug.remember(meeting, "an-address-it-once-had"),
        lambda: RetiredStatement.objects.create(sid="zz99zz99", reason="deleted", retired_at=timezone.now()),
    ]
    for change in changes:
        before = _stamp()
        change()
        assert _stamp() > before
