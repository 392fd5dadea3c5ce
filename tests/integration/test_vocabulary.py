"""The did-you-mean word list (migration 0011), the lexeme counts (0021) and the meetings'
lexemes (0022) are kept by statement triggers: after any sequence of ingests, edits,
publishing, renames, date changes and deletions, through the admin, the ORM or raw SQL,
each table equals its definition (VOCABULARY_SQL, LEXEME_COUNT_SQL, MEETING_LEXEMES_SQL)
exactly."""

import io
import shutil
import threading
import time

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from tests.admin_forms import change_url, form_data
from tests.conftest import CORPUS
from tests.servers import server_url
from transcripts.importing.ingest import ingest_paths
from transcripts.models import (
    LEXEME_COUNT_SQL,
    MEETING_LEXEMES_SQL,
    VOCABULARY_SQL,
    LexemeCount,
    Meeting,
    MeetingLexemes,
    Speaker,
    Utterance,
    VocabularyWord,
)

pytestmark = pytest.mark.django_db

NEWS = "004_16411808a7c457af.txt"  # the only seed that says "telegram"
PRESS = "000_c5b0e3a29709c268.txt"


def full_query() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(VOCABULARY_SQL)
        return dict(cursor.fetchall())


def stored() -> dict[str, int]:
    return dict(VocabularyWord.objects.values_list("word", "frequency"))


def lexeme_counts() -> tuple[dict, dict]:
    """(stored, as LEXEME_COUNT_SQL computes it now): {(lexeme, facet, value): statements}."""
    with connection.cursor() as cursor:
        cursor.execute(LEXEME_COUNT_SQL)
        expected = {(lexeme, facet, value): n for lexeme, facet, value, n in cursor.fetchall()}
    rows = LexemeCount.objects.values_list("lexeme", "facet", "value", "statements")
    return {(lexeme, facet, value): n for lexeme, facet, value, n in rows}, expected


def meeting_lexemes() -> tuple[dict, dict]:
    """(stored, as MEETING_LEXEMES_SQL computes it now): {meeting id: its lexemes}."""
    with connection.cursor() as cursor:
        made = MEETING_LEXEMES_SQL.format(also="")
        cursor.execute(f"SELECT meeting_id, lexemes::text FROM ({made}) AS made (meeting_id, lexemes)")
        expected = dict(cursor.fetchall())
        cursor.execute("SELECT meeting_id, lexemes::text FROM transcripts_meetinglexemes")
        return dict(cursor.fetchall()), expected


def assert_exact(step: str) -> None:
    tables = {
        "word list": (stored(), full_query()),
        "lexeme counts": lexeme_counts(),
        "meetings' lexemes": meeting_lexemes(),
    }
    for name, (actual, expected) in tables.items():
        wrong = {
            k: (actual.get(k), expected.get(k))
            for k in expected.keys() | actual.keys()
            if actual.get(k) != expected.get(k)
        }
        assert not wrong, f"{name} after {step}: (stored, expected) differ for {dict(sorted(wrong.items())[:20])}"


def frequency(word: str) -> int | None:
    row = VocabularyWord.objects.filter(word=word).first()
    return row.frequency if row else None


@pytest.fixture
def admin_client(client):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("chief", "chief@example.org", "a-long-pass-phrase"))
    return client


