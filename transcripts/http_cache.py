"""HTTP caching of public pages, keyed on the archive's change stamp.

Every anonymous GET of a public page carries an ETag and Last-Modified made from
ArchiveChange (moved by database triggers on any write to the archive) and from the
code release. A client or proxy that revalidates gets a 304 from one indexed read
when the server holds the page (below), and otherwise after the page has rendered as
a 200: a missing page is a 404 and a bad search a 400 whatever the validators say.
After an ingest or an admin edit the stamp differs and the next request gets the new
page. Citations carry an access date, so the tags also change at Moscow midnight
(validators): no cache can serve yesterday's date. Cache-Control is `public, no-cache` (store,
but revalidate every time) unless ARCHIVE_CACHE_MAX_AGE allows serving a stored copy
for that many seconds without asking.

The server keeps rendered pages too, in the "pages" cache (settings.CACHES), under a
key that contains the same ETag and the address with only the parameters its view
reads (others are redirected away, see query_params): a change to the archive or the code makes every
stored page unreachable at once, and the cache's own culling removes them.
"""

import contextlib
import datetime as dt
import hashlib
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import caches
from django.http import HttpResponsePermanentRedirect
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from kzarchive.public_reads import is_public_read
from transcripts import stamp

# A moved address (an old slug, a merged statement) can move back: an editor renames a
# slug back or undoes a merge. Browsers keep a bare 301 for ever; this one for a day.
MOVED_MAX_AGE = 86_400


def moved_permanently(address: str) -> HttpResponsePermanentRedirect:
    response = HttpResponsePermanentRedirect(address)
    response["Cache-Control"] = f"public, max-age={MOVED_MAX_AGE}"
    return response


@cache
def release() -> str:
    """Identifies the code that renders pages, so a deploy also changes every ETag.
    KZ_RELEASE names it (e.g. a git commit); otherwise the templates', translations'
    and Python modules' sizes and times stand in."""
    if settings.RELEASE:
        return settings.RELEASE
    digest = hashlib.sha256()
    for folder, pattern in [("templates", "**/*.html"), ("locale", "**/*.mo"), ("transcripts", "**/*.py")]:
        for path in sorted(Path(settings.BASE_DIR, folder).glob(pattern)):
            stat = path.stat()
            digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:12]


def query_params(*names: str):
    """Declare the query parameters a public view reads. Any other parameter in a
    request for it (`?fill=123`, `?utm_source=…`) is answered with a permanent redirect
    to the address without it: one page, one address, one entry in the page cache."""

    def declare(view):
        view.query_params = frozenset(names)
        return view

    return declare


def canonical_redirect(request):
    """The redirect to the address without parameters the view does not read, or None."""
    if not request.GET:
        return None
    try:
        known = getattr(resolve(request.path_info).func, "query_params", None)
    except Resolver404:
        return None
    if known is None or set(request.GET) <= known:
        return None
    kept = [(k, v) for k, values in request.GET.lists() if k in known for v in values]
    return HttpResponsePermanentRedirect(request.path + (f"?{urlencode(kept)}" if kept else ""))


class ArchiveCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_public_read(request):
            return self.get_response(request)
        if (redirect := canonical_redirect(request)) is not None:
            return redirect
        # Read the stamp before the page: the page is then at least as new as its tag.
        changed_at = stamp.current()
        if changed_at is None:  # the row migration 0010 adds is gone (a flushed test database): no validators
            return self.get_response(request)
        etag, last_modified = validators(changed_at)
        key = page_key(request, etag)
        # A stored page is one that rendered as a 200 under this tag: it exists, so a
        # revalidation can be answered from the headers alone, without rendering.
        stored = caches["pages"].get(key)
        if stored is not None:
            conditional = get_conditional_response(request, etag=etag, last_modified=last_modified)
            if conditional is not None and conditional.status_code == 304:
                return self.mark(conditional, etag, last_modified)
            if request.method == "GET" and conditional is None:
                return stored
        response = self.get_response(request)
        if response.status_code != 200 or response.cookies or response.has_header("Cache-Control"):
            return response  # a 404 stays a 404 and a 400 a 400, whatever the request's validators say
        self.mark(response, etag, last_modified)
        if request.method == "GET" and not response.streaming:
            with contextlib.suppress(OSError):  # a full or read-only disk costs speed, not the page
                caches["pages"].set(key, response)
        conditional = get_conditional_response(request, etag=etag, last_modified=last_modified, response=response)
        return self.mark(conditional, etag, last_modified) if conditional.status_code == 304 else conditional

    @staticmethod
    def mark(response, etag: str, last_modified: int):
        response.headers["ETag"] = etag
        response.headers["Last-Modified"] = http_date(last_modified)
        max_age = settings.ARCHIVE_CACHE_MAX_AGE
        if max_age:
            patch_cache_control(response, public=True, max_age=max_age)
        else:
            patch_cache_control(response, public=True, no_cache=True)
        return response


def validators(changed_at: dt.datetime) -> tuple[str, int]:
    """The ETag and Last-Modified (whole seconds: clients should prefer the ETag) of every
    public page: the archive's stamp, the code release, and today's Moscow date, which
    citations give as the access date (statements.cited). A page is at least as new as
    today's midnight, so an If-Modified-Since from yesterday gets today's page."""
    today = timezone.localdate()
    tag = f"{changed_at.isoformat()}|{release()}|{today.isoformat()}"
    midnight = timezone.make_aware(dt.datetime.combine(today, dt.time()))
    return f'"{hashlib.sha256(tag.encode()).hexdigest()[:20]}"', int(max(changed_at, midnight).timestamp())


def page_key(request, etag: str) -> str:
    """The page cache's key: the tag, and the absolute address (citations on a page carry
    it) with its parameters in a fixed order."""
    params = urlencode(sorted(request.GET.lists()), doseq=True)
    address = f"{request.scheme}://{request.get_host()}{request.path}?{params}"
    return f"page:{etag}:{hashlib.sha256(address.encode()).hexdigest()}"
