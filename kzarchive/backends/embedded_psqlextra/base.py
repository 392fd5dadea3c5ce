"""psqlextra's PostgreSQL backend on the embedded cluster, started on first use.

The DATABASES entry is kzarchive.embedded_db.settings_dict(): NAME, USER, and
EMBEDDED_DATA_DIR (the cluster's folder) instead of HOST and PORT. Every new
connection first calls embedded_db.ensure_database(), which starts the server if it
is down (once per process it also creates the database if missing), then connects
to the server's Unix socket. Django's test database creation connects with NAME
"postgres" (always there) and then to the test database it created, so both work.
"""

from pathlib import Path

from django.db.backends.postgresql.client import DatabaseClient as PostgresClient
from psqlextra.backend.base import DatabaseWrapper as PsqlextraWrapper

from kzarchive import embedded_db


def running_server(settings_dict: dict) -> embedded_db.ServerInfo:
    """The server for this entry, started if needed, with the entry's database created."""
    return embedded_db.ensure_database(Path(settings_dict["EMBEDDED_DATA_DIR"]), settings_dict["NAME"] or "postgres")


class DatabaseClient(PostgresClient):
    """manage.py dbshell: the running server's socket dir and port."""

    @classmethod
    def settings_to_cmd_args_env(cls, settings_dict, parameters):
        info = running_server(settings_dict)
        settings_dict = {**settings_dict, "HOST": info.host, "PORT": str(info.port)}
        return super().settings_to_cmd_args_env(settings_dict, parameters)


class DatabaseWrapper(PsqlextraWrapper):
    client_class = DatabaseClient

    def get_connection_params(self):
        params = super().get_connection_params()
        info = running_server({**self.settings_dict, "NAME": params.get("dbname")})
        params.update(host=info.host, port=info.port)
        params.setdefault("user", info.user)
        return params
