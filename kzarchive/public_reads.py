"""What counts as an anonymous read of a public page: it may be cached and shared
(transcripts/http_cache.py), and may read data up to a replica's lag old
(kzarchive/routers.py)."""

import re
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY

# Never public pages: editing, the language switch, the health check.
NOT_PUBLIC_PATHS = ("/admin/", "/i18n/", "/healthz")
_SESSION_KEY = re.compile(r"[a-z0-9]{8,40}")


def is_public_read(request) -> bool:
    """An anonymous GET or HEAD of a public page. An editor (the site has no public
    accounts) may see unpublished work and must see their own edits at once; a session
    cookie that names no signed-in session (expired, or made up) is anonymous, so it
    cannot switch off caching."""
    if request.method not in ("GET", "HEAD") or request.path_info.startswith(NOT_PUBLIC_PATHS):
        return False
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not key:
        return True
    if not _SESSION_KEY.fullmatch(key):  # Django makes 32 of [a-z0-9]: anything else names no session
        return True
    cached = getattr(request, "_kz_signed_in", None)
    if cached is None:
        store = import_module(settings.SESSION_ENGINE).SessionStore(key)
        cached = request._kz_signed_in = SESSION_KEY in store  # one read of the session, on the primary
    return not cached
