"""The reading pages: home, date archive, meetings, speakers. Views stay thin;
queries live in browse.py and the models' QuerySets, search in search/."""

import datetime as dt
import functools
import json
import re
import sys

from django.core.paginator import Paginator
from django.db import InterfaceError, OperationalError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from . import browse, licences, participants, serializers
from .dates import year_range
from .http_cache import moved_permanently, query_params
from .models import STATEMENTS_PER_PAGE, Meeting, OldSlug, RetiredStatement, Speaker, Utterance, statement_url
from .search.highlight import highlight_meeting, meeting_matches
from .statements import house_citation

YEARS_WITH_PAGES = (1, 9998)  # a calendar page for 9999 would need days of year 10000


@query_params()
def home(request):
    latest = Meeting.objects.published().chronological().reverse()[:10]
    return render(
        request,
        "transcripts/home.html",
        {"latest": latest, "totals": browse.archive_totals(), "per_year": browse.meetings_per_year()},
    )


@query_params()
def archive_index(request):
    # Only years that have a page (a stray date from before the checks would link to a 404).
    first, last = YEARS_WITH_PAGES
    per_year = [(year, n) for year, n in browse.meetings_per_year() if first <= year <= last]
    return render(request, "transcripts/archive_index.html", {"per_year": per_year})


def _date_or_404(year, month=1, day=1) -> dt.date:
    try:
        if not YEARS_WITH_PAGES[0] <= year <= YEARS_WITH_PAGES[1]:
            raise ValueError(year)
        return dt.date(year, month, day)
    except (ValueError, OverflowError):
        raise Http404(_("No such date")) from None


def _nav(period: browse.Period, unit: str) -> dict:
    """Links to the nearest earlier and later periods that have meetings."""
    links = {}
    for side, date in (("previous", period.previous), ("next", period.next)):
        if date is None:
            continue
        if unit == "year":
            links[side] = (reverse("archive-year", args=[date.year]), str(date.year))
        elif unit == "month":
            label = formats.date_format(date, "YEAR_MONTH_FORMAT")
            links[side] = (reverse("archive-month", args=[date.year, date.month]), label)
        else:
            links[side] = (reverse("archive-day", args=[date.year, date.month, date.day]), formats.date_format(date))
    return links


@query_params()
def archive_year(request, year):
    start = _date_or_404(year)
    counts = browse.meetings_per_day(year)
    per_month = browse.meetings_per_month(year)
    months = [
        {"date": dt.date(year, m, 1), "count": per_month.get(m, 0), "weeks": browse.month_calendar(year, m, counts)}
        for m in range(1, 13)
    ]
    context = {"year": start, "months": months, "total": sum(per_month.values())}
    context["nav"] = _nav(browse.period(start, dt.date(year, 12, 31)), "year")
    return render(request, "transcripts/archive_year.html", context)


@query_params()
def archive_month(request, year, month):
    start = _date_or_404(year, month)
    end = browse.month_end(year, month)
    meetings = Meeting.objects.published().filter(date__range=(start, end)).chronological()
    context = {
        "month": start,
        "weeks": browse.month_calendar(year, month, browse.meetings_per_day(year, month)),
        "meetings": meetings,
        "nav": _nav(browse.period(start, end), "month"),
    }
    return render(request, "transcripts/archive_month.html", context)


@query_params()
def archive_day(request, year, month, day):
    date = _date_or_404(year, month, day)
    meetings = Meeting.objects.published().filter(date=date).chronological()
    context = {"day": date, "meetings": meetings, "nav": _nav(browse.period(date, date), "day")}
    return render(request, "transcripts/archive_day.html", context)


def _page_number(value: str | None, num_pages: int) -> int:
    """?page= of a meeting: 1 when absent; a 404 for anything but 1 … num_pages in ASCII digits."""
    if value is None:
        return 1
    if not re.fullmatch(r"[0-9]{1,6}", value) or not 1 <= int(value) <= num_pages:
        raise Http404(_("This meeting has no page %(page)s.") % {"page": value[:20]})
    return int(value)


