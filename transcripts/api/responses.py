"""What every API endpoint shares: its declared parameters, JSON errors, page links,
CORS. A view decorated with api_view returns a dict (the JSON body) or a response."""

from __future__ import annotations

import functools
import re

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse

PAGE_PARAM = "page"
ANY = NON_FIELD_ERRORS  # an error of the request as a whole ("__all__", as in a form's errors)
PAGE_NUMBER = re.compile(r"[0-9]{1,7}")


class ApiError(Exception):
    """A JSON error: 400 for a bad parameter, 404 for an unknown object, 410 for a gone one."""

    def __init__(self, status: int, field: str, message: str, code: str = "invalid", **extra):
        super().__init__(message)
        self.status = status
        self.errors = {field: [{"message": message, "code": code}]}
        self.extra = extra

    @classmethod
    def from_form(cls, form) -> ApiError:
        error = cls(400, ANY, "")
        error.errors = form.errors.get_json_data()
        return error


def json_response(data: dict, status: int = 200) -> JsonResponse:
    # Readable UTF-8: Cyrillic as itself, not \u escapes.
    return JsonResponse(
        data, status=status, json_dumps_params={"ensure_ascii": False}, content_type="application/json; charset=utf-8"
    )


def error_response(error: ApiError) -> JsonResponse:
    return json_response({"status": error.status, "errors": error.errors, **error.extra}, status=error.status)


def api_view(*params: str):
    """A GET endpoint that reads `params` from the query: any other parameter is a 400
    (pages redirect such parameters away; a program is better told). Not declared with
    http_cache.query_params for that reason; the HTTP cache still gives its 200s ETags."""
    allowed = frozenset(params)

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            try:
                if request.method not in ("GET", "HEAD"):
                    raise ApiError(405, ANY, "Only GET and HEAD are allowed.", code="method_not_allowed")
                unknown = sorted(set(request.GET) - allowed)
                if unknown:
                    reads = ", ".join(sorted(allowed)) or "no parameters"
                    raise ApiError(400, unknown[0], f"Unknown parameter; this endpoint reads: {reads}.", code="unknown")
                result = view(request, *args, **kwargs)
                response = result if isinstance(result, HttpResponse) else json_response(result)
            except Http404 as exc:
                response = error_response(ApiError(404, ANY, str(exc) or "Not found.", code="not_found"))
            except ApiError as exc:
                response = error_response(exc)
            if response.status_code == 405:
                response["Allow"] = "GET, HEAD"
            elif response.status_code == 503:  # a search that timed out: a client may retry
                response["Retry-After"] = "10"
            response["Access-Control-Allow-Origin"] = "*"
            return response

        wrapped.csrf_exempt = True  # nothing here writes: another method gets the JSON 405, not the CSRF page
        return wrapped

    return decorate


def page_number(request) -> int:
    value = request.GET.get(PAGE_PARAM)
    if value is None:
        return 1
    if not PAGE_NUMBER.fullmatch(value) or int(value) < 1:
        raise ApiError(400, PAGE_PARAM, "A page is a whole number from 1.")
    return int(value)


def page_link(request, number: int | None) -> str | None:
    """The absolute address of another page of this list, or None."""
    if number is None:
        return None
    query = request.GET.copy()
    query.pop(PAGE_PARAM, None)
    if number > 1:
        query[PAGE_PARAM] = str(number)
    return request.build_absolute_uri(request.path + (f"?{query.urlencode()}" if query else ""))


def paged(request, number: int, num_pages: int) -> dict:
    """The page fields every list has (the search's count is its `total`)."""
    if number > num_pages:
        raise ApiError(
            400, PAGE_PARAM, f"There is no page {number}: the last page is {num_pages}.", code="out_of_range"
        )
    return {
        "page": number,
        "num_pages": num_pages,
        "next": page_link(request, number + 1 if number < num_pages else None),
        "previous": page_link(request, number - 1 if number > 1 else None),
    }


def paginate(request, queryset, per_page: int, serialize) -> dict:
    """A page of `queryset` as {count, page, num_pages, next, previous, results}."""
    paginator = Paginator(queryset, per_page)
    number = page_number(request)
    links = paged(request, number, paginator.num_pages)
    results = [serialize(item) for item in paginator.page(number).object_list]
    return {"count": paginator.count, **links, "results": results}
