"""The /api/ page: each endpoint of spec.py with its example run against the archive
as it is now, so the documentation shows real answers and cannot drift."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

from django.conf import settings
from django.http import QueryDict
from django.shortcuts import render
from django.urls import resolve, reverse
from django.utils import translation

from ..http_cache import query_params
from .spec import ENDPOINTS, ERROR_EXAMPLES

SHOWN_ITEMS = 2  # a list in an example shows its first items only


@dataclass(frozen=True)
class Example:
    address: str  # absolute
    status: int
    data: dict
    shown: str  # the answer as the page prints it


def run(request, path: str) -> Example:
    """Answer `path` (with its query) as the API would, in-process. The API is outside
    the language prefix, so its addresses are the default language's whatever this page's."""
    address, _, query = path.partition("?")
    with translation.override(settings.LANGUAGE_CODE):
        match = resolve(address)
        inner = copy.copy(request)
        inner.path = inner.path_info = address
        inner.GET = QueryDict(query)
        inner.resolver_match = match
        response = match.func(inner, *match.args, **match.kwargs)
    data = json.loads(response.content)
    shown = json.dumps(_cut(data), ensure_ascii=False, indent=2)
    return Example(request.build_absolute_uri(path), response.status_code, data, shown)


def _cut(value):
    if isinstance(value, dict):
        return {key: _cut(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_cut(item) for item in value[:SHOWN_ITEMS]]
    return value


def examples(request) -> list[tuple]:
    """(endpoint, its Example or None when the archive is empty) for every endpoint."""
    with translation.override(settings.LANGUAGE_CODE):
        paths = [(endpoint, endpoint.example()) for endpoint in ENDPOINTS]
    return [(endpoint, run(request, path) if path else None) for endpoint, path in paths]


@query_params()
def api_docs(request):
    context = {
        "endpoints": examples(request),
        "errors": [run(request, path) for path, _status in ERROR_EXAMPLES],
        "base": request.build_absolute_uri(reverse("api-index")),
        "shown_items": SHOWN_ITEMS,
    }
    return render(request, "transcripts/api.html", context)
