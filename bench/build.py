"""Build a synthetic archive of N utterances in its own database, fast.

Meetings go in with one COPY; utterances with COPY from worker processes (the
search-vector trigger, which does the real work, runs in their backends). The
search indexes are dropped first and built once at the end, which is much
faster than maintaining a GIN index row by row; likewise the did-you-mean word
list's triggers are off during the load and the list is rebuilt once at the end.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import multiprocessing
import os
import random
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from bench import corpus as text_source
from kzarchive import embedded_db

BENCH_DB = "kzarchive_bench"
# Dropped before the load and built after it: every GIN index on the utterances
# (utterance_search_gin and any partial ones later migrations add) and the date order.
REBUILT_INDEXES_SQL = (
    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'transcripts_utterance'"
    " AND (indexdef LIKE '% USING gin %' OR indexname = 'utterance_date_order') ORDER BY indexname"
)
# Off during the load: the word list's, the lexeme counts' and the meetings' lexemes'
# triggers on the utterances (its statements would each update them; migrations 0011, 0021
# and 0022; VocabularyWord.rebuild(), LexemeCount.rebuild() and MeetingLexemes.rebuild()
# follow), and the history's (migration 0013): a synthetic archive has no history to keep.
VOCABULARY_TRIGGERS_SQL = (
    "SELECT tgname FROM pg_trigger WHERE tgrelid = 'transcripts_utterance'::regclass"
    " AND (tgname LIKE 'kz\\_vocabulary\\_%' OR tgname LIKE 'kz\\_lexeme\\_count\\_%'"
    " OR tgname LIKE 'kz\\_meeting\\_lexemes\\_%' OR tgname LIKE 'pgtrigger\\_%') ORDER BY tgname"
)
FIRST_DAY, LAST_DAY = dt.date(2001, 1, 1), dt.date(2025, 12, 31)
MOSCOW = ZoneInfo("Europe/Moscow")
TASK_UTTERANCES = 5_000  # utterances per COPY (one transaction each)
TAIL_WORDS = 100_000
RARE_TARGET = 40  # the "rare word" is the tail word in about this many utterances

# Who speaks: share of utterances. "president" is Kazakhstan's president of the
# meeting's day; the synthetic people share the rest by a Zipf law.
SHARES = {
    None: 0.10,  # narration
    "vladimir-putin": 0.24,
    "president": 0.12,
    "vopros": 0.03,
    "replika": 0.007,
    "vedushchii": 0.007,
    "otvet": 0.003,
    "golos-iz-zala": 0.002,
    "primechanie": 0.001,
}

UTTERANCE_COPY = (
    "COPY transcripts_utterance (meeting_id, seq, sid, speaker_id, label, remark, text,"
    " text_curated, speaker_curated, source_hash) FROM STDIN"
)
MEETING_COLUMNS = (
    "id, title, title_derived, slug, start, date, location, kind, lead, source_url, source_file, source_key,"
    " layout, content_hash, language, is_published, omitted_after, curated_fields, created_at, updated_at"
)


def server_url(dbname: str) -> str:
    return embedded_db.ensure_running(embedded_db.DEFAULT_DATA_DIR).url(dbname)


def use_bench_database(*, read_only: bool = False) -> bool:
    """Point this process (DATABASE_URL, before Django is set up) at the bench archive;
    False, with a message, if none has been built."""
    if not existing_build():
        print("no bench archive: run bench/search_bench.py first", file=sys.stderr)
        return False
    os.environ["DATABASE_URL"] = server_url(BENCH_DB)
    if read_only:  # a script that must never write to the bench archive
        os.environ["PGOPTIONS"] = (os.environ.get("PGOPTIONS", "") + " -c default_transaction_read_only=on").strip()
    return True


def set_up_django(*, bench: bool, read_only: bool) -> bool:
    """Django, set up for a bench script: on the bench archive with --bench (False, with a
    message, if none is built), else on the configured database."""
    if bench and not use_bench_database(read_only=read_only):
        return False
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kzarchive.settings")
    import django

    django.setup()
    return True


def existing_build() -> dict | None:
    """What the bench database holds (its bench_meta), or None if nothing usable."""
    with psycopg.connect(server_url("postgres")) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone():
            return None
    with psycopg.connect(server_url(BENCH_DB)) as conn:
        if not conn.execute("SELECT to_regclass('bench_meta')").fetchone()[0]:
            return None
        row = conn.execute("SELECT value FROM bench_meta WHERE key = 'build'").fetchone()
        return row[0] if row else None


def recreate_database() -> None:
    with psycopg.connect(server_url("postgres"), autocommit=True) as conn:
        name = sql.Identifier(BENCH_DB)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LOCALE {}").format(
                name, sql.Literal(embedded_db.LOCALE)
            )
        )


# ---------------------------------------------------------------------------
# Planning (in the parent process; Django is set up)


def create_speakers(rng: random.Random, count: int) -> tuple[list, list[float]]:
    """The directory's speakers plus synthetic people; returns (choices, cum_weights)
    where a choice is (speaker id or None or "president", label)."""
    from transcripts.importing.speakers import load_speaker_directory
    from transcripts.models import Speaker

    load_speaker_directory()
    known = {s.slug: s for s in Speaker.objects.all()}
    people = text_source.people(rng, count - len(known))
    created = Speaker.objects.bulk_create(
        Speaker(slug=f"bench-person-{i}", **person) for i, person in enumerate(people, 1)
    )
    choices, weights = [], []
    for key, share in SHARES.items():
        speaker = known.get(key)
        choices.append((speaker.id, speaker.short_label or speaker.name) if speaker else (key, ""))
        weights.append(share)
    rest = 1 - sum(SHARES.values())
    zipf = [1 / rank for rank in range(1, len(created) + 1)]
    choices += [(s.id, s.short_label) for s in created]
    weights += [rest * w / sum(zipf) for w in zipf]
    return choices, list(itertools.accumulate(weights))


def plan_meetings(rng: random.Random, n: int, corpus: text_source.Corpus) -> list[dict]:
    """Meetings of log-normal size (mean ~20) on random days of 2001–2025."""
    days = (LAST_DAY - FIRST_DAY).days
    places, place_weights = zip(*text_source.LOCATIONS, strict=True)
    meetings, planned = [], 0
    while planned < n:
        size = min(n - planned, max(1, int(rng.lognormvariate(2.6, 0.9))))
        date = FIRST_DAY + dt.timedelta(days=rng.randrange(days + 1))
        president = (
            "nursultan-nazarbayev" if date.isoformat() < text_source.NAZARBAYEV_UNTIL else "kassym-jomart-tokayev"
        )
        kz = rng.random() < 0.3
        title, kind = rng.choice(text_source.KZ_TITLES if kz else corpus.titles)
        meetings.append(
            {
                "id": len(meetings) + 1,
                "title": title.format(president=text_source.PRESIDENTS[president]),
                "kind": kind,
                "date": date,
                "location": "" if kind == "phone_call" else rng.choices(places, place_weights)[0],
                "start": None if rng.random() < 0.1 else dt.datetime.combine(date, dt.time(rng.randrange(9, 20), rng.choice((0, 15, 30, 45))), MOSCOW),  # noqa: E501
                "published": rng.random() < 0.99,
                "size": size,
                "kz": kz,
                "president": president,
            }
        )  # fmt: skip
        planned += size
    return meetings


def copy_meetings(conn: psycopg.Connection, meetings: list[dict]) -> None:
    now = dt.datetime.now(dt.UTC)
    with conn.cursor() as cur, cur.copy(f"COPY transcripts_meeting ({MEETING_COLUMNS}) FROM STDIN") as copy:
        for m in meetings:
            url = f"https://bench.invalid/meeting/{m['id']}"
            copy.write_row(
                (m["id"], m["title"], False, f"bench-{m['id']}", m["start"], m["date"], m["location"], m["kind"], "",
                 url, f"bench/{m['id']}.txt", url, "transcript", "bench", "ru", m["published"], "{}", "{}", now, now)
            )  # fmt: skip
    conn.execute("SELECT setval(pg_get_serial_sequence('transcripts_meeting', 'id'), %s)", [len(meetings)])
    conn.commit()


def tail_vocabulary(conn: psycopg.Connection, rng: random.Random, corpus: text_source.Corpus) -> list[str]:
    """Long-tail words whose lexeme is new to the corpus, one word per lexeme, most
    frequent first: their counts then follow the Zipf law exactly."""
    candidates = text_source.tail_candidates()
    rng.shuffle(candidates)
    sentences = corpus.kz.sentences + corpus.general.sentences
    known = {
        row[0]
        for row in conn.execute(
            "SELECT DISTINCT lexeme FROM unnest(%s::text[]) AS s, unnest(to_tsvector('kz_russian', s))", [sentences]
        )
    }
    rows = conn.execute(
        "SELECT w, array(SELECT lexeme FROM unnest(to_tsvector('kz_russian', w)))"
        " FROM unnest(%s::text[]) WITH ORDINALITY AS t(w, i) ORDER BY i",
        [candidates],
    )
    words = []
    for word, lexemes in rows:
        if len(lexemes) == 1 and lexemes[0] not in known:
            known.add(lexemes[0])
            words.append(word)
    return words[:TAIL_WORDS]


# ---------------------------------------------------------------------------
# Loading (worker processes, forked: they inherit _STATE, not Django's connection)

_STATE: dict = {}


def retrying(step, *args, tries: int = 3):
    """Other sessions' test runs may restart the shared server: run `step` again
    (each step is one transaction or statement, so a lost one left nothing)."""
    for attempt in range(tries):
        try:
            return step(*args)
        except psycopg.OperationalError:
            if attempt == tries - 1:
                raise
            time.sleep(10)


def _worker_connection() -> psycopg.Connection:
    conn = _STATE.get("conn")
    if conn is None or conn.closed or conn.broken:
        conn = _STATE["conn"] = psycopg.connect(server_url(BENCH_DB))
    return conn


def bench_sid(meeting_id: int, seq: int) -> str:
    """A statement identifier from its place: unique without asking the database (random
    ones would collide about once in two million-row builds)."""
    from transcripts.models import SID_ALPHABET, SID_LENGTH  # Django is set up by now

    n, digits = meeting_id * 131_072 + seq, []
    for _ in range(SID_LENGTH):
        n, digit = divmod(n, len(SID_ALPHABET))
        digits.append(SID_ALPHABET[digit])
    return "".join(digits)


def _load_task(meetings: list[tuple], seed: int) -> tuple[int, Counter]:
    return retrying(_copy_utterances, meetings, seed)


def _copy_utterances(meetings: list[tuple], seed: int) -> tuple[int, Counter]:
    """Generate and COPY the utterances of `meetings`; returns (rows, tail word counts)."""
    s, rng, tail_df, rows = _STATE, random.Random(seed), Counter(), 0
    corpus, tail, tail_cum = s["corpus"], s["tail"], s["tail_cum"]
    speakers, speaker_cum, presidents = s["speakers"], s["speaker_cum"], s["presidents"]
    conn = _worker_connection()
    with conn.cursor() as cur, cur.copy(UTTERANCE_COPY) as copy:
        for meeting_id, size, kz, president in meetings:
            for seq in range(1, size + 1):
                speaker_id, label = rng.choices(speakers, cum_weights=speaker_cum)[0]
                if speaker_id == "president":
                    speaker_id, label = presidents[president]
                pool = corpus.kz if rng.random() < (0.4 if kz else 0.05) else corpus.general
                text = pool.text(rng, rng.choice(corpus.lengths))
                if extra := text_source.poisson(rng, text_source.TAIL_RATE * (text.count(" ") + 1)):
                    words = rng.choices(tail, cum_weights=tail_cum, k=extra)
                    text = text_source.inject_tail(rng, text, words)
                    tail_df.update(set(words))
                # source_hash as transcripts.importing.reconcile.text_hash computes it (md5 of the text)
                source_hash = hashlib.md5(text.encode()).hexdigest()
                row = (meeting_id, seq, bench_sid(meeting_id, seq), speaker_id, label, "", text, False, False)
                copy.write_row((*row, source_hash))
                rows += 1
    conn.commit()
    return rows, tail_df


def maintenance(statement: str) -> float:
    """Seconds to run one index build, VACUUM or refresh on its own connection."""
    with psycopg.connect(server_url(BENCH_DB), autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        started = time.perf_counter()
        conn.execute(statement)
        return round(time.perf_counter() - started, 1)


def load_utterances(meetings: list[dict], seed: int, workers: int, log) -> tuple[int, Counter]:
    tasks, batch, size = [], [], 0
    for m in meetings:
        batch.append((m["id"], m["size"], m["kz"], m["president"]))
        size += m["size"]
        if size >= TASK_UTTERANCES or m is meetings[-1]:
            tasks.append(batch)
            batch, size = [], 0
    total, loaded, tail_df, started = sum(m["size"] for m in meetings), 0, Counter(), time.perf_counter()
    next_report = 0.0
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(_load_task, batch, seed * 1_000_003 + i) for i, batch in enumerate(tasks)]
        for future in as_completed(futures):
            rows, counts = future.result()
            loaded += rows
            tail_df.update(counts)
            if loaded / total >= next_report or loaded == total:
                rate = loaded / (time.perf_counter() - started)
                log(f"  utterances: {loaded:,}/{total:,} ({rate:,.0f}/s)")
                next_report += 0.05
    return loaded, tail_df


# ---------------------------------------------------------------------------
# The whole build


def build(n: int, *, seed: int, workers: int, speakers: int, log) -> dict:
    """Fill the (freshly migrated) bench database; returns the build's measurements."""
    from django.db import connection

    rng = random.Random(seed)
    log("reading the corpus…")
    corpus = text_source.load_corpus()
    url = server_url(BENCH_DB)
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value jsonb NOT NULL)")
        log("choosing the long-tail vocabulary…")
        tail = tail_vocabulary(conn, rng, corpus)
        speaker_choices, speaker_cum = create_speakers(rng, speakers)
        by_slug = dict(conn.execute("SELECT slug, id FROM transcripts_speaker").fetchall())
        labels = {"nursultan-nazarbayev": "Н.Назарбаев", "kassym-jomart-tokayev": "К.-Ж.Токаев"}
        meetings = plan_meetings(rng, n, corpus)
        log(f"{len(meetings):,} meetings, {speakers} speakers, {len(tail):,} long-tail words; copying meetings…")
        copy_meetings(conn, meetings)
        definitions = dict(conn.execute(REBUILT_INDEXES_SQL).fetchall())
        for name in definitions:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        vocabulary_triggers = [row[0] for row in conn.execute(VOCABULARY_TRIGGERS_SQL)]
        set_triggers(conn, vocabulary_triggers, enabled=False)
        conn.commit()

    connection.close()  # nothing of Django's may cross the fork
    _STATE.update(
        corpus=corpus,
        tail=tail,
        tail_cum=text_source.zipf_cum_weights(len(tail)),
        speakers=speaker_choices,
        speaker_cum=speaker_cum,
        presidents={slug: (by_slug[slug], label) for slug, label in labels.items()},
    )
    log(f"loading {n:,} utterances with {workers} worker(s)…")
    started = time.perf_counter()
    loaded, tail_df = load_utterances(meetings, seed, workers, log)
    load_s = time.perf_counter() - started
    with psycopg.connect(url) as conn:
        set_triggers(conn, vocabulary_triggers, enabled=True)

    result = {
        "utterances": loaded,
        "meetings": len(meetings),
        "speakers": speakers,
        "seed": seed,
        "workers": workers,
        "load_s": round(load_s, 1),
        "load_utterances_per_s": round(loaded / load_s),
        "index_build_s": {},
    }
    for name, definition in definitions.items():
        log(f"building index {name}…")
        result["index_build_s"][name] = retrying(maintenance, definition)
    log("VACUUM (ANALYZE)…")
    result["vacuum_analyze_s"] = retrying(maintenance, "VACUUM (ANALYZE)")
    log("rebuilding the vocabulary (VocabularyWord.rebuild: the full query, once)…")
    result["vocabulary_rebuild_s"] = rebuild_vocabulary()
    retrying(maintenance, "VACUUM (ANALYZE) transcripts_vocabularyword")
    log("counting each lexeme's statements by year and speaker (LexemeCount.rebuild)…")
    result["lexeme_counts_rebuild_s"] = rebuild_counts("LexemeCount")
    log("gathering each meeting's lexemes (MeetingLexemes.rebuild)…")
    result["meeting_lexemes_rebuild_s"] = rebuild_counts("MeetingLexemes")
    log("making the champion lists (champions.rebuild, as `manage.py rebuild_champions`)…")
    result["champions_rebuild_s"] = rebuild_champions(log)
    with psycopg.connect(url, autocommit=True) as conn:
        tables = ["transcripts_utterance", *definitions, "transcripts_vocabularyword", "transcripts_champion"]
        result["sizes_mb"] = sizes(conn, tables)
        # The rare word: the tail word closest to RARE_TARGET utterances.
        rare, df = min(tail_df.items(), key=lambda item: (abs(item[1] - RARE_TARGET), item[0]))
        result.update(rare_word=rare, rare_word_utterances=df, built_at=dt.datetime.now(dt.UTC).isoformat())
        conn.execute(
            "INSERT INTO bench_meta VALUES ('build', %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [Jsonb(result)],
        )
    return result


