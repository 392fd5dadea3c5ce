"""Reads from a streaming replica, writes to the primary (DATABASE_REPLICA_URL).

Every read goes to the primary unless the current request opted in, so management
commands (ingest, migrate, shell), the admin and tests never read stale data. Only
ReplicaReadsMiddleware opts in, for anonymous GET and HEAD requests of public pages.
Even then accounts, sessions, the admin log, content types and django-axes stay on
the primary: a session or a lockout written a moment ago must be found.

A replica that cannot be reached is skipped for REPLICA_RETRY_SECONDS: public pages
are then read from the primary, and a warning is logged once per outage and process.
"""

from __future__ import annotations

import contextvars
import logging
import time

from django.conf import settings
from django.db import DatabaseError, connections

from kzarchive.public_reads import is_public_read

PRIMARY, REPLICA = "default", "replica"
PRIMARY_ONLY_APPS = frozenset({"auth", "sessions", "admin", "contenttypes", "axes"})
REPLICA_RETRY_SECONDS = 30

logger = logging.getLogger(__name__)

_reads_from_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("reads_from_replica", default=False)
_replica_down_until = 0.0  # monotonic time; per process


def database_location(settings_dict: dict) -> tuple[str, str, str]:
    """(host or socket dir, port, database name) of a DATABASES entry; a URL may
    give host and port as query parameters, which land in OPTIONS."""
    options = settings_dict.get("OPTIONS") or {}
    host = settings_dict.get("HOST") or options.get("host") or ""
    port = settings_dict.get("PORT") or options.get("port") or ""
    return str(host), str(port), str(settings_dict.get("NAME") or "")


def replica_configured() -> bool:
    """A replica alias that is a database of its own. In tests, TEST MIRROR points
    it at the test database itself: reading through a second connection would only
    hide the test's uncommitted rows, so that counts as no replica."""
    if REPLICA not in settings.DATABASES:
        return False
    primary, replica = connections[PRIMARY].settings_dict, connections[REPLICA].settings_dict
    return database_location(primary) != database_location(replica)


def replica_reachable() -> bool:
    """Connect to the replica now (the request would anyway); on failure, skip it
    for REPLICA_RETRY_SECONDS so an outage costs one failed connect, not one per page."""
    global _replica_down_until
    if time.monotonic() < _replica_down_until:
        return False
    connection = connections[REPLICA]
    try:
        connection.close_if_health_check_failed()  # a persistent connection to a server that went away
        connection.ensure_connection()
    except DatabaseError as exc:
        _replica_down_until = time.monotonic() + REPLICA_RETRY_SECONDS
        logger.warning("replica unreachable, reading from the primary for %ss: %s", REPLICA_RETRY_SECONDS, exc)
        return False
    return True


class ReplicaReadsMiddleware:
    """Marks the requests whose reads go to the replica, for the rest of the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        use_replica = is_public_read(request) and replica_configured() and replica_reachable()
        token = _reads_from_replica.set(use_replica)
        try:
            return self.get_response(request)
        finally:
            _reads_from_replica.reset(token)


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if _reads_from_replica.get() and model._meta.app_label not in PRIMARY_ONLY_APPS:
            return REPLICA
        return PRIMARY

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # The replica is a copy of the primary: objects from either may be related.
        if {obj1._state.db, obj2._state.db} <= {PRIMARY, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY
