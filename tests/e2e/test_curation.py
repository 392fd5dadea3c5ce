"""An editor's session in real Chromium: log in, fix a title, merge two speakers,
and see the public pages and search show the fix."""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from transcripts.importing.ingest import ingest_paths
from transcripts.models import Meeting, Speaker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(live_server, seeds, tmp_path):
    (tmp_path / "repik.txt").write_text(
        "\nВстреча с главой «Деловой России»\n\n\n2025-05-06 14:10:00\n\nМосква, Кремль\n\nЛид.\n"
        "В.Путин: Добрый день.\nА.Репик: Спасибо за приглашение.\n\n\n\nhttp://example.org/repik",
        encoding="utf-8",
    )
    ingest_paths([*seeds, tmp_path / "repik.txt"])
    Speaker.objects.create(name="Алексей Евгеньевич Репик", slug="aleksei-repik", role="председатель «Деловой России»")
    User.objects.create_superuser("chief", "chief@example.org", "a-long-pass-phrase")
    return live_server.url


def test_editor_fixes_a_title_and_merges_speakers(page, site, shot):
    page.goto(site + "/admin/")
    page.fill("#id_username", "chief")
    page.fill("#id_password", "a-long-pass-phrase")
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_be_visible()
    meeting = Meeting.objects.get(source_file="000_c5b0e3a29709c268.txt")
    page.goto(f"{site}/admin/transcripts/meeting/{meeting.pk}/change/")
    page.fill("#id_title", "Заявления Путина и Токаева для прессы (исправлено)")
    shot("edit-title")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_have_count(1)
    meeting.refresh_from_db()
    assert meeting.curated_fields == ["title"]  # the browser's CRLF text did not count as edits
    assert not meeting.utterances.filter(text_curated=True).exists()

    page.goto(site + "/admin/transcripts/speaker/?q=Репик")
    page.locator("input.action-select").nth(0).check()
    page.locator("input.action-select").nth(1).check()
    page.select_option("select[name=action]", "merge_into")
    page.click("button[name=index]")
    expect(page.locator("select[name=target]")).to_be_visible()
    shot("merge-confirm")
    target = Speaker.objects.get(slug="aleksei-repik")
    page.select_option("select[name=target]", str(target.pk))
    page.click("input[type=submit][value=Объединить]")
    shot("after-merge")
    expect(page.locator(".messagelist .success")).to_have_count(1)
    assert not Speaker.objects.filter(name="А.Репик").exists()

    page.goto(site + meeting.get_absolute_url())
    assert page.locator("h1").inner_text() == "Заявления Путина и Токаева для прессы (исправлено)"
    page.goto(site + "/search/?q=исправлено")
    assert page.locator(".hit").count() >= 1
    page.goto(site + "/search/?q=Алексей+Евгеньевич")
    assert "Спасибо за приглашение" in page.locator(".hit").first.inner_text()
    shot("search-after-merge")
