"""Template helpers: statement links, query links, calendars, the year histogram, rounded estimates."""

import math
import re
from collections.abc import Iterable
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.http import QueryDict
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.dates import MONTHS_ALT, WEEKDAYS, WEEKDAYS_ABBR
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from ..dates import year_range
from ..models import SID_ALPHABET, SID_LENGTH, Meeting, statement_url

register = template.Library()


@register.simple_tag
def in_context(utterance, q="", meeting_url=""):
    """The statement in its meeting, on the right part, with ?q= marking the query;
    meeting_url, when the caller has it, saves reversing the meeting's address again."""
    if meeting_url:
        return statement_url(meeting_url, utterance.seq, utterance.sid, q)
    return utterance.context_url(q)


# A page of hits has two links per hit (its meeting, its statement): reversing each
# costs more than the rest of the hit. These names are reversed once per language, URL
# prefix and URLconf around a sample value, and each value is put in the sample's place.
_ADDRESS_VALUES = {  # what each name's converter accepts (transcripts/urls.py), and a sample of it
    "meeting": (re.compile(r"[-a-zA-Z0-9_]+"), "kzarchive-sample-slug"),
    "statement": (re.compile(f"[{SID_ALPHABET}]{{{SID_LENGTH}}}"), SID_ALPHABET[-SID_LENGTH:]),
}
_address_forms: dict[tuple, tuple[str, str] | None] = {}


