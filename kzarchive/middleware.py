"""Content-Security-Policy on every response (Django 5.2 has no built-in CSP), and what
counts as an anonymous read of a public page."""

from django.conf import settings

# Never public pages: editing, the language switch, the health check.
NOT_PUBLIC_PATHS = ("/admin/", "/i18n/", "/healthz")


def is_public_read(request) -> bool:
    """An anonymous GET or HEAD of a public page: it may be cached and shared, and may read
    data up to a replica's lag old. A session means an editor (the site has no public
    accounts), who may see unpublished work and must see their own edits at once."""
    return (
        request.method in ("GET", "HEAD")
        and not request.path_info.startswith(NOT_PUBLIC_PATHS)
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
