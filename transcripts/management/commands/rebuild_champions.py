"""python manage.py rebuild_champions: make the search's champion lists afresh.

A trigger keeps the lists true as statements are written (migration 0016), but only
lexemes that have a list are kept: run this after a large import, so that words that
became frequent get one (until then their searches rank exactly up to a bound, and
approximately beyond it: docs/search.md). Ingest and publishing wait while it runs;
searches do not."""

import time

from django.core.management.base import BaseCommand

from transcripts.search import champions


class Command(BaseCommand):
    help = "Make the search's champion lists (the best statements of each frequent lexeme) afresh."

    def add_arguments(self, parser):
        parser.add_argument("--size", type=int, default=champions.CHAMPIONS, help="statements kept per lexeme")

    def handle(self, *args, size, **options):
        started = time.perf_counter()
        lists, entries = champions.rebuild(size, log=self.stdout.write)
        self.stdout.write(f"{lists} lists, {entries} statements on them; {time.perf_counter() - started:.1f} s")
