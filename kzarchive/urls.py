"""Russian pages at the root, English under /en/: every page has a stable,
citable address in each language. /i18n/setlang/ is Django's language switch."""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from kzarchive.health import healthz
from transcripts import robots, sitemaps

urlpatterns = [
    path("healthz", healthz, name="healthz"),  # answered by HealthCheckMiddleware; named for reverse()
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    *robots.urlpatterns,  # /robots.txt, /favicon.ico
    *sitemaps.urlpatterns,  # /sitemap.xml and its sections, both languages in each
    path("api/v1/", include("transcripts.api.urls")),  # one address for programs, whatever the language
    *i18n_patterns(path("", include("transcripts.urls")), prefix_default_language=False),
]

handler404 = "transcripts.views.not_found"
handler500 = "transcripts.views.server_error"
