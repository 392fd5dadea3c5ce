"""Citable forever, the editors' side: every revision in the history tables under who made
it (an editor, or an ingest of a file), the revisions pages with their diffs and Restore,
merge undo, and the queue of conflicts that a re-ingest leaves for editors."""

import re

import pytest
from django.contrib import messages
from django.contrib.auth.models import Group, User
from django.urls import reverse

from tests.admin_forms import change_url, form_data
from transcripts.history import word_diff
from transcripts.importing.ingest import ingest_paths
from transcripts.models import (
    IngestConflict,
    Meeting,
    MeetingEvent,
    OldSlug,
    RetiredStatement,
    Speaker,
    SpeakerEvent,
    SpeakerMerge,
    Utterance,
    UtteranceEvent,
)

pytestmark = pytest.mark.django_db

PRESS = "000_c5b0e3a29709c268.txt"
TALK = "003_656b868d880b5e26.txt"
EDITED = "Уважаемый господин Президент! <b>Правка</b> редактора."


def revisions_url(obj):
    return reverse(f"admin:transcripts_{obj._meta.model_name}_revisions", args=[obj.pk])


def queue_url(**query):
    return reverse("admin:transcripts_ingestconflict_changelist"), query


def edit_statement(client, statement, text=None, speaker=None):
    data = form_data(client.get(change_url(statement)))
    if text is not None:
        data["text"] = text
    if speaker is not None:
        data["speaker"] = str(speaker.pk)
    response = client.post(change_url(statement), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    statement.refresh_from_db()


def change_file(archive, name, old, new):
    source = archive / name
    text = source.read_text(encoding="utf-8")
    assert old in text
    source.write_text(text.replace(old, new), encoding="utf-8")
    report = ingest_paths([source])
    assert report.count("updated") == 1, report.summary()
    return report


def who_of(html: str) -> list[str]:
    return re.findall(r'<td class="who">([^<]*)</td>', html)


def sent(response) -> list:
    return list(messages.get_messages(response.wsgi_request))


@pytest.fixture
def press(archive):
    meeting = Meeting.objects.get(source_file=PRESS)
    return meeting, meeting.utterances.get(seq=2)


def test_every_earlier_value_is_in_the_history_under_who_made_it(admin_client, archive, press):
    meeting, statement = press
    original, original_title = statement.text, meeting.title
    # An editor fixes the title and the statement in the meeting's form (inline).
    data = form_data(admin_client.get(change_url(meeting)))
    data["title"] = "Заголовок редактора"
    key = next(k for k, v in data.items() if k.endswith("-text") and v == original)
    data[key] = EDITED
    assert admin_client.post(change_url(meeting), data).status_code == 302
    statement.refresh_from_db()
    assert statement.text == EDITED and statement.text_curated and statement.corrected_at
    assert statement.source_text == original  # the file's wording, kept beside the editor's
    # The file changes under the edit: the editor's text stays, the file's is remembered.
    change_file(archive, PRESS, "Уважаемый господин Президент!", "Уважаемый господин Президент Токаев!")
    statement.refresh_from_db()
    file_text = original.replace("Президент!", "Президент Токаев!", 1)
    assert statement.text == EDITED and statement.source_text == file_text
    assert statement.sid == Utterance.objects.get(pk=statement.pk).sid

    page = admin_client.get(revisions_url(statement)).content.decode()
    # Newest first: the ingest's revision (the file's new wording), then the editor's, then the first ingest.
    ingest, editor, first_ingest = who_of(page)
    assert PRESS in ingest and editor == "admin" and PRESS in first_ingest and ingest != PRESS  # "ingest <file>"
    assert "<del>Уважаемый господин Президент!" not in page  # …a word diff, not whole texts
    assert "<ins>&lt;b&gt;Правка&lt;/b&gt; редактора.</ins>" in page  # escaped editor's text
    assert "<b>Правка" not in page

    # Restore the first revision: the original text, curated now (the file says otherwise).
    first = UtteranceEvent.objects.filter(pgh_obj_id=statement.pk).order_by("pgh_id").first()
    restore = reverse("admin:transcripts_utterance_restore", args=[statement.pk, first.pgh_id])
    assert admin_client.get(restore).status_code == 405
    assert admin_client.post(restore).status_code == 302
    statement.refresh_from_db()
    assert statement.text == original and statement.text_curated and statement.source_text == file_text
    assert (statement.sid, statement.meeting_id) == (first.sid, first.meeting_id)

    # The meeting's title back to the file's first one, as an editor's choice.
    first_meeting = MeetingEvent.objects.filter(pgh_obj_id=meeting.pk).order_by("pgh_id").first()
    assert admin_client.post(reverse("admin:transcripts_meeting_restore", args=[meeting.pk, first_meeting.pgh_id]))
    meeting.refresh_from_db()
    assert meeting.title == original_title and "title" in meeting.curated_fields
    assert meeting.slug == first_meeting.slug

    events = UtteranceEvent.objects.filter(pgh_obj_id=statement.pk).order_by("pgh_id")
    assert list(events.values_list("text", flat=True)) == [original, EDITED, EDITED, original]
    assert file_text in events.values_list("source_text", flat=True)
    titles = MeetingEvent.objects.filter(pgh_obj_id=meeting.pk).values_list("title", flat=True)
    assert {original_title, "Заголовок редактора"} <= set(titles)
    restored = UtteranceEvent.objects.filter(pgh_obj_id=statement.pk).order_by("pgh_id").last()
    assert restored.pgh_context.metadata["operation"] == "restore"
    assert restored.pgh_context.metadata["user"] == User.objects.get(username="admin").pk

    page = admin_client.get(revisions_url(statement)).content.decode()
    assert who_of(page)[0] == "admin" and page.count('name="csrfmiddlewaretoken"') >= 2  # Restore buttons
    meeting_page = admin_client.get(revisions_url(meeting)).content.decode()
    assert "Заголовок редактора" in meeting_page and revisions_url(statement) in meeting_page
    assert revisions_url(meeting) in admin_client.get(change_url(meeting)).content.decode()  # linked


def test_an_edit_back_to_the_files_wording_is_the_files_again(admin_client, press):
    _meeting, statement = press
    original = statement.text
    edit_statement(admin_client, statement, text="Исправлено.")
    assert statement.text_curated and statement.source_text == original
    edit_statement(admin_client, statement, text=original)
    assert not statement.text_curated and statement.source_text == "" and statement.corrected_at is None


def test_a_speakers_revisions_show_its_aliases(admin_client, archive):
    tokayev = Speaker.objects.get(slug="kassym-jomart-tokayev")
    data = form_data(admin_client.get(change_url(tokayev)))
    data["role"] = "Глава государства"
    data[f"aliases-{data['aliases-INITIAL_FORMS']}-name"] = "Президент Токаев"
    assert admin_client.post(change_url(tokayev), data).status_code == 302
    page = admin_client.get(revisions_url(tokayev)).content.decode()
    rows = re.findall(r'<tr id="revision-.*?</tr>', page, re.S)
    (alias,) = [row for row in rows if "Президент Токаев" in row]
    (role,) = [row for row in rows if "Глава государства" in row]
    assert who_of(alias) == who_of(role) == ["admin"]
    first = SpeakerEvent.objects.filter(pgh_obj_id=tokayev.pk).order_by("pgh_id").first()
    admin_client.post(reverse("admin:transcripts_speaker_restore", args=[tokayev.pk, first.pgh_id]))
    tokayev.refresh_from_db()
    assert tokayev.role == "Президент Республики Казахстан"


def test_merge_undo_brings_back_the_speaker_its_address_and_statements(admin_client, client, archive):
    duplicate = Speaker.objects.get(slug="nursultan-nazarbayev")
    target = Speaker.objects.create(name="Н.А.Назарбаев (Елбасы)", slug="elbasy")
    statements = set(duplicate.utterances.values_list("id", flat=True))
    aliases = set(duplicate.aliases.values_list("id", flat=True))
    assert len(statements) >= 2 and aliases
    url = reverse("admin:transcripts_speaker_changelist")
    admin_client.post(
        url,
        {"action": "merge_into", "_selected_action": [duplicate.pk, target.pk], "confirm": "1", "target": target.pk},
    )
    merge = SpeakerMerge.objects.get()
    assert merge.merged["slug"] == "nursultan-nazarbayev" and merge.merged["id"] == duplicate.pk
    assert set(merge.statement_ids) == statements and set(merge.alias_ids) == aliases
    assert OldSlug.find(Speaker, "nursultan-nazarbayev") == target
    deleted = SpeakerEvent.objects.get(pgh_obj_id=duplicate.pk, pgh_label="delete")
    assert deleted.name == duplicate.name and deleted.pgh_context.metadata["operation"] == "merge"

    # An editor gives one moved statement to someone else: the undo leaves it there.
    moved_away = Utterance.objects.get(pk=min(statements))
    tokayev = Speaker.objects.get(slug="kassym-jomart-tokayev")
    edit_statement(admin_client, moved_away, speaker=tokayev)

    merges = reverse("admin:transcripts_speakermerge_changelist")
    assert merges in admin_client.get(change_url(target)).content.decode()  # linked from the target
    assert "Нурсултан Абишевич Назарбаев" in admin_client.get(merges, {"target__id__exact": target.pk}).content.decode()
    assert admin_client.get(change_url(merge)).status_code == 200  # read-only
    response = admin_client.post(merges, {"action": "undo", "_selected_action": [merge.pk]}, follow=True)
    done = sent(response)[-1]
    assert done.level == messages.SUCCESS and "1" in done.message  # one statement skipped
    back = Speaker.objects.get(pk=duplicate.pk)
    assert (back.slug, back.name, back.created_at) == (duplicate.slug, duplicate.name, duplicate.created_at)
    assert set(back.utterances.values_list("id", flat=True)) == statements - {moved_away.pk}
    assert set(back.aliases.values_list("id", flat=True)) == aliases
    assert OldSlug.find(Speaker, "nursultan-nazarbayev") is None
    assert client.get(reverse("speaker", kwargs={"slug": "nursultan-nazarbayev"})).status_code == 200
    merge.refresh_from_db()
    assert merge.undone_at
    labels = list(SpeakerEvent.objects.filter(pgh_obj_id=duplicate.pk).values_list("pgh_label", flat=True))
    assert labels[:3] == ["insert", "delete", "insert"]

    # A second undo is refused, and changes nothing.
    response = admin_client.post(merges, {"action": "undo", "_selected_action": [merge.pk]}, follow=True)
    refused = sent(response)[-1]
    assert refused.level == messages.ERROR and "Нурсултан Абишевич Назарбаев" in refused.message
    assert Speaker.objects.filter(slug="nursultan-nazarbayev").count() == 1
    # The next ingest resolves the labels to the speaker that is back.
    ingest_paths([archive])
    assert set(Speaker.objects.get(slug="nursultan-nazarbayev").aliases.values_list("id", flat=True)) == aliases


def open_conflict(admin_client, archive, press):
    """An editor's text, then a file that changed under it: one open conflict."""
    _meeting, statement = press
    edit_statement(admin_client, statement, text=EDITED)
    change_file(archive, PRESS, "Уважаемый господин Президент!", "Уважаемый господин Президент Токаев!")
    return IngestConflict.objects.get()


def test_the_queue_shows_both_texts_and_takes_the_files(admin_client, archive, press):
    _meeting, statement = press
    conflict = open_conflict(admin_client, archive, press)
    assert conflict.statement == statement and conflict.sid == statement.sid and not conflict.resolution
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:transcripts_ingestconflict_changelist") + "?state=open" in index
    assert "1" in re.search(r'\?state=open">([^<]*)</a>', index).group(1)
    listing = admin_client.get(*queue_url(state="open")).content.decode()
    assert statement.sid in listing
    page = admin_client.get(change_url(conflict)).content.decode()
    assert "&lt;b&gt;Правка&lt;/b&gt;" in page and "Уважаемый господин Президент Токаев!" in page
    assert re.search(r"<del>Президент! &lt;b&gt;Правка&lt;/b&gt; редактора\.</del> <ins>Президент Токаев!", page)

    assert admin_client.post(change_url(conflict), {"resolution": "taken"}).status_code == 302
    statement.refresh_from_db()
    assert statement.text == conflict.file_text and not statement.text_curated and statement.source_text == ""
    conflict.refresh_from_db()
    assert conflict.resolution == "taken" and conflict.resolved_by.username == "admin" and conflict.resolved_at
    assert admin_client.get(*queue_url(state="open")).content.decode().count(statement.sid) == 0
    # The statement follows the file again: a later change is simply taken.
    change_file(archive, PRESS, "Президент Токаев!", "Президент Касым-Жомарт Токаев!")
    statement.refresh_from_db()
    assert "Касым-Жомарт Токаев!" in statement.text and IngestConflict.objects.count() == 1
    taken = UtteranceEvent.objects.filter(pgh_obj_id=statement.pk, text=conflict.file_text).last()
    assert taken.pgh_context.metadata["operation"] == "conflict taken"


def test_the_queue_keeps_the_editors_version(admin_client, archive, press):
    _meeting, statement = press
    conflict = open_conflict(admin_client, archive, press)
    url = reverse("admin:transcripts_ingestconflict_changelist")
    admin_client.post(url, {"action": "keep", "_selected_action": [conflict.pk]})
    conflict.refresh_from_db()
    statement.refresh_from_db()
    assert conflict.resolution == "kept" and statement.text == EDITED and statement.text_curated
    response = admin_client.post(change_url(conflict), {"resolution": "taken"}, follow=True)
    assert sent(response)[-1].level == messages.ERROR  # already resolved
    statement.refresh_from_db()
    assert statement.text == EDITED


def test_an_edit_resolves_the_statements_conflicts(admin_client, archive, press):
    _meeting, statement = press
    conflict = open_conflict(admin_client, archive, press)
    page = admin_client.get(change_url(conflict)).content.decode()
    assert change_url(statement) in page  # "edit the statement"
    form = admin_client.get(change_url(statement)).content.decode()
    assert change_url(conflict) in form  # the open conflict, above the statement's form
    edit_statement(admin_client, statement, text="Уважаемый господин Президент Токаев! Правка.")
    conflict.refresh_from_db()
    assert conflict.resolution == "edited" and conflict.resolved_by.username == "admin"
    assert statement.text_curated and statement.source_text == conflict.file_text


def test_taking_a_removal_retires_the_statement(admin_client, archive):
    meeting = Meeting.objects.get(source_file=TALK)
    last = meeting.utterances.order_by("-seq").first()
    edit_statement(admin_client, last, text="Спасибо (уточнено редактором).")
    change_file(archive, TALK, "К.-Ж.Токаев: Спасибо.\n", "")
    conflict = IngestConflict.objects.get()
    assert conflict.file_text == "" and Utterance.objects.filter(pk=last.pk).exists()  # kept till an editor decides
    admin_client.post(change_url(conflict), {"resolution": "taken"})
    assert not Utterance.objects.filter(pk=last.pk).exists()
    assert RetiredStatement.objects.get(sid=last.sid).reason == RetiredStatement.Reason.REMOVED
    conflict.refresh_from_db()
    assert conflict.resolution == "taken" and conflict.statement is None
    deleted = UtteranceEvent.objects.get(pgh_obj_id=last.pk, pgh_label="delete")
    assert deleted.text == "Спасибо (уточнено редактором)." and deleted.pgh_context.metadata["user"]


def test_editors_may_review_and_others_may_not(client, archive, press):
    _meeting, statement = press
    editor = User.objects.create_user("editor", password="another-long-pass-phrase", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    client.force_login(editor)
    assert client.get(revisions_url(statement)).status_code == 200
    assert client.get(reverse("admin:transcripts_ingestconflict_changelist")).status_code == 200
    assert client.get(reverse("admin:transcripts_speakermerge_changelist")).status_code == 200
    first = UtteranceEvent.objects.filter(pgh_obj_id=statement.pk).first()
    restore = reverse("admin:transcripts_utterance_restore", args=[statement.pk, first.pgh_id])
    assert client.post(restore).status_code == 302
    guest = User.objects.create_user("guest", password="a-third-long-pass-phrase", is_staff=True)
    client.force_login(guest)
    assert client.get(revisions_url(statement)).status_code == 403
    assert client.post(restore).status_code == 403
    assert client.get(reverse("admin:transcripts_ingestconflict_changelist")).status_code == 403


def test_word_diff_marks_words_and_escapes_everything():
    html = word_diff("a <script>x</script> b", "a <script>y</script> b c")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<del>" in html and "<ins>" in html and html.endswith("<ins>c</ins>")
    long = " ".join(f"w{i}" for i in range(200))
    assert len(word_diff(long, long + " end")) < len(long)  # unchanged stretches are cut
