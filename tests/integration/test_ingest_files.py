"""Ingest reads only the files it should: no links out of the folder, no FIFOs or
devices, nothing past the size limit, and no error that prints a file's content."""

import os
import shutil
import signal
import socket
import tracemalloc
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from transcripts.importing import parser, store
from transcripts.importing.files import collect_files
from transcripts.importing.ingest import ingest_files, ingest_paths
from transcripts.importing.parser import MAX_BYTES
from transcripts.models import Meeting

pytestmark = pytest.mark.django_db

PRESS = "000_c5b0e3a29709c268.txt"
SHADOW = Path("/etc/shadow")


def run_ingest(capsys, *args):
    """(exit code, stdout, stderr) of `manage.py ingest args`."""
    try:
        call_command("ingest", *map(str, args))
        code = 0
    except CommandError as err:
        code = err.returncode
    out, errors = capsys.readouterr()
    return code, out, errors


@pytest.fixture
def no_hang():
    """Fail, rather than hang, if ingest blocks (opening a FIFO waits for a writer)."""

    def hung(*_):
        raise TimeoutError("ingest blocked")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def secret_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if len(line) > 3]


@pytest.mark.skipif(os.geteuid() != 0 or not SHADOW.is_file(), reason="needs root and /etc/shadow")
def test_a_link_to_etc_shadow_is_skipped_and_nothing_of_it_is_printed(seed_folder, capsys):
    (seed_folder / "shadow.txt").symlink_to(SHADOW)
    code, out, errors = run_ingest(capsys, seed_folder)
    assert code == 0
    assert f"SKIPPED {seed_folder}/shadow.txt: a symbolic link to a file; not followed" in errors
    assert out.strip() == "6 files: 5 added, 0 updated, 0 unchanged, 0 failed, 1 skipped"

    # Asked to follow links, it still follows none out of the folder.
    code, out, errors2 = run_ingest(capsys, "--follow-symlinks", seed_folder)
    assert f"SKIPPED {seed_folder}/shadow.txt: a symbolic link to outside the folder being ingested" in errors2
    assert out.strip() == "6 files: 0 added, 0 updated, 5 unchanged, 0 failed, 1 skipped"
    for line in secret_lines(SHADOW):
        assert line not in errors + errors2 and line.split(":")[0] + ":" not in errors + errors2


def test_follow_symlinks_reads_links_that_stay_inside_the_folder(tmp_path, seeds, capsys):
    folder = tmp_path / "in"
    (folder / "store").mkdir(parents=True)
    shutil.copy(next(s for s in seeds if s.name == PRESS), folder / "store" / "press.data")
    (folder / "press.txt").symlink_to("store/press.data")
    (folder / "linked-folder").symlink_to("store")

    code, out, errors = run_ingest(capsys, folder)
    assert out.strip() == "2 files: 0 added, 0 updated, 0 unchanged, 0 failed, 2 skipped"
    assert f"SKIPPED {folder}/linked-folder: a symbolic link to a folder; not followed" in errors
    assert f"SKIPPED {folder}/press.txt: a symbolic link to a file; not followed" in errors
    assert code == 0 and not Meeting.objects.exists()

    code, out, errors = run_ingest(capsys, "--follow-symlinks", folder)
    assert (code, out.strip(), errors) == (0, "1 files: 1 added, 0 updated, 0 unchanged, 0 failed", "")
    assert Meeting.objects.get().source_file == "press.txt"


def test_a_link_named_directly_is_refused_unless_asked(tmp_path, seeds, capsys):
    # What a shell glob (ingest folder/*.txt) hands over: the links themselves.
    link = tmp_path / "press.txt"
    link.symlink_to(next(s for s in seeds if s.name == PRESS))
    code, out, errors = run_ingest(capsys, link)
    assert code == 1
    assert errors.strip() == (
        f"FAILED {link}: a symbolic link; not followed (use --follow-symlinks to read the file it points to)"
    )
    assert out.strip() == "1 files: 0 added, 0 updated, 0 unchanged, 1 failed"
    code, out, _ = run_ingest(capsys, "--follow-symlinks", link)
    assert code == 0 and out.strip() == "1 files: 1 added, 0 updated, 0 unchanged, 0 failed"


