"""Sitemaps (django.contrib.sitemaps): the main pages, every published meeting, statement
page and speaker, each in both languages with the other and x-default as alternates.
/sitemap.xml is an index of sections, each in pages of LIMIT addresses (?p=2 …), so it
scales past the protocol's 50,000 addresses a file."""

from __future__ import annotations

from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.core.paginator import Paginator
from django.db.models import Max, QuerySet
from django.db.models.functions import Greatest
from django.urls import path, reverse

from . import stamp
from .http_cache import query_params
from .models import Meeting, Speaker, Utterance

LIMIT = 10_000  # addresses a file (5,000 objects in two languages): well under the protocol's 50,000 and 50 MB


class Pairs:
    """(object, language) for each object and language, read one page at a time. Django's
    i18n sitemaps build the whole list in memory; a million statements cannot."""

    def __init__(self, objects, languages: list[str]):
        self.objects, self.languages = objects, languages

    def count(self) -> int:
        n = self.objects.count() if isinstance(self.objects, QuerySet) else len(self.objects)
        return n * len(self.languages)

    __len__ = count

    def __getitem__(self, window: slice):
        width = len(self.languages)
        first = window.start // width
        rows = self.objects[first : -(-window.stop // width)]
        pairs = [(row, code) for row in rows for code in self.languages]
        return pairs[window.start - first * width : window.stop - first * width]


class ArchiveSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True
    limit = LIMIT

    @property
    def paginator(self):
        return Paginator(Pairs(self.items(), self._languages()), self.limit)

    def lastmod(self, item):
        return item.last_changed

    def get_latest_lastmod(self):
        """One aggregate, not a read of every object (Django's default)."""
        return self.items().aggregate(latest=Max("last_changed"))["latest"]


class PagesSitemap(ArchiveSitemap):
    """Home, meetings by year, speakers: they change with the archive."""

    def items(self):
        return ["home", "archive", "speakers"]

    def location(self, name):
        return reverse(name)

    def lastmod(self, name):
        return stamp.current()

    def get_latest_lastmod(self):
        return stamp.current()


class MeetingsSitemap(ArchiveSitemap):
    def items(self):
        meetings = Meeting.objects.published().only("slug").order_by("id")
        # An editor's correction of a statement changes the meeting's page too.
        return meetings.annotate(last_changed=Greatest("updated_at", Max("utterances__corrected_at")))


class StatementsSitemap(ArchiveSitemap):
    def items(self):
        statements = Utterance.objects.published().filter(meeting__is_published=True).only("sid").order_by("id")
        return statements.annotate(last_changed=Greatest("meeting__updated_at", "corrected_at"))


class SpeakersSitemap(ArchiveSitemap):
    def items(self):
        """Speakers with published statements: a page changes with its speaker and their meetings."""
        speakers = Speaker.objects.filter(utterances__published=True).only("slug").order_by("id")
        return speakers.annotate(last_changed=Greatest("updated_at", Max("utterances__meeting__updated_at")))

    def location(self, speaker):
        return reverse("speaker", kwargs={"slug": speaker.slug})


SITEMAPS = {
    "pages": PagesSitemap,
    "meetings": MeetingsSitemap,
    "statements": StatementsSitemap,
    "speakers": SpeakersSitemap,
}


@query_params()
def index(request):
    return sitemap_views.index(request, SITEMAPS, sitemap_url_name="sitemap-section")


@query_params("p")
def section(request, section):
    return sitemap_views.sitemap(request, SITEMAPS, section=section)


urlpatterns = [
    path("sitemap.xml", index, name="sitemap"),
    path("sitemap-<slug:section>.xml", section, name="sitemap-section"),
]
