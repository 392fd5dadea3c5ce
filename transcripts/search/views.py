"""The search page, as HTML, as JSON (`?format=json`) and its matches as CSV (`?format=csv`, download.py)."""

from django.http import Http404, JsonResponse
from django.shortcuts import render

from .. import serializers
from ..http_cache import query_params
from .download import CSV_LIMIT, search_csv
from .engine import PageOutOfRange, search_archive
from .forms import SearchForm
from .refine import facet_links, filter_chips, picker_options, picker_people
from .syntax import QueryError


@query_params("q", "speaker", "from", "to", "kind", "location", "sort", "page", "format")
def search_page(request):
    form = SearchForm(request.GET)
    if request.GET.get("format") == "csv":
        return search_csv(request, form)
    wants_json = request.GET.get("format") == "json"
    results = None
    if form.is_valid() and form.cleaned_data["q"]:
        try:
            results = search_archive(form.search_request())
        except PageOutOfRange:
            if wants_json:
                return JsonResponse({"errors": {"page": [{"message": "No such page of results"}]}}, status=404)
            raise Http404("No such page of results") from None
        except QueryError as exc:
            form.add_error("q", str(exc))
    if wants_json:
        if form.errors:
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
        return JsonResponse(results_json(request, results), json_dumps_params={"ensure_ascii": False})
    context = {"form": form, "results": results, "csv_limit": CSV_LIMIT, **refine_context(request, form)}
    if results is not None:
        context.update(facet_links(request, results))
    return render(request, "transcripts/search.html", context)


def refine_context(request, form) -> dict:
    """The filter chips, and the speaker picker: its options with the one it shows
    chosen, and the other speakers asked for, kept as hidden fields."""
    people = picker_people.get()
    listed = {row[0] for row in people}
    asked = [speaker.slug for speaker in form.speakers]
    picked = asked[0] if asked and asked[0] in listed else ""
    return {
        "chips": filter_chips(request, form),
        "picker_options": picker_options(picked),
        "other_speakers": [slug for slug in asked if slug != picked],
    }


def results_json(request, results) -> dict:
    if results is None:
        return {"query": "", "total": 0, "hits": []}
    url = request.build_absolute_uri
    return {
        "query": results.request.q,
        "total": results.total.value,
        "total_is_estimate": results.total.estimated,
        "total_margin": results.total.margin,  # relative, 95%; 0 when exact
        "total_sample_percent": results.total.sample_percent,  # the sample it was estimated from; 0 when exact
        "relevance_is_approximate": results.ranked_subset,
        "meetings": results.meetings.value,
        "meetings_is_estimate": results.meetings.estimated,  # no longer: meetings are counted (MeetingLexemes)
        "meetings_is_upper_bound": results.meetings.at_most,
        "page": results.request.page,
        "num_pages": results.num_pages,
        "sort": results.request.sort,
        "timed_out": results.timed_out,
        "suggestion": results.suggestion,
        "hits": [
            {
                **serializers.statement_in_meeting(hit.utterance, url, q=results.request.q, text=False),
                "snippet_html": str(hit.snippet),
                "rank": hit.rank,
            }
            for hit in results.hits
        ],
        "facets": {
            "estimated": results.total.estimated,
            "speakers": [{**serializers.speaker(s), "count": n} for s, n in results.speaker_facets],
            "years": [
                {"year": y, "count": t.value, "estimated": t.estimated, "margin": t.margin}
                for y, t in results.year_totals
            ],
        },
    }