def by_slug(objects):
    """A view of one object by its slug, called with the object. A slug it used to have
    (OldSlug: renamed, or a speaker merged into it) is a 301 to the same view at its
    present address, in the same language and with the same query."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, slug):
            found = objects().filter(slug=slug).first()
            if found is not None:
                return view(request, found)
            if redirect := old_slug_redirect(request, objects(), slug):
                return redirect
            if objects().model is Meeting and (deleted := _deleted_meeting(slug)):
                return render(request, "transcripts/meeting_gone.html", deleted, status=410)
            raise Http404("No such page")

        return wrapped

    return decorate


def old_slug_redirect(request, objects, slug: str):
    """A 301 to the same view at the present address of the object among `objects` that
    used to have this slug (in the same language, with the same query), or None."""
    moved = OldSlug.find(objects.model, slug)
    if moved is None or not objects.filter(pk=moved.pk).exists():
        return None
    address = reverse(request.resolver_match.view_name, kwargs={"slug": moved.slug})
    query = request.GET.urlencode()
    return moved_permanently(address + (f"?{query}" if query else ""))


published_meetings = Meeting.objects.published


def _deleted_meeting(slug: str) -> dict | None:
    """What a deleted meeting left: its statements' retired identifiers name its slug."""
    retired = RetiredStatement.objects.filter(meeting_slug=slug).exclude(meeting_id__in=Meeting.objects.values("id"))
    last = retired.order_by("-retired_at").first()
    return {"retired_at": last.retired_at, "statements": retired.count()} if last else None


@query_params("q", "page")
@by_slug(published_meetings)
def meeting_detail(request, meeting):
    num_pages = browse.meeting_page_count(meeting)
    page = _page_number(request.GET.get("page"), num_pages)
    first_seq = (page - 1) * STATEMENTS_PER_PAGE + 1
    utterances = list(
        meeting.utterances.select_related("speaker", "section")
        .filter(seq__gte=first_seq, seq__lt=first_seq + STATEMENTS_PER_PAGE)
        .order_by("seq")
    )
    base_url = meeting.get_absolute_url()
    page_url = base_url + (f"?page={page}" if page > 1 else "")
    q = request.GET.get("q", "")
    found = meeting_matches(meeting, q) if q.strip() else None  # None: no query, or unusable
    tsquery, matches = found or ("", [])
    if matches:
        highlight_meeting(meeting, utterances, tsquery, [m.seq for m in matches])
        following = {m.seq: after for m, after in zip(matches, [*matches[1:], None], strict=True)}
        for u in utterances:
            if getattr(u, "highlighted", None) and (after := following[u.seq]):
                u.next_match_url = statement_url(base_url, after.seq, after.sid, q)
    for u in utterances:
        u.citations = [house_citation(request, u)]
    same_day, previous, next_meeting = browse.around(meeting)
    context = {
        "meeting": meeting,
        "participants": participants.people_of(meeting),
        "utterances": utterances,
        "omitted_after": set(meeting.omitted_after),
        "q": q if found else "",
        "match_count": len(matches),
        "first_match_url": statement_url(base_url, *matches[0], q) if matches else "",
        "previous": previous,
        "next": next_meeting,
        "same_day": same_day,
        "page": page,
        "num_pages": num_pages,
        "page_size": STATEMENTS_PER_PAGE,
        "page_first": first_seq,
        "page_last": utterances[-1].seq if utterances else first_seq,
        "permalink": request.build_absolute_uri(page_url),
        # Speaker names are headings under section headings (h2), or right under the title.
        "speaker_heading": "h3" if meeting.sections.exists() else "h2",
    }
    return render(request, "transcripts/meeting.html", context)


def _statements(meeting, *related):
    """A meeting's statements in order, read in chunks: a download of a 65,000-turn
    transcript streams in bounded memory instead of building it whole."""
    return meeting.utterances.select_related(*related).order_by("seq").iterator(chunk_size=200)


def _joined(pieces, size: int = 64 * 1024):
    """Pieces of text joined into chunks of about `size` characters: a chunk per
    statement would make 20,000 tiny writes."""
    batch, length = [], 0
    for piece in pieces:
        batch.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(batch)
            batch, length = [], 0
    if batch:
        yield "".join(batch)


