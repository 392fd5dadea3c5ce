"""Atom and RSS feeds (django.contrib.syndication): the latest meetings, a speaker's
statements, and any search, newest first. Entries link to the stable addresses
(/meeting/<slug>/, /statement/<sid>/) and carry their source and licence. They are
public reads like any page: the HTTP cache middleware gives them ETags and 304s."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib.syndication.views import Feed
from django.db.models import F
from django.urls import path, reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.generic import RedirectView

from . import licences
from .http_cache import query_params
from .models import Meeting, Speaker, Utterance
from .search import plain
from .search.forms import SearchForm
from .views import by_slug

LATEST = 30  # entries in the meetings and speaker feeds; a search feed has one page of hits
# The search page's filters; sort and page are the feed's own (newest first, the first page).
SEARCH_PARAMS = ("q", "speaker", "from", "to", "kind", "location")


def licence(meeting: Meeting) -> str:
    return licences.licence(meeting.source_url)


class AtomFeed(Atom1Feed):
    """Atom with each entry's licence (RFC 4946) and source page (rel="via")."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        for rel in ("license", "via"):
            if item.get(rel):
                handler.addQuickElement("link", "", {"rel": rel, "href": item[rel]})


class RssFeed(Rss201rev2Feed):
    """RSS 2.0 with each item's licence in the Creative Commons module."""

    CC_NAMESPACE = "http://backend.userland.com/creativeCommonsRssModule"

    def rss_attributes(self):
        return {**super().rss_attributes(), "xmlns:creativeCommons": self.CC_NAMESPACE}

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item.get("license"):
            handler.addQuickElement("creativeCommons:license", item["license"])


def moscow_start(meeting: Meeting) -> dt.datetime:
    """When a meeting began, or its date's midnight in Moscow when the time is unknown."""
    return meeting.start or timezone.make_aware(dt.datetime.combine(meeting.date, dt.time()))


class ArchiveFeed(Feed):
    feed_type = AtomFeed
    query_params = frozenset()  # http_cache.canonical_redirect: other parameters are redirected away

    def subtitle(self, obj):  # Atom's name for RSS's description
        return self.description(obj)

    def feed_copyright(self):
        return _("Texts: kremlin.ru (CC BY 4.0) and the other sources named on each page.")

    def item_extra_kwargs(self, item):
        meeting = self.meeting_of(item)
        return {"license": licence(meeting), "via": meeting.source_url}

    def item_copyright(self, item):
        return "kremlin.ru, CC BY 4.0" if licence(self.meeting_of(item)) else None

    def get_context_data(self, **kwargs):
        """The entry template's context: links are absolute, as feed readers need."""
        item, meeting = kwargs["item"], self.meeting_of(kwargs["item"])
        url = kwargs["request"].build_absolute_uri
        return {
            "item": item,
            "meeting": meeting,
            "licence": licence(meeting),
            "meeting_url": url(meeting.get_absolute_url()),
        }


class MeetingsFeed(ArchiveFeed):
    description_template = "transcripts/feeds/meeting.html"

    def title(self):
        return f"kzarchive — {_('Latest meetings')}"

    def link(self):
        return reverse("home")

    def description(self, obj):
        return _(
            "Official Russian transcripts of Russia–Kazakhstan talks, meetings and statements: who said what, and when."
        )

    def items(self):
        return Meeting.objects.published().chronological().reverse()[:LATEST]

    @staticmethod
    def meeting_of(item):
        return item

    def item_title(self, meeting):
        return meeting.title

    def item_pubdate(self, meeting):
        return moscow_start(meeting)

    def item_updateddate(self, meeting):
        return meeting.updated_at

    def item_categories(self, meeting):
        return [meeting.get_kind_display()]


class StatementFeed(ArchiveFeed):
    """Entries are statements, each at its own permanent address."""

    description_template = "transcripts/feeds/statement.html"

    @staticmethod
    def meeting_of(item):
        return item.meeting

    def get_context_data(self, **kwargs):
        u = kwargs["item"]
        context_url = kwargs["request"].build_absolute_uri(u.context_url())
        return {**super().get_context_data(**kwargs), "who": self.item_author_name(u), "context_url": context_url}

    def item_title(self, u):
        return Truncator(" ".join(u.text.split())).chars(120)

    def item_author_name(self, u):
        return u.speaker.name if u.speaker else (u.label or None)

    def item_pubdate(self, u):
        return moscow_start(u.meeting)

    def item_updateddate(self, u):
        return max(filter(None, [u.meeting.updated_at, u.corrected_at]))


class SpeakerFeed(StatementFeed):
    def get_object(self, request, speaker):
        return speaker

    def title(self, speaker):
        return f"{speaker.name} — kzarchive"

    def link(self, speaker):
        return reverse("speaker", kwargs={"slug": speaker.slug})

    def description(self, speaker):
        return _("Statements, newest first")

    def items(self, speaker):
        statements = Utterance.objects.published().filter(speaker=speaker).select_related("meeting", "speaker")
        # Newest first by the meeting's time too: two meetings of one day in the order they began.
        newest = ["-meeting_date", F("meeting__start").desc(nulls_last=True), "-meeting_id", "seq"]
        return statements.order_by(*newest)[:LATEST]


class SearchFeed(StatementFeed):
    query_params = frozenset(SEARCH_PARAMS)

    def __call__(self, request, *args, **kwargs):
        try:
            return super().__call__(request, *args, **kwargs)
        except plain.Refused as refused:  # a bad query (400) or one too slow (503)
            return refused.response

    def get_object(self, request):
        results = plain.newest_first(SearchForm(request.GET))
        results.params = [(k, v) for k, values in request.GET.lists() if k in SEARCH_PARAMS for v in values]
        return results

    def title(self, results):
        return _("Search: %(q)s") % {"q": results.request.q} + " — kzarchive"

    def link(self, results):
        return reverse("search") + "?" + urlencode([*results.params, ("sort", "newest")])

    def description(self, results):
        return _("Statements that match the search, newest first.")

    def items(self, results):
        return [hit.utterance for hit in results.hits]


def rss(feed: type[Feed]) -> type[Feed]:
    return type(f"Rss{feed.__name__}", (feed,), {"feed_type": RssFeed})


def speaker_feed(feed: Feed):
    """A speaker's feed by slug; an old slug is a 301 to the present one (views.by_slug)."""

    @query_params()
    @by_slug(Speaker.objects.all)
    def view(request, speaker):
        return feed(request, speaker=speaker)

    return view


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="feed-meetings-atom", permanent=True), name="feed"),
    path("meetings.atom", MeetingsFeed(), name="feed-meetings-atom"),
    path("meetings.rss", rss(MeetingsFeed)(), name="feed-meetings-rss"),
    path("speakers/<slug:slug>.atom", speaker_feed(SpeakerFeed()), name="feed-speaker-atom"),
    path("speakers/<slug:slug>.rss", speaker_feed(rss(SpeakerFeed)()), name="feed-speaker-rss"),
    path("search.atom", SearchFeed(), name="feed-search-atom"),
    path("search.rss", rss(SearchFeed)(), name="feed-search-rss"),
]
