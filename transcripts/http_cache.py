"""HTTP caching of public pages, keyed on the archive's change stamp.

Every anonymous GET of a public page carries an ETag and Last-Modified made from
ArchiveChange (moved by database triggers on any write to the archive) and from the
code release. A client or proxy that revalidates gets a 304 from one indexed read,
without the page being rendered; after an ingest or an admin edit the stamp differs
and the next request gets the new page. Cache-Control is `public, no-cache` (store,
but revalidate every time) unless ARCHIVE_CACHE_MAX_AGE allows serving a stored copy
for that many seconds without asking.

The server keeps rendered pages too, in the "pages" cache (settings.CACHES), under a
key that contains the same ETag: a change to the archive or the code makes every
stored page unreachable at once, and the cache's own culling removes them.
"""

import contextlib
import hashlib
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from kzarchive.middleware import is_public_read
from transcripts.models import ArchiveChange


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


class ArchiveCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_public_read(request):
            return self.get_response(request)
        # Read the stamp before the page: the page is then at least as new as its tag.
        changed_at = ArchiveChange.objects.values_list("changed_at", flat=True).filter(pk=1).first()
        if changed_at is None:  # the row migration 0010 adds is gone (a flushed test database): no validators
            return self.get_response(request)
        stamp = f"{changed_at.isoformat()}|{release()}"
        etag = f'"{hashlib.sha256(stamp.encode()).hexdigest()[:20]}"'
        last_modified = int(changed_at.timestamp())  # whole seconds: clients should prefer the ETag
        conditional = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if conditional is not None:  # 304 Not Modified, or 412 for a failed If-Match
            return self.mark(conditional, etag, last_modified) if conditional.status_code == 304 else conditional
        # The host too: citations on a page carry its absolute address.
        address = request.build_absolute_uri()
        key = f"page:{etag}:{hashlib.sha256(address.encode()).hexdigest()}"
        if request.method == "GET" and (stored := caches["pages"].get(key)) is not None:
            return stored
        response = self.get_response(request)
        if response.status_code == 200 and not response.cookies and not response.has_header("Cache-Control"):
            self.mark(response, etag, last_modified)
            if request.method == "GET" and not response.streaming:
                with contextlib.suppress(OSError):  # a full or read-only disk costs speed, not the page
                    caches["pages"].set(key, response)
        return response

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
