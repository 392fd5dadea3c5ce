"""The read API's endpoints. Only published content: published meetings, their
statements, and speakers with at least one published statement. Shapes come from
transcripts/serializers.py; lists are paginated by responses.paginate."""

from __future__ import annotations

from django.urls import reverse

from .. import browse, serializers
from ..http_cache import moved_permanently
from ..models import STATEMENTS_PER_PAGE, Meeting, RetiredStatement, Speaker, Utterance, statement_url
from ..search.engine import PageOutOfRange, search_archive
from ..search.forms import SearchForm
from ..search.syntax import QueryError
from ..search.views import results_json
from ..statements import _live_successor
from ..views import old_slug_redirect
from .filters import MEETING_FILTERS, MeetingFilters
from .responses import ANY, PAGE_PARAM, ApiError, api_view, paged, paginate

PER_PAGE = 50  # meetings, speakers, a speaker's statements
SEARCH_PARAMS = ("q", "speaker", "from", "to", "kind", "location", "sort", PAGE_PARAM)


def _moved(request, view_name: str, **kwargs):
    """A 301 to the same endpoint at an object's present address, with the same query."""
    query = request.GET.urlencode()
    return moved_permanently(reverse(view_name, kwargs=kwargs) + (f"?{query}" if query else ""))


def _by_slug(request, queryset, slug: str):
    """The object, or a 301 from a slug it used to have, or a 404."""
    found = queryset.filter(slug=slug).first()
    if found is not None:
        return found
    if redirect := old_slug_redirect(request, queryset, slug):
        return redirect
    raise ApiError(404, ANY, f"No such {queryset.model._meta.model_name}.", code="not_found")


def public_speakers(kind: str | None = None):
    """Speakers with published statements, with their counts, most statements first."""
    return browse.speakers_with_counts(kind)


@api_view()
def index(request):
    from .spec import ENDPOINTS  # the spec names these views

    url = request.build_absolute_uri
    return {
        "documentation": url(reverse("api-docs")),
        "endpoints": [
            {"path": e.path, "summary": e.summary, "example": (example := e.example()) and url(example)}
            for e in ENDPOINTS
        ],
    }


@api_view(*MEETING_FILTERS, PAGE_PARAM)
def meetings(request):
    form = MeetingFilters(request.GET)
    if not form.is_valid():
        raise ApiError.from_form(form)
    queryset = Meeting.objects.published().filter(form.condition()).chronological().reverse()
    url = request.build_absolute_uri
    return paginate(request, queryset, PER_PAGE, lambda m: serializers.meeting(m, url))


@api_view(PAGE_PARAM)
def meeting(request, slug):
    found = _by_slug(request, Meeting.objects.published(), slug)
    if not isinstance(found, Meeting):
        return found
    url = request.build_absolute_uri
    base = found.get_absolute_url()
    statements = found.utterances.select_related("speaker", "section").order_by("seq")

    def serialize(u):
        return serializers.statement(u, url, context=statement_url(base, u.seq, u.sid))

    return {
        **serializers.meeting_detail(found, url),
        "statements": paginate(request, statements, STATEMENTS_PER_PAGE, serialize),
    }


@api_view("kind", PAGE_PARAM)
def speakers(request):
    kind = request.GET.get("kind") or None
    if kind is not None and kind not in Speaker.Kind.values:
        raise ApiError(400, "kind", f"A kind is one of: {', '.join(Speaker.Kind.values)}.")
    url = request.build_absolute_uri
    return paginate(request, public_speakers(kind), PER_PAGE, lambda s: serializers.speaker_detail(s, url))


@api_view()
def speaker(request, slug):
    found = _by_slug(request, public_speakers(), slug)
    if not isinstance(found, Speaker):
        return found
    url = request.build_absolute_uri
    statements = url(reverse("api-speaker-statements", kwargs={"slug": found.slug}))
    return {**serializers.speaker_detail(found, url), "statements_url": statements}


@api_view(PAGE_PARAM)
def speaker_statements(request, slug):
    found = _by_slug(request, public_speakers(), slug)
    if not isinstance(found, Speaker):
        return found
    statements = Utterance.objects.published().filter(speaker=found).select_related("meeting", "speaker", "section")
    statements = statements.order_by("-meeting_date", "-meeting_id", "seq")  # newest meetings first, as the page
    url = request.build_absolute_uri
    return paginate(request, statements, PER_PAGE, lambda u: serializers.statement_in_meeting(u, url))


@api_view()
def statement(request, sid):
    u = Utterance.objects.published().select_related("meeting", "speaker", "section").filter(sid=sid).first()
    if u is not None:
        return serializers.statement_in_meeting(u, request.build_absolute_uri)
    retired = RetiredStatement.objects.filter(sid=sid).first()
    withdrawn = retired and Meeting.objects.filter(pk=retired.meeting_id, is_published=False).exists()
    if retired is None or withdrawn:  # as the page: a withdrawn meeting's statements are not shown, gone or not
        raise ApiError(404, ANY, "No such statement.", code="not_found")
    if successor := _live_successor(retired):
        return _moved(request, "api-statement", sid=successor)
    raise ApiError(410, ANY, "This statement has left the archive.", code="gone", reason=retired.reason)


@api_view(*SEARCH_PARAMS)
def search(request):
    form = SearchForm(request.GET)
    if not form.is_valid():
        raise ApiError.from_form(form)
    if not form.cleaned_data["q"]:
        raise ApiError(400, "q", "A search needs q, the words to find.", code="required")
    try:
        results = search_archive(form.search_request())
    except QueryError as exc:
        raise ApiError(400, "q", str(exc)) from None
    except PageOutOfRange:
        raise ApiError(400, PAGE_PARAM, "There is no such page of results.", code="out_of_range") from None
    if results.timed_out:  # counted nothing: no page to name (the page and the feeds answer 503 too)
        raise ApiError(503, "q", TIMED_OUT, code="timeout")
    return {**results_json(request, results), **paged(request, results.request.page, results.num_pages)}


TIMED_OUT = "The search took too long and was stopped. Add a word or a filter to narrow it."
