"""A statement keeps its identifier, and so its address, through corrected versions
of its transcript: turns inserted, removed, reordered, edited, a speaker relabelled."""

import pytest

from tests.documents import transcript
from transcripts.importing.ingest import ingest_paths
from transcripts.models import Meeting, RetiredStatement, Speaker, Utterance

pytestmark = pytest.mark.django_db

# Thirteen turns, each text distinct (a statement is found by its words).
TURNS = [
    ("В.Путин", "Уважаемый Касым-Жомарт Кемелевич! Рад приветствовать Вас в Москве."),
    ("К.-Ж.Токаев", "Благодарю Вас, Владимир Владимирович, за приглашение и гостеприимство."),
    ("В.Путин", "Товарооборот между нашими странами в прошлом году вырос на десять процентов."),
    ("К.-Ж.Токаев", "Мы высоко ценим сотрудничество в энергетике и транзите нефти."),
    ("В.Путин", "Предлагаю обсудить строительство новой атомной электростанции в Казахстане."),
    ("К.-Ж.Токаев", "Казахстан готов рассмотреть это предложение вместе с корпорацией «Росатом»."),
    ("В.Путин", "Отдельно хотел бы сказать о гуманитарных связях и образовании."),
    ("К.-Ж.Токаев", "В Казахстане работают филиалы ведущих российских университетов."),
    ("В.Путин", "Важно поддерживать русский язык и культурные обмены между регионами."),
    ("К.-Ж.Токаев", "Форум межрегионального сотрудничества пройдёт осенью в Костанае."),
    ("В.Путин", "Договорились о совместных учениях по чрезвычайным ситуациям."),
    ("К.-Ж.Токаев", "Подписан меморандум о сотрудничестве в области цифровизации."),
    ("В.Путин", "Спасибо, до встречи на саммите Евразийского экономического союза."),
]


def ingest(path, turns):
    path.write_text(transcript(list(turns), lead=""), encoding="utf-8")
    report = ingest_paths([path])
    assert report.count("failed") == 0, report.summary()
    return Meeting.objects.get(source_file=path.name)


def sids_by_text(meeting):
    return dict(meeting.utterances.values_list("text", "sid"))


def assert_addresses(client, meeting, expected: dict[str, str]):
    """Each statement's address shows that statement, and its anchor is on the meeting page."""
    page = client.get(meeting.get_absolute_url()).content.decode()
    for text, sid in expected.items():
        response = client.get(f"/statement/{sid}/")
        assert response.status_code == 200, (sid, text)
        assert text in response.content.decode()
        assert f'id="s-{sid}"' in page


def test_a_corrected_transcript_keeps_every_surviving_statement_at_its_address(client, tmp_path):
    path = tmp_path / "talks.txt"
    meeting = ingest(path, TURNS)
    before = sids_by_text(meeting)
    assert len(set(before.values())) == 13

    # Version 2: a turn inserted after the first, the tenth removed, the 6th and 7th swapped,
    # the 4th edited by the source (a word changed, one added), the 8th relabelled to a role.
    edited = ("К.-Ж.Токаев", "Мы очень высоко ценим сотрудничество в энергетике и в транзите нефти.")
    relabelled = ("Реплика", TURNS[7][1])
    inserted = ("К.-Ж.Токаев", "Позвольте мне сказать несколько слов о нашей повестке.")
    second = [TURNS[0], inserted, *TURNS[1:3], edited, TURNS[4], TURNS[6], TURNS[5], relabelled, TURNS[8], *TURNS[10:]]
    meeting = ingest(path, second)
    after = sids_by_text(meeting)

    assert meeting.utterances.count() == 13
    for _label, text in TURNS:
        if text == TURNS[3][1]:
            assert after[edited[1]] == before[text]  # the edited turn is the same statement
        elif text == TURNS[9][1]:
            assert text not in after
        else:
            assert after[text] == before[text], text
    assert after[inserted[1]] not in before.values()  # a new statement, a new identifier
    relabelled_row = meeting.utterances.get(sid=before[TURNS[7][1]])
    assert relabelled_row.label == "Реплика" and relabelled_row.speaker.kind == "role"
    # The numbering follows the file; the identifiers do not.
    assert list(meeting.utterances.order_by("seq").values_list("text", flat=True)) == [t for _, t in second]
    assert_addresses(client, meeting, dict(after.items()))

    removed = before[TURNS[9][1]]
    assert RetiredStatement.objects.get(sid=removed).reason == RetiredStatement.Reason.REMOVED
    gone = client.get(f"/statement/{removed}/")
    assert gone.status_code == 410
    assert meeting.get_absolute_url() in gone.content.decode()

    # The old positional anchors still name today's positions, as secondary anchors.
    page = client.get(meeting.get_absolute_url()).content.decode()
    assert 'id="u2"' in page and 'id="u13"' in page


