"""Queries behind the reading pages: the date archive, neighbours, counts, speakers.

Everything here sees published meetings only.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Min, Q
from django.db.models.functions import ExtractMonth, ExtractYear

from .models import Meeting, Speaker, Utterance, meeting_page_of


def count_per_year(queryset, date_field: str) -> list[tuple[int, int]]:
    rows = queryset.annotate(year=ExtractYear(date_field)).values("year").annotate(n=Count("id"))
    return sorted((r["year"], r["n"]) for r in rows if r["year"])


def meetings_per_year() -> list[tuple[int, int]]:
    return count_per_year(Meeting.objects.published(), "date")


def meetings_per_month(year: int) -> dict[int, int]:
    rows = (
        Meeting.objects.published()
        .filter(date__year=year)
        .annotate(month=ExtractMonth("date"))
        .values("month")
        .annotate(n=Count("id"))
    )
    return {r["month"]: r["n"] for r in rows}


def archive_totals() -> dict:
    meetings = Meeting.objects.published().aggregate(n=Count("id"), first=Min("date"), last=Max("date"))
    people = Speaker.objects.filter(kind=Speaker.Kind.PERSON, utterances__published=True).distinct().count()
    return {
        "meetings": meetings["n"],
        "utterances": Utterance.objects.published().count(),
        "speakers": people,
        "first_year": meetings["first"].year if meetings["first"] else None,
        "last_year": meetings["last"].year if meetings["last"] else None,
    }


@dataclass(frozen=True)
class Period:
    """A year, a month or a day of the archive, with its non-empty neighbours."""

    start: dt.date
    end: dt.date  # inclusive
    previous: dt.date | None  # the date of the nearest meeting before, if any
    next: dt.date | None


def period(start: dt.date, end: dt.date) -> Period:
    meetings = Meeting.objects.published()
    before = meetings.filter(date__lt=start).aggregate(d=Max("date"))["d"]
    after = meetings.filter(date__gt=end).aggregate(d=Min("date"))["d"]
    return Period(start, end, before, after)


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class Day:
    date: dt.date
    in_month: bool
    count: int


def month_calendar(year: int, month: int, counts: dict[dt.date, int]) -> list[list[Day]]:
    """Weeks (Monday first) of Day cells, for a calendar grid."""
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    return [[Day(d, d.month == month, counts.get(d, 0) if d.month == month else 0) for d in week] for week in weeks]


def meetings_per_day(year: int, month: int | None = None) -> dict[dt.date, int]:
    meetings = Meeting.objects.published().filter(date__year=year)
    if month:
        meetings = meetings.filter(date__month=month)
    return {r["date"]: r["n"] for r in meetings.values("date").annotate(n=Count("id"))}


def meeting_page_count(meeting: Meeting) -> int:
    """How many parts (of STATEMENTS_PER_PAGE statements) the meeting's page has."""
    last = meeting.utterances.aggregate(last=Max("seq"))["last"] or 1
    return meeting_page_of(last)


def around(meeting: Meeting) -> tuple[list[Meeting], Meeting | None, Meeting | None]:
    """The other published meetings that day, and the previous and next published
    meetings in date and time order: one read of the day serves all three."""
    published = Meeting.objects.published()
    day = list(published.filter(date=meeting.date).chronological())
    position = next(i for i, m in enumerate(day) if m.id == meeting.id)
    before, after = day[:position], day[position + 1 :]
    previous = before[-1] if before else published.filter(date__lt=meeting.date).chronological().last()
    following = after[0] if after else published.filter(date__gt=meeting.date).chronological().first()
    return before + after, previous, following


def speakers_with_counts(kind: str | None = None):
    """Speakers (of one kind, or all) with published statements, and their counts."""
    speakers = Speaker.objects.filter(kind=kind) if kind else Speaker.objects.all()
    return (
        speakers.annotate(
            utterance_count=Count("utterances", filter=Q(utterances__published=True)),
            meeting_count=Count("utterances__meeting", filter=Q(utterances__published=True), distinct=True),
        )
        .filter(utterance_count__gt=0)
        .order_by("-utterance_count", "name")
    )


def speaker_activity(speaker: Speaker) -> list[tuple[int, int]]:
    return count_per_year(Utterance.objects.published().filter(speaker=speaker), "meeting_date")
