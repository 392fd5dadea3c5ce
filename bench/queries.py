"""The query mix, and three ways to answer each query: transcripts.search.engine.search_archive(),
the whole /search/ page through Django, and a naive ORM page for comparison."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import OperationalError, connection, transaction
from django.db.models import Count, F
from django.db.models.functions import ExtractYear
from django.test import Client
from django.test.utils import CaptureQueriesContext

from transcripts.models import TS_CONFIG, Utterance
from transcripts.search.engine import SearchRequest
from transcripts.search.engine import search_archive as search

DATE_FROM, DATE_TO = dt.date(2010, 1, 1), dt.date(2014, 12, 31)
SPEAKER_SLUG = "vladimir-putin"
NAIVE_TIMEOUT_MS = 30_000
PHRASE = '"Президент Казахстана"'
# A phrase with a hyphenated word: PostgreSQL indexes "торгово-экономического" as the
# compound and its two parts at consecutive positions, which the phrase must allow for.
HYPHEN_PHRASE = '"торгово-экономического сотрудничества"'


@dataclass(frozen=True)
class QueryClass:
    name: str
    q: str
    speaker: bool = False  # only Putin's utterances
    dates: bool = False  # only DATE_FROM..DATE_TO
    sort: str = "relevance"

    def request(self, speaker_id: int) -> SearchRequest:
        return SearchRequest(
            q=self.q,
            speakers=(speaker_id,) if self.speaker else (),
            date_from=DATE_FROM if self.dates else None,
            date_to=DATE_TO if self.dates else None,
            sort=self.sort,
        )

    def page_params(self) -> dict:
        params = {"q": self.q, "sort": self.sort}
        if self.speaker:
            params["speaker"] = SPEAKER_SLUG
        if self.dates:
            params.update({"from": DATE_FROM.isoformat(), "to": DATE_TO.isoformat()})
        return params


def query_classes(rare_word: str) -> list[QueryClass]:
    words = [
        ("rare", rare_word),
        ("common", "Россия"),
        ("and", "Казахстан сотрудничество"),
        ("phrase", PHRASE),
        ("name", "Токаева"),
    ]
    classes = []
    for name, q in words:
        classes += [
            QueryClass(name, q),
            QueryClass(f"{name}+speaker", q, speaker=True),
            QueryClass(f"{name}+dates", q, dates=True),
        ]
    return [
        *classes,
        QueryClass("common+newest", "Россия", sort="newest"),
        QueryClass("phrase+newest", PHRASE, sort="newest"),
        QueryClass("hyphen-phrase", HYPHEN_PHRASE),
    ]


def timed(fn, runs: int, warmup: int = 1) -> tuple[list[float], object]:
    """Milliseconds of `runs` calls after `warmup` untimed ones, and the last result."""
    result = None
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def summary(times: list[float]) -> dict:
    if not times:
        return {}
    p95 = statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]
    return {
        "p50": round(statistics.median(times), 1),
        "p95": round(p95, 1),
        "max": round(max(times), 1),
        "runs": [round(t, 1) for t in times],
    }


def page_getter(qc: QueryClass):
    client = Client(SERVER_NAME="127.0.0.1")
    params = qc.page_params()

    def get():
        response = client.get("/search/", params)
        if response.status_code != 200:
            raise RuntimeError(f"/search/ answered {response.status_code} for {params}")
        return response

    return get


def slowest_statements(qc: QueryClass, speaker_id: int, keep: int = 3) -> list[dict]:
    """The SQL that search() sends, slowest first (one extra, untimed call)."""
    with CaptureQueriesContext(connection) as captured:
        search(qc.request(speaker_id))
    statements = [
        {"ms": round(float(q["time"]) * 1000, 1), "sql": q["sql"]}
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith("SELECT")
    ]
    return sorted(statements, key=lambda s: -s["ms"])[:keep]


def exact_total(qc: QueryClass, speaker_id: int, tsquery: str) -> int | None:
    """How many utterances search()'s tsquery really matches, to check its estimates."""
    sql = "SELECT count(*) FROM transcripts_utterance WHERE published AND search_vector @@ %s::tsquery"
    params: list = [tsquery]
    if qc.speaker:
        sql += " AND speaker_id = %s"
        params.append(speaker_id)
    if qc.dates:
        sql += " AND meeting_date BETWEEN %s AND %s"
        params += [DATE_FROM, DATE_TO]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {NAIVE_TIMEOUT_MS}")
            cursor.execute(sql, params)
            return cursor.fetchone()[0]
    except OperationalError:
        return None


def explain(statement: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement)
        return "\n".join(row[0] for row in cursor.fetchall())


# ---------------------------------------------------------------------------
# The naive page: what the Django docs' full-text search recipe would do.


def naive_page(qc: QueryClass, speaker_id: int) -> dict:
    """Exact count, exact speaker and year facets, SearchRank over all matches,
    plain SearchHeadline for the 20 shown; None values after a timeout."""
    query = SearchQuery(qc.q, config=TS_CONFIG, search_type="websearch")
    matches = Utterance.objects.filter(published=True, search_vector=query)
    if qc.speaker:
        matches = matches.filter(speaker_id=speaker_id)
    if qc.dates:
        matches = matches.filter(meeting_date__range=(DATE_FROM, DATE_TO))
    if qc.sort == "relevance":
        ordered = matches.annotate(rank=SearchRank(F("search_vector"), query)).order_by("-rank", "-meeting_date")
    else:
        ordered = matches.order_by("-meeting_date", "-meeting_id", "-seq")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {NAIVE_TIMEOUT_MS}")
            total = matches.count()
            speakers = list(matches.values("speaker").annotate(n=Count("id")).order_by("-n")[:12])
            years = list(
                matches.annotate(year=ExtractYear("meeting_date")).values("year").annotate(n=Count("id")).order_by()
            )
            hits = list(ordered.select_related("meeting", "speaker")[:20])
            headlines = list(
                Utterance.objects.filter(id__in=[h.id for h in hits])
                .annotate(headline=SearchHeadline("text", query, config=TS_CONFIG))
                .values_list("id", "headline")
            )
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != "57014":  # query_canceled
            raise
        return {"total": None, "timed_out": True}
    return {"total": total, "timed_out": False, "facets": len(speakers) + len(years), "headlines": len(headlines)}


def run_naive(qc: QueryClass, speaker_id: int, runs: int) -> dict:
    """Like timed(), but gives up after a timed-out warm-up so a run cannot hang."""
    results = [naive_page(qc, speaker_id)]  # warm-up
    if results[0]["timed_out"]:
        return {"timed_out": True, "hits": None}
    times, _last = timed(lambda: results.append(naive_page(qc, speaker_id)) or results[-1], runs, warmup=0)
    return {"timed_out": any(r["timed_out"] for r in results), "hits": results[-1]["total"], **summary(times)}
