"""python manage.py ingest PATH [PATH ...]: import transcript files or folders of *.txt."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from transcripts.ingest import FAILED, collect_files, ingest_files


class Command(BaseCommand):
    help = "Import plain-text transcripts (files, or folders searched recursively for *.txt)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--no-progress", action="store_true", help="never draw a progress bar")

    def handle(self, *args, paths, no_progress, verbosity, **options):
        files, missing = collect_files(paths)
        for result in missing:
            self.stderr.write(f"FAILED {result.describe()}")
        # A progress bar only on a terminal; logs and CI get the summary alone.
        bar = tqdm(total=len(files), unit="file", disable=no_progress or not sys.stderr.isatty(), file=sys.stderr)

        def on_file(result):
            bar.update(1)
            if result.status == FAILED:
                bar.write(f"FAILED {result.describe()}", file=sys.stderr)
            elif verbosity >= 2:
                bar.write(f"{result.status:9} {result.path}")
            for conflict in result.conflicts:
                bar.write(f"CONFLICT {result.path}: {conflict.describe()}", file=sys.stderr)

        with bar:
            report = ingest_files(files, on_file=on_file, earlier=missing)
        self.stdout.write(report.summary())
        if report.failures:
            raise CommandError(f"{len(report.failures)} file(s) failed; see the lines above", returncode=1)
