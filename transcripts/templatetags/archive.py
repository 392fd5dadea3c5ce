"""Template helpers: statement links, calendars, the year histogram, rounded estimates."""

from django import template
from django.template.defaulttags import querystring
from django.urls import reverse
from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR
from django.utils.safestring import SafeString, mark_safe

from ..dates import year_range

register = template.Library()


@register.simple_tag
def in_context(utterance, q=""):
    """The statement in its meeting, on the right part, with ?q= marking the query."""
    return utterance.context_url(q)


@register.inclusion_tag("transcripts/partials/calendar.html")
def month_calendar(weeks, caption, caption_url="", count=0):
    names = [(WEEKDAYS_ABBR[i], WEEKDAYS[i]) for i in range(7)]
    return {"weeks": weeks, "caption": caption, "caption_url": caption_url, "count": count, "weekday_names": names}


@register.inclusion_tag("transcripts/partials/histogram.html", takes_context=True)
def year_histogram(context, year_counts, link="search", caption=None, width=600, height=120):
    """Bars for every year from the first to the last with a count, as inline SVG.
    Each bar links to that year: in the search (link="search") or the date archive.
    Only years the archive accepts are drawn (transcripts/dates.py), so a stray date
    cannot stretch the chart over thousands of years."""
    accepted = year_range()
    counts = {year: n for year, n in year_counts if year in accepted}
    if not counts:
        return {"bars": []}
    years = list(range(min(counts), max(counts) + 1))
    peak = max(counts.values()) or 1
    slot = width / len(years)
    bars = []
    for i, year in enumerate(years):
        n = counts.get(year, 0)
        h = round((height - 20) * n / peak, 1)
        if link == "archive":
            href = reverse("archive-year", args=[year]) if n else ""
        else:
            # The search with that year's dates, from its first page, as HTML.
            dates = {"from": f"{year}-01-01", "to": f"{year}-12-31", "page": None, "format": None}
            href = querystring(context, **dates)
        bars.append(
            {
                "year": year,
                "count": n,
                "href": href,
                "x": round(i * slot + slot * 0.1, 1),
                "y": round(height - 20 - h, 1),
                "w": round(slot * 0.8, 1),
                "h": h,
                "label_x": round(i * slot + slot / 2, 1),
                "show_label": len(years) <= 12 or i % max(1, len(years) // 8) == 0,
            }
        )
    return {"bars": bars, "width": width, "height": height, "caption": caption}


@register.filter
def paragraphs(text):
    """Split a text (plain or already-escaped safe HTML) into its paragraphs."""
    parts = str(text).split("\n\n")
    return [mark_safe(p) for p in parts] if isinstance(text, SafeString) else parts


@register.filter
def rounded(value, digits=2):
    """An estimate to `digits` significant figures: 219 734 → 220 000."""
    value = int(value)
    if value < 10**digits:
        return value
    step = 10 ** (len(str(value)) - digits)
    return round(value / step) * step
