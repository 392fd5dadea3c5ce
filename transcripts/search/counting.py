"""How many statements match, in how many meetings, by year and by speaker.

Up to EXACT_LIMIT matches (and somewhat beyond: the decision is made on an estimate)
every count is exact: one pass over the matches, aggregated in PostgreSQL. Above it,
the counts come from a systematic sample of statements (every 10th by id: partial GIN
index, migration 0016), scaled up, with a 95% margin the page states. A meeting count
is then a Horvitz–Thompson estimate, and never above the meetings that can match.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..stamp import StampedCache
from .tsquery import read_connection

EXACT_LIMIT = 50_000
PROBE = 100  # the 1% sample (`id % 100 = 0`) tells whether the exact count is affordable
SAMPLE = 10  # the 10% sample (`id % 10 = 0`) estimates above it
ENOUGH_SAMPLED = 400  # sampled matches below which the sample says too little (margin ±10%)


@dataclass(frozen=True)
class Total:
    """A count of matches, exact or estimated from a sample (margin: relative, 95%)."""

    value: int
    estimated: bool = False
    margin: float = 0.0

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
SELECT 'year', year, count(*) FROM m GROUP BY year
UNION ALL SELECT 'speaker', speaker_id, count(*) FROM m WHERE speaker_id IS NOT NULL GROUP BY speaker_id
UNION ALL SELECT 'meetings', k, count(*) FROM (SELECT count(*) AS k FROM m GROUP BY meeting_id) AS per GROUP BY k
"""


def _count_sample_rows() -> tuple[int, dict[int, float]]:
    """(all statements, {modulus: scale}): a scale is all rows over the sample's rows."""
    moduli = (PROBE, SAMPLE)
    filters = ", ".join(f"count(*) FILTER (WHERE id % {int(m)} = 0)" for m in moduli)
    with read_connection().cursor() as cursor:
        cursor.execute(f"SELECT count(*), {filters} FROM transcripts_utterance")
        rows, *sampled = cursor.fetchone()
    return max(rows, 1), {m: rows / n if n else float(m) for m, n in zip(moduli, sampled, strict=True)}


scales = StampedCache(_count_sample_rows)


def count_matches(cursor, where: str, params: list, meetings_that_can_match) -> Counts:
    """Exact counts when the 1% sample says they are affordable, else estimates."""
    _rows, scale = scales.get()
    cursor.execute(f"SELECT count(*) FROM transcripts_utterance u WHERE {where} AND u.id %% {int(PROBE)} = 0", params)
    probe = cursor.fetchone()[0]
    if probe * scale[PROBE] <= 1.3 * EXACT_LIMIT:  # 6.7 standard errors above 50,000: never wrongly estimated
        return _aggregate(cursor, where, params)
    counts = _aggregate(cursor, f"{where} AND u.id %% {int(SAMPLE)} = 0", params, fraction=1 / scale[SAMPLE])
    if counts.total.value / scale[SAMPLE] < ENOUGH_SAMPLED:  # too few sampled to say (a small archive)
        return _aggregate(cursor, where, params)
    counts.meetings = Total(
        min(counts.meetings.value, meetings_that_can_match(), counts.total.value), True, counts.meetings.margin
    )
    return counts


def _aggregate(cursor, where: str, params: list, fraction: float = 1.0) -> Counts:
    cursor.execute(AGGREGATE_SQL.format(where=where), params)
    years, speakers, per_meeting = {}, {}, {}
    for kind, key, n in cursor.fetchall():
        {"year": years, "speaker": speakers, "meetings": per_meeting}[kind][key] = n
    sampled = sum(years.values())
    if fraction >= 1.0:
        return Counts(
            total=Total(sampled),
            meetings=Total(sum(per_meeting.values())),
            years=sorted((y, Total(n)) for y, n in years.items() if y is not None),
            speakers=sorted(speakers.items(), key=lambda sn: (-sn[1], sn[0])),
        )

    def estimate(k: int) -> Total:
        # Binomial margin of a scaled count; a systematic sample over ordered ids does no worse.
        margin = 1.96 * math.sqrt((1 - fraction) / k) if k else 1.0
        return Total(round(k / fraction), True, margin)

    # A meeting with k sampled matches holds about k / fraction; it shows in the sample
    # with probability 1 - (1 - fraction) ** (k / fraction): weight each seen meeting by its inverse.
    meetings = sum(n / (1 - (1 - fraction) ** (k / fraction)) for k, n in per_meeting.items())
    return Counts(
        total=estimate(sampled),
        meetings=Total(round(meetings), True, estimate(sum(per_meeting.values())).margin),
        years=sorted((y, estimate(n)) for y, n in years.items() if y is not None),
        speakers=sorted(((s, round(n / fraction)) for s, n in speakers.items()), key=lambda sn: (-sn[1], sn[0])),
    )
