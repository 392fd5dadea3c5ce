"""Did you mean: the query with unknown words replaced by the closest archive words.

The words are VocabularyWord's table (kept by triggers, migration 0011), compared
with pg_trgm similarity."""

from __future__ import annotations

import re

from .syntax import ParsedQuery
from .tsquery import read_connection


def suggest(parsed: ParsedQuery, text: str) -> str:
    """The query with unknown words replaced by the closest archive words (pg_trgm)."""
    replacements = {}
    with read_connection().cursor() as cursor:
        for word in dict.fromkeys(parsed.words):
            lower = word.lower()
            if len(lower) < 3 or not lower.replace("-", "").isalpha():
                continue
            cursor.execute("SELECT 1 FROM transcripts_vocabularyword WHERE word = %s", [lower])
            if cursor.fetchone():
                continue
            cursor.execute(
                "SELECT word FROM transcripts_vocabularyword WHERE word %% %s"
                " ORDER BY similarity(word, %s) DESC, frequency DESC, word LIMIT 1",
                [lower, lower],
            )
            row = cursor.fetchone()
            if row:
                replacements[word] = row[0].capitalize() if word[:1].isupper() else row[0]
    if not replacements:
        return ""
    for word, better in replacements.items():
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", better, text)
    return text
