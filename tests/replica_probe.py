"""Which database serves what, against a real primary and its streaming replica.

tests/test_replica.py runs this in a subprocess, with DATABASE_URL (the primary) and
DATABASE_REPLICA_URL (the replica) set and the seeds ingested:

    python tests/replica_probe.py REPLICA_DATA_DIR

It requests pages with Django's test client, counts each request's queries on both
connections, edits a statement through the admin, waits for the edit to replicate,
then stops the replica and requests a page again. Its last line of output is one
JSON object (log lines, also JSON, may come before it).
"""

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kzarchive.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import close_old_connections, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from kzarchive import embedded_db  # noqa: E402
from kzarchive.routers import PRIMARY, REPLICA  # noqa: E402
from tests.admin_forms import change_url, form_data  # noqa: E402

PRESS = "000_c5b0e3a29709c268.txt"  # the press statements seed
from transcripts.models import Meeting  # noqa: E402

EDIT_WORD = "Павлодаре"  # in no seed; searched for as «Павлодар»
REPLICATION_TIMEOUT = 10  # seconds


def served(client, url, method="get", **data):
    """The response, and how many queries it ran on each database."""
    close_old_connections()  # as a server does around each request (the test client does not)
    with (
        CaptureQueriesContext(connections[PRIMARY]) as on_primary,
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
    ):
        response = getattr(client, method)(url, data)
    close_old_connections()
    return response, {
        "status": response.status_code,
        "primary": len(on_primary),
        "replica": len(on_replica),
        "writes": sum(statement(q["sql"]).upper().startswith(("INSERT", "UPDATE", "DELETE")) for q in on_primary),
    }


def statement(sql: str) -> str:
    """The statement itself: in an admin request pghistory puts its context first
    ("SELECT set_config('pghistory.context_id', …); UPDATE …")."""
    sql = sql.lstrip()
    if sql.startswith("SELECT set_config('pghistory."):
        sql = sql.split("; ", 1)[-1].lstrip()
    return sql


def served_without_replica(client, url):
    """As served(), with the replica's server stopped: its queries cannot be counted,
    but any query would have needed a connection."""
    close_old_connections()
    with CaptureQueriesContext(connections[PRIMARY]) as on_primary:
        response = client.get(url)
    replica_connected = connections[REPLICA].connection is not None
    close_old_connections()
    return response, {
        "status": response.status_code,
        "primary": len(on_primary),
        "replica_connected": replica_connected,
    }


def replayed_after(since: float) -> float | None:
    """Seconds from `since` until the replica has replayed the primary's WAL as of now."""
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        target = cursor.fetchone()[0]
    with connections[REPLICA].cursor() as cursor:
        while time.monotonic() - since < REPLICATION_TIMEOUT:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return round(time.monotonic() - since, 4)
            time.sleep(0.001)
    return None


def main(replica_dir: str) -> dict:
    setup_test_environment()  # the test client's host name; query capture needs nothing more
    report = {"reads": {}}
    meeting = Meeting.objects.get(source_file=PRESS)  # read outside a request: from the primary
    public = Client()
    pages = {
        "home": "/",
        "meeting": meeting.get_absolute_url(),
        "day": reverse("archive-day", args=[meeting.date.year, meeting.date.month, meeting.date.day]),
        "search": reverse("search") + "?q=Токаеву&format=json",  # an inflected surname: «Токаев» in the seeds
    }
    for name, url in pages.items():
        response, counts = served(public, url)
        report["reads"][name] = counts
        if name == "search":
            report["search_total"] = response.json()["total"]

    User.objects.create_superuser("chief", "chief@example.org", "a-long-pass-phrase")
    editor = Client()
    _response, report["login"] = served(
        editor, reverse("admin:login"), "post", username="chief", password="a-long-pass-phrase", next="/admin/"
    )
    data = form_data(editor.get(change_url(meeting)))
    text_key = next(k for k, v in data.items() if k.endswith("-text") and str(v).startswith("Уважаемый господин"))
    edited_text = f"{data[text_key]} Следующая встреча пройдёт в {EDIT_WORD}."
    data[text_key] = edited_text
    _response, report["edit"] = served(editor, change_url(meeting), "post", **data)
    saved_at = time.monotonic()
    report["wal_replayed_after_s"] = replayed_after(saved_at)

    # The public sees it once the replica has replayed it. The time includes one page
    # render per poll: an upper bound on the replication lag.
    report["replicated_after_s"], report["polls"] = None, 0
    while time.monotonic() - saved_at < REPLICATION_TIMEOUT:
        response, counts = served(public, meeting.get_absolute_url())
        report["polls"] += 1
        if EDIT_WORD in response.content.decode():
            report["replicated_after_s"] = round(time.monotonic() - saved_at, 4)
            report["reads"]["meeting_after_edit"] = counts
            break
        time.sleep(0.005)

    # The editor reads their own write at once: a session pins them to the primary.
    response, report["editor_reads"] = served(editor, meeting.get_absolute_url())
    report["editor_sees_edit"] = EDIT_WORD in response.content.decode()
    response, report["reads"]["search_for_edit"] = served(public, reverse("search") + "?q=Павлодар&format=json")
    report["edit_hits"] = [hit["snippet_html"] for hit in response.json()["hits"]]
    report["healthz"] = public.get("/healthz").json()

    # Replica down: public pages fail over to the primary, /healthz still says ok.
    embedded_db.stop(Path(replica_dir))
    response, report["reads"]["home_replica_down"] = served_without_replica(public, "/")
    health = public.get("/healthz")
    report["healthz_replica_down"] = {"status_code": health.status_code, **health.json()}
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1]), ensure_ascii=False))
