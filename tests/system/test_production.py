"""Production settings, the health check, security headers and structured logs."""

import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError
from django.db.migrations.executor import MigrationExecutor
from django.test import RequestFactory

from kzarchive.logging import JsonFormatter

ROOT = Path(__file__).resolve().parents[2]


def manage(*args, **env):
    """manage.py in a subprocess; a variable given as None is unset (DATABASE_URL is a dead server's by default)."""
    unset = ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")  # the browser tests set the last
    environment = {k: v for k, v in os.environ.items() if k not in unset}
    environment.update({"DATABASE_URL": "postgresql://nobody@localhost:1/none", **env})
    environment = {k: v for k, v in environment.items() if v is not None}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage(
        "check",
        "--deploy",
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="kz.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


STRONG_KEY = secrets.token_urlsafe(64)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALLOWED_HOSTS": "kz.example.org"}, "needs SECRET_KEY"),
        ({"SECRET_KEY": STRONG_KEY}, "needs ALLOWED_HOSTS"),
        ({"SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "kz.example.org", "DEBUG": "true"}, "DEBUG must be off"),
    ],
)
def test_production_refuses_unsafe_settings(env, message):
    result = manage("check", DJANGO_ENV="production", **env)
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr and message in result.stderr


@pytest.mark.parametrize(
    "key",
    [
        secrets.token_urlsafe(30),  # 40 characters
        "x" * 64,  # long, but 1 different character
        "django-insecure-" + secrets.token_urlsafe(64),  # what startproject writes
        "kzarchive-local-development-key-not-for-production",  # dev.py's
    ],
    ids=["short", "repetitive", "django-insecure", "development-key"],
)
def test_production_refuses_a_weak_secret_key(key):
    result = manage("check", DJANGO_ENV="production", SECRET_KEY=key, ALLOWED_HOSTS="kz.example.org")
    assert result.returncode != 0 and "needs SECRET_KEY" in result.stderr and "weak" in result.stderr


def test_production_without_database_url_fails_clearly_at_the_first_database_use(tmp_path):
    """Not at import: the image's collectstatic runs without one. migrate or the start
    script's wait_for_database then say what is missing (not: "not reachable")."""
    env = {"DJANGO_ENV": "production", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "kz.example.org"}
    env.update(DATABASE_URL=None, KZ_PGDATA=str(tmp_path / "pgdata"))
    assert manage("collectstatic", "--noinput", "-v0", STATIC_ROOT=str(tmp_path / "static"), **env).returncode == 0
    for command in (["migrate", "--noinput"], ["wait_for_database", "--timeout", "5"]):
        result = manage(*command, **env)
        assert result.returncode != 0, command
        assert "ImproperlyConfigured: DJANGO_ENV=production needs DATABASE_URL" in result.stderr, result.stderr
    assert not (tmp_path / "pgdata").exists()  # never the embedded cluster


@pytest.mark.django_db
def test_healthz_is_ok_when_the_database_is_up_and_migrated(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {
        "status": "ok",
        "database": "ok",
        "migrations": "applied",
    }


@pytest.mark.django_db
def test_healthz_is_503_with_pending_migrations(client, monkeypatch):
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("transcripts", "9999_next")])
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["migrations"] == "1 pending"


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    from django.db import connection

    def down():
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", down)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["database"] == "unreachable"


@pytest.mark.django_db
def test_every_page_has_a_content_security_policy_without_inline_script(client):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert response["X-Content-Type-Options"] == "nosniff" and response["Referrer-Policy"] == "same-origin"
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "<script>" not in text and " on" + "click=" not in text, template


def test_error_logs_are_json_with_the_path_and_no_secrets():
    request = RequestFactory().get(
        "/search/?q=secret-token", HTTP_COOKIE="sessionid=abc", HTTP_AUTHORIZATION="Bearer x"
    )
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", ("/search/",), None
    )
    record.request, record.status_code = request, 500
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "ERROR" and entry["path"] == "/search/" and entry["status"] == 500
    line = json.dumps(entry)
    assert "secret-token" not in line and "sessionid" not in line and "Bearer" not in line
