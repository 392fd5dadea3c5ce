"""python manage.py restore FILE [--replace]: load a `manage.py backup` file into the
configured database, all or nothing."""

import contextlib
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

from kzarchive.embedded_db import pg_bin
from transcripts.models import Meeting, Speaker, Utterance
from transcripts.pg_clients import archive_counts, client_command, describe, format_counts

CUSTOM_ARCHIVE_MAGIC = b"PGDMP"  # the first bytes of every pg_dump -Fc file
# A backup of this archive has these tables; anything else is another database's dump.
REQUIRED_TABLES = {"django_migrations", *(model._meta.db_table for model in (Meeting, Speaker, Utterance))}
PG_RESTORE_OPTIONS = ["--no-owner", "--no-privileges"]  # objects belong to the restoring user

# --replace: one transaction empties the public schema, then the backup's SQL follows
# and COMMIT only when all of it succeeded. The new schema keeps the old one's owner,
# grants and comment. lock_timeout: fail clearly rather than wait behind an open session
# (the backup's own SQL resets it).
REPLACE_PREAMBLE = """
BEGIN;
SET client_min_messages = warning;
SET lock_timeout = '30s';
DO $$
DECLARE
    owner_name text;
    acl aclitem[];
    schema_comment text;
    grant_row record;
BEGIN
    SELECT nspowner::regrole::text, nspacl, obj_description(oid, 'pg_namespace')
        INTO owner_name, acl, schema_comment FROM pg_namespace WHERE nspname = 'public';
    IF NOT FOUND THEN
        CREATE SCHEMA public;
        RETURN;
    END IF;
    DROP SCHEMA public CASCADE;
    EXECUTE format('CREATE SCHEMA public AUTHORIZATION %s', owner_name);
    EXECUTE format('COMMENT ON SCHEMA public IS %L', schema_comment);
    FOR grant_row IN
        SELECT privilege_type, is_grantable,
               CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE grantee::regrole::text END AS grantee_name
        FROM aclexplode(acl) WHERE grantee::regrole::text IS DISTINCT FROM owner_name
    LOOP
        EXECUTE format('GRANT %s ON SCHEMA public TO %s%s', grant_row.privilege_type, grant_row.grantee_name,
                       CASE WHEN grant_row.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END $$;
"""

