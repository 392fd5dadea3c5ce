"""The search page's filters as a reader sees them: a chip for each applied filter,
which removes it, and the people the speaker picker lists."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from ..models import Meeting, Speaker
from ..stamp import StampedCache
from .engine import people_statements

PICKER_PEOPLE = 300  # the most-quoted people; the others are a facet or their page away


@dataclass(frozen=True)
class Chip:
    label: str  # what the filter is, in words: «с 1 января 2022 г.»
    url: str  # the same search without it


def filter_chips(request, form) -> list[Chip]:
    """One chip per applied filter the form accepted, in the form's order."""
    data = getattr(form, "cleaned_data", {})
    chips = [Chip(speaker.name, _without(request, "speaker", speaker.slug)) for speaker in form.speakers]
    if data.get("from"):
        chips.append(Chip(_("from %(date)s") % {"date": date_format(data["from"])}, _without(request, "from")))
    if data.get("to"):
        chips.append(Chip(_("to %(date)s") % {"date": date_format(data["to"])}, _without(request, "to")))
    if data.get("kind"):
        chips.append(Chip(_labelled(form, "kind", Meeting.Kind(data["kind"]).label), _without(request, "kind")))
    if data.get("location"):
        chips.append(Chip(_labelled(form, "location", data["location"]), _without(request, "location")))
    return chips


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


def _people() -> list[tuple[str, str, int]]:
    counts = dict(sorted(people_statements.get().items(), key=lambda pc: (-pc[1], pc[0]))[:PICKER_PEOPLE])
    names = Speaker.objects.filter(id__in=counts).values_list("id", "slug", "name")
    return sorted(((slug, name, counts[pk]) for pk, slug, name in names), key=lambda row: row[1].replace("ё", "е"))


# (slug, name, published statements) of the people the picker lists, by name.
picker_people = StampedCache(_people)
