"""The search page (HTML and JSON) and query highlighting on meeting pages."""

from urllib.parse import urlencode

from django.http import Http404, JsonResponse
from django.shortcuts import render

from . import browse
from . import search as search_module
from .forms import SearchForm
from .http_cache import query_params
from .query import QueryError, parse_query


def meeting_matches(meeting, text: str) -> list[int] | None:
    """The numbers (seq) of every statement of the meeting that matches the query, on
    whichever page; None if the query is unusable."""
    try:
        tsquery = search_module.build_tsquery(parse_query(text))
    except QueryError:
        return None
    with search_module.read_connection().cursor() as cursor:
        cursor.execute(
            "SELECT seq FROM transcripts_utterance WHERE meeting_id = %s AND search_vector @@ %s::tsquery ORDER BY seq",
            [meeting.id, tsquery],
        )
        return [row[0] for row in cursor.fetchall()]


def highlight_meeting(meeting, utterances, text: str, matching_seqs: list[int]) -> None:
    """Mark the query's words on the statements of one meeting page.

    Each matching utterance gets .highlighted (its whole text, marked) and
    .highlighted_speaker (the speaker's name, marked): a statement can match by
    who spoke it. The meeting gets .highlighted_title, since titles count too.
    """
    tsquery = search_module.build_tsquery(parse_query(text))
    wanted = set(matching_seqs)
    matching = [u for u in utterances if u.seq in wanted]
    with search_module.read_connection().cursor() as cursor:
        texts = search_module.headlines(cursor, {u.id: u.text for u in matching}, tsquery, whole=True)
        names = search_module.headlines(
            cursor, {u.id: u.speaker.name for u in matching if u.speaker}, tsquery, whole=True
        )
        title = search_module.headlines(cursor, {meeting.id: meeting.title}, tsquery, whole=True)
    for u in matching:
        u.highlighted = texts[u.id]
        u.highlighted_speaker = names.get(u.id, "")
    meeting.highlighted_title = title[meeting.id]


@query_params("q", "speaker", "from", "to", "kind", "location", "sort", "page", "format")
def search(request):
    form = SearchForm(request.GET)
    wants_json = request.GET.get("format") == "json"
    results = None
    if form.is_valid() and form.cleaned_data["q"]:
        try:
            results = search_module.search(form.search_request())
        except search_module.PageOutOfRange:
            if wants_json:
                return JsonResponse({"errors": {"page": [{"message": "No such page of results"}]}}, status=404)
            raise Http404("No such page of results") from None
        except QueryError as exc:
            form.add_error("q", str(exc))
    if wants_json:
        if form.errors:
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
        return JsonResponse(results_json(request, results), json_dumps_params={"ensure_ascii": False})
    return render(request, "transcripts/search.html", {"form": form, "results": results})


def results_json(request, results) -> dict:
    if results is None:
        return {"query": "", "total": 0, "hits": []}
    return {
        "query": results.request.q,
        "total": results.total.value,
        "total_is_estimate": results.total.estimated,
        "meetings": results.meetings.value,
        "page": results.request.page,
        "num_pages": results.num_pages,
        "sort": results.request.sort,
        "timed_out": results.timed_out,
        "suggestion": results.suggestion,
        "hits": [
            {
                "meeting": {
                    "title": hit.utterance.meeting.title,
                    "url": request.build_absolute_uri(hit.utterance.meeting.get_absolute_url()),
                    "date": hit.utterance.meeting.date.isoformat(),
                    "kind": hit.utterance.meeting.kind,
                },
                "anchor": hit.utterance.anchor,
                "url": request.build_absolute_uri(utterance_url(hit.utterance, results.request.q)),
                "speaker": (
                    {"name": hit.utterance.speaker.name, "slug": hit.utterance.speaker.slug}
                    if hit.utterance.speaker
                    else None
                ),
                "label": hit.utterance.label,
                "snippet_html": str(hit.snippet),
                "rank": hit.rank,
            }
            for hit in results.hits
        ],
        "facets": {
            "estimated": results.total.estimated,
            "speakers": [{"slug": s.slug, "name": s.name, "count": n} for s, n in results.speaker_facets],
            "years": [{"year": y, "count": n} for y, n in results.year_facets],
        },
    }


def utterance_url(utterance, q: str = "") -> str:
    """The statement on its meeting page (the right page of a long transcript)."""
    return statement_url(utterance.meeting.get_absolute_url(), utterance.seq, q)


def statement_url(meeting_url: str, seq: int, q: str = "") -> str:
    params = {"q": q} if q else {}
    if (page := browse.meeting_page_of(seq)) > 1:
        params["page"] = page
    return f"{meeting_url}?{urlencode(params)}#u{seq}" if params else f"{meeting_url}#u{seq}"
