"""python manage.py export [--output DIR] [--site-url URL]: the public archive as a
release of JSON Lines and CSV files with checksums (transcripts/export.py)."""

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from transcripts.export import export


class Command(BaseCommand):
    help = "Write the published archive (meetings, speakers, statements) as JSON Lines and CSV, with checksums."

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, default=None, help="the export folder (default: EXPORT_DIR)")
        parser.add_argument("--site-url", default=None, help="the archive's address, for the rows' links (KZ_SITE_URL)")

    def handle(self, *args, output=None, site_url=None, **options):
        started = time.perf_counter()
        release = export(output or Path(settings.EXPORT_DIR), site_url or settings.SITE_URL)
        counts = ", ".join(f"{n} {name}" for name, n in release.manifest["counts"].items())
        size = sum(f["bytes"] for f in release.manifest["files"])
        elapsed = time.perf_counter() - started
        self.stdout.write(f"{release.path}: {counts}; {size / 1e6:.1f} MB; {elapsed:.1f} s")
