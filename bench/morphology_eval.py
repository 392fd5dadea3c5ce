"""Precision and recall of the archive's Russian morphology on real text.

    .venv/bin/python bench/morphology_eval.py

Ingests the seed transcripts and the shared kremlin.ru sample into its own
database, kzarchive_eval, then for each query word compares the utterances the
archive's tsquery finds in the *text* (speaker and title weights left out) with
a ground truth computed in Python: utterances with a token whose pymorphy3
normal form is one of the word's. Plain websearch_to_tsquery('russian', word)
is measured the same way as a baseline. Prints a table and writes
bench/results/morphology.json.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "morphology.json"
EVAL_DB = "kzarchive_eval"
SIDES = ("ours", "plain")

# (query word, kind); a mix of cases, parts of speech and ambiguous short words.
# "Астане" and "ток" do not occur in today's corpus: they can only show false positives.
WORDS = [
    *((w, "noun") for w in ("переговоров", "сотрудничества", "Казахстаном", "России", "экономике", "границы")),
    *((w, "noun") for w in ("договор", "отношений", "вопросы", "стороны", "странами", "лет", "года")),
    *((w, "adj") for w in ("твердой", "стратегического", "экономического", "двусторонних", "российской")),
    *((w, "verb") for w in ("подписали", "обсудили", "договорились", "встретился", "сказал")),
    *((w, "name") for w in ("Токаева", "Токаеву", "Назарбаевым", "Путина", "Путиным", "Лаврову", "Мишустину")),
    *((w, "place") for w in ("Астане", "Москвой", "Казахстане", "Минске", "Петербурге", "Кремле")),
    *((w, "tricky") for w in ("мир", "мира", "стали", "дела", "вести", "ток", "мою")),
]
# Surnames: pymorphy's normal forms of their cases disagree ("Токаев" → токай),
# so their truth is the surname paradigm of the base instead.
SURNAME_ENDINGS = ("", "а", "у", "ым", "е", "ой", "ы", "ых", "ыми")
SURNAME_BASES = {
    "Токаева": "токаев",
    "Токаеву": "токаев",
    "Назарбаевым": "назарбаев",
    "Путина": "путин",
    "Путиным": "путин",
    "Лаврову": "лавров",
    "Мишустину": "мишустин",
}
# Readings of a text token under this share of its pymorphy score are ignored in the
# truth; looser than search/syntax.py's cut (20% of the best), so the truth is not a copy of it.
TOKEN_PLAUSIBLE = 0.05
TOKEN = re.compile(r"[A-Za-zА-Яа-яЁё]+(?:-[A-Za-zА-Яа-яЁё]+)*")


def log(message: str) -> None:
    print(message, flush=True)


def setup(database: str = EVAL_DB) -> None:
    """Point Django at `database` (kzarchive_eval unless told; created if missing), migrate
    and ingest the seeds and the shared corpus. bench/ranking_eval.py uses it too."""
    sys.path.insert(0, str(ROOT))
    import psycopg
    from psycopg import sql

    from kzarchive import embedded_db

    server = embedded_db.ensure_running(embedded_db.DEFAULT_DATA_DIR)
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LOCALE {}").format(
                    sql.Identifier(database), sql.Literal(embedded_db.LOCALE)
                )
            )
    os.environ["DATABASE_URL"] = server.url(database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kzarchive.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from transcripts.importing.ingest import ingest_paths

    paths = sorted((ROOT / "fixtures").glob("*.txt"))
    from kzarchive.paths import corpus_dir  # KZ_CORPUS_DIR, or ../shared/corpus/kremlin-2025-sample

    corpus = corpus_dir()
    if corpus.is_dir():
        paths.append(corpus)
    else:
        log(f"shared corpus missing ({corpus}): measuring on the seed transcripts only")
    report = ingest_paths(paths)
    log(f"ingest: {report.summary()}")
    for failure in report.failures:
        log(f"  failed: {failure.describe()}")


@functools.cache
def _morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@functools.lru_cache(maxsize=100_000)
def normal_forms(token: str, plausible: float = 0.0) -> frozenset[str]:
    """Normal forms (ё folded) of the readings that hold at least `plausible` of the
    token's pymorphy score: 0 keeps every reading."""
    scores: dict[str, float] = {}
    for parse in _morph().parse(token):
        lemma = parse.normal_form.replace("ё", "е")
        scores[lemma] = scores.get(lemma, 0.0) + parse.score
    total = sum(scores.values()) or 1.0
    return frozenset(lemma for lemma, score in scores.items() if score >= plausible * total)


def tokens(text: str) -> set[str]:
    """Lower-case words; a hyphenated word also counts as its parts ("Россия-Казахстан"),
    as it does in PostgreSQL's index (hword_part)."""
    found = set()
    for match in TOKEN.finditer(text.lower()):
        found.add(match.group())
        found.update(match.group().split("-"))
    return found


def truth_matcher(word: str):
    """A predicate on lower-case tokens: does this token count as `word`?"""
    if word in SURNAME_BASES:
        forms = {SURNAME_BASES[word] + ending for ending in SURNAME_ENDINGS}
        return forms.__contains__
    # Any reading of the query word may be what the user meant; but a token in running
    # text has its likely readings only ("день" is not the imperative of "деть").
    wanted = normal_forms(word.lower())
    return lambda token: bool(normal_forms(token, TOKEN_PLAUSIBLE) & wanted)


