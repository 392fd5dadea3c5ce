"""Ingest: seeds into the database, idempotency, update in place, and bad files."""

import shutil

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError

from transcripts.importing import store
from transcripts.importing.ingest import ingest_paths
from transcripts.importing.parser import MAX_BYTES
from transcripts.models import Meeting, Section, Speaker, Utterance

pytestmark = pytest.mark.django_db

PRESS = "000_c5b0e3a29709c268.txt"
TALKS = "001_18989ea348c53557.txt"
NEWS = "004_16411808a7c457af.txt"


def snapshot():
    return {
        "meetings": sorted(Meeting.objects.values_list("id", "slug", "content_hash")),
        "utterances": sorted(Utterance.objects.values_list("id", "meeting_id", "seq", "speaker_id", "text")),
        "sections": sorted(Section.objects.values_list("id", "meeting_id", "position", "heading")),
        "speakers": sorted(Speaker.objects.values_list("id", "slug")),
    }


def test_seeds_ingest_into_meetings_speakers_and_utterances(seeds):
    report = ingest_paths(seeds)
    assert report.summary() == "5 files: 5 added, 0 updated, 0 unchanged, 0 failed"

    press = Meeting.objects.get(source_url="http://kremlin.ru/events/president/news/copy/67749")
    assert press.title == "Заявления для прессы по\u00a0итогам российско-казахстанских переговоров"
    assert press.kind == "press_statements" and press.location == "Москва, Кремль"
    assert press.start.isoformat() == "2022-02-10T15:15:00+00:00"  # 18:15 in Moscow
    assert str(press.date) == "2022-02-10"
    turns = list(press.utterances.exclude(label="").select_related("speaker"))
    assert [(u.label, u.speaker.slug) for u in turns] == [
        ("В.Путин", "vladimir-putin"),
        ("К.-Ж.Токаев", "kassym-jomart-tokayev"),
        ("В.Путин", "vladimir-putin"),
        ("Вопрос", "vopros"),
        ("В.Путин", "vladimir-putin"),
        ("К.-Ж.Токаев", "kassym-jomart-tokayev"),
    ]
    assert turns[2].remark == "(обращаясь к представителям СМИ)"
    assert turns[3].speaker.kind == Speaker.Kind.ROLE
    assert turns[0].paragraphs[:2] == ["Уважаемый господин Президент!", "Уважаемые коллеги!"]
    assert press.lead.startswith("По\u00a0окончании двусторонних консультаций")

    talks = Meeting.objects.get(source_file=TALKS)
    assert talks.kind == "talks" and talks.omitted_after == [4]
    assert list(talks.sections.values_list("heading", flat=True)) == ["Начало российско-казахстанских переговоров"]
    assert talks.utterances.get(label="В.Путин").section.heading == "Начало российско-казахстанских переговоров"
    assert not talks.utterances.filter(text__contains="&lt;").exists()

    nazarbayev = Speaker.objects.get(slug="nursultan-nazarbayev")
    assert nazarbayev.utterances.count() == 2

    news = Meeting.objects.get(source_file=NEWS)
    assert news.title_derived and news.start is None and news.source_url == "" and news.kind == "news_report"
    attributed = news.utterances.filter(speaker__slug="vladimir-putin").values_list("seq", "label")
    assert list(attributed) == [
        (3, "российский лидер"),
        (5, "Владимир Путин"),
        (7, "российский Президент"),
        (9, "Владимир Путин"),
        (10, "Владимир Путин"),
    ]
    assert news.utterances.filter(speaker__isnull=True).count() == 5
    assert not Speaker.objects.filter(needs_review=True).exists()


def test_reingest_changes_nothing(seeds):
    ingest_paths(seeds)
    before = snapshot()
    report = ingest_paths(seeds)
    assert report.summary() == "5 files: 0 added, 0 updated, 5 unchanged, 0 failed"
    assert snapshot() == before


