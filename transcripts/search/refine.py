"""The search page's filters as a reader sees them: a chip for each applied filter,
which removes it, the people the speaker picker lists (its options rendered once per
archive change), and the facets' links, which narrow the search."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.template.loader import render_to_string
from django.utils.formats import date_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ..models import Meeting, Speaker
from ..stamp import StampedCache
from ..templatetags.archive import query_string
from .engine import people_statements

PICKER_PEOPLE = 300  # the most-quoted people; the others are a facet or their page away


@dataclass(frozen=True)
class Chip:
    label: str  # what the filter is, in words: «с 1 января 2022 г.»
    url: str  # the same search without it


def filter_chips(request, form) -> list[Chip]:
    """One chip per applied filter the form accepted, in the form's order."""
    data = getattr(form, "cleaned_data", {})
    english = get_language() == "en"
    chips = [
        Chip(speaker.latin_name if english else speaker.name, _without(request, "speaker", speaker.slug))
        for speaker in form.speakers
    ]
    if data.get("from"):
        chips.append(Chip(_("from %(date)s") % {"date": date_format(data["from"])}, _without(request, "from")))
    if data.get("to"):
        chips.append(Chip(_("to %(date)s") % {"date": date_format(data["to"])}, _without(request, "to")))
    if data.get("kind"):
        chips.append(Chip(_labelled(form, "kind", Meeting.Kind(data["kind"]).label), _without(request, "kind")))
    if data.get("location"):
        chips.append(Chip(_labelled(form, "location", data["location"]), _without(request, "location")))
    return chips


def facet_links(request, results) -> dict:
    """The facets as (speaker, count, link) and (year, Total, link): each link is this search narrowed
    to that speaker (in place of any other) or that year, from page 1. The same links
    as {% querystring %}, encoded in one pass for the page's dozens of them."""
    query, first_page = request.GET, {"page": None, "format": None}
    return {
        "facet_speakers": [
            (speaker, n, query_string(query, {"speaker": speaker.slug, **first_page}))
            for speaker, n in results.speaker_facets
        ],
        "facet_years": [
            (year, total, query_string(query, {"from": f"{year}-01-01", "to": f"{year}-12-31", **first_page}))
            for year, total in results.year_totals
        ],
    }


def _labelled(form, name: str, value) -> str:
    return _("%(field)s: %(value)s") % {"field": form.fields[name].label, "value": value}


def _without(request, name: str, value: str | None = None) -> str:
    """This search's address without one parameter (or one value of it), from page 1."""
    kept = [
        (key, v)
        for key, values in request.GET.lists()
        if key not in ("page", "format")
        for v in values
        if v and not (key == name and (value is None or v == value))
    ]
    return request.path + (f"?{urlencode(kept)}" if kept else "")


def _people() -> list[tuple[str, str, str, int]]:
    counts = dict(sorted(people_statements.get().items(), key=lambda pc: (-pc[1], pc[0]))[:PICKER_PEOPLE])
    people = Speaker.objects.filter(id__in=counts)
    rows = [(p.slug, p.name, p.latin_name, counts[p.id]) for p in people.only("id", "slug", "name", "name_latin")]
    return sorted(rows, key=lambda row: row[1].replace("ё", "е"))


# (slug, name, Latin name, published statements) of the people the picker lists, by name.
picker_people = StampedCache(_people)


def _render_options() -> dict[str, SafeString]:
    return {}


_options_html = StampedCache(_render_options)  # {language: the picker's <option>s, none chosen}


def picker_options(picked: str = "") -> SafeString:
    """The picker's <option>s, with `picked` (a slug, or "") chosen. The same ~300 options
    for every search until the archive changes: rendered once per change and language."""
    rendered = _options_html.get()
    language = get_language()
    if language not in rendered:
        english = language == "en"
        people = sorted(picker_people.get(), key=lambda row: row[2]) if english else picker_people.get()
        rendered[language] = render_to_string(
            "transcripts/partials/picker_options.html", {"picker": people, "english": english}
        )
    html = rendered[language]
    if picked:
        option = f'<option value="{conditional_escape(picked)}">'
        html = mark_safe(html.replace(option, option[:-1] + " selected>", 1))
    return html
