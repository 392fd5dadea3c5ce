"""python manage.py rebuild_lexeme_counts: recount each lexeme's statements, for repair.

Triggers keep LexemeCount (a lexeme's published statements per year and per speaker,
migration 0021) current on every change; this recomputes the whole table from its
definition (LEXEME_COUNT_SQL), e.g. after the triggers were disabled for a bulk load.
Ingest and publishing wait while it runs (about 2 minutes at a million statements);
searches do not."""

import time

from django.core.management.base import BaseCommand

from transcripts.models import LexemeCount


class Command(BaseCommand):
    help = "Recount each lexeme's published statements per year and per speaker (the one-word searches' counts)."

    def handle(self, *args, **options):
        started = time.perf_counter()
        rows = LexemeCount.rebuild()
        self.stdout.write(f"{rows} rows; {time.perf_counter() - started:.1f} s")
