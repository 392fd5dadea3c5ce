"""python manage.py backup [--output FILE]: pg_dump the archive database to one file."""

import datetime as dt
import os
import subprocess
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections, transaction

from transcripts.pg_clients import archive_counts, client_command, describe, format_counts

BACKUP_DIR = settings.BASE_DIR / "backups"


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