def set_triggers(conn: psycopg.Connection, names: list[str], *, enabled: bool) -> None:
    action = sql.SQL("ENABLE" if enabled else "DISABLE")
    for name in names:
        conn.execute(sql.SQL("ALTER TABLE transcripts_utterance {} TRIGGER {}").format(action, sql.Identifier(name)))


def rebuild_vocabulary() -> float:
    """Seconds for the app's own full rebuild of the word list (Django's connection)."""
    from django.db import connection

    from transcripts.models import VocabularyWord

    connection.close()  # a fresh connection: the server may have restarted since the fork
    started = time.perf_counter()
    VocabularyWord.rebuild()
    return round(time.perf_counter() - started, 1)


def rebuild_counts(name: str) -> float:
    """Seconds for the app's own full rebuild of a derived table kept by statement triggers
    (LexemeCount, migration 0021; MeetingLexemes, 0022), on Django's connection."""
    from django.db import connection

    from transcripts import models

    connection.close()
    started = time.perf_counter()
    getattr(models, name).rebuild()
    return round(time.perf_counter() - started, 1)


def rebuild_champions(log) -> float:
    """Seconds for the app's own rebuild of the search's champion lists."""
    from django.db import connection

    from transcripts.search import champions

    connection.close()
    started = time.perf_counter()
    champions.rebuild(log=log)
    return round(time.perf_counter() - started, 1)


def sizes(conn: psycopg.Connection, names: list[str]) -> dict:
    rows = conn.execute("SELECT n, pg_total_relation_size(n::regclass) / 1048576 FROM unnest(%s::text[]) AS n", [names])
    return dict(rows.fetchall())
