"""The container's start-up script (deploy/start.sh), run here as the Dockerfile runs
it, against a scratch database on the test server, with production settings."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import fetch, free_port, production_env, scratch_database, stop_process_group, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
# What the TLS proxy in front sends; the health check (Docker's HEALTHCHECK) sends neither.
HTTPS = {"X-Forwarded-Proto": "https", "Host": "kz.example.org"}


@pytest.mark.django_db
def test_start_script_sets_up_and_serves_with_production_settings(tmp_path):
    port = free_port()
    with scratch_database("kz_deploy") as url:
        env = production_env(
            url,
            BIND=f"127.0.0.1:{port}",
            STATIC_ROOT=str(tmp_path / "static"),
            ALLOWED_HOSTS="kz.example.org",
            WEB_CONCURRENCY="2",
        )
        # The image's build step (as in the Dockerfile: no DATABASE_URL), then its entrypoint.
        build = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
        build_env = {k: v for k, v in env.items() if k != "DATABASE_URL"}
        subprocess.run(build, cwd=ROOT, env=build_env, check=True, timeout=120)
        log = (tmp_path / "start.log").open("w+")  # closed with tmp_path; read after the server stops
        process = subprocess.Popen(
            ["deploy/start.sh", "all"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, process)
            status, headers, body = fetch(base + "/", HTTPS)
            page = body.decode()
            assert status == 200 and "Назарбаев" in page
            assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
            assert "script-src 'self'" in headers["Content-Security-Policy"]
            assert fetch(base + "/", {"Host": "kz.example.org"})[0] == 301  # plain HTTP is sent to HTTPS
            assert fetch(base + "/", {**HTTPS, "Host": "127.0.0.1"})[0] == 400  # not one of ALLOWED_HOSTS

            stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page).group(1)
            status, headers, _ = fetch(base + stylesheet, {**HTTPS, "Accept-Encoding": "gzip"})
            assert status == 200 and headers["Content-Encoding"] == "gzip"
            assert "max-age=315360000" in headers["Cache-Control"] and "immutable" in headers["Cache-Control"]

            again = subprocess.run(
                ["deploy/start.sh", "setup"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
            )
            assert again.returncode == 0 and "5 unchanged" in again.stdout, again.stdout + again.stderr
        finally:
            code = stop_process_group(process)
        log.seek(0)
        output = log.read()
        assert code == 0, output
        assert "database is up" in output and "Listening at: http://127.0.0.1" in output


def test_start_script_gives_up_clearly_when_the_database_never_answers():
    env = production_env(f"postgresql://nobody@127.0.0.1:{free_port()}/none", DB_WAIT_SECONDS="2", BIND="127.0.0.1:1")
    result = subprocess.run(["deploy/start.sh", "setup"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "database not reachable after 2 s" in result.stderr


def test_start_script_refuses_an_unknown_step():
    result = subprocess.run(["deploy/start.sh", "migrate"], cwd=ROOT, capture_output=True, text=True, timeout=10)
    assert result.returncode == 2 and "usage:" in result.stderr