def test_a_folder_named_through_a_link_is_ingested(seed_folder, tmp_path_factory, capsys):
    link = tmp_path_factory.mktemp("links") / "current"
    link.symlink_to(seed_folder)
    code, out, errors = run_ingest(capsys, link)
    assert (code, out.strip(), errors) == (0, "5 files: 5 added, 0 updated, 0 unchanged, 0 failed", "")


def test_a_file_swapped_for_a_link_after_listing_is_not_followed(seed_folder, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "other.txt"
    shutil.copy(seed_folder / PRESS, outside)
    files, _ = collect_files([seed_folder], follow_symlinks=True)
    (seed_folder / PRESS).unlink()
    (seed_folder / PRESS).symlink_to(outside)
    report = ingest_files(files, follow_symlinks=True)
    (failure,) = report.failures
    assert failure.path.name == PRESS
    assert failure.reason == "leads outside the folder being ingested; not read"
    assert Meeting.objects.count() == 4


def test_errors_never_quote_the_file(tmp_path, capsys):
    (tmp_path / "date.txt").write_text("Заголовок\nСЕКРЕТНАЯ СТРОКА 4711\nтекст\n", encoding="utf-8")
    (tmp_path / "label.txt").write_text(
        "Заголовок\n2025-01-15 12:00:00\n\nМосква\n\nЛид.\nИван Секретов:\n", encoding="utf-8"
    )
    (tmp_path / "news.txt").write_text("01-02-2025\n01.03.2025\n\nНовость.\n", encoding="utf-8")
    code, out, errors = run_ingest(capsys, tmp_path)
    assert code == 1
    assert sorted(errors.strip().splitlines()) == [
        f"FAILED {tmp_path}/date.txt:2: expected the date line YYYY-MM-DD HH:MM:SS after the title",
        f"FAILED {tmp_path}/label.txt:7: a speaker label with no text after it",
        f"FAILED {tmp_path}/news.txt:2: the two date lines (DD-MM-YYYY, DD.MM.YYYY) name different days",
    ]
    assert out.strip() == "3 files: 0 added, 0 updated, 0 unchanged, 3 failed"


def test_a_new_quoting_parser_reason_is_cut_at_the_ingest_layer(tmp_path, monkeypatch):
    def quoting(data, filename=""):
        raise parser.ParseError(f"odd line {data.decode()[:8]!r} here", filename=filename, line=3)

    monkeypatch.setattr(parser, "parse_bytes", quoting)
    (tmp_path / "x.txt").write_text("SECRET-1 and more", encoding="utf-8")
    (failure,) = ingest_paths([tmp_path]).failures
    assert (failure.line, failure.reason) == (3, "odd line … here")


def test_a_database_error_does_not_print_its_detail(tmp_path, seeds, monkeypatch):
    shutil.copy(next(s for s in seeds if s.name == PRESS), tmp_path / PRESS)
    ingest_paths([tmp_path / PRESS])
    taken = Meeting.objects.get().slug  # made from the file's title and date
    other = tmp_path / "other.txt"
    other.write_text(
        "Переговоры\n2025-01-15 12:00:00\n\nМосква\n\nЛид.\nВ.Путин: Добрый день.\n\nhttp://example.org/3\n",
        encoding="utf-8",
    )
    # Two ingests racing for one slug: the unique index refuses the second.
    monkeypatch.setattr(store, "unique_slug", lambda *a, **k: taken)
    (failure,) = ingest_paths([other]).failures
    assert failure.reason == (
        "database error, nothing stored: duplicate key value violates unique constraint …"
        " (transcripts_meeting_slug_key)"
    )
    assert taken not in failure.reason
    assert Meeting.objects.count() == 1


def test_fifos_devices_and_sockets_are_named_and_skipped_without_blocking(seed_folder, capsys, monkeypatch, no_hang):
    os.mkfifo(seed_folder / "pipe.txt")
    (seed_folder / "zero.txt").symlink_to("/dev/zero")
    monkeypatch.chdir(seed_folder)  # a socket's path must be short
    server = socket.socket(socket.AF_UNIX)
    server.bind("socket.txt")
    try:
        code, out, errors = run_ingest(capsys, seed_folder)
        assert f"SKIPPED {seed_folder}/pipe.txt: a FIFO (named pipe), not a regular file" in errors
        assert f"SKIPPED {seed_folder}/socket.txt: a socket, not a regular file" in errors
        assert f"SKIPPED {seed_folder}/zero.txt: a symbolic link to a file; not followed" in errors
        assert (code, out.strip()) == (0, "8 files: 5 added, 0 updated, 0 unchanged, 0 failed, 3 skipped")

        code, out, errors = run_ingest(capsys, "--follow-symlinks", seed_folder / "pipe.txt", "/dev/zero")
        assert code == 1
        assert errors.strip().splitlines() == [
            f"FAILED {seed_folder}/pipe.txt: a FIFO (named pipe), not a regular file",
            "FAILED /dev/zero: a character device, not a regular file",
        ]
        (seed_folder / "inner-pipe.txt").symlink_to("pipe.txt")
        code, out, errors = run_ingest(capsys, "--follow-symlinks", seed_folder)
        assert f"SKIPPED {seed_folder}/inner-pipe.txt: a symbolic link to a FIFO (named pipe)" in errors
        assert f"SKIPPED {seed_folder}/zero.txt: a symbolic link to outside the folder being ingested" in errors
    finally:
        server.close()


def test_a_file_swapped_for_a_fifo_after_listing_is_not_opened(seed_folder, no_hang):
    files, _ = collect_files([seed_folder])
    (seed_folder / PRESS).unlink()
    os.mkfifo(seed_folder / PRESS)
    report = ingest_files(files)
    assert [(f.path.name, f.reason) for f in report.failures] == [(PRESS, "a FIFO (named pipe), not a regular file")]
    assert Meeting.objects.count() == 4


def peak_memory(run):
    tracemalloc.start()
    try:
        result = run()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_huge_sparse_file_is_refused_before_it_is_read(tmp_path):
    size = 16 * MAX_BYTES
    with (tmp_path / "sparse.txt").open("wb") as f:
        f.truncate(size)
    report, peak = peak_memory(lambda: ingest_paths([tmp_path]))
    assert report.failures[0].reason == f"file is {size} bytes, over the {MAX_BYTES} byte limit"
    assert peak < MAX_BYTES


def test_a_file_that_grew_after_the_size_check_is_read_only_to_the_limit(tmp_path, monkeypatch):
    path = tmp_path / "growing.txt"
    with path.open("wb") as f:
        f.truncate(8 * MAX_BYTES)
    real_stat = os.stat

    def small_when_checked(target, *args, **kwargs):
        st = real_stat(target, *args, **kwargs)
        if os.fspath(target) == str(path):  # as it was a moment before it grew
            return os.stat_result((*st[:6], 100, *st[7:10]))
        return st

    monkeypatch.setattr(os, "stat", small_when_checked)
    report, peak = peak_memory(lambda: ingest_paths([path]))
    assert report.failures[0].reason == f"file is over the {MAX_BYTES} byte limit (it grew while being read)"
    assert peak < 3 * MAX_BYTES


def test_the_bytes_reach_the_parser_unchanged(tmp_path, seeds, monkeypatch):
    text = next(s for s in seeds if s.name == PRESS).read_text(encoding="utf-8")
    files = {
        "utf16le.txt": "\ufeff".encode("utf-16-le") + text.encode("utf-16-le"),
        "utf16be.txt": "\ufeff".encode("utf-16-be") + text.encode("utf-16-be"),
        "utf8-bom.txt": b"\xef\xbb\xbf" + text.encode("utf-8"),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    seen = {}
    real = parser.parse_bytes

    def spy(data, filename=""):
        seen[filename] = data
        return real(data, filename)

    monkeypatch.setattr(parser, "parse_bytes", spy)
    ingest_paths([tmp_path])
    assert seen == files


def test_a_file_name_cannot_forge_a_line_of_the_report(tmp_path, capsys):
    (tmp_path / "x\nFAILED other.txt:1: y.txt").write_text("Заголовок\nне дата\n", encoding="utf-8")
    code, _, errors = run_ingest(capsys, tmp_path)
    assert code == 1
    assert errors.splitlines() == [
        f"FAILED {tmp_path}/x\\nFAILED other.txt:1: y.txt:2: expected the date line YYYY-MM-DD HH:MM:SS after the title"
    ]


def test_help_names_the_options():
    from transcripts.management.commands.ingest import Command

    text = " ".join(Command().create_parser("manage.py", "ingest").format_help().split())
    assert "symbolic links are not followed" in text and "FIFOs, devices and sockets are skipped" in text
    assert "--follow-symlinks" in text and "--allow-partial-copies" in text