def test_two_turns_joined_into_one_send_the_lost_address_to_the_joined_statement(client, tmp_path):
    path = tmp_path / "talks.txt"
    meeting = ingest(path, TURNS)
    before = sids_by_text(meeting)
    joined = ("В.Путин", f"{TURNS[10][1]} {TURNS[12][1]}")
    meeting = ingest(path, [*TURNS[:10], joined, TURNS[11]])
    after = sids_by_text(meeting)
    parts = {before[TURNS[10][1]], before[TURNS[12][1]]}
    assert after[joined[1]] in parts  # the joined statement is one of the two …
    (lost,) = parts - {after[joined[1]]}
    retired = RetiredStatement.objects.get(sid=lost)  # … and the other's address leads to it
    assert retired.reason == RetiredStatement.Reason.MERGED and retired.successor == after[joined[1]]
    response = client.get(f"/statement/{retired.sid}/")
    assert response.status_code == 301 and response["Location"].endswith(f"/statement/{retired.successor}/")


def test_identifiers_are_never_reused_and_identical_turns_keep_their_order(tmp_path):
    path = tmp_path / "talks.txt"
    thanks = [("В.Путин", "Спасибо."), ("К.-Ж.Токаев", "Спасибо."), ("В.Путин", "Спасибо.")]
    meeting = ingest(path, [*TURNS[:2], *thanks])
    order = list(meeting.utterances.order_by("seq").values_list("sid", flat=True))
    meeting = ingest(path, [*TURNS[:1], *thanks])  # the second turn removed
    assert list(meeting.utterances.order_by("seq").values_list("sid", flat=True)) == [order[0], *order[2:]]
    meeting = ingest(path, [*TURNS[:2], *thanks])  # and back: a new statement, never the old id
    now = list(meeting.utterances.order_by("seq").values_list("sid", flat=True))
    assert now[1] != order[1] and now[1] not in RetiredStatement.objects.values_list("successor", flat=True)
    assert not Utterance.objects.filter(sid=order[1]).exists()


def test_an_editors_statement_the_file_dropped_stays_in_its_place(tmp_path):
    path = tmp_path / "talks.txt"
    meeting = ingest(path, TURNS[:5])
    third = meeting.utterances.get(seq=3)
    third.text, third.text_curated = "Товарооборот вырос на десять процентов (уточнено редактором).", True
    third.save()
    meeting = ingest(path, [*TURNS[:2], *TURNS[3:5]])
    kept = meeting.utterances.get(sid=third.sid)
    assert kept.seq == 3 and kept.text.endswith("(уточнено редактором).")
    assert list(meeting.utterances.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3, 4, 5]
    (conflict,) = meeting.conflicts.all()
    assert conflict.sid == third.sid and conflict.file_text == "" and "no longer in the file" in conflict.describe()
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    ingest_paths([path])
    assert meeting.conflicts.count() == 1  # reported once


def test_a_drawn_identifier_already_taken_or_retired_is_drawn_again(tmp_path, monkeypatch):
    from transcripts.importing import store

    path = tmp_path / "talks.txt"
    meeting = ingest(path, TURNS[:3])
    live, gone = meeting.utterances.order_by("seq").values_list("sid", flat=True)[:2]
    Utterance.objects.filter(sid=gone).delete()  # retired: never given again
    # Three new turns (the deleted one is back in the file): two draws clash, then two more.
    draws = iter([live, gone, "zzzzzzz2", "zzzzzzz2", "zzzzzzz3", "zzzzzzz4"])
    monkeypatch.setattr(store, "new_sid", lambda: next(draws))
    meeting = ingest(path, TURNS[:5])
    assert set(meeting.utterances.values_list("sid", flat=True)) >= {"zzzzzzz2", "zzzzzzz3", "zzzzzzz4", live}
    assert meeting.utterances.count() == 5 and Utterance.objects.filter(sid=live).count() == 1