@register.filter
def address(value, name):
    """{% url name value %}, for the meeting and statement links of a page of hits."""
    value = str(value)
    accepts, sample = _ADDRESS_VALUES.get(name, (None, ""))
    if accepts is None or not accepts.fullmatch(value):
        return reverse(name, args=[value])  # as {% url %} would, or its NoReverseMatch
    key = (name, get_language(), get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    if key not in _address_forms:
        before, found, after = reverse(name, args=[sample]).partition(sample)
        _address_forms[key] = (before, after) if found and sample not in after else None
    form = _address_forms[key]
    return f"{form[0]}{value}{form[1]}" if form else reverse(name, args=[value])


@register.filter
def long_date(value):
    """value|date:"j E Y" («10 февраля 2022», "10 February 2022"), the same string,
    without Django's general date formatter (about 25 µs a date, 20 dates a page)."""
    if value in (None, ""):
        return ""
    return f"{value.day} {MONTHS_ALT[value.month]} {value.year:04d}"


_selects: dict[tuple, SafeString] = {}


@register.filter
def fixed_select(field):
    """{{ form.field }} for a select whose choices never change (the search form's kind
    and sort): Django renders its options through a template each, so it is rendered
    once per chosen value and language. A field with an error, or a value that is not
    one of its choices, is rendered as usual."""
    value = field.value()
    if field.errors or not (value is None or str(value) in {str(v) for v, _label in field.field.choices}):
        return str(field)
    key = (type(field.form), field.name, get_language(), value)
    if key not in _selects:
        _selects[key] = str(field)
    return _selects[key]


_KIND_LABELS = dict(Meeting.Kind.choices)


@register.filter
def kind_label(meeting):
    """meeting.get_kind_display(), which rebuilds the field's choices on every call."""
    return _KIND_LABELS.get(meeting.kind, meeting.kind)


def query_string(query: QueryDict, changes: dict) -> str:
    """What Django's {% querystring %} returns for this query with `changes` (None removes
    a parameter), for pages with dozens of such links (the search page's facets and
    histogram): querystring copies and encodes the whole query for each link, this
    encodes the query's parameters once and then only the changed ones."""
    encoded = _encoded(query)
    parts = [
        (_encode(key, changes[key]) if key in changes else part)
        for key, part in encoded.items()
        if not (key in changes and changes[key] is None)
    ]
    parts += [_encode(key, value) for key, value in changes.items() if key not in encoded and value is not None]
    if not query and not parts:
        return ""
    return "?" + "&".join(part for part in parts if part)


def _encode(key: str, value) -> str:
    """One parameter as QueryDict.urlencode writes it: a list (not a string) gives one pair per value."""
    values = value if isinstance(value, Iterable) and not isinstance(value, str) else [value]
    return "&".join(urlencode({key.encode(): str(v).encode()}) for v in values)


def _encoded(query: QueryDict) -> dict[str, str]:
    """{parameter: its encoded pairs}, in the query's order; kept on an immutable
    QueryDict (request.GET), which cannot change."""
    cached = getattr(query, "_encoded_parameters", None)
    if cached is None:
        cached = {key: _encode(key, values) for key, values in query.lists()}
        if not getattr(query, "_mutable", True):
            query._encoded_parameters = cached
    return cached


@register.inclusion_tag("transcripts/partials/calendar.html")
def month_calendar(weeks, caption, caption_url="", count=0):
    names = [(WEEKDAYS_ABBR[i], WEEKDAYS[i]) for i in range(7)]
    return {"weeks": weeks, "caption": caption, "caption_url": caption_url, "count": count, "weekday_names": names}


# The year charts' scale: a bar's height is the square root of its count over the
# peak's, so a year of 2 next to a year of 400 is 7% tall, not 0.5%; a year with any
# count is at least MIN_BAR percent tall. Said under each chart (histogram.html).
MIN_BAR = 6.0


def bar_height(count: int, peak: int) -> float:
    """A bar's height in percent of the chart: 0 for none, else √(count/peak), at least MIN_BAR."""
    if count <= 0 or peak <= 0:
        return 0.0
    return round(max(MIN_BAR, 100 * math.sqrt(count / peak)), 1)


def labelled_years(n: int, max_labels: int) -> set[int]:
    """Which of n consecutive years show their label: every step-th, counted back from
    the last (the latest year is always labelled), with at most max_labels labels, so
    that each label has at least 1/max_labels of the chart's width and none overlap."""
    step = math.ceil(n / max(1, max_labels)) if n else 1
    return {i for i in range(n) if (n - 1 - i) % step == 0}


@register.inclusion_tag("transcripts/partials/histogram.html", takes_context=True)
def year_histogram(context, year_counts, link="search", caption=None, speaker="", max_labels=6):
    """A bar per year from the first to the last with a count, as an HTML list (a
    link per year with a count, its accessible name "2022: 12"), drawn by CSS.
    Each bar links to that year: in the search (link="search", the current query with
    that year's dates), the date archive (link="archive"), or the speaker's own
    statements of that year (link="speaker", with speaker=<slug>). Only years the
    archive accepts are drawn (transcripts/dates.py), so a stray date cannot stretch
    the chart over thousands of years. max_labels: how many year labels fit the
    chart's narrowest width (the search sidebar's 15rem takes 5)."""
    accepted = year_range()
    counts = {year: n for year, n in year_counts if year in accepted}
    if not counts:
        return {"bars_html": ""}
    years = list(range(min(counts), max(counts) + 1))
    peak = max(counts.values())
    labelled = labelled_years(len(years), max_labels)
    bars = []
    for i, year in enumerate(years):
        n = counts.get(year, 0)
        href = ""
        if n and link == "archive":
            href = reverse("archive-year", args=[year])
        elif n and link == "speaker":
            href = f"{reverse('speaker', args=[speaker])}?year={year}#statements"
        elif n:
            # The search with that year's dates, from its first page, as HTML.
            dates = {"from": f"{year}-01-01", "to": f"{year}-12-31", "page": None, "format": None}
            href = query_string(context.request.GET, dates)
        bars.append({"year": year, "count": n, "href": href, "height": bar_height(n, peak), "label": i in labelled})
    return {"bars_html": _bars_html(bars), "caption": caption, "peak": peak}


# One bar of histogram.html, written here rather than as a loop in the template: the
# search page draws one per year (dozens), and a template loop cost about 1 ms a page.
# The height is written unlocalised (a Russian decimal comma would void the style).
# Its accessible name is the hidden "2022: 3" alone (the visible label is aria-hidden:
# Chromium would read the two apart, "2022 : 3").
_BAR = (
    '<li{zero}><{tag}{href} title="{year}: {count}"><span class="bar" style="height: {height}%"></span>'
    '{label}<span class="visually-hidden">{year}: {count}</span></{tag}></li>'
)
_LABEL = '<span class="year" aria-hidden="true">{year}</span>'


def _bars_html(bars: list[dict]) -> SafeString:
    out = []
    for bar in bars:
        href = bar["href"]
        out.append(
            _BAR.format(
                zero="" if bar["count"] else ' class="zero"',
                tag="a" if href else "span",
                href=f' href="{conditional_escape(href)}"' if href else "",
                label=_LABEL.format(year=bar["year"]) if bar["label"] else "",
                **{key: bar[key] for key in ("year", "count", "height")},
            )
        )
    return mark_safe("\n  ".join(out))


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