def test_the_list_follows_every_kind_of_change_exactly(seed_folder, admin_client):
    # Ingest: new files, then more of the corpus, then a changed file (upserts: ON CONFLICT DO UPDATE).
    assert not ingest_paths([seed_folder]).failures
    assert_exact("ingesting the seeds")
    assert frequency("telegram") == 1
    some = sorted(CORPUS.glob("*.txt"))[:6]  # none if the shared corpus is absent
    assert not ingest_paths(some).failures
    assert_exact("ingesting part of the corpus")
    news = seed_folder / NEWS
    news.write_text(news.read_text(encoding="utf-8").replace("Telegram", "Тлеграмм"), encoding="utf-8")
    assert ingest_paths([seed_folder]).count("updated") == 1
    assert_exact("re-ingesting a changed file")
    assert frequency("telegram") is None and frequency("тлеграмм") == 1

    # ORM edits of texts: save(), a queryset update, bulk_update.
    utterance = Utterance.objects.filter(published=True).order_by("id").first()
    utterance.text += " Зюзюкалка и пересвистывание."
    utterance.save()
    assert frequency("зюзюкалка") == 1
    assert_exact("saving an utterance")
    Utterance.objects.filter(meeting__source_file=PRESS).update(text="Совсем другой текст заявления")
    assert_exact("a queryset update of texts")
    rows = list(Utterance.objects.order_by("-id")[:5])
    for row in rows:
        row.text = row.text.upper() + " Дополнение"
    Utterance.objects.bulk_update(rows, ["text"])
    assert_exact("bulk_update")

    # Raw SQL upsert of existing rows (fires both the INSERT and the UPDATE statement triggers).
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO transcripts_utterance (meeting_id, seq, sid, label, remark, text, text_curated,"
            " speaker_curated, source_hash, published)"
            " SELECT meeting_id, seq + 1000, kz_new_sid(), '', '', 'Новорождённый абзац', false, false, '', true"
            " FROM transcripts_utterance WHERE meeting_id = %(m)s"
            " UNION ALL SELECT meeting_id, seq, sid, '', '', text || ' перезаписанный', false, false, '', true"
            " FROM transcripts_utterance WHERE meeting_id = %(m)s"
            " ON CONFLICT (sid) DO UPDATE SET text = excluded.text",
            {"m": utterance.meeting_id},
        )
    assert_exact("INSERT ... ON CONFLICT DO UPDATE")

    # An editor's inline edit in the admin.
    meeting = Meeting.objects.get(source_file=PRESS)
    data = form_data(admin_client.get(change_url(meeting)))
    text_key = next(k for k, v in data.items() if k.endswith("-text"))
    data[text_key] = "Исправлено редактором: Байконур, Семипалатинск."
    assert admin_client.post(change_url(meeting), data).status_code == 302
    assert_exact("an inline edit in the admin")

    # Publishing: the admin action both ways, and a queryset update of the flag.
    news_meeting = Meeting.objects.get(source_file=NEWS)
    changelist = reverse("admin:transcripts_meeting_changelist")
    admin_client.post(changelist, {"action": "unpublish", "_selected_action": [news_meeting.pk]})
    assert frequency("тлеграмм") is None
    assert_exact("unpublishing in the admin")
    admin_client.post(changelist, {"action": "publish", "_selected_action": [news_meeting.pk]})
    assert frequency("тлеграмм") == 1
    assert_exact("publishing in the admin")
    Meeting.objects.filter(source_file__in=[PRESS, NEWS]).update(is_published=False)
    assert_exact("a queryset update of is_published")
    Meeting.objects.filter(source_file=PRESS).update(is_published=True, title="Новое название")
    assert_exact("publishing with a new title")

    # A meeting moved to another year: its statements' year counts move with it.
    moved = Meeting.objects.get(source_file=NEWS)
    moved.date = moved.date.replace(year=moved.date.year - 3)
    moved.save()
    assert_exact("moving a meeting to another year")

    # Speakers: a rename (ORM and admin), a new speaker, a merge, a deletion.
    putin = Speaker.objects.get(slug="vladimir-putin")
    putin.name = "Владимир Владимирович Путинский"
    putin.save()
    assert frequency("путинский") == 1
    assert_exact("renaming a speaker")
    nazarbayev = Speaker.objects.get(slug="nursultan-nazarbayev")
    data = form_data(admin_client.get(change_url(nazarbayev)))
    data["name"] = "Нурсултан Абишевич Назарбаев-Елбасы"
    assert admin_client.post(change_url(nazarbayev), data).status_code == 302
    assert_exact("renaming a speaker in the admin")
    target = Speaker.objects.create(name="Елбасы Первый Президент", slug="elbasy")
    assert_exact("a new speaker")
    admin_client.post(
        reverse("admin:transcripts_speaker_changelist"),
        {"action": "merge_into", "_selected_action": [nazarbayev.pk, target.pk], "confirm": "1", "target": target.pk},
    )
    assert not Speaker.objects.filter(pk=nazarbayev.pk).exists()
    assert_exact("merging speakers")
    Speaker.objects.create(name="Случайный Гость", slug="guest").delete()
    assert_exact("deleting a speaker")

    # Deletions: one utterance, a meeting in the admin (its utterances go with it), a queryset.
    Utterance.objects.filter(published=True).order_by("id").last().delete()
    assert_exact("deleting an utterance")
    doomed = Meeting.objects.filter(is_published=True).order_by("id").first()
    admin_client.post(reverse("admin:transcripts_meeting_delete", args=[doomed.pk]), {"post": "yes"})
    assert not Meeting.objects.filter(pk=doomed.pk).exists()
    assert_exact("deleting a meeting in the admin")
    Meeting.objects.filter(source_file__in=[p.name for p in some[:2]]).delete()
    assert_exact("deleting meetings")

    # Everything at once in one transaction, and a rolled-back change leaves no trace.
    with transaction.atomic():
        Utterance.objects.filter(seq=1).update(text="Первый абзац")
        Meeting.objects.update(is_published=True)
        Speaker.objects.filter(slug="elbasy").update(name="Лидер Нации")
    assert_exact("one transaction of several statements")
    before = stored()
    with transaction.atomic():
        Utterance.objects.update(text="Откат")
        transaction.set_rollback(True)
    assert stored() == before
    assert VocabularyWord.rebuild() == 0  # nothing to correct
    stored_counts, stored_meetings = lexeme_counts()[0], meeting_lexemes()[0]
    assert stored_meetings and MeetingLexemes.objects.count() == len(stored_meetings)
    out = io.StringIO()
    call_command("rebuild_lexeme_counts", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"LexemeCount: {len(stored_counts)} rows;") and lexeme_counts()[0] == stored_counts
    assert lines[1].startswith(f"MeetingLexemes: {len(stored_meetings)} rows;")
    assert meeting_lexemes()[0] == stored_meetings


