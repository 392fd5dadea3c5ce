"""A search's matches as CSV (/search/?…&format=csv): every match newest first, up to
CSV_LIMIT, streamed; a final row says so when the limit cut the list."""

from __future__ import annotations

import csv

from django.db import OperationalError, transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import translation
from django.utils.translation import gettext as _

from ..models import Utterance
from . import plain
from .engine import STATEMENT_TIMEOUT_MS
from .tsquery import read_connection

CSV_LIMIT = 10_000
CSV_CHUNK = 500  # statements read at a time
CSV_COLUMNS = ("date", "meeting", "meeting_url", "speaker", "label", "text", "url")
LIMIT_MARK = "# limit"  # the first cell of the row that says the list was cut


class Echo:
    """csv.writer writes a row into this and gets the line back, for streaming."""

    def write(self, value):
        return value


def search_csv(request, form) -> HttpResponse:
    try:  # the engine checks the query and counts the matches; the page and sort do not matter here
        results = plain.newest_first(form)
    except plain.Refused as refused:
        return refused.response
    try:
        ids = matching_ids(results.request, results.tsquery)
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != "57014":  # query_canceled: the statement timeout
            raise
        return plain.timed_out()
    response = StreamingHttpResponse(_lines(request, ids, results.total), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="kzarchive-search.csv"'
    return response


def matching_ids(request, tsquery: str) -> list[int]:
    """The ids of the first CSV_LIMIT + 1 matches, newest first (as the engine's "newest"):
    the same matches as the page, found by the full tsquery with the same filters."""
    reader = read_connection()
    statements = Utterance.objects.using(reader.alias).published().matching(tsquery)
    if request.speakers:
        statements = statements.filter(speaker_id__in=request.speakers)
    if request.date_from:
        statements = statements.filter(meeting_date__gte=request.date_from)
    if request.date_to:
        statements = statements.filter(meeting_date__lte=request.date_to)
    if request.kind:
        statements = statements.filter(meeting__kind=request.kind)
    if request.location:
        statements = statements.filter(meeting__location=request.location)
    statements = statements.order_by("-meeting_date", "-meeting_id", "-seq").values_list("id", flat=True)
    with transaction.atomic(using=reader.alias), reader.cursor() as cursor:
        cursor.execute(f"SET LOCAL statement_timeout = {int(STATEMENT_TIMEOUT_MS)}")
        return list(statements[: CSV_LIMIT + 1])


def _limit_note(total) -> str:
    if total.estimated:
        note = _("The first %(limit)d of about %(total)d matches: narrow the search, or use the bulk data.")
    else:
        note = _("The first %(limit)d of %(total)d matches: narrow the search, or use the bulk data.")
    return note % {"limit": CSV_LIMIT, "total": total.value}


def _lines(request, ids: list[int], total):
    """The rows, read CSV_CHUNK statements at a time. Written as the response streams,
    after the view has returned: the request's language is set again for its addresses."""
    writer = csv.writer(Echo())
    url = request.build_absolute_uri
    language = translation.get_language()
    note = _limit_note(total) if len(ids) > CSV_LIMIT else ""
    yield writer.writerow(CSV_COLUMNS)
    shown = ids[:CSV_LIMIT]
    with translation.override(language):
        for start in range(0, len(shown), CSV_CHUNK):
            chunk = shown[start : start + CSV_CHUNK]
            found = Utterance.objects.select_related("meeting", "speaker").in_bulk(chunk)
            for u in (found[i] for i in chunk if i in found):
                meeting = u.meeting
                who = u.speaker.name if u.speaker else u.label
                row = (meeting.date.isoformat(), meeting.title, url(meeting.get_absolute_url()), who, u.label, u.text)
                yield writer.writerow((*row, url(u.get_absolute_url())))
    if note:
        yield writer.writerow((LIMIT_MARK, note))
