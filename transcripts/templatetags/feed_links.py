"""The feeds a page offers: <link rel="alternate"> in <head> and a visible link."""

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from ..feeds import SEARCH_PARAMS

register = template.Library()

FORMATS = (("atom", "Atom", "application/atom+xml"), ("rss", "RSS", "application/rss+xml"))


def offered(context, which: str, slug: str = "") -> list[dict]:
    """Atom and RSS addresses of the meetings feed, a speaker's (slug), or the page's search."""
    query = ""
    if which == "search":
        params = [(k, v) for k, values in context["request"].GET.lists() if k in SEARCH_PARAMS for v in values]
        query = "?" + urlencode(params)
    kwargs = {"slug": slug} if which == "speaker" else {}
    return [
        {"url": reverse(f"feed-{which}-{suffix}", kwargs=kwargs) + query, "name": name, "type": content_type}
        for suffix, name, content_type in FORMATS
    ]


@register.inclusion_tag("transcripts/partials/feed_head.html", takes_context=True)
def feed_head(context, which, slug="", title=""):
    return {"feeds": offered(context, which, slug), "title": title}


@register.inclusion_tag("transcripts/partials/feed_links.html", takes_context=True)
def feed_links(context, which, slug=""):
    return {"feeds": offered(context, which, slug)}
