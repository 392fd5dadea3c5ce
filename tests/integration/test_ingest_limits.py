"""Ingest refuses, before writing, what the database would refuse or should never hold:
values longer than their columns, and dates outside the archive's span."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from transcripts import dates
from transcripts.importing.ingest import ingest_paths
from transcripts.importing.speakers import load_speaker_directory
from transcripts.models import Meeting, Speaker, SpeakerAlias, Utterance

pytestmark = pytest.mark.django_db


def transcript(*, place="Москва", url="http://example.org/limits", label="В.Путин", date="2025-01-15"):
    return (
        f"Встреча с губернатором\n{date} 12:00:00\n\n{place}\n\nСостоялась встреча.\n"
        f"{label}: Добрый день.\nВ.Путин: До свидания.\n\n{url}\n"
    )


def long_word(length: int, start: str = "Б", end: str = "ов") -> str:
    return start + "о" * (length - len(start) - len(end)) + end


def ingest_command(capsys, *paths):
    with pytest.raises(CommandError) as err:
        call_command("ingest", *map(str, paths))
    out, errors = capsys.readouterr()
    return err.value.returncode, out.strip(), errors.strip()


LONG = {
    "place": ({"place": "Москва, " + long_word(292)}, 4, "the place is 300 characters long; at most 255 fit"),
    "url": (
        {"url": "http://example.org/" + "a" * 581},
        10,
        "the source URL is 600 characters long; at most 500 fit",
    ),
    "label": (
        {"label": "Иван " + long_word(295)},
        7,
        "the speaker label is 300 characters long; at most 255 fit",
    ),
    "new speaker": (
        {"label": "Иван " + long_word(125)},
        7,
        "the speaker label is 130 characters long; at most 120 fit a new speaker's short label",
    ),
}


@pytest.mark.parametrize("field", LONG)
def test_a_value_too_long_for_its_column_names_the_field_and_the_line(seed_folder, capsys, field):
    values, line, reason = LONG[field]
    (seed_folder / "long.txt").write_text(transcript(**values), encoding="utf-8")
    code, out, errors = ingest_command(capsys, seed_folder)
    assert errors == f"FAILED {seed_folder}/long.txt:{line}: {reason}"
    assert code == 1 and out == "6 files: 5 added, 0 updated, 0 unchanged, 1 failed"
    assert Meeting.objects.count() == 5 and not Meeting.objects.filter(title="Встреча с губернатором").exists()
    assert not Speaker.objects.filter(name__startswith="Иван").exists()


def test_a_long_label_the_directory_knows_fits(tmp_path):
    label = "Иван " + long_word(125)  # too long for a new speaker's short label, fine for a label
    load_speaker_directory()
    known = Speaker.objects.create(name="Иван Боооов", short_label="И.Боооов", slug="ivan-boooov")
    SpeakerAlias.objects.create(speaker=known, name=label)
    (tmp_path / "known.txt").write_text(transcript(label=label), encoding="utf-8")
    assert ingest_paths([tmp_path]).summary() == "1 files: 1 added, 0 updated, 0 unchanged, 0 failed"
    assert Utterance.objects.get(label=label).speaker == known


def test_dates_outside_the_archive_are_refused_with_the_date_line(tmp_path, capsys):
    last = dates.accepted_range()[1]
    (tmp_path / "future.txt").write_text(transcript(date="9999-12-31"), encoding="utf-8")
    (tmp_path / "year-one.txt").write_text(transcript(date="0001-01-01", url="http://example.org/1"), encoding="utf-8")
    (tmp_path / "news.txt").write_text("\n31-12-9999\n31.12.9999\n\nНовость из будущего.\n", encoding="utf-8")
    code, out, errors = ingest_command(capsys, tmp_path)
    assert sorted(errors.splitlines()) == [
        f"FAILED {tmp_path}/future.txt:2: the date 9999-12-31 is after {last.isoformat()}, more than 366 days ahead",
        f"FAILED {tmp_path}/news.txt:2: the date 9999-12-31 is after {last.isoformat()}, more than 366 days ahead",
        f"FAILED {tmp_path}/year-one.txt:2: the date 0001-01-01 is before 1991-01-01,"
        " the earliest this archive accepts",
    ]
    assert code == 1 and out == "3 files: 0 added, 0 updated, 0 unchanged, 3 failed"
    assert not Meeting.objects.exists()


def test_the_span_comes_from_the_settings(tmp_path, settings):
    settings.ARCHIVE_FIRST_DATE = dt.date(2000, 1, 1)
    (tmp_path / "old.txt").write_text(transcript(date="1999-12-31"), encoding="utf-8")
    (failure,) = ingest_paths([tmp_path]).failures
    assert (failure.line, failure.reason) == (
        2,
        "the date 1999-12-31 is before 2000-01-01, the earliest this archive accepts",
    )
    (tmp_path / "old.txt").write_text(transcript(date="2000-01-01"), encoding="utf-8")
    assert ingest_paths([tmp_path]).count("added") == 1
