"""How many statements match, in how many meetings, by year and by speaker.

Up to EXACT_LIMIT matches (and somewhat beyond: the decision is made on an estimate)
every count is exact: one pass over the matches, aggregated in PostgreSQL. Above it,
the counts come from a systematic sample of statements (every 10th by id, every 5th
below DENSE_BELOW matches: partial GIN indexes, migrations 0016 and 0024), scaled up,
with a 95% margin the page states; but only for the years the sample knows within
YEAR_MARGIN: the other years (small ones, or ones the sample missed) are counted
exactly, so every year shown is within ±10%. Its meetings are then counted in
MeetingLexemes (count_meetings): exactly for a search for any of some words, else as a
bound (the meetings holding every word wanted), never above the meetings that can match.
A sample cannot estimate them: Horvitz–Thompson on the 10% sample was 40–80% low for
common words at a million (docs/search.md).

A search without filters for any of some words (up to tsquery.TABLE_LEXEMES lexemes in all), less
any excluded words, reads its counts from LexemeCount instead (count_from_table):
exact at any size, and its meetings from MeetingLexemes as above.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from ..stamp import StampedCache
from .tsquery import read_connection

EXACT_LIMIT = 50_000
PROBE = 100  # the 1% sample (`id % 100 = 0`) tells whether the exact count is affordable
SAMPLE = 10  # the 10% sample (`id % 10 = 0`) estimates above it
# Below DENSE_BELOW matches (by the 1% sample) the 20% sample estimates instead: spread over
# 25 years, 250,000 matches give each year about 1,000 in the 10% sample, enough for
# YEAR_MARGIN, but 180,000 (as «хотел» at a million) give 730, and every year was then
# counted exactly, reading every match (376 ms); read at 20%, they are all estimated.
DENSE_SAMPLE = 5
DENSE_BELOW = 250_000
ENOUGH_SAMPLED = 400  # sampled matches below which the sample says too little (margin ±10%)
# A year the sample gives a wider 95% margin than this is counted exactly. 0.08 let the
# worst of a query's 25 years reach 12% (the worst of many falls outside each one's 95%);
# at 0.065 (820 sampled, 8,200 matches) the worst was 8.3% in the shapes runs and 9.4% over
# 40 random frequent lexemes (docs/measurements.md).
YEAR_MARGIN = 0.065
COUNTED_FROM = 5_000  # a one-word search of this many matches takes its counts from LexemeCount


@dataclass(frozen=True)
class Total:
    """A count of matches, exact or estimated from a sample (margin: relative, 95%)."""

    value: int
    estimated: bool = False
    margin: float = 0.0
    sample_percent: int = 0  # the sample an estimate was made from
    at_most: bool = False  # an upper bound (meetings: every wanted word, but maybe not in one statement)

    @property
    def margin_percent(self) -> int:
        return max(1, math.ceil(self.margin * 100)) if self.estimated else 0


NO_MATCHES = Total(0)


@dataclass
class Counts:
    total: Total = NO_MATCHES
    meetings: Total = NO_MATCHES
    years: list[tuple[int, Total]] = field(default_factory=list)
    speakers: list[tuple[int, int]] = field(default_factory=list)  # (speaker id, count), most first


# One pass over the matches; the CTE is read three times from memory.
AGGREGATE_SQL = """
WITH m AS MATERIALIZED (
    SELECT u.meeting_id, extract(year FROM u.meeting_date)::int AS year, u.speaker_id
    FROM transcripts_utterance u WHERE {where}
)
SELECT 'year', year, 0, count(*) FROM m GROUP BY year
UNION ALL SELECT 'speaker', speaker_id, 0, count(*) FROM m WHERE speaker_id IS NOT NULL GROUP BY speaker_id
UNION ALL SELECT 'meetings', year, k, count(*) FROM (
    SELECT year, count(*) AS k FROM m GROUP BY meeting_id, year
) AS per GROUP BY year, k
"""


@dataclass
class Tally:
    """One pass's counts: matches per year and per speaker, and per year how many
    meetings hold k matches ({year: {k: meetings}})."""

    years: dict = field(default_factory=dict)
    speakers: dict = field(default_factory=dict)
    meetings: dict = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.years.values())

    @property
    def meetings_total(self) -> int:
        return sum(n for histogram in self.meetings.values() for n in histogram.values())


def _count_sample_rows() -> tuple[int, dict[int, float]]:
    """(all statements, {modulus: scale}): a scale is all rows over the sample's rows."""
    moduli = (PROBE, SAMPLE, DENSE_SAMPLE)
    filters = ", ".join(f"count(*) FILTER (WHERE id % {int(m)} = 0)" for m in moduli)
    with read_connection().cursor() as cursor:
        cursor.execute(f"SELECT count(*), {filters} FROM transcripts_utterance")
        rows, *sampled = cursor.fetchone()
    return max(rows, 1), {m: rows / n if n else float(m) for m, n in zip(moduli, sampled, strict=True)}


