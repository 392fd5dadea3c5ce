"""python manage.py runarchive: what `make run` does.

Migrates, ingests the sample archive (idempotently), serves it, and on Ctrl-C
stops the web server and, when the project uses its embedded PostgreSQL, the
database too. The embedded server starts with the first connection (migrate's),
in its database backend (kzarchive/backends/embedded_psqlextra).
"""

import signal
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, ingest fixtures/ and serve the archive (stops the embedded database on exit)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--keep-db", action="store_true", help="leave the embedded database running on exit")

    def handle(self, *args, addrport, keep_db, **options):
        # `kill`, `timeout` and container stops send SIGTERM: shut down as cleanly as on Ctrl-C.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        try:
            call_command("migrate", verbosity=0)
            call_command("collectstatic", interactive=False, verbosity=0)
            call_command("ingest", str(settings.FIXTURES_DIR), stdout=self.stdout, stderr=self.stderr)
            self.stdout.write(self.style.SUCCESS(f"Serving the archive at http://{addrport}/  (Ctrl-C stops it)"))
            call_command("runserver", addrport, use_reloader=False)
        finally:
            data_dir = settings.DATABASES["default"].get("EMBEDDED_DATA_DIR")  # the embedded cluster's
            if data_dir and not keep_db:
                from kzarchive import embedded_db

                if embedded_db.stop(data_dir):
                    self.stdout.write("Embedded PostgreSQL stopped.")
