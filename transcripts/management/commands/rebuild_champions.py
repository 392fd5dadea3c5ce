"""python manage.py rebuild_champions: make the search's champion lists afresh.

A trigger keeps the lists true as statements are written (migration 0016), and ingest
gives a list to each word of its files that became frequent (champions.extend). This
makes every list afresh: after bulk edits outside ingest, or to drop stale entries.
Ingest and publishing wait while it runs; searches do not (docs/search.md)."""

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
