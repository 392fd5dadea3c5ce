"""A search asked for outside the page, by a feed or a CSV download: its results, or
the plain-text answer that refuses it (400: bad parameters or query, 503: too slow).
The page and the API answer these in their own shapes (views.py, api/views.py)."""

from __future__ import annotations

import dataclasses

from django.http import HttpResponse
from django.utils.translation import gettext as _

from .engine import SearchResults, search_archive
from .syntax import QueryError


class Refused(Exception):
    def __init__(self, response: HttpResponse):
        super().__init__(response.content.decode())
        self.response = response


def text_response(message: str, status: int) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def timed_out() -> HttpResponse:
    response = text_response(_("The search took too long and was stopped. Add a word or a filter to narrow it."), 503)
    response["Retry-After"] = "10"
    return response


def newest_first(form) -> SearchResults:
    """The first page of the form's search, newest first; raises Refused."""
    if not form.is_valid():
        errors = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in form.errors.items())
        raise Refused(text_response(_("Bad search: %(errors)s") % {"errors": errors}, 400))
    if not form.cleaned_data["q"]:
        raise Refused(text_response(_("Type at least one word to search for."), 400))
    try:
        results = search_archive(dataclasses.replace(form.search_request(), sort="newest", page=1))
    except QueryError as exc:
        raise Refused(text_response(_("Bad search: %(errors)s") % {"errors": exc}, 400)) from None
    if results.timed_out:
        raise Refused(timed_out())
    return results
