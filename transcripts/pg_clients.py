"""PostgreSQL's client programs (pg_dump, pg_restore, psql) run against the configured
database, and the archive's row counts: shared by the backup and restore commands and
by the tests that start real processes."""

import os

from psycopg import pq
from psycopg.conninfo import make_conninfo

from kzarchive.embedded_db import pg_bin
from transcripts.models import Meeting, Speaker, Utterance

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
