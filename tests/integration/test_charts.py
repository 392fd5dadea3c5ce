"""The year charts (partials/histogram.html, archive.year_histogram) on the seeds: a
square-root scale with a minimum height, labels that cannot crowd, links outside any
SVG, and a speaker's bars leading to that speaker's statements of the year."""

import itertools
import math
import re
from collections import Counter

import pytest
from django.template import RequestContext
from django.test import RequestFactory
from django.urls import reverse

from transcripts.models import Meeting, Utterance
from transcripts.templatetags.archive import MIN_BAR, bar_height, labelled_years, year_histogram

pytestmark = pytest.mark.django_db

BAR = re.compile(
    r'<li(?: class="zero")?><(a|span)(?: href="([^"]*)")? title="(\d{4}): (\d+)">'
    r'<span class="bar" style="height: ([\d.]+)%"></span>(<span class="year" aria-hidden="true">\3</span>)?'
    r'<span class="visually-hidden">(\d{4}): (\d+)</span></\1></li>'
)


def chart(html):
    """[(year, count, href, height, labelled)] of the page's one chart, which must hold only those bars."""
    figure = re.search(r'<figure class="histogram">(.*?)</figure>', html, re.S).group(1)
    items = re.search(r'<ol class="bars">(.*?)</ol>', figure, re.S).group(1)
    bars = BAR.findall(items)
    assert len(bars) == items.count("<li"), "every item is a bar of the expected form"
    out = []
    for tag, href, year, count, height, label, name_year, name_count in bars:
        assert (name_year, name_count) == (year, count)  # the accessible name is "2022: 3"
        assert (tag == "a") == bool(href)
        out.append((int(year), int(count), href.replace("&amp;", "&"), float(height), bool(label)))
    return out


def years_of(queryset, field):
    return Counter(getattr(row, field).year for row in queryset)


def test_the_scale_is_the_square_root_with_a_minimum(archive):
    assert bar_height(0, 400) == 0
    assert bar_height(1, 400) == MIN_BAR  # linear: 0.25%, one pixel at most
    assert bar_height(100, 400) == 50.0 and bar_height(400, 400) == 100.0
    heights = [bar_height(n, 1000) for n in range(1, 1001)]
    assert heights == sorted(heights) and min(heights) >= MIN_BAR  # never shorter for more
    request = RequestFactory().get("/")
    skewed = year_histogram(RequestContext(request), [(2017, 2), (2021, 1), (2025, 4000)], link="archive")
    bars = chart(f'<figure class="histogram"><ol class="bars">{skewed["bars_html"]}</ol></figure>')
    assert [(year, height) for year, _n, _href, height, _label in bars if _n] == [
        (2017, MIN_BAR),
        (2021, MIN_BAR),
        (2025, 100.0),
    ]
    assert all(height == 0 for _y, n, _h, height, _l in bars if not n)


def test_home_timeline_on_the_seeds(client, archive):
    html = client.get("/").content.decode()
    per_year = years_of(Meeting.objects.published(), "date")
    peak = max(per_year.values())
    bars = chart(html)
    assert [year for year, *_ in bars] == list(range(min(per_year), max(per_year) + 1))
    for year, count, href, height, _labelled in bars:
        assert count == per_year.get(year, 0)
        if count:
            assert height == round(max(MIN_BAR, 100 * math.sqrt(count / peak)), 1)
            assert href == reverse("archive-year", args=[year])
        else:
            assert height == 0 and not href  # an empty year is drawn, and is no link
    assert "<svg" not in html  # no links inside an SVG for axe to report
    assert "квадратному корню" in html  # the scale is said under the chart


@pytest.mark.parametrize("max_labels", [5, 6, 8])
@pytest.mark.parametrize("n", [1, 2, 5, 8, 9, 25, 36])
def test_labels_are_evenly_spaced_and_at_most_max_labels(n, max_labels):
    shown = sorted(labelled_years(n, max_labels))
    assert 1 <= len(shown) <= max_labels
    assert shown[-1] == n - 1  # the latest year is always labelled
    gaps = {b - a for a, b in itertools.pairwise(shown)}
    assert len(gaps) <= 1  # evenly spaced
    step = gaps.pop() if gaps else n
    assert step * max_labels >= n  # each label has at least 1/max_labels of the width
    assert shown[0] < step  # and no more room is left at the start than between labels
    if n <= max_labels:
        assert shown == list(range(n))  # few years: every one labelled


def test_the_search_sidebar_chart_takes_five_labels(client, archive):
    html = client.get(reverse("search"), {"q": "сотрудничество"}).content.decode()
    bars = chart(html)
    labelled = [year for year, _n, _h, _height, label in bars if label]
    assert 1 <= len(labelled) <= 5 and labelled[-1] == bars[-1][0]
    for year, count, href, _height, _label in bars:
        if count:  # the same search, that year's dates, page 1
            assert href.startswith("?q=") and f"from={year}-01-01&to={year}-12-31" in href


@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_speakers_bars_lead_to_that_speakers_statements_of_the_year(client, archive, language):
    slug = "kassym-jomart-tokayev"
    prefix = "/en" if language == "en" else ""
    html = client.get(f"{prefix}/speakers/{slug}/").content.decode()
    theirs = Utterance.objects.published().filter(speaker__slug=slug)
    per_year = years_of(theirs, "meeting_date")
    bars = chart(html)
    linked = {year: href for year, count, href, _h, _l in bars if count}
    assert set(linked) == set(per_year)
    for year, href in linked.items():
        assert href == f"{prefix}/speakers/{slug}/?year={year}#statements"
        page = client.get(href.split("#")[0])
        assert page.status_code == 200
        statements = page.content.decode().split('id="statements"', 1)[1]
        listed = re.findall(r'href="(?:/en)?/statement/([a-z0-9]{8})/"', statements)
        expected = theirs.filter(meeting_date__year=year).order_by("-meeting_date", "-meeting_id", "seq")
        assert listed == [u.sid for u in expected[:20]]
        assert f"{year}" in re.search(r'<h2 id="statements">(.*?)</h2>', page.content.decode()).group(1)


def test_a_speaker_year_outside_the_archive_is_a_404(client, archive):
    url = reverse("speaker", args=["kassym-jomart-tokayev"])
    assert client.get(url, {"year": "2022"}).status_code == 200
    hostile = [
        "1800",
        "99999",
        "abcd",
        "２０２２",
        "٢٠٢٢",
        "",
        "20 22",
        "-2022",
        "+2022",
        "2022.0",
        "2022\x00",
        "9" * 5000,
    ]
    for bad in hostile:
        assert client.get(url, {"year": bad}).status_code == 404, bad
    other_year = client.get(url, {"year": "2017"}).content.decode()  # a year without their statements
    assert re.search(r'<ol class="statements">\s*<li>Высказываний нет\.</li>', other_year)
    assert client.get(url, {"year": "2022", "utm": "x"}).status_code == 301  # still one address per page