scales = StampedCache(_count_sample_rows)


def count_matches(cursor, where: str, params: list, meetings_matching) -> Counts:
    """Exact counts when the 1% sample says they are affordable, else estimates
    (meetings_matching(total): the meetings' Total from count_meetings)."""
    _rows, scale = scales.get()
    cursor.execute(f"SELECT count(*) FROM transcripts_utterance u WHERE {in_sample(where, PROBE)}", params)
    probe = cursor.fetchone()[0]
    if probe * scale[PROBE] <= 1.3 * EXACT_LIMIT:  # 6.7 standard errors above 50,000: never wrongly estimated
        return _exact(_tally(cursor, where, params))
    modulus = DENSE_SAMPLE if probe * scale[PROBE] < DENSE_BELOW else SAMPLE
    fraction = 1 / scale[modulus]
    sampled = _tally(cursor, in_sample(where, modulus), params)
    if sampled.total < ENOUGH_SAMPLED:  # too few sampled to say (a small archive)
        return _exact(_tally(cursor, where, params))
    # Years the sample knows well enough are estimated; every other year (a small one, or
    # one the sample missed) is counted exactly, reading only its own matches.
    known = sorted(y for y, k in sampled.years.items() if y is not None and _margin(k, fraction) <= YEAR_MARGIN)
    outside, years = _outside_years(known)
    rest = _tally(cursor, f"{where} AND {outside}", params + years)
    if not known:  # no year was sampled well enough: the rest is every match
        return _exact(rest)
    return _estimated(sampled, known, rest, fraction, round(100 / modulus), meetings_matching)


def count_from_table(cursor, table, overlap_where, meetings_matching) -> Counts | None:
    """A search without filters whose counts are LexemeCount's (tsquery.TableCounts), of at
    least COUNTED_FROM statements: its total, years and speakers are the table's sums less
    what they count more than once or must leave out, read from those statements
    (overlap_where(tsquery): the search's (where, params) for another tsquery), exact at
    any size; its meetings are meetings_matching's. None below COUNTED_FROM: reading the
    matches costs less, and the meetings are then exact whatever the query."""
    cursor.execute(
        "SELECT facet, value, sum(statements)::integer FROM transcripts_lexemecount"
        " WHERE lexeme = ANY(%s) GROUP BY 1, 2",
        [list(table.lexemes)],
    )
    years, speakers = {}, {}
    for facet, value, n in cursor.fetchall():
        (years if facet == "y" else speakers)[value] = n
    if sum(years.values()) < COUNTED_FROM:
        return None
    for tsquery, sign in table.overlaps:
        where, params = overlap_where(tsquery)
        cursor.execute(OVERLAP_SQL.format(where=where), params)
        for by_speaker, year, speaker, n in cursor.fetchall():
            if by_speaker:
                if speaker is not None:  # narration is not in LexemeCount's speakers
                    speakers[speaker] = speakers.get(speaker, 0) + sign * n
            else:
                years[year or 0] = years.get(year or 0, 0) + sign * n
    years = {y: n for y, n in years.items() if n}
    speakers = {s: n for s, n in speakers.items() if n}
    total = sum(years.values())
    return Counts(
        total=Total(total),
        meetings=meetings_matching(total),
        years=sorted((y, Total(n)) for y, n in years.items() if y),
        speakers=_most_first(speakers),
    )


# Matches by year and by speaker, in one pass (count_from_table's overlaps).
OVERLAP_SQL = """
SELECT GROUPING(m.year), m.year, m.speaker_id, count(*)::integer FROM (
    SELECT extract(year FROM u.meeting_date)::int AS year, u.speaker_id FROM transcripts_utterance u WHERE {where}
) AS m GROUP BY GROUPING SETS ((m.year), (m.speaker_id))
"""