def _download(pieces, meeting, content_type: str, extension: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_joined(pieces), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{meeting.slug}.{extension}"'
    return response


@query_params()
@by_slug(published_meetings)
def meeting_text(request, meeting):
    """The transcript as plain text, as it would be quoted: its section headings and
    omission marks where the page has them, and a closing note of source and licence."""
    start = timezone.localtime(meeting.start).strftime("%Y-%m-%d %H:%M") if meeting.start else str(meeting.date)
    omitted = set(meeting.omitted_after)

    def lines():
        yield "\n".join([meeting.title, start, meeting.location, meeting.source_url, ""])
        if 0 in omitted:
            yield f"\n{OMISSION}\n"
        section = None
        for u in _statements(meeting, "speaker", "section"):
            if u.section_id != section and u.section_id:
                yield f"\n{u.section}\n"
            section = u.section_id
            name = u.speaker.name if u.speaker else u.label
            text = f"{name}{' ' + u.remark if u.remark else ''}: {u.text}" if name else u.text
            yield f"\n{text}\n"
            if u.seq in omitted:
                yield f"\n{OMISSION}\n"
        yield "\n" + "\n".join(["—", *_provenance(request, meeting)]) + "\n"

    return _download(lines(), meeting, "text/plain; charset=utf-8", "txt")


OMISSION = "<…>"  # the source's mark for text it left out


def _provenance(request, meeting) -> list[str]:
    """Where the text comes from, where the archive keeps it, and under what licence."""
    lines = [_("Source: %(url)s") % {"url": meeting.source_url}] if meeting.source_url else []
    lines.append(_("In the archive: %(url)s") % {"url": request.build_absolute_uri(meeting.get_absolute_url())})
    if licence := licences.licence(meeting.source_url):
        lines.append(_("Licence: CC BY 4.0 (%(url)s); credit the source.") % {"url": licence})
    else:
        lines.append(_("Licence: see the source's terms."))
    return lines


@query_params()
@by_slug(published_meetings)
def meeting_json(request, meeting):
    url = request.build_absolute_uri
    head = serializers.meeting_detail(meeting, url)

    def chunks():
        # The object is written by hand around "utterances" so that each statement is
        # encoded on its own: the whole list never sits in memory.
        yield json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "utterances": ['
        base = meeting.get_absolute_url()
        for n, u in enumerate(_statements(meeting, "speaker", "section")):
            statement = serializers.statement(u, url, context=statement_url(base, u.seq, u.sid))
            yield ("," if n else "") + "\n  " + json.dumps(statement, ensure_ascii=False)
        yield "\n ]\n}"

    return _download(chunks(), meeting, "application/json; charset=utf-8", "json")


@query_params()
def speaker_list(request):
    context = {
        "people": browse.speakers_with_counts(Speaker.Kind.PERSON),
        "roles": browse.speakers_with_counts(Speaker.Kind.ROLE),
    }
    return render(request, "transcripts/speaker_list.html", context)


MEETINGS_SHOWN = 50  # the latest; a long-serving speaker has thousands


@query_params("page", "year")
@by_slug(Speaker.objects.all)
def speaker_detail(request, speaker):
    utterances = Utterance.objects.published().filter(speaker=speaker).select_related("meeting")
    year = chart_year(request.GET.get("year"))  # the chart's bar: that year's statements only
    if year:
        utterances = utterances.filter(meeting_date__range=(dt.date(year, 1, 1), dt.date(year, 12, 31)))
    utterances = utterances.order_by("-meeting_date", "-meeting_id", "seq")
    page = Paginator(utterances, 20).get_page(request.GET.get("page"))
    meetings = participants.meetings_of(speaker)  # with turns, or named in the title or lead
    context = {
        "speaker": speaker,
        "page": page,
        "meetings": meetings[:MEETINGS_SHOWN],
        "meeting_count": meetings.count(),
        "activity": browse.speaker_activity(speaker),
        "year": year,
    }
    return render(request, "transcripts/speaker_detail.html", context)


def chart_year(value: str | None) -> int | None:
    """?year= of a speaker page: None without it, else a year the archive accepts (a 404 otherwise)."""
    if value is None:
        return None
    if not (len(value) == 4 and value.isascii() and value.isdigit() and int(value) in year_range()):
        raise Http404(_("No such year"))
    return int(value)


def not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    """Django's 500 handler, called while the exception is being handled. A database
    that is down or restarting is a 503 with Retry-After: clients and balancers retry."""
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        response = render(request, "503.html", status=503)
        response.headers["Retry-After"] = "10"
        response.headers["Cache-Control"] = "no-store"
        return response
    return render(request, "500.html", status=500)