def test_changed_file_updates_its_meeting_in_place(tmp_path, seeds):
    src = tmp_path / PRESS
    shutil.copy(next(p for p in seeds if p.name == PRESS), src)
    ingest_paths([src])
    meeting = Meeting.objects.get()
    ids = dict(meeting.utterances.values_list("seq", "id"))

    text = src.read_text(encoding="utf-8")
    text = text.replace("Заявления для прессы", "Совместные заявления для прессы")
    text = text.replace("К.-Ж.Токаев:\u00a0Благодарю вас. ", "")  # the last turn goes
    text = text.replace("Уважаемые коллеги!", "Уважаемые коллеги и друзья!")
    src.write_text(text, encoding="utf-8")
    # Same URL, new file name: still the same meeting.
    renamed = src.rename(tmp_path / "renamed.txt")

    report = ingest_paths([renamed])
    assert report.summary() == "1 files: 0 added, 1 updated, 0 unchanged, 0 failed"
    meeting.refresh_from_db()
    assert Meeting.objects.count() == 1
    assert meeting.title.startswith("Совместные заявления")
    assert meeting.slug.endswith(
        "zaiavleniia-dlia-pressy-po-itogam-rossiisko-kazakhstanskikh-peregovorov"
    )  # permalink kept
    assert meeting.source_file == "renamed.txt"
    after = dict(meeting.utterances.values_list("seq", "id"))
    assert max(after) == max(ids) - 1
    assert all(after[seq] == ids[seq] for seq in after)  # rows updated, not replaced
    assert "Уважаемые коллеги и друзья!" in meeting.utterances.get(seq=2).text


def test_file_without_url_is_matched_by_file_name(tmp_path, seeds):
    src = tmp_path / NEWS
    shutil.copy(next(p for p in seeds if p.name == NEWS), src)
    ingest_paths([src])
    first = Meeting.objects.get()
    src.write_text(src.read_text(encoding="utf-8").replace("союзником", "верным союзником"), encoding="utf-8")
    assert ingest_paths([src]).count("updated") == 1
    assert Meeting.objects.get().id == first.id
    assert Utterance.objects.filter(text__contains="верным союзником").count() == 1


