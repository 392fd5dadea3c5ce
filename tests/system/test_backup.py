"""Backups: `manage.py backup`, then `manage.py restore` into an empty database, give the same
rows, the same search results and a database that needs no migration; bad input changes nothing.

pg_dump reads the database from another process, so these tests commit (transaction=True).
Each database is read by `fingerprint()` in a subprocess with its own DATABASE_URL.
"""

import datetime as dt
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from tests.servers import scratch_database, server_url
from transcripts import pg_clients
from transcripts.importing.ingest import ingest_paths
from transcripts.management.commands import restore as restore_command
from transcripts.models import Meeting, Speaker, Utterance
from transcripts.search.engine import SearchRequest, search_archive

ROOT = Path(__file__).resolve().parents[2]
committed = pytest.mark.django_db(transaction=True)

# Real queries on the seeds: an inflected name, a phrase, filters, a sort, and one
# that finds nothing but gets a did-you-mean from the vocabulary table.
QUERIES = [
    {"q": "Токаева"},
    {"q": '"дипломатических отношений"'},
    {"q": "Казахстан", "speaker": "vladimir-putin", "date_from": "2022-01-01", "kind": "talks"},
    {"q": "Казахстан OR миллиардов -Путин", "sort": "oldest"},
    {"q": "Назарбев"},
]


def fingerprint() -> dict:
    """What a restore must bring back, read from the configured database: every row
    (counts and a digest of the contents) of the transcripts app and auth, sequences,
    the search machinery in the catalogue, pending migrations, and search results."""
    with connection.cursor() as cursor:

        def rows(query, params=()):
            cursor.execute(query, params)
            return [list(row) for row in cursor.fetchall()]

        tables = {}
        for model in [*apps.get_app_config("transcripts").get_models(), User, Group]:
            table = connection.ops.quote_name(model._meta.db_table)
            digest = f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
            tables[model._meta.db_table] = rows(digest)[0]
        catalogue = {
            "sequences": rows("SELECT sequencename, last_value FROM pg_sequences ORDER BY 1"),
            "extensions": rows("SELECT extname FROM pg_extension ORDER BY 1"),
            "kz_russian": rows("SELECT to_tsvector('kz_russian', 'Всё твёрдо: Токаевым и Назарбаеву')::text"),
            "triggers": rows("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1"),
            "indexes": rows("SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"),
            "matviews": rows("SELECT matviewname, ispopulated, definition FROM pg_matviews ORDER BY 1"),
        }
    executor = MigrationExecutor(connection)
    pending = [str(migration) for migration, _ in executor.migration_plan(executor.loader.graph.leaf_nodes())]
    return {
        "tables": tables,
        "catalogue": catalogue,
        "pending_migrations": pending,
        "search": [search_result(query) for query in QUERIES],
        "after_a_rename": search_after_a_rename(),
    }


def search_result(query: dict) -> dict:
    fields = {key: value for key, value in query.items() if key != "speaker"}
    if "speaker" in query:
        fields["speakers"] = (Speaker.objects.get(slug=query["speaker"]).pk,)
    if "date_from" in query:
        fields["date_from"] = dt.date.fromisoformat(query["date_from"])
    results = search_archive(SearchRequest(**fields))
    return {
        "total": [results.total.value, results.total.estimated],
        "meetings": results.meetings.value,
        "hits": [[hit.utterance.pk, str(hit.snippet), round(hit.rank or 0, 6)] for hit in results.hits],
        "speaker_facets": [[speaker.pk, n] for speaker, n in results.speaker_facets],
        "year_facets": results.year_facets,
        "suggestion": results.suggestion,
    }


def search_after_a_rename() -> int:
    """Renaming a speaker re-indexes their statements (the triggers work); rolled back."""
    with transaction.atomic():
        Speaker.objects.filter(slug="kassym-jomart-tokayev").update(name="Тестоименный Президент")
        found = search_archive(SearchRequest(q="Тестоименный")).total.value
        transaction.set_rollback(True)
    return found


