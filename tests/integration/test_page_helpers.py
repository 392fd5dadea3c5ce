"""The search page's fast paths write what the slower general ones wrote: the query links
({% querystring %}), the hits' addresses ({% url %}), dates (date:"j E Y"), kind labels,
the form's selects and the speaker picker (the year charts: test_charts.py)."""

import datetime as dt
import re

import pytest
from django.http import QueryDict
from django.template import Context, RequestContext, Template
from django.template.defaulttags import querystring
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from transcripts.models import Meeting
from transcripts.search.forms import SearchForm
from transcripts.search.refine import picker_options, picker_people
from transcripts.templatetags.archive import (
    address,
    fixed_select,
    kind_label,
    long_date,
    query_string,
)

QUERIES = [
    "",
    "q=%D0%BD%D0%B5%D1%84%D1%82%D1%8C",
    "q=a+b&page=3&format=json",
    "speaker=x&speaker=y&q=z&from=2022-01-01",
    "page=2",
    "q=%26%3D%3F%23&location=%D0%A1%D0%BE%D1%87%D0%B8&speaker=",
]
CHANGES = [
    {"page": None, "format": None},
    {"speaker": "vladimir-putin", "page": None, "format": None},
    {"from": "2021-01-01", "to": "2021-12-31", "page": None, "format": None},
    {"page": 4, "format": None},
    {"q": "нефть и газ", "page": None},
    {"speaker": ["a", "b"]},
    {"new": "value"},
    {"absent": None},
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("changes", CHANGES)
def test_query_links_are_querystrings(query, changes):
    request = RequestFactory().get(f"/search/?{query}")
    expected = querystring(RequestContext(request), **changes)
    assert query_string(request.GET, changes) == expected
    assert query_string(request.GET, changes) == expected  # and again, from the encoded parameters
    mutable = QueryDict(query, mutable=True)
    assert query_string(mutable, changes) == querystring(Context({}), mutable, **changes)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_addresses_dates_and_kinds_are_what_django_writes(language):
    with translation.override(language):
        for slug in ["2022-02-10-peregovory", "x", "a_b-9"]:
            assert address(slug, "meeting") == reverse("meeting", args=[slug])
        for sid in ["k7q2m9xd", "22222222", "stuvwxyz"]:
            assert address(sid, "statement") == reverse("statement", args=[sid])
        with pytest.raises(NoReverseMatch):
            address("not a sid", "statement")
        date_filter = Template('{{ d|date:"j E Y" }}')
        for month in range(1, 13):
            day = dt.date(2022, month, month + 10)
            assert long_date(day) == date_filter.render(Context({"d": day}))
        assert long_date(None) == ""
        for kind, _label in Meeting.Kind.choices:
            meeting = Meeting(kind=kind)
            assert str(kind_label(meeting)) == meeting.get_kind_display()


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("data", ["", "kind=talks&sort=newest", "kind=&sort=", "kind=party&sort=best"])
def test_fixed_selects_are_the_form_widgets(language, data):
    with translation.override(language):
        for _round in range(2):  # rendered, then from the cache
            form = SearchForm(QueryDict(f"q=x&{data}"))
            form.is_valid()
            for name in ("kind", "sort"):
                assert fixed_select(form[name]) == str(form[name])


@pytest.mark.django_db
def test_the_cached_picker_is_the_loop_it_replaced(archive):
    old = Template(
        "{% load humanize %}{% for slug, name, latin, n in picker %}"
        '<option value="{{ slug }}"{% if slug == picked %} selected{% endif %}>'
        "{% if english and latin != name %}{{ latin }} — {{ name }}{% else %}{{ name }}{% endif %}"
        " ({{ n|intcomma }})</option>\n      {% endfor %}"
    )
    people = picker_people.get()
    assert people
    for language in ("ru", "en"):
        english = language == "en"
        shown = sorted(people, key=lambda row: row[2]) if english else people  # English: by Latin name
        with translation.override(language):
            for picked in ["", people[0][0], people[-1][0], "not-listed"]:
                expected = old.render(Context({"picker": shown, "picked": picked, "english": english}))
                assert picker_options(picked) == expected
    with translation.override("en"):
        assert "Kassym-Jomart Tokayev — Касым-Жомарт Кемелевич Токаев (" in picker_options()
    assert re.search(r'<option value="[^"]+" selected>', picker_options(people[0][0]))
