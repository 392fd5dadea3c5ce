"""Template helpers: statement links, query links, calendars, the year histogram, rounded estimates."""

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
            href = query_string(context.request.GET, dates)
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
    return {"bars": bars, "bars_html": _bars_html(bars, height), "width": width, "height": height, "caption": caption}


# One bar of histogram.html, written here rather than as a loop in the template: the
# search page draws one per year (dozens), and the template's loop cost about 1 ms a page.
# The numbers are written unlocalised, as under the template's {% localize off %}.
_BAR = (
    '{open}\n      <rect x="{x}" y="{y}" width="{w}" height="{h}">\n        <title>{year}: {count}</title></rect>\n'
    "    {close}\n    {label}\n    "
)
_BAR_LABEL = '\n    <text x="{x}" y="{y}" text-anchor="middle">{year}</text>\n    '


def _bars_html(bars: list[dict], height: int) -> SafeString:
    out = []
    for bar in bars:
        href = bar["href"]
        label = _BAR_LABEL.format(x=bar["label_x"], y=height - 4, year=bar["year"]) if bar["show_label"] else ""
        out.append(
            _BAR.format(
                open=f'<a href="{conditional_escape(href)}">' if href else "",
                close="</a>" if href else "",
                label=label,
                **{key: bar[key] for key in ("x", "y", "w", "h", "year", "count")},
            )
        )
    return mark_safe("".join(out))


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
