"""A transcript that lost its last lines (and with them its URL) is not added beside
the full meeting unless asked."""

import shutil

import pytest
from django.core.management import CommandError, call_command

from transcripts.importing.ingest import ingest_paths
from transcripts.models import Meeting

pytestmark = pytest.mark.django_db

PRESS = "000_c5b0e3a29709c268.txt"
URL = "http://kremlin.ru/events/president/news/copy/67749"


@pytest.fixture
def folder(tmp_path, seeds):
    full = next(s for s in seeds if s.name == PRESS)
    shutil.copy(full, tmp_path / PRESS)
    lines = full.read_text(encoding="utf-8").splitlines()
    cut = lines[: len(lines) - 8]  # the URL, the blank lines before it and the last turns
    assert URL not in "\n".join(cut)
    (tmp_path / "press-cut.txt").write_text("\n".join(cut), encoding="utf-8")
    return tmp_path


def test_a_truncated_copy_is_refused_and_names_the_full_meeting(folder, capsys):
    with pytest.raises(CommandError) as err:
        call_command("ingest", str(folder))
    out, errors = capsys.readouterr()
    full = Meeting.objects.get()
    assert full.source_url == URL
    assert errors.strip() == (
        f"FAILED {folder}/press-cut.txt: no source URL, but the same title, date and place as the meeting"
        f" {full.slug} ({URL}): likely a truncated copy of it; not added (use --allow-partial-copies to add it)"
    )
    assert err.value.returncode == 1
    assert out.strip() == "2 files: 1 added, 0 updated, 0 unchanged, 1 failed"
    # Named again on its own, it is still refused.
    assert ingest_paths([folder / "press-cut.txt"]).count("failed") == 1
    assert Meeting.objects.count() == 1


def test_allow_partial_copies_adds_it(folder, capsys):
    call_command("ingest", "--allow-partial-copies", str(folder))
    assert capsys.readouterr().out.strip() == "2 files: 2 added, 0 updated, 0 unchanged, 0 failed"
    full, cut = Meeting.objects.get(source_url=URL), Meeting.objects.get(source_file="press-cut.txt")
    assert cut.slug == full.slug + "-2" and cut.utterances.count() < full.utterances.count()


def test_a_document_without_url_on_another_day_is_not_a_copy(folder):
    cut = folder / "press-cut.txt"
    cut.write_text(cut.read_text(encoding="utf-8").replace("2022-02-10", "2022-02-11"), encoding="utf-8")
    assert ingest_paths([folder]).summary() == "2 files: 2 added, 0 updated, 0 unchanged, 0 failed"
