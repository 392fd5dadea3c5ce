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

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, **env):
    unset = ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")  # the browser tests set the last
    environment = {k: v for k, v in os.environ.items() if k not in unset}
    environment.update(DATABASE_URL="postgresql://nobody@localhost:1/none", **env)
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


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALLOWED_HOSTS": "kz.example.org"}, "needs SECRET_KEY"),
        ({"SECRET_KEY": "x" * 64}, "needs ALLOWED_HOSTS"),
        ({"SECRET_KEY": "x" * 64, "ALLOWED_HOSTS": "kz.example.org", "DEBUG": "true"}, "DEBUG must be off"),
    ],
)
def test_production_refuses_unsafe_settings(env, message):
    result = manage("check", DJANGO_ENV="production", **env)
    assert result.returncode != 0 and message in result.stderr


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
