"""python manage.py rebuild_lexeme_counts: recount each lexeme's statements and gather each
meeting's lexemes, for repair.

Triggers keep LexemeCount (a lexeme's published statements per year and per speaker,
migration 0021) and MeetingLexemes (the lexemes of each meeting's published statements,
0022) current on every change; this recomputes both tables from their definitions
(LEXEME_COUNT_SQL, MEETING_LEXEMES_SQL), e.g. after the triggers were disabled for a bulk
load. Ingest and publishing wait while it runs (about 3 minutes at a million statements);
searches do not."""

import time

from django.core.management.base import BaseCommand

from transcripts.models import LexemeCount, MeetingLexemes


class Command(BaseCommand):
    help = "Recount each lexeme's published statements per year and speaker, and each meeting's lexemes."

    def handle(self, *args, **options):
        for model in (LexemeCount, MeetingLexemes):
            started = time.perf_counter()
            rows = model.rebuild()
            self.stdout.write(f"{model.__name__}: {rows} rows; {time.perf_counter() - started:.1f} s")
