"""python manage.py backup [--output FILE]: pg_dump the archive database to one file.

The helpers here (how to call PostgreSQL's client programs for the configured
database, the archive's row counts) are shared with the restore command.
"""

import datetime as dt
import os
import subprocess
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections, transaction
from psycopg import pq
from psycopg.conninfo import make_conninfo

from kzarchive.embedded_db import pg_bin
from transcripts.models import Meeting, Speaker, Utterance

BACKUP_DIR = settings.BASE_DIR / "backups"
COUNTED = {"meetings": Meeting, "speakers": Speaker, "utterances": Utterance}
# Not passed to the client programs: the password goes in PGPASSWORD, and each
# program sets the client encoding it needs.
LEFT_OUT = {"client_encoding", "password"}


def libpq_params(connection) -> dict[str, str]:
    """The libpq keywords psycopg gets for this connection (dbname, host, port,
    user, sslmode…), built by Django itself from settings_dict, without the password."""
    known = {option.keyword.decode() for option in pq.Conninfo.get_defaults()} - LEFT_OUT
    params = connection.get_connection_params()
    return {key: str(value) for key, value in params.items() if key in known and value not in (None, "")}


def client_command(program: str, connection, *args: str) -> tuple[list[str], dict[str, str]]:
    """(argv, environment) to run a PostgreSQL client program against `connection`.

    The password goes in PGPASSWORD, never on the command line, where `ps` shows it;
    --no-password makes a missing one an error instead of a prompt."""
    password = connection.get_connection_params().get("password")
    env = os.environ.copy()
    if password:
        env["PGPASSWORD"] = str(password)
    conninfo = make_conninfo(**libpq_params(connection))
    return [str(pg_bin(program)), "--no-password", f"--dbname={conninfo}", *args], env


def describe(connection) -> str:
    """'database "kzarchive" on /work/main/.pgdata:5432', for messages (no password)."""
    params = libpq_params(connection)
    where = params.get("host") or "localhost"
    if params.get("port"):
        where += f":{params['port']}"
    return f'database "{params.get("dbname", "")}" on {where}'


def archive_counts(cursor) -> dict[str, int]:
    """Rows of the archive's main tables, unpublished meetings included."""
    selects = ", ".join(f"(SELECT count(*) FROM {model._meta.db_table})" for model in COUNTED.values())
    cursor.execute(f"SELECT {selects}")
    return dict(zip(COUNTED, cursor.fetchone(), strict=True))


def format_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {what}" for what, n in counts.items())


def human_size(size: float) -> str:
    unit = "bytes"
    for bigger in ("kB", "MB", "GB"):
        if size < 1000:
            break
        size, unit = size / 1000, bigger
    return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Command(BaseCommand):
    help = (
        "Back up the whole archive database (pg_dump custom format) to one file, by default "
        "backups/kzarchive-<UTC yyyymmdd-HHMMSS>.dump. Restore it with `manage.py restore FILE`."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            "-o",
            type=Path,
            metavar="FILE",
            help="where to write the backup (must not exist yet); default: a new file in backups/",
        )

    def handle(self, *args, output, **options):
        output = self.output_path(output)
        connection = connections["default"]
        started = time.monotonic()
        # A temporary file in the same folder, renamed only when pg_dump succeeded:
        # a failed or interrupted dump never leaves a file that looks complete.
        # mkstemp makes it private (0600): a dump holds the users' password hashes.
        try:
            fd, partial = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".partial")
            os.close(fd)
        except OSError as exc:
            raise CommandError(f"cannot write in {output.parent}: {exc.strerror}") from exc
        partial = Path(partial)
        try:
            counts = self.dump(connection, partial)
            fsync_path(partial)  # on disk before the name says "complete"
            if output.exists():
                raise CommandError(f"{output} appeared while the backup ran; the backup was not kept")
            os.replace(partial, output)
            fsync_path(output.parent)
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc}") from exc
        finally:
            partial.unlink(missing_ok=True)
        elapsed = time.monotonic() - started
        self.stdout.write(f"Backed up {describe(connection)} to {output}")
        self.stdout.write(f"  {human_size(output.stat().st_size)} in {elapsed:.1f} s: {format_counts(counts)}")

    def output_path(self, output: Path | None) -> Path:
        if output is None:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
            try:
                BACKUP_DIR.mkdir(mode=0o700, exist_ok=True)
            except OSError as exc:
                raise CommandError(f"cannot create {BACKUP_DIR}: {exc.strerror}") from exc
            output = BACKUP_DIR / f"kzarchive-{stamp}.dump"
        if output.exists() or output.is_symlink():
            raise CommandError(f"{output} already exists: choose another file name (nothing was written)")
        if not output.parent.is_dir():
            raise CommandError(f"{output.parent} is not a folder: create it first, or choose another --output")
        return output

    def dump(self, connection, path: Path) -> dict[str, int]:
        """pg_dump into `path`; returns the counts of exactly the rows the dump holds."""
        try:
            # pg_dump reads the snapshot this transaction exports, so the counts and
            # the dump see the same rows even while an ingest is running.
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
                counts = archive_counts(cursor)
                argv, env = client_command(
                    "pg_dump", connection, "--format=custom", f"--snapshot={snapshot}", f"--file={path}"
                )
                try:
                    result = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
                except OSError as exc:  # the wheel's program is missing or not executable
                    raise CommandError(f"cannot run {argv[0]}: {exc.strerror}") from exc
        except DatabaseError as exc:
            raise CommandError(f"cannot read {describe(connection)}: {exc}".strip()) from exc
        if result.returncode != 0:
            raise CommandError(
                f"pg_dump failed (exit status {result.returncode}); no backup was written:\n{result.stderr.strip()}"
            )
        if result.stderr.strip():  # warnings of a dump that succeeded
            self.stderr.write(result.stderr.strip())
        return counts