def evaluate() -> dict:
    from django.db import connection

    from transcripts.search.syntax import parse_query
    from transcripts.search.tsquery import build_tsquery

    with connection.cursor() as cursor:
        # Text-only vectors, computed once: the stored search_vector also holds the
        # speaker name (A) and meeting title (B), which would blur a test of morphology.
        cursor.execute(
            "CREATE TEMP TABLE eval_text AS SELECT id, text, to_tsvector('kz_russian', text) AS ours,"
            " to_tsvector('russian', text) AS plain FROM transcripts_utterance"
        )
        cursor.execute("SELECT id, text FROM eval_text")
        texts = dict(cursor.fetchall())
        utterance_tokens = {i: tokens(t) for i, t in texts.items()}
        log(f"{len(texts)} utterances, {len(set().union(*utterance_tokens.values()))} distinct words")

        rows = []
        for word, kind in WORDS:
            matches = truth_matcher(word)
            truth = {i for i, toks in utterance_tokens.items() if any(map(matches, toks))}
            tsquery = build_tsquery(parse_query(word))
            cursor.execute("SELECT id FROM eval_text WHERE ours @@ %s::tsquery", [tsquery])
            ours = {r[0] for r in cursor.fetchall()}
            cursor.execute("SELECT id FROM eval_text WHERE plain @@ websearch_to_tsquery('russian', %s)", [word])
            plain = {r[0] for r in cursor.fetchall()}
            rows.append(
                {
                    "word": word,
                    "kind": kind,
                    "truth": len(truth),
                    "tsquery": tsquery,
                    "ours": scores(truth, ours),
                    "plain": scores(truth, plain),
                    "examples": examples(cursor, tsquery, truth, ours, utterance_tokens, matches),
                }
            )
    return {
        "utterances": len(texts),
        "words": rows,
        "total": {s: micro([r[s] for r in rows]) for s in SIDES},
    }


def scores(truth: set[int], found: set[int]) -> dict:
    tp = len(truth & found)
    return {
        "truth": len(truth),
        "found": len(found),
        "tp": tp,
        # No results: precision is undefined; no truth: recall is. Both reported as None.
        "precision": tp / len(found) if found else None,
        "recall": tp / len(truth) if truth else None,
    }


def micro(per_word: list[dict]) -> dict:
    """Totals over all words: frequent words weigh more, as they do for users."""
    truth, found, tp = (sum(s[k] for s in per_word) for k in ("truth", "found", "tp"))
    return {"truth": truth, "found": found, "tp": tp, "precision": tp / found, "recall": tp / truth}


def examples(cursor, tsquery: str, truth, ours, utterance_tokens, matches, limit: int = 5) -> dict:
    """The tokens behind the errors, with how many utterances each one is in: the
    tokens that made false positives match, and the true tokens the search missed."""
    false_positive, false_negative = Counter(), Counter()
    fp_tokens = sorted({t for i in ours - truth for t in utterance_tokens[i]})
    cursor.execute(
        "SELECT w FROM unnest(%s::text[]) AS w WHERE to_tsvector('kz_russian', w) @@ %s::tsquery",
        [fp_tokens, tsquery],
    )
    hitting = {r[0] for r in cursor.fetchall()}
    for i in ours - truth:
        false_positive.update(utterance_tokens[i] & hitting)
    for i in truth - ours:
        false_negative.update(t for t in utterance_tokens[i] if matches(t))
    return {"false_positive": false_positive.most_common(limit), "false_negative": false_negative.most_common(limit)}


def fmt(value: float | None) -> str:
    return f"{'—':>6}" if value is None else f"{value:6.2f}"


def print_report(result: dict) -> None:
    cols = f"{'found':>6}{'tp':>6}{'P':>6}{'R':>6}"
    head = f"{'word':<16}{'kind':<7}{'truth':>6} |{cols} |{cols}"
    log(f"\n{'':<29} | ours: kz_russian + word_forms | plain: websearch_to_tsquery('russian')")
    log(head + "\n" + "-" * len(head))
    total = {"word": "MICRO-AVERAGE", "kind": "", "truth": result["total"]["ours"]["truth"], **result["total"]}
    for row in [*result["words"], total]:
        o, p = (
            f"{row[s]['found']:>6}{row[s]['tp']:>6}{fmt(row[s]['precision'])}{fmt(row[s]['recall'])}" for s in SIDES
        )
        log(f"{row['word']:<16}{row['kind']:<7}{row['truth']:>6} |{o} |{p}")
    log(
        "\ntruth = utterances whose text has a token with a pymorphy3 normal form of the word: any reading of"
        f" the word, readings of the token with >= {TOKEN_PLAUSIBLE:.0%} of its score, ё = е, a hyphenated word"
        " also counts as its parts. Surnames ("
        + ", ".join(SURNAME_BASES)
        + "): tokens base + "
        + "/".join(e or "∅" for e in SURNAME_ENDINGS)
        + " instead. Both searches see the text only, not"
        " speaker names or titles. P or R '—': nothing found or no truth."
    )
    for key, side in (("precision", "false_positive"), ("recall", "false_negative")):
        worst = sorted((r for r in result["words"] if (r["ours"][key] or 1) < 1), key=lambda r: r["ours"][key])[:5]
        log(f"\nworst {len(worst)} by {key} (ours): {side.replace('_', ' ')} tokens (× utterances)")
        for r in worst:
            found = ", ".join(f"'{t}' ×{n}" for t, n in r["examples"][side]) or "(none)"
            log(f"  {r['word']:<16}{r['ours'][key]:.2f}  {found}")


def main() -> None:
    started = time.perf_counter()
    setup()
    result = evaluate()
    print_report(result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    log(f"\nwrote {RESULTS.relative_to(ROOT)} in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
