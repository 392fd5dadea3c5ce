"""python manage.py ingest PATH [PATH ...]: import transcript files or folders of *.txt."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from transcripts.importing.files import collect_files
from transcripts.importing.ingest import ingest_files
from transcripts.importing.report import FAILED


class Command(BaseCommand):
    help = (
        "Import plain-text transcripts (files, or folders searched recursively for *.txt). Only regular"
        " files are read: FIFOs, devices and sockets are skipped, and symbolic links are not followed"
        " (a folder named here may itself be a link) unless --follow-symlinks is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--no-progress", action="store_true", help="never draw a progress bar")
        parser.add_argument(
            "--follow-symlinks",
            action="store_true",
            help="follow symbolic links: inside a folder, only those that stay inside it (links out of"
            " it are skipped all the same); a link named here is followed wherever it leads",
        )
        parser.add_argument(
            "--allow-partial-copies",
            action="store_true",
            help="add a transcript without a source URL even when a meeting with a URL has the same title,"
            " date and place (by default such a file fails as a likely truncated copy of that meeting)",
        )

    def handle(self, *args, paths, no_progress, verbosity, follow_symlinks, allow_partial_copies, **options):
        files, problems = collect_files(paths, follow_symlinks=follow_symlinks)
        for result in problems:
            self.stderr.write(f"{result.status.upper()} {result.describe()}")
        # A progress bar only on a terminal; logs and CI get the summary alone.
        bar = tqdm(total=len(files), unit="file", disable=no_progress or not sys.stderr.isatty(), file=sys.stderr)

        def on_file(result):
            bar.update(1)
            if result.status == FAILED:
                bar.write(f"FAILED {result.describe()}", file=sys.stderr)
            elif verbosity >= 2:
                bar.write(f"{result.status:9} {result.describe()}")
            for conflict in result.conflicts:
                bar.write(f"CONFLICT {result.describe()}: {conflict.describe()}", file=sys.stderr)

        with bar:
            report = ingest_files(
                files,
                on_file=on_file,
                earlier=problems,
                follow_symlinks=follow_symlinks,
                allow_partial_copies=allow_partial_copies,
            )
        self.stdout.write(report.summary())
        if report.failures:
            raise CommandError(f"{len(report.failures)} file(s) failed; see the lines above", returncode=1)