BAD_FILES = {
    "empty.txt": (b"", "empty file"),
    "binary.txt": (b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary file"),
    "nodate.txt": ("\nЗаголовок\n\nТекст без даты\n".encode(), "expected the date line"),
    "latin1.txt": ("Ça va? Ünïcödé".encode("latin-1"), "not UTF-8"),
    "huge.txt": (b"a" * (MAX_BYTES + 1), "byte limit"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_one_bad_file_among_good_ones(tmp_path, seeds, name):
    data, reason = BAD_FILES[name]
    for seed in seeds:
        shutil.copy(seed, tmp_path / seed.name)
    (tmp_path / name).write_bytes(data)
    report = ingest_paths([tmp_path])
    assert report.summary() == "6 files: 5 added, 0 updated, 0 unchanged, 1 failed"
    (failure,) = report.failures
    assert failure.path.name == name and reason in failure.reason
    assert Meeting.objects.count() == 5


def test_windows_1251_file_is_decoded(tmp_path, seeds):
    src = next(p for p in seeds if p.name == TALKS)
    cp1251 = src.read_text(encoding="utf-8").replace("\u00a0", " ").replace("…", "...")
    (tmp_path / "talks-1251.txt").write_bytes(cp1251.encode("cp1251"))
    assert ingest_paths([tmp_path]).count("added") == 1
    assert Meeting.objects.get().title == "Встреча с Президентом Казахстана Касым-Жомартом Токаевым"


def test_unknown_label_becomes_a_speaker_to_review(tmp_path):
    (tmp_path / "x.txt").write_text(
        "\nВстреча с губернатором\n\n\n2025-01-15 12:00:00\n\nМосква\n\nСостоялась встреча.\n"
        "В.Путин: Добрый день.\nА.Репик: Здравствуйте.\nВедущая: Следующий вопрос.\n\n\n\nhttp://example.org/1",
        encoding="utf-8",
    )
    assert ingest_paths([tmp_path]).count("added") == 1
    repik = Speaker.objects.get(name="А.Репик")
    assert repik.needs_review and repik.kind == Speaker.Kind.PERSON
    assert list(repik.aliases.values_list("name", flat=True)) == ["А.Репик"]
    host = Utterance.objects.get(label="Ведущая").speaker
    assert host.kind == Speaker.Kind.ROLE and not host.needs_review  # the directory knows it


def test_a_failure_while_storing_leaves_nothing_behind(tmp_path, monkeypatch):
    (tmp_path / "x.txt").write_text(
        "\nВстреча\n\n\n2025-01-15 12:00:00\n\nМосква\n\nЛид.\nИ.Новый: Текст.\n\n\n\nhttp://example.org/2",
        encoding="utf-8",
    )

    def failing(*args, **kwargs):  # the meeting, its section and the new speaker are written by now
        raise DatabaseError("disk full")

    monkeypatch.setattr(store, "store_statements", failing)
    report = ingest_paths([tmp_path])
    assert "disk full" in report.failures[0].reason
    assert not Meeting.objects.exists()
    assert not Speaker.objects.filter(name="И.Новый").exists()


def test_same_source_twice_in_one_run_is_refused(tmp_path, seeds):
    src = next(p for p in seeds if p.name == PRESS)
    shutil.copy(src, tmp_path / "a.txt")
    shutil.copy(src, tmp_path / "b.txt")
    report = ingest_paths([tmp_path])
    assert report.summary() == "2 files: 1 added, 0 updated, 0 unchanged, 1 failed"
    assert report.failures[0].reason == f"the same source URL as {tmp_path / 'a.txt'}, read earlier in this run"


def test_command_prints_summary_and_fails_with_status_1(tmp_path, seeds, capsys):
    shutil.copy(seeds[0], tmp_path / seeds[0].name)
    (tmp_path / "bad.txt").write_text("\nЗаголовок\n\n2022-13-01 10:00:00\n", encoding="utf-8")
    with pytest.raises(CommandError) as err:
        call_command("ingest", str(tmp_path), str(tmp_path / "missing.txt"))
    assert err.value.returncode == 1
    out, errors = capsys.readouterr()
    assert out.strip().splitlines()[-1] == "3 files: 1 added, 0 updated, 0 unchanged, 2 failed"
    assert "bad.txt:4: impossible date" in errors
    assert "missing.txt: no such file or directory" in errors

    call_command("ingest", str(tmp_path / seeds[0].name))
    assert capsys.readouterr().out.strip() == "1 files: 0 added, 0 updated, 1 unchanged, 0 failed"


def test_damaged_utf8_is_rejected_not_read_as_windows_1251(tmp_path, seeds):
    data = next(p for p in seeds if p.name == PRESS).read_bytes()
    (tmp_path / "truncated.txt").write_bytes(data[:-3] + b"\xe2\x80")
    (tmp_path / "stray.txt").write_bytes(data[:500] + b"\xff" + data[501:])
    report = ingest_paths([tmp_path])
    assert report.count("failed") == 2 and not Meeting.objects.exists()
    assert all("invalid UTF-8" in f.reason and f.line for f in report.failures)


def test_a_different_document_under_the_same_file_name_is_refused(tmp_path, seeds):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    shutil.copy(next(p for p in seeds if p.name == NEWS), first / "item.txt")
    (second / "item.txt").write_text("05-01-2025\n05.01.2025\n\nСовсем другая новость.", encoding="utf-8")
    ingest_paths([first])
    report = ingest_paths([second])
    assert "another document dated 2024-12-23" in report.failures[0].reason
    assert Meeting.objects.get().date.isoformat() == "2024-12-23"


def test_https_and_a_trailing_slash_name_the_same_page(tmp_path, seeds):
    src = tmp_path / PRESS
    shutil.copy(next(p for p in seeds if p.name == PRESS), src)
    ingest_paths([src])
    before = Meeting.objects.get()
    src.write_text(
        src.read_text(encoding="utf-8").replace(
            "http://kremlin.ru/events/president/news/copy/67749", "https://kremlin.ru/events/president/news/copy/67749/"
        ),
        encoding="utf-8",
    )
    assert ingest_paths([src]).summary() == "1 files: 0 added, 1 updated, 0 unchanged, 0 failed"
    after = Meeting.objects.get()
    assert after.id == before.id and after.source_url.startswith("https://")
    assert after.updated_at > before.updated_at and after.created_at == before.created_at