def manage(*args: str, url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def fingerprint_of(url: str) -> dict:
    code = (
        "import django, json; django.setup();"
        " from tests.system.test_backup import fingerprint as f; print(json.dumps(f()))"
    )
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "kzarchive.settings"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def archive_counts() -> tuple[int, int, int, int]:
    return Meeting.objects.count(), Speaker.objects.count(), Utterance.objects.count(), User.objects.count()


@pytest.fixture
def archive(seeds):
    """The five seeds, an editor's account and an unpublished meeting, committed."""
    report = ingest_paths(seeds)
    assert not report.failures
    User.objects.create_user("editor", password="a long pass phrase", is_staff=True)
    Meeting.objects.filter(source_file="003_656b868d880b5e26.txt").update(is_published=False)  # triggers drop its words
    return server_url(connection.settings_dict["NAME"])


@pytest.fixture
def empty_database():
    """A new empty database beside the test database (same server, same locale); dropped afterwards."""
    with scratch_database("kz_restored") as url:
        yield url


def run_backup(output: Path) -> str:
    printed = io.StringIO()
    call_command("backup", output=output, stdout=printed)
    return printed.getvalue()


@committed
def test_restore_into_an_empty_database_gives_the_same_archive_and_search(archive, empty_database, tmp_path):
    dump = tmp_path / "kzarchive.dump"
    printed = run_backup(dump)
    assert f"to {dump}" in printed
    assert "5 meetings, " in printed and " utterances" in printed
    assert dump.read_bytes()[:5] == b"PGDMP"
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600  # it holds password hashes
    assert [p.name for p in tmp_path.iterdir()] == ["kzarchive.dump"]  # no temporary file left

    # A cut-off copy fails and leaves the database empty (else the next restore would refuse).
    cut = tmp_path / "cut.dump"
    cut.write_bytes(dump.read_bytes()[: dump.stat().st_size * 9 // 10])
    failed = manage("restore", str(cut), url=empty_database)
    assert failed.returncode == 1 and "the database was left empty" in failed.stderr
    cut.unlink()

    restored = manage("restore", str(dump), url=empty_database)
    assert restored.returncode == 0, restored.stderr
    counts_line = printed.splitlines()[-1].split(": ", 1)[1]
    assert restored.stdout.rstrip().endswith(counts_line)  # the same counts, printed by both
    assert "migrate" not in restored.stdout

    before, after = fingerprint_of(archive), fingerprint_of(empty_database)
    assert after == before
    # ...and what was compared is real: rows, the search machinery, hits.
    assert before["tables"]["transcripts_utterance"][0] > 30
    assert before["tables"]["transcripts_vocabularyword"][0] > 500  # the word list came back populated
    # ...and its triggers with it (compared above with pg_get_triggerdef), so it stays current.
    assert sum("kz_vocabulary_" in trigger[0] for trigger in before["catalogue"]["triggers"]) == 8
    assert before["tables"]["auth_user"][0] == 1
    assert before["pending_migrations"] == []
    assert before["catalogue"]["kz_russian"] == [["'назарбаев':5 'тверд':2 'токаев':3"]]
    assert any("utterance_search_gin" in index[0] for index in before["catalogue"]["indexes"])
    name, phrase, filtered, either, nothing = before["search"]
    assert name["total"][0] >= 10 and any("<mark>Токаев" in hit[1] for hit in name["hits"])
    # A phrase is marked as one (search/highlight.py).
    assert phrase["total"][0] >= 3 and "<mark>дипломатических отношений</mark>" in phrase["hits"][0][1]
    assert 0 < filtered["total"][0] < name["total"][0]
    assert either["total"][0] > 0
    assert nothing["total"][0] == 0 and nothing["suggestion"] == "Назарбаев"
    assert before["after_a_rename"] > 0

    migrate = manage("migrate", "--check", url=empty_database)
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr


@committed
def test_restore_refuses_a_database_that_holds_tables(archive, tmp_path):
    dump = tmp_path / "kzarchive.dump"
    run_backup(dump)
    Meeting.objects.filter(source_file="000_c5b0e3a29709c268.txt").delete()
    before = archive_counts()

    with pytest.raises(CommandError) as refused:
        call_command("restore", str(dump))
    message = str(refused.value)
    assert "is not empty" in message and "Nothing was changed" in message and "--replace" in message
    assert "4 meetings" in message
    assert archive_counts() == before


@committed
def test_replace_brings_back_the_backup_and_a_failed_replace_changes_nothing(archive, tmp_path, monkeypatch):
    real = restore_command.pg_bin
    dump = tmp_path / "kzarchive.dump"
    run_backup(dump)
    backed_up = archive_counts()
    Meeting.objects.filter(source_file="000_c5b0e3a29709c268.txt").delete()
    User.objects.create_user("intruder", password="another long pass phrase")
    changed = archive_counts()
    assert changed != backed_up

    # A backup cut short in copying: its table of contents (the first ~70%) reads, the
    # utterances' data (stored last) does not.
    cut = tmp_path / "cut.dump"
    cut.write_bytes(dump.read_bytes()[: dump.stat().st_size * 9 // 10])
    with pytest.raises(CommandError, match="the database was left as it was"):
        call_command("restore", str(cut), replace=True, stdout=io.StringIO())
    assert archive_counts() == changed

    # pg_restore failing after valid SQL: what psql ran is rolled back, not committed.
    fake = tmp_path / "pg_restore"
    fake.write_text(
        "#!/bin/sh\n"
        f'case " $* " in *" --list "*) exec "{pg_clients.pg_bin("pg_restore")}" "$@";; esac\n'
        'echo "CREATE TABLE half_restored (id int);"\n'
        'echo "pg_restore: error: could not read from input file: end of file" >&2\n'
        "exit 1\n"
    )
    fake.chmod(0o755)
    with monkeypatch.context() as patch:
        patch.setattr(restore_command, "pg_bin", lambda program: fake if program == "pg_restore" else real(program))
        with pytest.raises(CommandError, match="could not read from input file"):
            call_command("restore", str(dump), replace=True, stdout=io.StringIO())
    assert archive_counts() == changed
    assert "half_restored" not in connection.introspection.table_names()

    call_command("restore", str(dump), replace=True, stdout=io.StringIO())
    assert archive_counts() == backed_up
    assert not User.objects.filter(username="intruder").exists()
    assert search_archive(SearchRequest(q="Токаева")).total.value >= 10


@committed
def test_restore_rejects_files_that_are_not_backups(archive, tmp_path):
    not_a_dump = tmp_path / "notes.txt"
    not_a_dump.write_text("Это не резервная копия.\n", encoding="utf-8")
    empty = tmp_path / "empty.dump"
    empty.touch()
    header_only = tmp_path / "header.dump"
    header_only.write_bytes(b"PGDMP\x01\x10\x00")
    cases = {
        tmp_path / "missing.dump": "does not exist",
        tmp_path: "is not a file",
        not_a_dump: "is not a pg_dump custom-format archive",
        empty: "is not a pg_dump custom-format archive",
        header_only: "is damaged or unreadable",
    }
    before = archive_counts()
    for path, reason in cases.items():
        with pytest.raises(CommandError, match=reason):
            call_command("restore", str(path), replace=True)
    assert archive_counts() == before

    # Another database's dump is refused too, even with --replace.
    other = tmp_path / "other.dump"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE unrelated (id int)")
    try:
        argv, env = pg_clients.client_command("pg_dump", connection, "--format=custom", "--table=unrelated")
        subprocess.run([*argv, f"--file={other}"], env=env, check=True)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE unrelated")
    with pytest.raises(CommandError, match="is not a kzarchive backup"):
        call_command("restore", str(other), replace=True)
    assert archive_counts() == before

    # From the command line: a clear message and a non-zero exit status.
    done = manage("restore", str(not_a_dump), url=archive)
    assert done.returncode == 1
    assert "is not a pg_dump custom-format archive" in done.stderr and "Traceback" not in done.stderr


@committed
def test_a_failed_backup_leaves_no_file(archive, tmp_path, monkeypatch):
    fake = tmp_path / "pg_dump"
    fake.write_text(
        "#!/bin/sh\n"
        'for a; do case "$a" in --file=*) printf PGDMP-partial > "${a#--file=}";; esac; done\n'
        'echo "pg_dump: error: could not write to output file: No space left on device" >&2\n'
        "exit 1\n"
    )
    fake.chmod(0o755)
    monkeypatch.setattr(pg_clients, "pg_bin", lambda program: fake)
    folder = tmp_path / "backups"
    folder.mkdir()
    with pytest.raises(CommandError, match="No space left on device") as failed:
        run_backup(folder / "kzarchive.dump")
    assert "no backup was written" in str(failed.value)
    assert list(folder.iterdir()) == []

    existing = folder / "kept.dump"
    existing.write_bytes(b"an earlier backup")
    with pytest.raises(CommandError, match="already exists"):
        run_backup(existing)
    assert existing.read_bytes() == b"an earlier backup"
    with pytest.raises(CommandError, match="is not a folder"):
        run_backup(tmp_path / "no-such-folder" / "kzarchive.dump")