# Tables and views outside the system schemas, except those an extension owns.
EXISTING_TABLES_SQL = """
SELECT CASE WHEN n.nspname = 'public' THEN '' ELSE n.nspname || '.' END || c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_)'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1
"""


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into the configured database, in one "
        "transaction: if anything fails, the database is left as it was. The database must hold "
        "no tables (create an empty one), unless --replace is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, metavar="FILE", help="a .dump file written by `manage.py backup`")
        parser.add_argument(
            "--replace",
            action="store_true",
            help=(
                "replace what the database holds: drop its public schema with every table, view and "
                "function in it, and restore the backup in its place, all in one transaction (a failure "
                "changes nothing). Other schemas are left alone. Everything not in the backup is lost: "
                "run `manage.py backup` first."
            ),
        )

    def handle(self, *args, file, replace, **options):
        self.check_archive(file)
        connection = connections["default"]
        target = describe(connection)
        try:
            with connection.cursor() as cursor:
                cursor.execute(EXISTING_TABLES_SQL)
                existing = [row[0] for row in cursor.fetchall()]
                holds = self.current_counts(cursor, existing)
        except DatabaseError as exc:
            raise CommandError(f"cannot open {target}: {exc}".strip()) from exc
        finally:
            connection.close()  # hold no session on the database while it is rewritten
        if existing and not replace:
            shown = ", ".join(existing[:5]) + (f" and {len(existing) - 5} more" if len(existing) > 5 else "")
            raise CommandError(
                f"{target} is not empty: it holds {len(existing)} tables and views ({shown}){holds}. "
                "Nothing was changed. Restore into an empty database, or add --replace to replace "
                "its contents (back them up first with `manage.py backup`)."
            )

        started = time.monotonic()
        if existing:
            self.stdout.write(f"Replacing the contents of {target}{holds}")
            self.replace_contents(connection, file)
        else:
            self.restore_into_empty(connection, file)
        try:
            with connection.cursor() as cursor:
                # pg_restore brings no planner statistics; the search's plans want them.
                cursor.execute("ANALYZE")
                counts = archive_counts(cursor)
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as exc:
            raise CommandError(f"the restore finished, but reading {target} failed: {exc}".strip()) from exc
        elapsed = time.monotonic() - started
        self.stdout.write(f"Restored {file} into {target} in {elapsed:.1f} s: {format_counts(counts)}")
        if pending:
            self.stdout.write(
                f"The backup predates {len(pending)} migration(s) of this code: run `manage.py migrate` next."
            )

    def check_archive(self, file: Path) -> None:
        """A readable pg_dump custom-format archive of a kzarchive database, or CommandError."""
        if not file.exists():
            raise CommandError(f"{file} does not exist")
        if not file.is_file():
            raise CommandError(f"{file} is not a file")
        try:
            with file.open("rb") as f:
                magic = f.read(len(CUSTOM_ARCHIVE_MAGIC))
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from exc
        if magic != CUSTOM_ARCHIVE_MAGIC:
            raise CommandError(
                f"{file} is not a pg_dump custom-format archive (a file written by `manage.py backup`); "
                "nothing was changed"
            )
        # The table of contents must be readable, and be a kzarchive database's.
        listing = subprocess.run(
            [pg_bin("pg_restore"), "--list", str(file)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        if listing.returncode != 0:
            raise CommandError(f"{file} is damaged or unreadable; nothing was changed:\n{listing.stderr.strip()}")
        tables = {
            fields[5] for line in listing.stdout.splitlines() if (fields := line.split())[3:5] == ["TABLE", "public"]
        }
        if missing := REQUIRED_TABLES - tables:
            raise CommandError(
                f"{file} is not a kzarchive backup (it has no table {', '.join(sorted(missing))}); nothing was changed"
            )

    def current_counts(self, cursor, existing: list[str]) -> str:
        """' (5 meetings, …)' when the database holds an archive, for messages."""
        if not set(existing) >= REQUIRED_TABLES:
            return ""
        return f" ({format_counts(archive_counts(cursor))})"

    def restore_into_empty(self, connection, file: Path) -> None:
        argv, env = client_command(
            "pg_restore", connection, "--exit-on-error", "--single-transaction", *PG_RESTORE_OPTIONS, str(file)
        )
        result = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if result.returncode != 0:
            raise CommandError(
                f"pg_restore failed (exit status {result.returncode}); the database was left empty:\n"
                + result.stderr.strip()
            )

    def replace_contents(self, connection, file: Path) -> None:
        """pg_restore turns the archive into SQL; psql runs it after REPLACE_PREAMBLE
        in the same transaction, and COMMIT follows only if pg_restore read the whole
        archive. A pg_restore of its own cannot share a transaction with the DROP."""
        restore_argv = [pg_bin("pg_restore"), "--exit-on-error", *PG_RESTORE_OPTIONS, "--file=-", str(file)]
        psql_argv, env = client_command("psql", connection, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1")
        with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
            psql = subprocess.Popen(
                psql_argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_errors
            )
            restore = subprocess.Popen(
                restore_argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=restore_errors
            )
            try:
                psql.stdin.write(REPLACE_PREAMBLE.encode())
                shutil.copyfileobj(restore.stdout, psql.stdin, 1 << 20)
                restore_status = restore.wait()
                if restore_status == 0:
                    psql.stdin.write(b"COMMIT;\n")
                # else: psql reaches the end of its input inside the transaction, and
                # the server rolls it back when the session ends.
                psql.stdin.close()
            except BrokenPipeError:  # psql stopped at an error and rolled back
                restore.stdout.close()  # stops pg_restore too
            finally:
                with contextlib.suppress(BrokenPipeError):
                    psql.stdin.close()
                restore_status = restore.wait()
                psql_status = psql.wait()
            restore_errors.seek(0)
            psql_errors.seek(0)
            if restore_status != 0 or psql_status != 0:
                details = (restore_errors.read() + psql_errors.read()).decode(errors="replace").strip()
                raise CommandError(
                    f"the restore failed (pg_restore exit status {restore_status}, psql {psql_status}); "
                    f"the database was left as it was:\n{details}"
                )
