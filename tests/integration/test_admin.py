"""Curation in the admin: edits, publishing, merges, labels, history, access, and re-ingest."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User
from django.urls import reverse

from tests.admin_forms import change_url, form_data
from transcripts.importing.ingest import ingest_paths
from transcripts.models import Meeting, Speaker, SpeakerAlias, Utterance
from transcripts.search.engine import SearchRequest, search_archive

pytestmark = pytest.mark.django_db

PRESS = "000_c5b0e3a29709c268.txt"


@pytest.fixture
def archive(seed_folder):
    (seed_folder / "repik.txt").write_text(
        "\nВстреча с главой «Деловой России»\n\n\n2025-05-06 14:10:00\n\nМосква, Кремль\n\nЛид.\n"
        "В.Путин: Добрый день.\nА.Репик: Спасибо за приглашение, Владимир Владимирович.\n\n\n\nhttp://example.org/repik",
        encoding="utf-8",
    )
    assert not ingest_paths([seed_folder]).failures
    return seed_folder


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("chief", "chief@example.org", "a-long-pass-phrase"))
    return client


@pytest.fixture
def editor_client(client):
    editor = User.objects.create_user("editor", password="another-long-pass-phrase", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    client.force_login(editor)
    return client


def hits(q):
    return {h.utterance.id for h in search_archive(SearchRequest(q=q)).hits}


def test_meeting_list_has_counts_filters_and_search(admin_client, archive):
    url = reverse("admin:transcripts_meeting_changelist")
    html = admin_client.get(url, {"q": "Назарбаевым"}).content.decode()
    assert "Встреча с\u00a0Президентом Казахстана Нурсултаном Назарбаевым" in html
    assert "Заявления для прессы" not in html
    assert admin_client.get(url, {"kind": "talks", "year": "2022", "is_published__exact": "1"}).status_code == 200
    assert admin_client.get(url, {"date__year": "2022"}).status_code == 200  # the date hierarchy


def test_editing_a_meeting_is_curated_searchable_and_in_its_history(admin_client, archive):
    meeting = Meeting.objects.get(source_file=PRESS)
    data = form_data(admin_client.get(change_url(meeting)))
    data.update(title="Совместные заявления в Кремле", kind="briefing")
    response = admin_client.post(change_url(meeting), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    meeting.refresh_from_db()
    assert meeting.title == "Совместные заявления в Кремле" and meeting.kind == "briefing"
    assert sorted(meeting.curated_fields) == ["kind", "title"]
    assert (
        hits("Совместные заявления")
        and "Совместные заявления" in admin_client.get(meeting.get_absolute_url()).content.decode()
    )
    history = admin_client.get(reverse("admin:transcripts_meeting_history", args=[meeting.pk])).content.decode()
    assert "chief" in history and "заголовок" in history.lower()  # "Изменено Заголовок и Тип."


def test_editing_statements_inline_marks_them_curated(admin_client, archive):
    meeting = Meeting.objects.get(source_file=PRESS)
    data = form_data(admin_client.get(change_url(meeting)))
    text_key = next(
        k for k, v in data.items() if k.endswith("-text") and str(v).startswith("Уважаемый господин Президент")
    )
    data[text_key] = "Уважаемый господин Президент! [исправлено редактором]"
    speaker_key = text_key.replace("-text", "-speaker")
    tokayev = Speaker.objects.get(slug="kassym-jomart-tokayev")
    data[speaker_key] = str(tokayev.pk)
    assert admin_client.post(change_url(meeting), data).status_code == 302
    edited = meeting.utterances.get(seq=2)
    assert edited.text_curated and edited.speaker_curated and edited.speaker == tokayev
    assert edited.id in hits("исправлено редактором")
    untouched = meeting.utterances.get(seq=3)
    assert not untouched.text_curated and not untouched.speaker_curated


def test_reingest_keeps_the_editors_work_and_reports_the_conflict(admin_client, archive):
    meeting = Meeting.objects.get(source_file=PRESS)
    data = form_data(admin_client.get(change_url(meeting)))
    data["title"] = "Заголовок редактора"
    text_key = next(
        k for k, v in data.items() if k.endswith("-text") and str(v).startswith("Уважаемый господин Президент")
    )
    data[text_key] = "Текст редактора."
    nazarbayev = Speaker.objects.get(slug="nursultan-nazarbayev")
    data[text_key.replace("-text", "-speaker")] = str(nazarbayev.pk)
    assert admin_client.post(change_url(meeting), data).status_code == 302

    source = archive / PRESS
    text = source.read_text(encoding="utf-8")
    text = text.replace("Заявления для прессы", "Новые заявления для прессы")  # the title changes in the file
    text = text.replace("Уважаемый господин Президент!", "Уважаемый господин Президент Токаев!")
    text = text.replace("Благодарю вас за\u00a0внимание.", "Благодарю за внимание.")
    source.write_text(text, encoding="utf-8")
    report = ingest_paths([source])
    assert report.summary() == "1 files: 0 added, 1 updated, 0 unchanged, 0 failed"
    meeting.refresh_from_db()
    assert meeting.title == "Заголовок редактора"  # curated title kept
    edited = meeting.utterances.get(seq=2)
    assert edited.text == "Текст редактора." and edited.speaker == nazarbayev  # kept
    (conflict,) = report.results[0].conflicts
    assert conflict.sid == edited.sid and "Уважаемый господин Президент Токаев!" in conflict.describe()
    assert "Заголовок редактора" in conflict.describe()
    # Reported once: the same file again brings no new conflict.
    source.write_text(text + "\n", encoding="utf-8")
    assert ingest_paths([source]).results[0].conflicts == []


def test_publish_and_unpublish(admin_client, client, archive):
    meeting = Meeting.objects.get(source_file=PRESS)
    url = reverse("admin:transcripts_meeting_changelist")
    admin_client.post(url, {"action": "unpublish", "_selected_action": [meeting.pk]})
    meeting.refresh_from_db()
    assert not meeting.is_published
    assert admin_client.get(meeting.get_absolute_url()).status_code == 404
    assert not hits("консультаций")
    admin_client.post(url, {"action": "publish", "_selected_action": [meeting.pk]})
    assert hits("консультаций")
    assert LogEntry.objects.filter(object_id=str(meeting.pk), change_message="Unpublished").exists()


def test_merge_speakers_after_a_confirmation_page(admin_client, archive):
    duplicate = Speaker.objects.get(name="А.Репик")
    assert duplicate.needs_review
    target = Speaker.objects.create(
        name="Алексей Евгеньевич Репик", slug="aleksei-repik", role="председатель «Деловой России»"
    )
    url = reverse("admin:transcripts_speaker_changelist")
    confirm = admin_client.post(url, {"action": "merge_into", "_selected_action": [duplicate.pk, target.pk]})
    assert confirm.status_code == 200 and "Алексей Евгеньевич Репик" in confirm.content.decode()
    assert Speaker.objects.filter(pk=duplicate.pk).exists()  # nothing happened yet
    done = admin_client.post(
        url,
        {"action": "merge_into", "_selected_action": [duplicate.pk, target.pk], "confirm": "1", "target": target.pk},
    )
    assert done.status_code == 302
    assert not Speaker.objects.filter(pk=duplicate.pk).exists()
    assert target.utterances.count() == 1 and list(target.aliases.values_list("name", flat=True)) == ["А.Репик"]
    assert target.utterances.get().id in hits("Алексей Евгеньевич")
    history = admin_client.get(reverse("admin:transcripts_speaker_history", args=[target.pk])).content.decode()
    assert "Merged «А.Репик»" in history
    # The next ingest resolves the label to the merged speaker.
    assert ingest_paths([archive]).count("failed") == 0
    assert Utterance.objects.get(label="А.Репик").speaker == target


def test_reassign_a_label_in_one_step(admin_client, archive):
    target = Speaker.objects.create(name="Алексей Репик", slug="repik")
    url = reverse("admin:reassign-label")
    assert "А.Репик (1)" in admin_client.get(url).content.decode()
    assert admin_client.post(url, {"label": "А.Репик", "speaker": target.pk}).status_code == 302
    utterance = Utterance.objects.get(label="А.Репик")
    assert utterance.speaker == target and not utterance.speaker_curated  # the moved alias carries it
    assert SpeakerAlias.objects.get(name="А.Репик").speaker == target
    (archive / "repik.txt").write_text((archive / "repik.txt").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    ingest_paths([archive / "repik.txt"])
    assert Utterance.objects.get(label="А.Репик").speaker == target


def test_needs_review_queue(admin_client, archive):
    html = admin_client.get(
        reverse("admin:transcripts_speaker_changelist"), {"needs_review__exact": "1"}
    ).content.decode()
    assert "А.Репик" in html and "Владимир Владимирович Путин" not in html


def test_editors_curate_but_do_not_manage_users(editor_client, archive):
    assert editor_client.get(reverse("admin:transcripts_meeting_changelist")).status_code == 200
    meeting = Meeting.objects.get(source_file=PRESS)
    data = form_data(editor_client.get(change_url(meeting)))
    data["location"] = "Москва, Кремль, Малахитовый зал"
    assert editor_client.post(change_url(meeting), data).status_code == 302
    meeting.refresh_from_db()
    assert meeting.location.endswith("Малахитовый зал") and meeting.curated_fields == ["location"]
    assert editor_client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert editor_client.get(reverse("admin:auth_group_changelist")).status_code == 403


def test_anonymous_users_are_sent_to_login(client, archive):
    response = client.get(reverse("admin:transcripts_meeting_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.get(reverse("admin:reassign-label")).status_code == 302


def test_repeated_failed_logins_are_locked(client):
    User.objects.create_superuser("chief", "chief@example.org", "a-long-pass-phrase")
    for _ in range(5):
        client.post(reverse("admin:login"), {"username": "chief", "password": "wrong"})
    locked = client.post(reverse("admin:login"), {"username": "chief", "password": "a-long-pass-phrase"})
    assert locked.status_code == 429


def test_weak_passwords_are_refused():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ["12345678", "password", "chief"]:
        with pytest.raises(ValidationError):
            validate_password(weak, User(username="chief"))


# --- review findings ------------------------------------------------------------


def test_browser_line_ends_do_not_mark_untouched_texts_as_edited(admin_client, archive):
    meeting = Meeting.objects.get(source_file="002_dc2adfdd6de3dfa8.txt")  # two-paragraph lead, long turns
    data = form_data(admin_client.get(change_url(meeting)))
    data = {k: v.replace("\n", "\r\n") if isinstance(v, str) else v for k, v in data.items()}  # as a browser sends
    data["title"] = "Встреча с Назарбаевым в Кремле"
    assert admin_client.post(change_url(meeting), data).status_code == 302
    meeting.refresh_from_db()
    assert meeting.curated_fields == ["title"] and "\r" not in meeting.lead
    assert not meeting.utterances.filter(text_curated=True).exists()
    assert not Utterance.objects.filter(text__contains="\r").exists()


def test_editors_cannot_add_meetings_or_statements(admin_client, archive):
    assert admin_client.get(reverse("admin:transcripts_meeting_add")).status_code == 403
    assert admin_client.get(reverse("admin:transcripts_utterance_add")).status_code == 403


def test_a_colliding_alias_is_a_form_error(admin_client, archive):
    tokayev = Speaker.objects.get(slug="kassym-jomart-tokayev")
    response = admin_client.get(change_url(tokayev))
    data = form_data(response)
    data[f"aliases-{data['aliases-INITIAL_FORMS']}-name"] = "в.путин"  # the empty extra row
    response = admin_client.post(change_url(tokayev), data)
    assert response.status_code == 200 and "уже принадлежит" in response.content.decode()


def test_an_edit_follows_its_statement_when_a_turn_is_inserted_above(admin_client, archive):
    meeting = Meeting.objects.get(source_file="003_656b868d880b5e26.txt")
    data = form_data(admin_client.get(change_url(meeting)))
    key = next(k for k, v in data.items() if k.endswith("-text") and str(v).startswith("Благодарю Вас, Владимир"))
    data[key] = "Исправленный ответ Токаева."
    assert admin_client.post(change_url(meeting), data).status_code == 302
    source = archive / "003_656b868d880b5e26.txt"
    text = source.read_text(encoding="utf-8").replace(
        "К.-Ж.Токаев: Благодарю Вас", "Вопрос: Новый вопрос?\nК.-Ж.Токаев: Благодарю Вас", 1
    )
    source.write_text(text, encoding="utf-8")
    report = ingest_paths([source])
    assert report.results[0].conflicts == []
    edited = meeting.utterances.get(text="Исправленный ответ Токаева.")
    assert edited.label == "К.-Ж.Токаев" and edited.seq == 4 and edited.text_curated
    assert meeting.utterances.get(seq=3).label == "Вопрос" and not meeting.utterances.get(seq=3).text_curated


def test_a_removed_edited_statement_is_kept_and_reported_once(admin_client, archive):
    meeting = Meeting.objects.get(source_file="003_656b868d880b5e26.txt")
    last = meeting.utterances.order_by("-seq").first()
    last.text, last.text_curated = "Спасибо (уточнено редактором).", True
    last.save()
    source = archive / "003_656b868d880b5e26.txt"
    source.write_text(source.read_text(encoding="utf-8").replace("К.-Ж.Токаев: Спасибо.", ""), encoding="utf-8")
    first = ingest_paths([source]).results[0].conflicts
    assert len(first) == 1 and "no longer in the file" in first[0].describe()
    assert meeting.utterances.filter(text="Спасибо (уточнено редактором).").exists()
    source.write_text(source.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert ingest_paths([source]).results[0].conflicts == []


def test_a_urlless_meeting_with_an_edited_date_still_reingests(admin_client, archive):
    meeting = Meeting.objects.get(source_file="004_16411808a7c457af.txt")
    data = form_data(admin_client.get(change_url(meeting)))
    data["date"] = "2024-12-24"
    assert admin_client.post(change_url(meeting), data).status_code == 302
    source = archive / "004_16411808a7c457af.txt"
    source.write_text(source.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert ingest_paths([source]).count("updated") == 1
    meeting.refresh_from_db()
    assert str(meeting.date) == "2024-12-24"


def test_a_merged_directory_speaker_is_not_recreated(admin_client, archive):
    target = Speaker.objects.create(name="Н.А.Назарбаев (Елбасы)", slug="elbasy")
    url = reverse("admin:transcripts_speaker_changelist")
    nazarbayev = Speaker.objects.get(slug="nursultan-nazarbayev")
    admin_client.post(
        url,
        {"action": "merge_into", "_selected_action": [nazarbayev.pk, target.pk], "confirm": "1", "target": target.pk},
    )
    ingest_paths([archive])
    assert not Speaker.objects.filter(slug="nursultan-nazarbayev").exists()
    deletion = LogEntry.objects.get(action_flag=3)
    assert deletion.object_repr == "Нурсултан Абишевич Назарбаев" and "Merged into" in deletion.change_message


def test_unpublishing_refreshes_did_you_mean(admin_client, archive):
    from transcripts.models import VocabularyWord

    assert VocabularyWord.objects.filter(word="telegram").exists()  # only in the news item
    news = Meeting.objects.get(source_file="004_16411808a7c457af.txt")
    url = reverse("admin:transcripts_meeting_changelist")
    # At once, in the request's own transaction (triggers, migration 0011): nothing runs on commit.
    admin_client.post(url, {"action": "unpublish", "_selected_action": [news.pk]})
    assert not VocabularyWord.objects.filter(word="telegram").exists()
    admin_client.post(url, {"action": "publish", "_selected_action": [news.pk]})
    assert VocabularyWord.objects.get(word="telegram").frequency == 1


def test_behind_a_proxy_lockouts_hit_the_client_not_the_proxy(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    User.objects.create_superuser("chief", "chief@example.org", "a-long-pass-phrase")
    url, right = reverse("admin:login"), {"username": "chief", "password": "a-long-pass-phrase"}
    attacker = {"x-forwarded-for": "198.51.100.9, 203.0.113.5"}  # a forged first entry, then the proxy's
    for _ in range(5):
        client.post(url, {"username": "chief", "password": "wrong"}, headers=attacker)
    assert client.post(url, right, headers=attacker).status_code == 429
    editor = {"x-forwarded-for": "192.0.2.44"}  # same proxy (REMOTE_ADDR), another client
    assert client.post(url, right, headers=editor).status_code == 302