def test_truncating_utterances_or_speakers_rebuilds_the_list(seed_folder):
    assert not ingest_paths([seed_folder]).failures
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses pending foreign-key checks
        cursor.execute("TRUNCATE transcripts_utterance CASCADE")  # and the conflicts that name statements
    assert stored() == full_query() and frequency("путин") == 1  # only the speaker names are left
    assert not LexemeCount.objects.exists() and not MeetingLexemes.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE transcripts_meeting, transcripts_speaker CASCADE")
    assert stored() == {}


def test_rebuild_corrects_a_list_that_drifted(seed_folder):
    assert not ingest_paths([seed_folder]).failures
    with connection.cursor() as cursor:
        # What bypasses the triggers: a bulk load with them disabled, or direct writes.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses pending foreign-key checks
        cursor.execute("ALTER TABLE transcripts_utterance DISABLE TRIGGER kz_vocabulary_utterance_updated")
        cursor.execute("UPDATE transcripts_utterance SET text = text || ' Невидимка' WHERE seq = 1")
        cursor.execute("ALTER TABLE transcripts_utterance ENABLE TRIGGER kz_vocabulary_utterance_updated")
        cursor.execute("DELETE FROM transcripts_vocabularyword WHERE word = 'казахстан'")
        cursor.execute("UPDATE transcripts_vocabularyword SET frequency = frequency + 7 WHERE word = 'путин'")
        cursor.execute("INSERT INTO transcripts_vocabularyword VALUES ('несуществующее', 3)")
    assert stored() != full_query()
    out = io.StringIO()
    call_command("rebuild_vocabulary", stdout=out)
    assert " 4 corrected" in out.getvalue()
    assert_exact("a rebuild")
    assert VocabularyWord.rebuild() == 0


def test_suggestions_follow_unpublishing_at_once(seed_folder):
    from transcripts.search.engine import SearchRequest, search_archive

    assert not ingest_paths([seed_folder]).failures
    assert search_archive(SearchRequest(q="Назарбев")).suggestion == "Назарбаев"
    assert search_archive(SearchRequest(q="telegrm")).suggestion == "telegram"
    Meeting.objects.filter(source_file=NEWS).update(is_published=False)
    assert search_archive(SearchRequest(q="telegrm")).suggestion != "telegram"


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_wait_for_each_other_and_do_not_deadlock(seed_folder):
    """Two transactions, each changing the list in two statements over crossing words
    (one "альфа" then "гамма", the other "гамма" then "альфа"). With the list's row
    locks alone they could deadlock; the second waits for the first to commit instead
    (for the list's advisory lock, or before that for the archive's change stamp,
    migration 0010, which every writer of the archive updates first)."""
    assert not ingest_paths([seed_folder]).failures
    ids = list(Utterance.objects.filter(published=True).order_by("id").values_list("id", flat=True)[:4])
    url = server_url(connection.settings_dict["NAME"])
    first_done, second_done, errors = threading.Event(), threading.Event(), []
    update = "UPDATE transcripts_utterance SET text = %s WHERE id = %s"

    def one() -> None:
        try:
            with psycopg.connect(url) as conn:
                conn.execute("SET lock_timeout = '20s'")
                conn.execute(update, ["Альфа бета", ids[0]])
                first_done.set()
                for _ in range(400):  # until the other transaction waits for this one, or is past its first change
                    conn.execute("SELECT pg_stat_clear_snapshot()")  # else read once per transaction
                    waiting = conn.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY (pg_blocking_pids(pid))"
                    ).fetchone()[0]
                    if waiting or second_done.is_set():
                        break
                    time.sleep(0.05)
                assert waiting and not second_done.is_set()
                conn.execute(update, ["Гамма дельта", ids[1]])
        except Exception as error:
            errors.append(error)

    def two() -> None:
        try:
            first_done.wait(30)
            with psycopg.connect(url) as conn:
                conn.execute("SET lock_timeout = '20s'")
                conn.execute(update, ["Гамма эпсилон", ids[2]])
                second_done.set()
                conn.execute(update, ["Альфа дзета", ids[3]])
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=one), threading.Thread(target=two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert_exact("two concurrent writers")
    assert frequency("альфа") == 2 and frequency("гамма") == 2


def test_a_migrated_database_has_the_triggers_and_no_view():
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'transcripts_vocabularyword'")
        assert cursor.fetchone() == ("r",)
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE %s AND tgenabled = 'O'", ["kz_vocabulary_%"])
        names = [row[0] for row in cursor.fetchall()]
    assert len(names) == 8, names


def test_a_larger_ingest_keeps_the_list_exact(tmp_path, corpus_dir):
    """A larger ingest in one run (many files, new speakers) keeps the list exact too."""
    for path in sorted(corpus_dir.glob("*.txt"))[6:30]:
        shutil.copy(path, tmp_path / path.name)
    assert not ingest_paths([tmp_path]).failures
    assert_exact("ingesting 24 corpus files")