def test_a_repeated_turn_inserted_above_leaves_the_others_and_their_editors_work(tmp_path):
    path = tmp_path / "talks.txt"
    yes = ("К.-Ж.Токаев", "Да.")
    meeting = ingest(path, [TURNS[0], yes, TURNS[2], yes, TURNS[4]])
    first, second = meeting.utterances.filter(text="Да.").order_by("seq")
    second.speaker, second.speaker_curated = Speaker.objects.get(slug="nursultan-nazarbayev"), True
    second.save()
    meeting = ingest(path, [yes, TURNS[0], yes, TURNS[2], yes, TURNS[4]])  # a new «Да.» on top
    by_seq = {u.seq: u for u in meeting.utterances.all()}
    assert by_seq[1].sid not in (first.sid, second.sid)  # the new one is new
    assert (by_seq[3].sid, by_seq[5].sid) == (first.sid, second.sid)
    assert by_seq[5].speaker.slug == "nursultan-nazarbayev" and not by_seq[3].speaker_curated


def test_a_common_turn_relabelled_far_away_is_another_statement(tmp_path):
    path = tmp_path / "talks.txt"
    filler = [("В.Путин", f"Тезис номер {n} о сотрудничестве в энергетике и транзите.") for n in range(40)]
    meeting = ingest(path, [("В.Путин", "Спасибо."), *filler])
    thanks = meeting.utterances.get(seq=1)
    meeting = ingest(path, [*filler, ("Вопрос", "Спасибо.")])  # gone at the top, a journalist's at the end
    assert not meeting.utterances.filter(sid=thanks.sid).exists()
    assert RetiredStatement.objects.get(sid=thanks.sid).reason == RetiredStatement.Reason.REMOVED


def test_a_correction_the_source_adopts_is_the_files_text_again(tmp_path):
    path = tmp_path / "talks.txt"
    typo = ("К.-Ж.Токаев", "Спасибо болшое.")
    meeting = ingest(path, [TURNS[0], typo, TURNS[2]])
    fixed = meeting.utterances.get(seq=2)
    fixed.text, fixed.text_curated, fixed.source_text = "Спасибо большое.", True, typo[1]
    fixed.save()
    meeting = ingest(path, [TURNS[0], ("К.-Ж.Токаев", "Спасибо большое."), TURNS[2]])
    now = meeting.utterances.get(seq=2)
    assert now.sid == fixed.sid and now.text == "Спасибо большое."
    assert not now.text_curated and now.source_text == "" and meeting.utterances.count() == 3
    assert not meeting.conflicts.exists()


def test_taking_the_files_side_of_an_old_conflict_takes_what_the_file_says_now(tmp_path, admin_user):
    from transcripts.curation import resolve_conflict

    path = tmp_path / "talks.txt"
    meeting = ingest(path, TURNS[:3])
    edited = meeting.utterances.get(seq=2)
    edited.text, edited.text_curated = "Текст редактора.", True
    edited.save()
    meeting = ingest(path, [TURNS[0], *TURNS[2:3]])  # the file drops it: conflict 1
    meeting = ingest(path, TURNS[:3])  # and brings it back: conflict 2 (the editor's text differs)
    first, second = meeting.conflicts.order_by("created_at", "id")
    assert first.file_text == "" and second.file_text == TURNS[1][1]
    resolve_conflict(admin_user, first, "taken")  # the old one: the file has the turn again
    now = meeting.utterances.get(sid=edited.sid)
    assert now.text == TURNS[1][1] and not now.text_curated
    assert not meeting.conflicts.filter(resolution="").exists()


def test_a_new_meeting_never_takes_a_deleted_or_old_address(tmp_path):
    path = tmp_path / "talks.txt"
    meeting = ingest(path, TURNS[:2])
    deleted = meeting.slug
    meeting.delete()
    path.write_text(transcript(list(TURNS[:2]), lead="", url="http://kremlin.ru/events/president/transcripts/88888"))
    ingest_paths([path])
    again = Meeting.objects.get(source_file=path.name)
    assert again.slug != deleted and again.slug.startswith(deleted)


def test_renumbering_is_no_revision(tmp_path):
    from transcripts.models import UtteranceEvent

    path = tmp_path / "talks.txt"
    meeting = ingest(path, TURNS)
    assert set(UtteranceEvent.objects.filter(meeting_id=meeting.pk).values_list("pgh_label", flat=True)) == {"insert"}
    edited = ("В.Путин", TURNS[12][1].replace("Спасибо", "Благодарю"))
    meeting = ingest(path, [("Вопрос", "Новый вопрос о транзите?"), *TURNS[:12], edited])
    updates = UtteranceEvent.objects.filter(meeting_id=meeting.pk, pgh_label="update")
    assert list(updates.values_list("text", flat=True)) == [edited[1]]  # only the edited turn
    assert meeting.utterances.get(text=TURNS[5][1]).seq == 7  # renumbered all the same
