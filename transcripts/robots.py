"""/robots.txt and /favicon.ico, the two addresses crawlers and browsers ask for by name."""

from django.conf import settings
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils import translation

from .http_cache import moved_permanently, query_params


@query_params()
def robots_txt(request):
    """Crawlers may read the archive; editing and search results (endless, and each
    statement has its own page) are off limits. Names the sitemap index."""
    search = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):  # the search page and its feeds, in each language
            search.extend(reverse(name) for name in ("search", "feed-search-atom", "feed-search-rss"))
    search.append(reverse("api-search"))  # the API has no language prefix
    context = {"sitemap": request.build_absolute_uri(reverse("sitemap")), "search": search}
    return render(request, "robots.txt", context, content_type="text/plain; charset=utf-8")


@query_params()
def favicon(request):
    # The icon's static address changes with its content (hashed names in production).
    return moved_permanently(static("favicon.ico"))


urlpatterns = [
    path("robots.txt", robots_txt, name="robots"),
    path("favicon.ico", favicon, name="favicon"),
]