def count_meetings(cursor, terms: str, meetings: list[int] | None) -> int:
    """The meetings (of `meetings`, if given: the ones passing a search's filters) whose
    published statements hold what `terms` asks (IndexedQuery.meeting_terms), from
    MeetingLexemes: one row a meeting, 12–24 ms for a common word's 33,817 meetings of 50,118."""
    sql, params = "SELECT count(*) FROM transcripts_meetinglexemes v WHERE v.lexemes @@ %s::tsquery", [terms]
    if not terms:  # nothing every match must hold («Россия OR -Казахстан»): any meeting can match
        sql, params = "SELECT count(*) FROM transcripts_meetinglexemes v WHERE true", []
    if meetings is not None:
        sql += (
            " AND v.meeting_id + 0 = ANY(%s::bigint[])"  # a hashed test of each: the index would read every listed one
        )
        params.append(meetings)
    cursor.execute(sql, params)
    return cursor.fetchone()[0]


def in_sample(where: str, modulus: int | None = None) -> str:
    """The condition `where` restricted to a sample (`id % modulus = 0`, the 10% one by
    default): the form the partial GIN indexes of migrations 0016 and 0024 are made for."""
    return f"{where} AND u.id %% {int(modulus or SAMPLE)} = 0"


def _most_first(counts: dict) -> list[tuple[int, int]]:
    """(speaker id, count), most first; ties by id, so the facet's order is fixed."""
    return sorted(counts.items(), key=lambda sn: (-sn[1], sn[0]))


def _margin(k: int, fraction: float) -> float:
    """95% margin of k sampled matches scaled up (binomial; a systematic sample over
    ordered ids does no worse)."""
    return 1.96 * math.sqrt((1 - fraction) / k) if k else 1.0


def _outside_years(years: list[int]) -> tuple[str, list]:
    """SQL (and its dates) for a meeting date in none of these years: ranges the date
    index reads, so only the other years' matches are visited."""
    if not years:
        return "true", []
    spans: list[list[int]] = []
    for year in years:
        if spans and spans[-1][1] == year - 1:
            spans[-1][1] = year
        else:
            spans.append([year, year])
    ranges, dates, low = ["u.meeting_date IS NULL"], [], None
    for first, last in spans:
        ranges.append("u.meeting_date < %s" if low is None else "(u.meeting_date >= %s AND u.meeting_date < %s)")
        dates.extend([dt.date(first, 1, 1)] if low is None else [low, dt.date(first, 1, 1)])
        low = dt.date(last + 1, 1, 1)
    ranges.append("u.meeting_date >= %s")
    dates.append(low)
    return "(" + " OR ".join(ranges) + ")", dates


def _tally(cursor, where: str, params: list) -> Tally:
    cursor.execute(AGGREGATE_SQL.format(where=where), params)
    tally = Tally()
    for kind, key, k, n in cursor.fetchall():
        if kind == "meetings":
            tally.meetings.setdefault(key, {})[k] = n
        else:
            (tally.years if kind == "year" else tally.speakers)[key] = n
    return tally


def _exact(tally: Tally) -> Counts:
    return Counts(
        total=Total(tally.total),
        meetings=Total(tally.meetings_total),
        years=sorted((y, Total(n)) for y, n in tally.years.items() if y is not None),
        speakers=_most_first(tally.speakers),
    )


def _estimated(
    sampled: Tally, known: list[int], rest: Tally, fraction: float, percent: int, meetings_matching
) -> Counts:
    """The known years from the sample, scaled up, and the rest counted exactly."""
    big = sum(sampled.years[y] for y in known)
    years = {
        y: Total(round(sampled.years[y] / fraction), True, _margin(sampled.years[y], fraction), percent) for y in known
    }
    years.update((y, Total(n)) for y, n in rest.years.items() if y is not None)
    total = round(big / fraction) + rest.total
    share = big / fraction / total  # the estimated part's share: the margin of the whole
    speakers = {s: round(n / fraction) for s, n in sampled.speakers.items()}
    return Counts(
        total=Total(total, True, _margin(big, fraction) * share, percent),
        meetings=meetings_matching(total),
        years=sorted(years.items()),
        speakers=_most_first(speakers),
    )
