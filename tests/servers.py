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
from urllib.parse import quote

import psycopg
from django.db import connection
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent


def server_url(dbname: str) -> str:
    """A DATABASE_URL for database `dbname` on the server the tests use."""
    conf = connection.settings_dict
    host = conf["HOST"] or conf["OPTIONS"].get("host", "")
    auth = quote(conf["USER"], safe="") + (":" + quote(conf["PASSWORD"], safe="") if conf["PASSWORD"] else "")
    if host.startswith("/"):  # a Unix socket directory
        return f"postgresql://{auth}@/{dbname}?host={quote(host, safe='/')}&port={conf['PORT'] or 5432}"
    return f"postgresql://{auth}@{host}:{conf['PORT'] or 5432}/{dbname}"


def _admin_connection():
    return psycopg.connect(server_url("postgres"), autocommit=True)


@contextlib.contextmanager
def scratch_database(prefix: str = "kz_scratch"):
    """An empty UTF-8 database for one test, dropped afterwards; yields its URL."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with _admin_connection() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(name)))
    try:
        yield server_url(name)
    finally:
        with _admin_connection() as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


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
