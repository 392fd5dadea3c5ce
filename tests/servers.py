"""Real processes for the production tests: scratch databases on the test server,
free loopback ports, and plain HTTP requests that do not follow redirects."""

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
from django.db import connection
from psycopg import sql

from transcripts.pg_clients import libpq_params

ROOT = Path(__file__).resolve().parent.parent


def server_url(dbname: str) -> str:
    """A DATABASE_URL for `dbname` on the test server, built from the libpq keywords
    Django gives psycopg (a socket directory and other options fit in the query)."""
    params = libpq_params(connection) | {"password": connection.get_connection_params().get("password") or ""}
    query = {key: value for key, value in params.items() if key != "dbname" and value}
    return f"postgresql:///{quote(dbname)}?{urlencode(query)}"


@contextlib.contextmanager
def scratch_database(prefix: str = "kz_scratch"):
    """An empty database beside the test database (same server, encoding and locale),
    dropped afterwards; yields its URL."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(server_url("postgres"), autocommit=True) as admin:
        locale = "SELECT datcollate, datctype FROM pg_database WHERE datname = %s"
        collate, ctype = admin.execute(locale, [connection.settings_dict["NAME"]]).fetchone()
        create = "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE {} LC_CTYPE {}"
        admin.execute(sql.SQL(create).format(sql.Identifier(name), collate, ctype))
    try:
        yield server_url(name)
    finally:
        with psycopg.connect(server_url("postgres"), autocommit=True) as admin:
            admin.execute(drop)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def fetch(url: str, headers: dict | None = None, timeout: float = 10.0):
    """(status, headers, body) of one GET; 3xx, 4xx and 5xx are returned, not raised."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def production_env(database_url: str, **extra) -> dict:
    """The environment of a production web process: DJANGO_ENV=production and its secrets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KZ_", "DJANGO_", "DATABASE"))}
    env.update(
        PYTHON=sys.executable,
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url,
    )
    env.update(extra)
    return env


def start_gunicorn(env: dict, log) -> subprocess.Popen:
    """gunicorn with the repository's gunicorn.conf.py, in its own process group.
    collectstatic first, as the image's build does (STATIC_ROOT should be a scratch dir)."""
    collect = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
    subprocess.run(collect, cwd=ROOT, env=env, check=True, timeout=120)
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "kzarchive.wsgi"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_healthy(base: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        with contextlib.suppress(OSError):
            if fetch(base + "/healthz", timeout=2)[0] == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{base} never became healthy")


def stop_process_group(process: subprocess.Popen, timeout: float = 30) -> int:
    """SIGTERM to the whole group (what `docker stop` sends); the exit code."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    return process.wait(timeout=timeout)
