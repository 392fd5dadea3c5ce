"""python manage.py rebuild_vocabulary: recompute the did-you-mean word list, for repair.

Triggers keep the list (transcripts_vocabularyword) current on every change
(migration 0011); this recomputes it from its definition (VOCABULARY_SQL) and
corrects the rows that differ, e.g. after the triggers were disabled for a bulk
load. Ingest and publishing wait while it runs (70–110 s at a million
utterances); searches do not."""

import time

from django.core.management.base import BaseCommand

from transcripts.models import VocabularyWord


class Command(BaseCommand):
    help = "Recompute the did-you-mean word list from the archive and correct the words that differ."

    def handle(self, *args, **options):
        started = time.perf_counter()
        corrected = VocabularyWord.rebuild()
        words = VocabularyWord.objects.count()
        self.stdout.write(f"{words} words; {corrected} corrected; {time.perf_counter() - started:.1f} s")
