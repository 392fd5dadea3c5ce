"""The span of dates the archive accepts: from ARCHIVE_FIRST_DATE (1991, the year both
states became independent) to ARCHIVE_FUTURE_DAYS after today. Ingest refuses a
document dated outside it, the admin refuses such a date, and the charts draw only
years inside it, so no typo (9999-12-31) can make a page grow with the span of years."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone


def accepted_range(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    today = today or timezone.localdate()
    return settings.ARCHIVE_FIRST_DATE, today + dt.timedelta(days=settings.ARCHIVE_FUTURE_DAYS)


def date_problem(date: dt.date, today: dt.date | None = None) -> str:
    """Why `date` cannot be a meeting's date, in plain words; "" when it can."""
    first, last = accepted_range(today)
    if date < first:
        return f"the date {date.isoformat()} is before {first.isoformat()}, the earliest this archive accepts"
    if date > last:
        ahead = settings.ARCHIVE_FUTURE_DAYS
        return f"the date {date.isoformat()} is after {last.isoformat()}, more than {ahead} days ahead"
    return ""


def year_range() -> range:
    """The years a chart may draw."""
    first, last = accepted_range()
    return range(first.year, last.year + 1)
