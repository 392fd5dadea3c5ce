"""python manage.py wait_for_database: block until PostgreSQL answers (container start-up).

A database container may still be starting when the web container does; this waits
for it instead of failing, and exits 1 with the last error once the time is up."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection


class Command(BaseCommand):
    help = "Wait until the database accepts connections (exit 1 after --timeout seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (default 60)")

    def handle(self, *args, timeout, **options):
        deadline = time.monotonic() + timeout
        while True:
            try:
                connection.ensure_connection()
                self.stdout.write("database is up")
                return
            except OperationalError as error:
                if time.monotonic() >= deadline:
                    raise CommandError(f"database not reachable after {timeout:g} s: {error}".strip()) from error
                connection.close()
                time.sleep(1)
