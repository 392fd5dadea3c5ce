"""The API's endpoints as data: the /api/ page and /api/v1/ list them, and each
example is a real request against the archive, made from what the archive holds,
that the page runs and tests/integration/test_api.py checks against `fields`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from ..models import Meeting, Speaker, Utterance

LIST = ("count", "page", "num_pages", "next", "previous", "results")
SPEAKER = ("name", "slug", "url", "kind", "role", "country", "statement_count", "meeting_count")
MEETING = ("title", "slug", "url", "date", "start", "location", "kind", "source_url")
STATEMENT = ("id", "seq", "anchor", "url", "context_url", "speaker", "label", "remark", "section", "text")
HIT = ("meeting", "id", "seq", "anchor", "url", "context_url", "speaker", "label", "snippet_html", "rank")
SEARCH = (
    "query", "total", "total_is_estimate", "total_margin", "total_sample_percent", "relevance_is_approximate",
    "meetings", "meetings_is_estimate", "meetings_is_upper_bound", "page", "num_pages", "sort", "timed_out",
    "suggestion", "hits", "facets", "next", "previous",
)  # fmt: skip

PAGE = ("page", _("page number, from 1"))
MEETING_FILTERS = (
    ("from", _("first date, YYYY-MM-DD")),
    ("to", _("last date, YYYY-MM-DD")),
    ("kind", format_lazy("{}: {}", _("meeting kind"), ", ".join(Meeting.Kind.values))),
    ("location", _("place, exactly as written")),
    ("speaker", _("speaker slug; repeat for any of several")),
)


@dataclass(frozen=True)
class Endpoint:
    name: str  # the URL name in api/urls.py
    path: str  # as documented
    summary: Promise
    example: Callable[[], str | None]  # a request path made from the archive; None if it is empty
    fields: tuple[str, ...]  # the keys of its answer
    item_fields: tuple[str, ...] = ()  # the keys of each item of its list…
    items: str = "results"  # …which is here (a dotted path)
    params: tuple[tuple[str, Promise], ...] = ()


def _address(name: str, **kwargs) -> str:
    return reverse(name, kwargs=kwargs)


def _latest_meeting() -> Meeting | None:
    return Meeting.objects.published().chronological().last()


def _busiest_person() -> Speaker | None:
    from .views import public_speakers

    return public_speakers(Speaker.Kind.PERSON).first()


def _meeting_example():
    meeting = _latest_meeting()
    return meeting and _address("api-meeting", slug=meeting.slug)


def _speaker_example(name: str):
    def example():
        person = _busiest_person()
        return person and _address(name, slug=person.slug)

    return example


def _statement_example():
    person = _busiest_person()
    u = person and Utterance.objects.published().filter(speaker=person).order_by("-meeting_date", "seq").first()
    return u and _address("api-statement", sid=u.sid)


ENDPOINTS = (
    Endpoint(
        "api-meetings",
        "/api/v1/meetings/",
        _("Published meetings, newest first, 50 a page."),
        lambda: _address("api-meetings") + "?kind=talks",
        LIST,
        MEETING,
        params=(*MEETING_FILTERS, PAGE),
    ),
    Endpoint(
        "api-meeting",
        "/api/v1/meetings/<slug>/",
        _("A meeting with its lead, sections and statements, 200 statements a page."),
        _meeting_example,
        (*MEETING, "lead", "sections", "licence", "statements"),
        STATEMENT,
        "statements.results",
        (PAGE,),
    ),
    Endpoint(
        "api-speakers",
        "/api/v1/speakers/",
        _("Speakers with published statements, most statements first, 50 a page."),
        lambda: _address("api-speakers") + "?kind=person",
        LIST,
        SPEAKER,
        params=(("kind", _("person or role")), PAGE),
    ),
    Endpoint(
        "api-speaker",
        "/api/v1/speakers/<slug>/",
        _("A speaker, with the address of their statements."),
        _speaker_example("api-speaker"),
        (*SPEAKER, "statements_url"),
    ),
    Endpoint(
        "api-speaker-statements",
        "/api/v1/speakers/<slug>/statements/",
        _("A speaker's statements with their meetings, newest meetings first, 50 a page."),
        _speaker_example("api-speaker-statements"),
        LIST,
        ("meeting", *STATEMENT),
        params=(PAGE,),
    ),
    Endpoint(
        "api-statement",
        "/api/v1/statements/<id>/",
        _("A statement by its permanent identifier, with its meeting."),
        _statement_example,
        ("meeting", *STATEMENT),
    ),
    Endpoint(
        "api-search",
        "/api/v1/search/",
        _("A search, as on the search page: q in the same syntax, 20 hits a page, with counts and facets."),
        lambda: _address("api-search") + "?q=%D0%9A%D0%B0%D0%B7%D0%B0%D1%85%D1%81%D1%82%D0%B0%D0%BD&sort=newest",
        SEARCH,
        HIT,
        "hits",
        (
            ("q", _("the words, phrases, OR and exclusions to find (required)")),
            *MEETING_FILTERS,
            ("sort", _("relevance, newest or oldest")),
            PAGE,
        ),
    ),
)


def items_of(data: dict, endpoint: Endpoint) -> list:
    for key in endpoint.items.split("."):
        data = data[key]
    return data


# Real error answers the page shows: a bad date is a 400, an unknown statement a 404.
ERROR_EXAMPLES = (
    ("/api/v1/meetings/?from=2022-02-30", 400),
    ("/api/v1/statements/zzzzzzzz/", 404),
)
