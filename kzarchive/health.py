"""/healthz: 200 when the database answers and every migration is applied, else 503.

With a replica configured (DATABASE_REPLICA_URL), the answer also says whether it
answers and how far it is behind. A replica that is down or behind does not make
this a 503: public pages then read from the primary (kzarchive/routers.py), so
the web process still serves everything, and a balancer should keep it.
"""

from django.db import DatabaseError, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse

from kzarchive.routers import REPLICA, replica_configured


def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    if pending:
        return JsonResponse({"status": "error", "database": "ok", "migrations": f"{len(pending)} pending"}, status=503)
    report = {"status": "ok", "database": "ok", "migrations": "applied"}
    if replica_configured():
        report["replica"] = replica_health()
    return JsonResponse(report)


def replica_health() -> dict:
    """{"status": "ok", "lag_bytes": …, "lag_seconds": …}, or a status saying what is wrong.

    lag_bytes is the primary's WAL position minus what the replica has replayed,
    measured now. lag_seconds is 0 when that is 0, else the age of the last
    transaction the replica replayed: how old the newest data it shows may be.
    """
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,"
                " extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8"
            )
            in_recovery, replayed, replay_age = cursor.fetchone()
    except DatabaseError:
        return {"status": "unreachable"}
    if not in_recovery:  # promoted, or not a replica at all: it no longer follows the primary
        return {"status": "not replicating"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)::bigint", [replayed])
        lag_bytes = max(int(cursor.fetchone()[0] or 0), 0)
    if lag_bytes == 0:
        lag_seconds = 0.0
    elif replay_age is None:  # nothing replayed since the replica started
        lag_seconds = None
    else:
        lag_seconds = round(max(replay_age, 0.0), 3)
    return {"status": "ok", "lag_bytes": lag_bytes, "lag_seconds": lag_seconds}


class HealthCheckMiddleware:
    """Answers /healthz before host checks and the HTTPS redirect: a container's or a
    balancer's probe speaks plain HTTP to an address, not to the site's host name."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            return healthz(request)
        return self.get_response(request)
