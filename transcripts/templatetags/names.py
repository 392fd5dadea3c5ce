"""Names and places for the reader's language. The archive's texts, titles, names and
places are Russian: on /en/ pages a person shows their Latin name with the Russian
beside it (marked lang="ru", for screen readers), and a place the directory knows
shows in English."""

from django import template
from django.utils.html import format_html
from django.utils.translation import get_language

from ..places import in_english

register = template.Library()


def _english() -> bool:
    return (get_language() or "ru").split("-")[0] == "en"


@register.simple_tag
def person(speaker):
    """A speaker's name: Russian on Russian pages; «Latin (Русское)» on English ones."""
    if speaker is None:
        return ""
    if not _english():
        return speaker.name
    latin = speaker.latin_name
    if latin == speaker.name:
        return format_html('<span lang="ru">{}</span>', speaker.name)
    return format_html('{} <span class="original" lang="ru">({})</span>', latin, speaker.name)


@register.simple_tag
def place(location: str):
    """A meeting's location; in English where the directory knows every part of it."""
    if not location:
        return ""
    if _english():
        english, known = in_english(location)
        if known:
            return english
        return format_html('<span lang="ru">{}</span>', english)
    return location
